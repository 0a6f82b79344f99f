// LinuxFiles: statx(2) on an open file for what a loader needs to notice that a file changed while it was read: its
// size and its modification and status-change times, in nanoseconds; and on a path, what kind of file it names.
// struct statx has the same layout on every Linux architecture (fixed-width fields), unlike struct stat. Elsewhere
// than Linux, or with a libc without statx, TryStat returns false (callers fall back to the length alone) and KindOf
// returns Unknown.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AotVit.Runtime.Interop;

internal static unsafe class LinuxFiles
{
    private const int AtEmptyPath = 0x1000, AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1, StatxSize = 0x200, StatxMtime = 0x40, StatxCtime = 0x80;
    private const int FileTypeMask = 0xF000, RegularFile = 0x8000, DirectoryFile = 0x4000;   // S_IFMT, S_IFREG, S_IFDIR
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>What identifies one version of a file's contents: size, mtime and ctime (ns since the epoch).</summary>
    public readonly record struct Version(long Size, long ModifiedNs, long ChangedNs);

    public static bool TryStat(SafeFileHandle handle, out Version version)
    {
        version = default;
        if (s_unavailable) return false;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            byte* buffer = stackalloc byte[256];
            byte empty = 0;
            if (Statx((int)handle.DangerousGetHandle(), &empty, AtEmptyPath, StatxSize | StatxMtime | StatxCtime, buffer) != 0) return false;
            uint mask = *(uint*)buffer;
            if ((mask & (StatxSize | StatxMtime | StatxCtime)) != (StatxSize | StatxMtime | StatxCtime)) return false;
            // struct statx: stx_size at 40; statx_timestamp {i64 tv_sec; u32 tv_nsec; i32 reserved} stx_ctime at 96, stx_mtime at 112.
            static long Nanoseconds(byte* timestamp) => *(long*)timestamp * 1_000_000_000L + *(uint*)(timestamp + 8);
            version = new Version(*(long*)(buffer + 40), Nanoseconds(buffer + 112), Nanoseconds(buffer + 96));
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>What a path names, following symbolic links.</summary>
    public enum PathKind { Unknown, Regular, Directory, Special }

    /// <summary>
    /// The kind of file <paramref name="path"/> names, following symbolic links: Special for a FIFO, a socket or a
    /// device (opening a FIFO for reading blocks until a writer appears; a device may never end). Unknown where the path
    /// cannot be examined (missing, a dangling link, no permission on a directory) or statx is unavailable: the open
    /// that follows reports the reason.
    /// </summary>
    public static PathKind KindOf(string path) => KindOf(path, followLinks: true);

    /// <summary><see cref="KindOf(string)"/>; without <paramref name="followLinks"/>, a symbolic link is Special.</summary>
    public static PathKind KindOf(string path, bool followLinks)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (s_unavailable || path.Length == 0 || path.Contains('\0')) return PathKind.Unknown;
        try
        {
            byte* buffer = stackalloc byte[256];
            int result;
            fixed (byte* name = FileNames.Encode(path, nulTerminated: true))
            {
                result = Statx(AtFdCwd, name, followLinks ? 0 : AtSymlinkNoFollow, StatxType, buffer);
            }

            if (result != 0 || (*(uint*)buffer & StatxType) == 0) return PathKind.Unknown;
            // struct statx: stx_mode (u16) at 28.
            return (*(ushort*)(buffer + 28) & FileTypeMask) switch
            {
                RegularFile => PathKind.Regular,
                DirectoryFile => PathKind.Directory,
                _ => PathKind.Special,
            };
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return PathKind.Unknown;
        }
    }

    /// <summary>open(2) of <paramref name="path"/> (its bytes: <see cref="FileNames"/>) read-only and close-on-exec: the
    /// descriptor, or −1 with <paramref name="errno"/> set. Linux only.</summary>
    public static int OpenReadOnly(string path, out int errno) => Open(path, OpenReadOnlyCloseOnExec, out errno);

    /// <summary>
    /// The entries of <paramref name="directory"/> (not "." and ".."), named by their bytes through readdir(3)
    /// (<see cref="FileNames.Decode"/>), a directory's name (not a symbolic link to one) followed by '/', in the order the
    /// file system gives; null with <paramref name="errno"/> set when the directory cannot be read. For names .NET's own
    /// listing cannot give back (not UTF-8). Linux with glibc only (struct dirent's d_name at 19).
    /// </summary>
    public static List<string>? ListDirectory(string directory, out int errno)
    {
        ArgumentNullException.ThrowIfNull(directory);
        nint stream;
        fixed (byte* name = FileNames.Encode(directory, nulTerminated: true))
        {
            stream = OpenDir(name);
        }

        if (stream == 0)
        {
            errno = Marshal.GetLastPInvokeError();
            return null;
        }

        var entries = new List<string>();
        try
        {
            while (true)
            {
                Marshal.SetLastSystemError(0);   // readdir leaves errno alone at the end of the listing
                byte* entry = ReadDir(stream);
                if (entry == null)
                {
                    errno = Marshal.GetLastPInvokeError();   // 0 at the end of the listing
                    return errno == 0 ? entries : null;
                }

                // struct dirent (glibc, 64-bit): d_ino 8, d_off 8, d_reclen 2, d_type 1, d_name.
                byte type = entry[18];
                var nameBytes = new ReadOnlySpan<byte>(entry + 19, new ReadOnlySpan<byte>(entry + 19, 256).IndexOf((byte)0));
                if (nameBytes.SequenceEqual("."u8) || nameBytes.SequenceEqual(".."u8))
                {
                    continue;
                }

                string name = FileNames.Decode(nameBytes);
                const byte DtUnknown = 0, DtDirectory = 4;
                bool isDirectory = type == DtDirectory
                    || (type == DtUnknown && KindOf(Path.Join(directory, name), followLinks: false) == PathKind.Directory);
                entries.Add(isDirectory ? name + "/" : name);
            }
        }
        finally
        {
            CloseDir(stream);
        }
    }

    [DllImport("libc", EntryPoint = "opendir", SetLastError = true)]
    private static extern nint OpenDir(byte* path);

    [DllImport("libc", EntryPoint = "readdir", SetLastError = true)]
    private static extern byte* ReadDir(nint stream);

    [DllImport("libc", EntryPoint = "closedir")]
    private static extern int CloseDir(nint stream);

    /// <summary>open(2) of <paramref name="path"/> (its bytes) for writing, created or truncated (mode 0666 less the
    /// umask), close-on-exec: the descriptor, or −1 with <paramref name="errno"/> set. Linux only.</summary>
    public static int CreateWriteOnly(string path, out int errno) => Open(path, CreateWriteOnlyCloseOnExec, out errno);

    // open(2) through the path's bytes; the mode (0666, less the umask) counts only where flags create the file.
    private static int Open(string path, int flags, out int errno)
    {
        ArgumentNullException.ThrowIfNull(path);
        int fd;
        fixed (byte* name = FileNames.Encode(path, nulTerminated: true))
        {
            fd = OpenRaw(name, flags, 0x1B6);
        }

        errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
        return fd;
    }

    /// <summary>rename(2) through the paths' bytes: 0, or the errno.</summary>
    public static int Rename(string from, string to)
    {
        int result;
        fixed (byte* source = FileNames.Encode(from, nulTerminated: true))
        fixed (byte* target = FileNames.Encode(to, nulTerminated: true))
        {
            result = RenameRaw(source, target);
        }

        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>unlink(2) through the path's bytes: 0, or the errno.</summary>
    public static int Unlink(string path)
    {
        int result;
        fixed (byte* name = FileNames.Encode(path, nulTerminated: true))
        {
            result = UnlinkRaw(name);
        }

        return result == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    // The same values on x86-64 and arm64: O_RDONLY 0, O_WRONLY 1, O_CREAT 0x40, O_TRUNC 0x200, O_CLOEXEC 0x80000.
    private const int OpenReadOnlyCloseOnExec = 0x80000, CreateWriteOnlyCloseOnExec = 0x1 | 0x40 | 0x200 | 0x80000;

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int OpenRaw(byte* path, int flags, int mode);

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameRaw(byte* from, byte* to);

    [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static extern int UnlinkRaw(byte* path);

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(int directoryFd, byte* path, int flags, uint mask, byte* buffer);
}

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
    private const int AtEmptyPath = 0x1000, AtFdCwd = -100;
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
            if (Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxSize | StatxMtime | StatxCtime, buffer) != 0) return false;
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
    public static PathKind KindOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (s_unavailable || path.Length == 0) return PathKind.Unknown;
        try
        {
            byte* buffer = stackalloc byte[256];
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0 || (*(uint*)buffer & StatxType) == 0) return PathKind.Unknown;
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

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(int directoryFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}

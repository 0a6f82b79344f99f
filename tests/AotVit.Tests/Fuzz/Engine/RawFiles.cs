// RawFiles: files made and removed by their names' bytes through libc, independently of the runtime's own byte paths
// (UserFiles, LinuxFiles) that the tests and the `filenames` fuzz target check: names that are not UTF-8, which .NET's
// file APIs cannot name, and FIFOs, which .NET cannot make. Shared by the tests and tools/Fuzz (it compiles Engine/).
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace AotVit.Fuzzing;

public static unsafe class RawFiles
{
    /// <summary>Creates or truncates the file named <paramref name="path"/> (bytes, no NUL) and writes
    /// <paramref name="contents"/> to it; IOException with the errno when open(2) fails.</summary>
    public static void Write(byte[] path, ReadOnlySpan<byte> contents)
    {
        int fd;
        fixed (byte* p = (byte[])[.. path, 0]) fd = Open(p, 0x1 | 0x40 | 0x200 | 0x80000, 0x1A4);   // O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644
        if (fd < 0) throw new IOException($"open(2) failed: errno {Marshal.GetLastPInvokeError()}");
        using var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Write);
        file.Write(contents);
    }

    /// <summary>unlink(2); 0 or −1.</summary>
    public static int Unlink(byte[] path)
    {
        fixed (byte* p = (byte[])[.. path, 0]) return UnlinkRaw(p);
    }

    /// <summary>mkdir(2) with mode 0755; 0 or −1.</summary>
    public static int MakeDirectory(byte[] path)
    {
        fixed (byte* p = (byte[])[.. path, 0]) return MkdirRaw(p, 0x1ED);
    }

    /// <summary>rmdir(2); 0 or −1.</summary>
    public static int RemoveDirectory(byte[] path)
    {
        fixed (byte* p = (byte[])[.. path, 0]) return RmdirRaw(p);
    }

    /// <summary>mkfifo(3) with mode 0600 at the UTF-8 path <paramref name="path"/>; 0 or −1.</summary>
    public static int MakeFifo(string path)
    {
        fixed (byte* p = (byte[])[.. Encoding.UTF8.GetBytes(path), 0]) return MkfifoRaw(p, 0x180);
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte* path, int flags, int mode);

    [DllImport("libc", EntryPoint = "unlink")]
    private static extern int UnlinkRaw(byte* path);

    [DllImport("libc", EntryPoint = "mkdir")]
    private static extern int MkdirRaw(byte* path, int mode);

    [DllImport("libc", EntryPoint = "rmdir")]
    private static extern int RmdirRaw(byte* path);

    [DllImport("libc", EntryPoint = "mkfifo")]
    private static extern int MkfifoRaw(byte* path, uint mode);
}

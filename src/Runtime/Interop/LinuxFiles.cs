// LinuxFiles: statx(2) on an open file for what a loader needs to notice that a file changed while it was read: its
// size and its modification and status-change times, in nanoseconds. struct statx has the same layout on every Linux
// architecture (fixed-width fields), unlike struct stat. Elsewhere than Linux, or with a libc without statx, TryStat
// returns false and callers fall back to the length alone.
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AotVit.Runtime.Interop;

internal static unsafe class LinuxFiles
{
    private const int AtEmptyPath = 0x1000;
    private const uint StatxSize = 0x200, StatxMtime = 0x40, StatxCtime = 0x80;
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

    [DllImport("libc", EntryPoint = "statx")]
    private static extern int Statx(int directoryFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte* buffer);
}

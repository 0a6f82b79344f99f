// LinuxMemory: mmap(2)/madvise(2) where the kernel's view of our memory matters: NativeBuffer maps large blocks
// (packed weights, arenas) itself and asks for transparent huge pages, so first touch takes one fault per 2 MiB
// instead of one per 4 KiB. (Checkpoints are never mapped: see Weights/ByteSource.cs.)
// Large NativeBuffers are anonymous mappings (MapZeroed): the kernel hands them out zeroed, so they are not zeroed twice.
// Elsewhere than Linux, or if this libc lacks the calls, Advise does nothing and MapZeroed returns null (callers fall
// back to the C allocator).
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Interop;

internal static unsafe class LinuxMemory
{
    public const int HugePage = 14;     // MADV_HUGEPAGE
    public const long HugePageBytes = 2 << 20;

    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>madvise(address, length, advice) on a page-aligned range; true if the kernel accepted it.</summary>
    public static bool Advise(void* address, nuint length, int advice)
    {
        if (s_unavailable || length == 0)
        {
            return false;
        }

        try
        {
            return Madvise(address, length, advice) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return false;
        }
    }

    /// <summary>
    /// A fresh, zeroed, private anonymous mapping of at least <paramref name="bytes"/> bytes whose start is 2 MiB aligned,
    /// advised as transparent huge pages; null when unavailable. Free it with <see cref="Unmap"/> and the same size.
    /// </summary>
    public static void* MapZeroed(nuint bytes)
    {
        if (s_unavailable)
        {
            return null;
        }

        try
        {
            nuint total = bytes + (nuint)HugePageBytes;   // room to align the start
            void* raw = Mmap(null, total, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (raw == MapFailed)
            {
                return null;
            }

            nuint start = ((nuint)raw + (nuint)HugePageBytes - 1) & ~((nuint)HugePageBytes - 1);
            // Give the unused head and tail back, so exactly [start, start + bytes rounded to pages) stays mapped.
            nuint length = RoundToPages(bytes);
            if (start > (nuint)raw)
            {
                _ = Munmap(raw, start - (nuint)raw);
            }

            nuint end = (nuint)raw + total;
            if (end > start + length)
            {
                _ = Munmap((void*)(start + length), end - (start + length));
            }

            _ = Madvise((void*)start, length & ~((nuint)HugePageBytes - 1), HugePage);
            return (void*)start;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
            return null;
        }
    }

    /// <summary>Unmaps a block from <see cref="MapZeroed"/> (same byte count).</summary>
    public static void Unmap(void* address, nuint bytes) => _ = Munmap(address, RoundToPages(bytes));

    private static nuint RoundToPages(nuint bytes)
    {
        nuint page = (nuint)Environment.SystemPageSize;
        return (bytes + page - 1) & ~(page - 1);
    }

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;
    private static readonly void* MapFailed = (void*)-1;

    [DllImport("libc", EntryPoint = "mmap")]
    private static extern void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap")]
    private static extern int Munmap(void* address, nuint length);

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(void* address, nuint length, int advice);
}

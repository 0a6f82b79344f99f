// stdout and stderr of the CLI: UTF-8 lines written straight to file descriptors 1 and 2 with write(2), one call
// per line (unbuffered, like Console's auto-flushing writers, so stdout and stderr interleave in order).
//
// Why not System.Console: it brings terminal support (terminfo database, key parsing, stdin reader) that a program
// which only prints lines never uses, ~50 KB of the NativeAOT executable.
// Why not a FileStream over handle 1: when stdout is a regular file, FileStream writes with pwrite at an offset it
// tracks itself and never moves the shared file offset, so `aotvit ... > log 2>&1` or `{ aotvit info; echo; } > f`
// would overwrite output. write(2) appends at the shared offset, as every other process writing to that file does.
using System.Runtime.InteropServices;
using AotVit.Runtime.Interop;

namespace AotVit.Cli;

internal sealed partial class StdStream
{
    public static readonly StdStream Out = new(1);
    public static readonly StdStream Error = new(2);

    private const int EAGAIN = 11, EPIPE = 32; // Linux errno values
    private readonly int _fd;
    private bool _broken;

    private StdStream(int fd) => _fd = fd;

    /// <summary>True once the reader has gone (EPIPE): later writes are dropped.</summary>
    public bool IsBroken => _broken;

    public void WriteLine() => Write("\n");

    public void WriteLine(string text) => Write(text + "\n");

    /// <summary>
    /// Writes <paramref name="text"/> as UTF-8. A closed reader (EPIPE, e.g. `aotvit info | head -1`) silently ends
    /// output to this stream, as with Console; other write errors are IOExceptions.
    /// </summary>
    public unsafe void Write(string text)
    {
        if (_broken || text.Length == 0) return;
        // A path whose name is not UTF-8 goes out as its own bytes, as ls and find print it (FileNames).
        byte[] bytes = FileNames.Encode(text);
        fixed (byte* start = bytes)
        {
            int done = 0;
            while (done < bytes.Length)
            {
                int n = SystemWrite(_fd, start + done, bytes.Length - done);
                if (n >= 0) { done += n; continue; }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EPIPE) { _broken = true; return; }
                if (errno == EAGAIN) { Thread.Sleep(1); continue; } // a non-blocking descriptor that is full: wait
                throw new IOException($"cannot write to {(_fd == 1 ? "stdout" : "stderr")}: {Describe(errno)}");
            }
        }
    }

    private static string Describe(int errno) => errno switch
    {
        5 => "I/O error (EIO)",
        9 => "the descriptor is closed (EBADF)",
        27 => "file too large (EFBIG)",
        28 => "no space left on device (ENOSPC)",
        122 => "disk quota exceeded (EDQUOT)",
        _ => $"errno {errno}",
    };

    // The runtime's own write(2) wrapper (retries on EINTR). libSystem.Native ships with every .NET runtime; NativeAOT
    // links it statically and calls it directly, and under `dotnet run` it is found next to the framework.
    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Write", SetLastError = true)]
    private static unsafe partial int SystemWrite(nint fd, byte* buffer, int count);
}

// Status codes, the thread-local last-error message, and the one place where exceptions become status codes.
// Every entry point of the C ABI ends in `catch (Exception e) { return Errors.Report(e); }`: nothing escapes
// (an exception leaving an [UnmanagedCallersOnly] method aborts the host process).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;

namespace AotVit.Native;

/// <summary>aotvit_status in include/aotvit.h; the numbers are ABI.</summary>
public enum Status
{
    Ok = 0,
    InvalidArgument = 1,
    NullPointer = 2,
    BufferTooSmall = 3,
    IoError = 4,
    BadCheckpoint = 5,
    BadImage = 6,
    WrongModelKind = 7,
    LimitExceeded = 8,
    OutOfMemory = 9,
    InternalError = 10,
}

/// <summary>An error the C API reports with a specific status; thrown by the validation code in NativeApi.</summary>
internal sealed class NativeError(Status status, string message) : Exception(message)
{
    public Status Status { get; } = status;
}

internal static unsafe class Errors
{
    // Pinned (POH) buffer per thread: aotvit_last_error() returns a pointer into it, valid until the next call on
    // that thread overwrites it. The GC reclaims it when the thread dies, so foreign threads do not leak.
    [ThreadStatic] private static byte[]? t_buffer;
    [ThreadStatic] private static string? t_message;

    /// <summary>The current thread's last message ("" after a successful call).</summary>
    public static string LastMessage => t_message ?? "";

    public static byte* LastErrorPointer()
    {
        EnsureBuffer(1);
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_buffer!));
    }

    public static int Ok()
    {
        if (t_message is { Length: > 0 }) Set("");
        return (int)Status.Ok;
    }

    public static int Fail(Status status, string message)
    {
        Set(message);
        return (int)status;
    }

    /// <summary>Maps an exception to a status and records its message. Never throws.</summary>
    public static int Report(Exception e)
    {
        try
        {
            var (status, message) = Classify(e);
            return Fail(status, message);
        }
        catch
        {
            // Even formatting failed (out of memory): return the status without a message.
            t_message = null;
            return (int)Status.OutOfMemory;
        }
    }

    /// <summary>
    /// The status and message for <paramref name="e"/>. The caller's mistakes are the ones NativeApi finds itself
    /// (NativeError) and the runtime's InputExceptions; any other exception, ArgumentException from a kernel or from
    /// the C# API included, means this library is wrong and is INTERNAL_ERROR (NativeApi checks every pointer,
    /// length and size before it calls the C# API, so a C caller cannot reach those checks).
    /// </summary>
    internal static (Status, string) Classify(Exception e) => e switch
    {
        NativeError n => (n.Status, n.Message),
        // A handle destroyed by another thread while this call was using it.
        ObjectDisposedException => (Status.InvalidArgument, "the model handle has been destroyed"),
        CheckpointException s => (Status.BadCheckpoint, s.Message),
        ImageDecodeException i => (Status.BadImage, i.Message),
        LimitExceededException l => (Status.LimitExceeded, l.Message),
        InputException i => (Status.InvalidArgument, i.Message),
        // Files the caller names are opened through UserFiles, whose messages say what and why ("image file not found:
        // /x.png"); the runtime's own IO messages are resource keys in this NativeAOT build (UseSystemResourceKeys).
        UnauthorizedAccessException or IOException => (Status.IoError, e.Message),   // IOException covers FileNotFound and DirectoryNotFound
        OutOfMemoryException or InsufficientExecutionStackException => (Status.OutOfMemory, "out of memory: " + e.Message),
        _ => (Status.InternalError, $"internal error ({e.GetType().FullName}): {e.Message}"),
    };

    private static void Set(string message)
    {
        // A C string ends at the first NUL; some decoder messages carry NUL padding (stb's C-style buffers).
        if (message.Contains('\0')) message = message.Replace("\0", "").TrimEnd();
        t_message = message;
        int bytes = Encoding.UTF8.GetByteCount(message);
        EnsureBuffer(bytes + 1);
        Encoding.UTF8.GetBytes(message, t_buffer);
        t_buffer![bytes] = 0;
    }

    private static void EnsureBuffer(int bytes)
    {
        if (t_buffer is null || t_buffer.Length < bytes)
        {
            // Grow, never shrink: earlier pointers stay valid until the next call (the old array is kept alive
            // only until then, which is the documented lifetime).
            t_buffer = GC.AllocateArray<byte>(Math.Max(256, bytes), pinned: true);
        }
    }
}

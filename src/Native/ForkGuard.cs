// ForkGuard: a fork(2) child of a process that started this library cannot use it. The child has only the thread that
// forked; the runtime's other threads (the GC's, the finalizer, every model's workers) are gone, so work that waits for
// one of them waits forever (a batch run in a child of Python's os.fork did). The entry points that load or run a
// model refuse in such a child with a message that says what to do instead, and aotvit_model_destroy does nothing
// there (the child's copy of the model dies with it), so that a Python finaliser in the child cannot hang either.
// The owner is the process whose first call started the runtime: a process that loads the library but calls it only
// after forking is its own owner.
using System.Runtime.InteropServices;

namespace AotVit.Native;

internal static class ForkGuard
{
    private static readonly int s_owner = GetPid();

    /// <summary>Whether this process is a fork(2) child of the one that started the runtime.</summary>
    public static bool InForkedChild => GetPid() != s_owner;

    /// <summary>The status for a call refused in a forked child (INVALID_ARGUMENT), with the last-error message set.</summary>
    public static int Refuse() => Errors.Report(new NativeError(Status.InvalidArgument,
        $"aotvit was started in process {s_owner} and this process ({GetPid()}) is a fork(2) child of it, where the " +
        "library's threads do not exist; a forked child cannot use it: start worker processes with the 'spawn' or " +
        "'forkserver' method (Python multiprocessing), or use aotvit only in the children"));

    // DllImport, not LibraryImport: src/Native is also compiled without source generators (FamilyFollowsFoldersTests).
    [DllImport("libc", EntryPoint = "getpid")]
    private static extern int GetPid();
}

// Opaque handles. A handle is a token, not an address: the C side never gets a pointer into managed memory, and
// the library never dereferences what the caller passes in. Every call looks its token up in a dictionary of live
// models, so a destroyed, never-created or garbage handle is reported as AOTVIT_INVALID_ARGUMENT instead of crashing.
//
// Why not GCHandle.ToIntPtr: GCHandle values are recycled, so a stale handle could silently resolve to a model
// opened later. Tokens come from a 64-bit counter and are never reused. The dictionary holds the only strong
// reference, which is what keeps a model alive between calls (the job a GCHandle would do).
using System.Collections.Concurrent;

namespace AotVit.Native;

internal static class ModelRegistry
{
    private static readonly ConcurrentDictionary<nint, NativeModel> s_live = new();

    // Tokens are 16-byte aligned, start far from 0 and from small integers, and look like pointers to C tools.
    private static long s_next = 0x5A5A_0000;

    public static int LiveCount => s_live.Count;

    public static nint Add(NativeModel model)
    {
        nint token = (nint)(Interlocked.Increment(ref s_next) << 4);
        if (!s_live.TryAdd(token, model)) throw new InvalidOperationException("handle token collision");
        return token;
    }

    /// <summary>The live model behind a token; NativeError(INVALID_ARGUMENT) otherwise. NULL is NULL_POINTER.</summary>
    public static NativeModel Get(nint token)
    {
        if (token == 0) throw new NativeError(Status.NullPointer, "model is NULL");
        if (s_live.TryGetValue(token, out var model)) return model;
        throw new NativeError(Status.InvalidArgument, $"0x{token:x} is not a live aotvit_model handle (destroyed, or never returned by aotvit_model_open)");
    }

    /// <summary>Removes a token; false when it was not live.</summary>
    public static bool TryRemove(nint token, out NativeModel? model) => s_live.TryRemove(token, out model);
}

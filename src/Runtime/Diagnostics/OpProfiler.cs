// Per-op timing for generated models, off by default. Generated blocks call Start() once and Lap() after each
// kernel call; when disabled both cost a static-field test and return 0, so the hot path is unchanged.
// `aotvit bench --profile` turns it on and prints time per op kind (GEMM, conv, attention, norm, ...) and per module.
using System.Diagnostics;

namespace AotVit.Runtime.Diagnostics;

public enum OpKind { Gemm, Conv, Depthwise, Attention, LayerNorm, Layout, Pooling, Embedding, InvertedResidual }

public static class OpProfiler
{
    public static volatile bool Enabled;

    private static readonly Lock Gate = new();
    // Keyed by the kind as an int: generic instantiations over an enum keep enum reflection metadata in NativeAOT builds.
    private static readonly Dictionary<(int Kind, string Module), (long Calls, long Ticks)> Totals = [];

    public static long Start() => Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>Attributes the time since <paramref name="start"/> to (kind, module); returns the new start.</summary>
    public static long Lap(long start, OpKind kind, string module)
    {
        if (start == 0) return 0;
        long now = Stopwatch.GetTimestamp();
        lock (Gate)
        {
            Totals.TryGetValue(((int)kind, module), out var t);
            Totals[((int)kind, module)] = (t.Calls + 1, t.Ticks + now - start);
        }
        return Stopwatch.GetTimestamp();
    }

    public static void Reset()
    {
        lock (Gate) Totals.Clear();
    }

    public sealed record Entry(OpKind Kind, string Module, long Calls, double Milliseconds)
    {
        // Equality, hash and text as the compiler writes them, with the kind compared as a value and named by Name():
        // EqualityComparer<OpKind> and formatting an enum value keep the runtime's enum formatting in the binary.
        public bool Equals(Entry? other) =>
            ReferenceEquals(this, other) || (other is not null && Kind == other.Kind && Module == other.Module &&
                                             Calls == other.Calls && Milliseconds.Equals(other.Milliseconds));

        public override int GetHashCode() => HashCode.Combine((int)Kind, Module, Calls, Milliseconds);

        private bool PrintMembers(System.Text.StringBuilder builder)
        {
            builder.Append("Kind = ").Append(Name(Kind));
            builder.Append(", Module = ").Append(Module);
            builder.Append(", Calls = ").Append(Calls.ToString());
            builder.Append(", Milliseconds = ").Append(Milliseconds.ToString());
            return true;
        }
    }

    public static IReadOnlyList<Entry> Snapshot()
    {
        var entries = new List<Entry>();
        lock (Gate)
        {
            foreach (var (key, value) in Totals)
                entries.Add(new Entry((OpKind)key.Kind, key.Module, value.Calls, value.Ticks * 1000.0 / Stopwatch.Frequency));
        }
        // Slowest first; equal times keep the table's order (sorted through indices: a stable order).
        var order = new int[entries.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => entries[b].Milliseconds.CompareTo(entries[a].Milliseconds) is var c && c != 0 ? c : a.CompareTo(b));
        var sorted = new List<Entry>(order.Length);
        foreach (int i in order) sorted.Add(entries[i]);
        return sorted;
    }

    /// <summary>The kind's name as printed by `aotvit bench --profile` (spelled out: enum formatting costs the CLI size).</summary>
    public static string Name(OpKind kind) => kind switch
    {
        OpKind.Gemm => nameof(OpKind.Gemm),
        OpKind.Conv => nameof(OpKind.Conv),
        OpKind.Depthwise => nameof(OpKind.Depthwise),
        OpKind.Attention => nameof(OpKind.Attention),
        OpKind.LayerNorm => nameof(OpKind.LayerNorm),
        OpKind.Layout => nameof(OpKind.Layout),
        OpKind.Pooling => nameof(OpKind.Pooling),
        OpKind.Embedding => nameof(OpKind.Embedding),
        OpKind.InvertedResidual => nameof(OpKind.InvertedResidual),
        _ => ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

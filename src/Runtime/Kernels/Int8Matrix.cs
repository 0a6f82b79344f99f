// PLACEHOLDER (integration branch): scalar stand-in with the agreed API; replaced by the int8k branch's kernel.
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed unsafe class Int8Matrix : IDisposable
{
    internal readonly sbyte[] Q;      // [N][K]
    internal readonly float[] Scales; // [N]
    internal readonly int[] ColSums;  // [N]

    private Int8Matrix(sbyte[] q, float[] scales, int n, int k)
    {
        Q = q; Scales = scales; N = n; K = k;
        ColSums = new int[n];
        for (int j = 0; j < n; j++) { int s = 0; for (int p = 0; p < k; p++) s += q[(long)j * k + p]; ColSums[j] = s; }
    }

    public int K { get; }
    public int N { get; }
    public long ByteSize => (long)N * K + N * 8L;

    public static void QuantizeRows(ReadOnlySpan<float> weight, int n, int k, Span<sbyte> q, Span<float> scales)
    {
        for (int j = 0; j < n; j++)
        {
            float max = 0;
            for (int p = 0; p < k; p++) max = MathF.Max(max, MathF.Abs(weight[j * k + p]));
            float scale = max / 127f;
            scales[j] = scale;
            for (int p = 0; p < k; p++)
            {
                q[j * k + p] = scale == 0 ? (sbyte)0 : (sbyte)Math.Clamp(MathF.Round(weight[j * k + p] / scale, MidpointRounding.ToEven), -127f, 127f);
            }
        }
    }

    public static Int8Matrix FromOutIn(ReadOnlySpan<float> weight, int n, int k)
    {
        var q = new sbyte[(long)n * k];
        var s = new float[n];
        QuantizeRows(weight, n, k, q, s);
        return new Int8Matrix(q, s, n, k);
    }

    public static Int8Matrix FromQuantized(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int n, int k)
    {
        if (q.Length != (long)n * k) throw new ArgumentException($"q has {q.Length} values, expected [{n}, {k}]", nameof(q));
        if (scales.Length != n) throw new ArgumentException($"scales has {scales.Length} values, expected {n}", nameof(scales));
        foreach (sbyte v in q) if (v == -128) throw new ArgumentException("q holds -128; int8 weights are symmetric in [-127, 127]", nameof(q));
        foreach (float s in scales) if (!(s >= 0) || !float.IsFinite(s)) throw new ArgumentException("scales must be finite and non-negative", nameof(scales));
        return new Int8Matrix(q.ToArray(), scales.ToArray(), n, k);
    }

    public static Int8Matrix FromPacked(PackedMatrix fp32)
    {
        int n = fp32.N, k = fp32.K;
        var w = new float[(long)n * k];
        float* data = fp32.Data;
        for (int j = 0; j < n; j++)
            for (int p = 0; p < k; p++)
                w[(long)j * k + p] = data[((long)(j / PackedMatrix.PanelWidth) * k + p) * PackedMatrix.PanelWidth + j % PackedMatrix.PanelWidth];
        return FromOutIn(w, n, k);
    }

    public void CopyQuantized(Span<sbyte> q, Span<float> scales)
    {
        Q.CopyTo(q);
        Scales.CopyTo(scales);
    }

    public void Dispose() { }
}

[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class Int8Gemm
{
    public static void Run(WorkerPool? pool, int m, float* a, int lda, Int8Matrix b,
                           float* bias, Activation act, float* residual, int ldr, float* c, int ldc)
    {
        int k = b.K, n = b.N;
        var qa = new byte[k];
        for (int i = 0; i < m; i++)
        {
            float* row = a + (long)i * lda;
            float lo = 0, hi = 0;
            for (int p = 0; p < k; p++) { lo = MathF.Min(lo, row[p]); hi = MathF.Max(hi, row[p]); }
            float scale = (hi - lo) / 127f;
            int zero = scale == 0 ? 0 : (int)MathF.Round(-lo / scale);
            for (int p = 0; p < k; p++) qa[p] = scale == 0 ? (byte)0 : (byte)Math.Clamp((int)MathF.Round(row[p] / scale) + zero, 0, 127);
            for (int j = 0; j < n; j++)
            {
                int acc = 0;
                for (int p = 0; p < k; p++) acc += qa[p] * b.Q[(long)j * k + p];
                float v = scale * b.Scales[j] * (acc - zero * b.ColSums[j]) + (bias != null ? bias[j] : 0);
                double value = Elementwise.Reference(act, v);
                if (residual != null) value += residual[(long)i * ldr + j];
                c[(long)i * ldc + j] = (float)value;
            }
        }
    }
}

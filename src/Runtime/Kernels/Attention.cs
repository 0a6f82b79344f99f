// Attention: scaled dot-product attention for every (sequence, head) pair, reading q/k/v as column slices of a
// fused QKV activation. Two variants with one contract; the generator names the one a model calls from its static
// shapes (AttentionOp):
//   RunKeyPanels (this file): per pair, kᵀ and v are packed into thread-static scratch in the GEMM panel layout
//     ([32-column panel][rows][32]), so both products (scores = q·kᵀ, out = p·v) run on the register-tiled GEMM
//     microkernel, 8 query rows at a time. The packing is paid once per pair and amortised over its query rows;
//     keys and head columns are padded to multiples of 32.
//   RunQueryLanes (Attention.QueryLanes.cs): one query per vector lane, keys and values broadcast straight from
//     the QKV rows: no packing, no padding of keys or head columns, and the softmax runs down the key axis.
// Both take an optional query count: only the first `queries` tokens of each sequence are queried (all tokens stay keys
// and values), written compactly as [sequences·queries] rows; the generator's RowNarrowing pass uses it for the rows
// a classifier reads. Every query row is computed on its own, so a row's floats do not depend on the query count.
// Not flash-attention kernels: tokens ≤ a few hundred here, and a block's scores (8 or one vector of queries ×
// tokens) stay in L1.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>Multi-head softmax attention.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe partial class Attention
{
    private const int Padding = 16;

    /// <summary>
    /// For each of `sequences` independent sequences of `tokens` rows and each head h:
    ///   out[s, t, h·d..] = softmax(q·kᵀ · scale) · v     (d = headDim)
    /// Key-panel variant: kᵀ and v packed per (sequence, head) into the GEMM panel layout, 8 query rows per microkernel call.
    /// </summary>
    /// <param name="q">[sequences·tokens, ldqkv], head h at columns h·d .. h·d + d − 1</param>
    /// <param name="k">[sequences·tokens, ldqkv], same column layout</param>
    /// <param name="v">[sequences·tokens, ldqkv], same column layout</param>
    /// <param name="output">[sequences·tokens, ldo], same column layout; must not overlap q, k, v</param>
    public static void RunKeyPanels(WorkerPool? pool, int sequences, int tokens, int heads, int headDim, float scale,
                           float* q, float* k, float* v, int ldqkv, float* output, int ldo) =>
        RunKeyPanels(pool, sequences, tokens, tokens, heads, headDim, scale, q, k, v, ldqkv, output, ldo);

    /// <summary>
    /// RunKeyPanels for the first `queries` tokens of each sequence only, against all `tokens` keys and values: output row s·queries + i holds
    /// query i of sequence s, the same floats as row s·tokens + i of the full call (each query row is computed alone).
    /// </summary>
    /// <param name="q">[sequences·tokens, ldqkv]; rows s·tokens + i for i &lt; queries are read</param>
    /// <param name="output">[sequences·queries, ldo]</param>
    public static void RunKeyPanels(WorkerPool? pool, int sequences, int tokens, int queries, int heads, int headDim, float scale,
                                    float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(queries, tokens);
        Job job = new()
        {
            Tokens = tokens, Queries = queries, Heads = heads, HeadDim = headDim, Scale = scale, Q = q, K = k, V = v, Ldqkv = ldqkv,
            Output = output, Ldo = ldo,
        };
        int pairs = sequences * heads;
        if (pool == null)
        {
            RunPairs(&job, 0, pairs);
        }
        else
        {
            pool.For(pairs, &RunPairs, &job);
        }
    }

    /// <summary>Scalar oracle in double, same contract as <see cref="RunKeyPanels"/> and <see cref="RunQueryLanes"/>.</summary>
    public static void Reference(int sequences, int tokens, int heads, int headDim, float scale,
                                 float* q, float* k, float* v, int ldqkv, float* output, int ldo) =>
        Reference(sequences, tokens, tokens, heads, headDim, scale, q, k, v, ldqkv, output, ldo);

    /// <summary>Scalar oracle in double for the first `queries` tokens of each sequence (output [sequences·queries, ldo]).</summary>
    public static void Reference(int sequences, int tokens, int queries, int heads, int headDim, float scale,
                                 float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        double[] scores = new double[tokens];
        for (int s = 0; s < sequences; s++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < queries; i++)
                {
                    float* qRow = q + ((long)s * tokens + i) * ldqkv + h * headDim;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < tokens; j++)
                    {
                        float* kRow = k + ((long)s * tokens + j) * ldqkv + h * headDim;
                        double dot = 0;
                        for (int t = 0; t < headDim; t++)
                        {
                            dot += (double)qRow[t] * kRow[t];
                        }

                        scores[j] = dot * scale;
                        max = Math.Max(max, scores[j]);
                    }

                    double sum = 0;
                    for (int j = 0; j < tokens; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    for (int t = 0; t < headDim; t++)
                    {
                        double value = 0;
                        for (int j = 0; j < tokens; j++)
                        {
                            value += scores[j] * v[((long)s * tokens + j) * ldqkv + h * headDim + t];
                        }

                        output[((long)s * queries + i) * ldo + h * headDim + t] = (float)(value / sum);
                    }
                }
            }
        }
    }

    private struct Job
    {
        public int Tokens, Heads, HeadDim, Ldqkv, Ldo;
        public int Queries;   // query rows per sequence: the first Queries of its Tokens; output rows are sequence·Queries + i
        public float Scale;
        public float* Q, K, V, Output;
        public bool ByLane;   // query lanes on 4-lane vectors: the FMLA-by-element loops of Attention.Neon.cs
    }

    private const int PanelWidth = PackedMatrix.PanelWidth;
    // Query rows per block: as many as one microkernel call takes, 8 with AVX-512 or 12 with the 6-row AVX2 kernel (two
    // 6-row blocks, no idle rows: 8 rows there cost as much as 12).
    private static readonly int RowBlock = Gemm.MicrokernelMaxRows;

    // Pairs [begin, end), pair = sequence·heads + head. Per pair, kᵀ and v are packed into the GEMM's panel layout, then
    // each block of 8 query rows runs two register-tiled products on the GEMM microkernel:
    //   scores[8, tokens] = q[8, d]·kᵀ  (broadcast q, 32 keys along the lanes), softmax per row in L1,
    //   out[8, d] = p[8, tokens]·v      (broadcast p, 32 head columns along the lanes).
    private static void RunPairs(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int tokens = job->Tokens, d = job->HeadDim;
        int keyPanels = CeilDiv(tokens, PanelWidth), valuePanels = CeilDiv(d, PanelWidth);
        int tokensPadded = keyPanels * PanelWidth;
        float* keys = Scratch.Attention((long)keyPanels * d * PanelWidth + (long)valuePanels * tokens * PanelWidth
                                        + (long)keyPanels * RowBlock * PanelWidth + (long)RowBlock * tokensPadded
                                        + (long)valuePanels * RowBlock * PanelWidth + RowBlock);
        float* values = keys + (long)keyPanels * d * PanelWidth;                 // [valuePanels][tokens][32]
        float* scores = values + (long)valuePanels * tokens * PanelWidth;        // [keyPanels][RowBlock][32]
        float* probabilities = scores + (long)keyPanels * RowBlock * PanelWidth; // [RowBlock][tokensPadded]
        float* outTile = probabilities + (long)RowBlock * tokensPadded;          // [valuePanels][RowBlock][32]
        float* inverseSums = outTile + (long)valuePanels * RowBlock * PanelWidth;  // [RowBlock]
        for (int pair = begin; pair < end; pair++)
        {
            int sequence = pair / job->Heads, head = pair % job->Heads;
            long row0 = (long)sequence * tokens;
            int column0 = head * d;
            PackKeys(tokens, d, job->K + row0 * job->Ldqkv + column0, job->Ldqkv, keys);
            PackValues(tokens, d, job->V + row0 * job->Ldqkv + column0, job->Ldqkv, values);

            for (int i0 = 0; i0 < job->Queries; i0 += RowBlock)
            {
                int rows = Math.Min(RowBlock, job->Queries - i0);
                float* q = job->Q + (row0 + i0) * job->Ldqkv + column0;   // [rows, d] stride ldqkv
                for (int panel = 0; panel < keyPanels; panel++)
                {
                    Gemm.Microkernel(d, q, job->Ldqkv, rows, keys + (long)panel * d * PanelWidth, scores + panel * RowBlock * PanelWidth, false);
                }

                for (int r = 0; r < rows; r++)
                {
                    inverseSums[r] = 1f / SoftmaxRow(tokens, keyPanels, job->Scale, scores + r * PanelWidth, probabilities + r * tokensPadded);
                }

                for (int panel = 0; panel < valuePanels; panel++)
                {
                    Gemm.Microkernel(tokens, probabilities, tokensPadded, rows, values + (long)panel * tokens * PanelWidth,
                        outTile + panel * RowBlock * PanelWidth, false);
                }

                for (int r = 0; r < rows; r++)
                {
                    float* destination = job->Output + ((long)sequence * job->Queries + i0 + r) * job->Ldo + column0;
                    ScaleHeadRow(d, outTile + r * PanelWidth, inverseSums[r], destination);
                }
            }
        }
    }

    /// <summary>keys[j / 32, t, j % 32] = k[j, t], zero for tokens ≤ j &lt; padded.</summary>
    /// <param name="k">[tokens, d] row stride ld</param>
    /// <param name="keys">[⌈tokens/32⌉][d][32]</param>
    private static void PackKeys(int tokens, int d, float* k, int ld, float* keys)
    {
        int panels = CeilDiv(tokens, PanelWidth);
        for (int panel = 0; panel < panels; panel++)
        {
            float* destination = keys + (long)panel * d * PanelWidth;
            int j0 = panel * PanelWidth;
            int count = Math.Min(PanelWidth, tokens - j0);
            if (count < PanelWidth)
            {
                new Span<float>(destination, d * PanelWidth).Clear();
            }

            int jj = 0;
            int tiled = Avx512F.IsSupported ? d / 16 * 16 : 0;
            if (tiled > 0)
            {
                // 16 keys × 16 head columns at a time, transposed in registers (16 loads, 64 shuffles, 16 stores instead
                // of 256 scalar loads and strided stores); head columns past the last 16 below, one key at a time.
                for (; jj + 16 <= count; jj += 16)
                {
                    for (int t0 = 0; t0 < tiled; t0 += 16)
                    {
                        Transpose16x16(k + (long)(j0 + jj) * ld + t0, ld, destination + t0 * PanelWidth + jj, PanelWidth);
                    }

                    for (int key = jj; key < jj + 16; key++)
                    {
                        float* source = k + (long)(j0 + key) * ld;
                        for (int t = tiled; t < d; t++)
                        {
                            destination[t * PanelWidth + key] = source[t];
                        }
                    }
                }
            }

            int tiled4 = !Avx512F.IsSupported && (AdvSimd.Arm64.IsSupported || Sse.IsSupported) ? d / 4 * 4 : 0;
            if (tiled4 > 0)
            {
                // Without AVX-512: 4 keys × 4 head columns at a time, transposed in registers (NEON zips or SSE unpacks).
                for (; jj + 4 <= count; jj += 4)
                {
                    float* source = k + (long)(j0 + jj) * ld;
                    for (int t0 = 0; t0 < tiled4; t0 += 4)
                    {
                        Transpose4x4(source + t0, ld, destination + t0 * PanelWidth + jj, PanelWidth);
                    }

                    for (int key = 0; key < 4; key++)
                    {
                        for (int t = tiled4; t < d; t++)
                        {
                            destination[t * PanelWidth + jj + key] = source[key * ld + t];
                        }
                    }
                }
            }

            for (; jj < count; jj++)
            {
                float* source = k + (long)(j0 + jj) * ld;
                for (int t = 0; t < d; t++)
                {
                    destination[t * PanelWidth + jj] = source[t];
                }
            }
        }
    }

    /// <summary>destination[c·ldd + r] = source[r·lds + c] for r, c &lt; 4 (AdvSimd.Arm64 or SSE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose4x4(float* source, long lds, float* destination, long ldd)
    {
        Vector128<float> r0 = Vector128.Load(source), r1 = Vector128.Load(source + lds);
        Vector128<float> r2 = Vector128.Load(source + 2 * lds), r3 = Vector128.Load(source + 3 * lds);
        if (AdvSimd.Arm64.IsSupported)
        {
            Vector128<double> t0 = AdvSimd.Arm64.ZipLow(r0, r1).AsDouble(), t1 = AdvSimd.Arm64.ZipHigh(r0, r1).AsDouble();   // r0[0] r1[0] r0[1] r1[1] | r0[2] r1[2] r0[3] r1[3]
            Vector128<double> t2 = AdvSimd.Arm64.ZipLow(r2, r3).AsDouble(), t3 = AdvSimd.Arm64.ZipHigh(r2, r3).AsDouble();
            AdvSimd.Arm64.ZipLow(t0, t2).AsSingle().Store(destination);
            AdvSimd.Arm64.ZipHigh(t0, t2).AsSingle().Store(destination + ldd);
            AdvSimd.Arm64.ZipLow(t1, t3).AsSingle().Store(destination + 2 * ldd);
            AdvSimd.Arm64.ZipHigh(t1, t3).AsSingle().Store(destination + 3 * ldd);
        }
        else if (Sse.IsSupported)
        {
            Vector128<float> t0 = Sse.UnpackLow(r0, r1), t1 = Sse.UnpackHigh(r0, r1);   // r0[0] r1[0] r0[1] r1[1] | r0[2] r1[2] r0[3] r1[3]
            Vector128<float> t2 = Sse.UnpackLow(r2, r3), t3 = Sse.UnpackHigh(r2, r3);
            Sse.MoveLowToHigh(t0, t2).Store(destination);
            Sse.MoveHighToLow(t2, t0).Store(destination + ldd);
            Sse.MoveLowToHigh(t1, t3).Store(destination + 2 * ldd);
            Sse.MoveHighToLow(t3, t1).Store(destination + 3 * ldd);
        }
        else
        {
            for (int r = 0; r < 4; r++)
            {
                for (int c = 0; c < 4; c++)
                {
                    destination[c * ldd + r] = source[r * lds + c];
                }
            }
        }
    }

    /// <summary>destination[c·ldd + r] = source[r·lds + c] for r, c &lt; 16 (AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Transpose16x16(float* source, long lds, float* destination, long ldd)
    {
        // 1. unpack pairs of rows: t[2i], t[2i+1] hold rows 2i, 2i+1 interleaved within each 128-bit lane.
        Vector512<float> r0 = Vector512.Load(source), r1 = Vector512.Load(source + lds);
        Vector512<float> r2 = Vector512.Load(source + 2 * lds), r3 = Vector512.Load(source + 3 * lds);
        Vector512<float> r4 = Vector512.Load(source + 4 * lds), r5 = Vector512.Load(source + 5 * lds);
        Vector512<float> r6 = Vector512.Load(source + 6 * lds), r7 = Vector512.Load(source + 7 * lds);
        Vector512<float> r8 = Vector512.Load(source + 8 * lds), r9 = Vector512.Load(source + 9 * lds);
        Vector512<float> r10 = Vector512.Load(source + 10 * lds), r11 = Vector512.Load(source + 11 * lds);
        Vector512<float> r12 = Vector512.Load(source + 12 * lds), r13 = Vector512.Load(source + 13 * lds);
        Vector512<float> r14 = Vector512.Load(source + 14 * lds), r15 = Vector512.Load(source + 15 * lds);
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        Vector512<double> t4 = Avx512F.UnpackLow(r4, r5).AsDouble(), t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        Vector512<double> t6 = Avx512F.UnpackLow(r6, r7).AsDouble(), t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        Vector512<double> t8 = Avx512F.UnpackLow(r8, r9).AsDouble(), t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        Vector512<double> t10 = Avx512F.UnpackLow(r10, r11).AsDouble(), t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        Vector512<double> t12 = Avx512F.UnpackLow(r12, r13).AsDouble(), t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        Vector512<double> t14 = Avx512F.UnpackLow(r14, r15).AsDouble(), t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();
        // 2. unpack 64-bit pairs: u[4i+m], lane q, holds rows 4i..4i+3 of column 4q+m.
        Vector512<float> u0 = Avx512F.UnpackLow(t0, t2).AsSingle(), u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        Vector512<float> u2 = Avx512F.UnpackLow(t1, t3).AsSingle(), u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        Vector512<float> u4 = Avx512F.UnpackLow(t4, t6).AsSingle(), u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        Vector512<float> u6 = Avx512F.UnpackLow(t5, t7).AsSingle(), u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        Vector512<float> u8 = Avx512F.UnpackLow(t8, t10).AsSingle(), u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        Vector512<float> u10 = Avx512F.UnpackLow(t9, t11).AsSingle(), u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        Vector512<float> u12 = Avx512F.UnpackLow(t12, t14).AsSingle(), u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        Vector512<float> u14 = Avx512F.UnpackLow(t13, t15).AsSingle(), u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();
        // 3. gather lane q of u[m], u[4+m], u[8+m], u[12+m] into output row 4q+m.
        StoreColumns(u0, u4, u8, u12, destination, ldd);
        StoreColumns(u1, u5, u9, u13, destination + ldd, ldd);
        StoreColumns(u2, u6, u10, u14, destination + 2 * ldd, ldd);
        StoreColumns(u3, u7, u11, u15, destination + 3 * ldd, ldd);
    }

    // a, b, c, d: rows 0–3, 4–7, 8–11, 12–15 of columns m, 4+m, 8+m, 12+m (one column per 128-bit lane); writes those four
    // columns as rows m, 4+m, 8+m, 12+m of the output (first at destination, then every 4·ldd).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* destination, long ldd)
    {
        Vector512<float> ab01 = Avx512F.Shuffle4x128(a, b, 0x44), cd01 = Avx512F.Shuffle4x128(c, d, 0x44);   // lanes 0, 1
        Vector512<float> ab23 = Avx512F.Shuffle4x128(a, b, 0xEE), cd23 = Avx512F.Shuffle4x128(c, d, 0xEE);   // lanes 2, 3
        Avx512F.Shuffle4x128(ab01, cd01, 0x88).Store(destination);
        Avx512F.Shuffle4x128(ab01, cd01, 0xDD).Store(destination + 4 * ldd);
        Avx512F.Shuffle4x128(ab23, cd23, 0x88).Store(destination + 8 * ldd);
        Avx512F.Shuffle4x128(ab23, cd23, 0xDD).Store(destination + 12 * ldd);
    }

    /// <summary>values[t / 32, j, t % 32] = v[j, t], zero for d ≤ t &lt; padded.</summary>
    /// <param name="v">[tokens, d] row stride ld</param>
    /// <param name="values">[⌈d/32⌉][tokens][32]</param>
    private static void PackValues(int tokens, int d, float* v, int ld, float* values)
    {
        int panels = CeilDiv(d, PanelWidth);
        for (int panel = 0; panel < panels; panel++)
        {
            int t0 = panel * PanelWidth;
            int count = Math.Min(PanelWidth, d - t0);
            float* destination = values + (long)panel * tokens * PanelWidth;
            if (count == PanelWidth && Vector512.IsHardwareAccelerated)
            {
                // Whole 32-column rows: two vector copies each (MemoryCopy's call cost was a third of the packing).
                for (int j = 0; j < tokens; j++, destination += PanelWidth)
                {
                    float* source = v + (long)j * ld + t0;
                    Vector512.Load(source).Store(destination);
                    Vector512.Load(source + 16).Store(destination + 16);
                }

                continue;
            }

            if (count == PanelWidth && Vector128.IsHardwareAccelerated && !Vector256.IsHardwareAccelerated)
            {
                // The same with 128-bit vectors (arm64: Vector256 is not accelerated there), eight per row.
                for (int j = 0; j < tokens; j++, destination += PanelWidth)
                {
                    float* source = v + (long)j * ld + t0;
                    Vector128.Load(source).Store(destination);
                    Vector128.Load(source + 4).Store(destination + 4);
                    Vector128.Load(source + 8).Store(destination + 8);
                    Vector128.Load(source + 12).Store(destination + 12);
                    Vector128.Load(source + 16).Store(destination + 16);
                    Vector128.Load(source + 20).Store(destination + 20);
                    Vector128.Load(source + 24).Store(destination + 24);
                    Vector128.Load(source + 28).Store(destination + 28);
                }

                continue;
            }

            for (int j = 0; j < tokens; j++, destination += PanelWidth)
            {
                float* source = v + (long)j * ld + t0;
                Buffer.MemoryCopy(source, destination, PanelWidth * sizeof(float), count * sizeof(float));
                for (int t = count; t < PanelWidth; t++)
                {
                    destination[t] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// p[j] = e^(s[j]·scale − max_j s[j]·scale) for j &lt; tokens, 0 up to panels·32; returns Σ p. s is one row of a tile
    /// [panels][RowBlock][32] (panel stride RowBlock·32), p is contiguous.
    /// </summary>
    private static float SoftmaxRow(int tokens, int panels, float scale, float* s, float* p)
    {
        int padded = panels * PanelWidth;
        float* last = s + (panels - 1) * RowBlock * PanelWidth;
        for (int j = tokens; j < padded; j++)
        {
            last[j - (panels - 1) * PanelWidth] = float.NegativeInfinity;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            return SoftmaxRow<Vector512Ops, Vector512<float>>(panels, scale, s, p);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return SoftmaxRow<Vector256Ops, Vector256<float>>(panels, scale, s, p);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            return SoftmaxRow<Vector128Ops, Vector128<float>>(panels, scale, s, p);
        }

        float max = float.NegativeInfinity;
        for (int j = 0; j < tokens; j++)
        {
            max = MathF.Max(max, s[j / PanelWidth * RowBlock * PanelWidth + j % PanelWidth] * scale);
        }

        float sum = 0;
        for (int j = 0; j < padded; j++)
        {
            p[j] = ActivationMath.Exp(s[j / PanelWidth * RowBlock * PanelWidth + j % PanelWidth] * scale - max);
            sum += p[j];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SoftmaxRow<TOps, TVec>(int panels, float scale, float* s, float* p)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec scaleVector = TOps.Create(scale);
        TVec maxVector = TOps.Create(float.NegativeInfinity);
        for (int panel = 0; panel < panels; panel++)
        {
            float* row = s + panel * RowBlock * PanelWidth;
            for (int j = 0; j < PanelWidth; j += TOps.Count)
            {
                maxVector = TOps.Max(maxVector, TOps.Multiply(TOps.Load(row + j), scaleVector));
            }
        }

        // p = e^(s·scale − max); the −∞ padding gives exactly 0
        TVec offset = TOps.Create(-TOps.MaxAcross(maxVector));
        TVec sum = TOps.Zero;
        for (int panel = 0; panel < panels; panel++)
        {
            float* row = s + panel * RowBlock * PanelWidth;
            for (int j = 0; j < PanelWidth; j += TOps.Count)
            {
                TVec e = ActivationMath.Exp<TOps, TVec>(TOps.MultiplyAdd(TOps.Load(row + j), scaleVector, offset));
                TOps.Store(e, p + panel * PanelWidth + j);
                sum = TOps.Add(sum, e);
            }
        }

        return TOps.Sum(sum);
    }

    /// <summary>destination[t] = tile[t / 32 · RowBlock·32 + t % 32]·factor for t &lt; d (one row of a [panels][RowBlock][32] tile).</summary>
    private static void ScaleHeadRow(int d, float* tile, float factor, float* destination)
    {
        int t = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> f = Vector512.Create(factor);
            for (; t <= d - 16; t += 16)
            {
                (Vector512.Load(tile + t / PanelWidth * RowBlock * PanelWidth + t % PanelWidth) * f).Store(destination + t);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> f = Vector256.Create(factor);
            for (; t <= d - 8; t += 8)
            {
                (Vector256.Load(tile + t / PanelWidth * RowBlock * PanelWidth + t % PanelWidth) * f).Store(destination + t);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> f = Vector128.Create(factor);
            for (; t <= d - 4; t += 4)
            {
                (Vector128.Load(tile + t / PanelWidth * RowBlock * PanelWidth + t % PanelWidth) * f).Store(destination + t);
            }
        }

        for (; t < d; t++)
        {
            destination[t] = tile[t / PanelWidth * RowBlock * PanelWidth + t % PanelWidth] * factor;
        }
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}

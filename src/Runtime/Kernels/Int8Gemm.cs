// Int8Gemm: c = act(a·Wᵀ + bias) + residual with W in int8 (Int8Matrix) and a quantized per call:
//   1. each row i of a becomes u7 bytes qa[i, k] in [0, 127], asymmetric from the row's range widened to include 0:
//        scale_i = (max − min) / 127, inv = 1 / scale_i, zero_i = clamp(round(−min·inv), 0, 127),
//        qa = clamp(round(a·inv) + zero_i, 0, 127)       (float arithmetic, round-half-to-even: identical on every path)
//      into a per-call buffer (the calling thread's scratch; workers only read it);
//   2. acc[i, j] = Σ_k qa[i, k]·qw[j, k], exact in int32: u7 × s8 pair sums fit s16 (127·127·2 < 32767, qw ≠ −128), and
//      |Σ_k (qa − zero)·qw| ≤ 127·127·K < 2³¹ for K ≤ Int8Matrix.MaxK, so acc − zero·colSum is exact in wrapping int32;
//   3. c = act(scale_i·colScale_j·(acc − zero_i·colSum_j) + bias_j) + residual, by the shared Epilogue.
// Work items are (chunk of rows × run of 64-column panels), as in Gemm; each item keeps its 4 × 64 int32 tile and 64
// dequantized floats on its own stack, never in c, so residual may alias c.
// Microkernels (4 rows × a panel, the whole K in one pass): Int8Gemm.X86.cs (AVX-512BW, AVX2, SSSE3), Int8Gemm.Neon.cs
// (AdvSimd, SDOT when available), scalar below.
// Non-finite inputs: a row of a holding NaN or ±Inf (or whose range overflows float) gets scale NaN, so that row of c is
// NaN; nothing else is affected and nothing reads out of bounds. A row whose range is below ~1e-36 counts as zero.
using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>W8A8 GEMM: float activations quantized per row to u7, int8 weights per output channel, exact int32 sums.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe partial class Int8Gemm
{
    private const int PanelWidth = Int8Matrix.PanelWidth;
    /// <summary>Rows per microkernel call, except 5-row blocks (below).</summary>
    internal const int RowBlock = 4;
    // AVX-512: M a multiple of 5 but not of 4 (ViT's 50 tokens per image) runs 5-row blocks (Tile5x64_Avx512), so no
    // block is a partial one (50 rows as 12 × 4 + 2 computed 52).
    private const int RowBlock5 = 5;
    /// <summary>Rows of the int32 tile: two 4-row calls of the narrow kernel cover a 5-row block.</summary>
    private const int TileRows = 8;
    private const int MaxChunkRows = 64;
    // B over L2: taller chunks so that each streams all of B from L3/DRAM fewer times (as Gemm.MaxChunkRowsLargeB).
    private const int MaxChunkRowsLargeB = 256;
    private const long LargeBBytes = 1L << 20;
    // Panels (of 64 columns) per work item when rows are few: 128 columns, as Gemm's 4 panels of 32.
    private const int PanelsPerItem = 2;
    // Quantize a in parallel only when it is large enough to repay a second WorkerPool.For.
    private const long ParallelQuantizeElements = 65536;

    /// <summary>
    /// c[i, j] = act(Σ_k a[i, k]·W[j, k] + bias[j]) + residual[i, j], with a's rows quantized to u7 and W int8 (see the
    /// file header for the exact arithmetic). Same contract as <see cref="Gemm.Run"/>; residual may alias c.
    /// </summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="m">rows of a and c (≥ 1)</param>
    /// <param name="a">[m, K] row stride lda ≥ K</param>
    /// <param name="b">W [N, K], int8</param>
    /// <param name="bias">[N] or null</param>
    /// <param name="residual">[m, N] row stride ldr ≥ N, or null; may alias c</param>
    /// <param name="c">[m, N] row stride ldc ≥ N</param>
    public static void Run(WorkerPool? pool, int m, float* a, int lda, Int8Matrix b,
                           float* bias, Activation act, float* residual, int ldr, float* c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        ObjectDisposedException.ThrowIf(b.IsDisposed, b);
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        if (a == null) throw new ArgumentNullException(nameof(a));
        if (c == null) throw new ArgumentNullException(nameof(c));
        ArgumentOutOfRangeException.ThrowIfLessThan(lda, b.K);
        ArgumentOutOfRangeException.ThrowIfLessThan(ldc, b.N);
        if (residual != null) ArgumentOutOfRangeException.ThrowIfLessThan(ldr, b.N);

        long ldq = (long)(b.Kq * 4 + 63) / 64 * 64;
        // Per call: [m][ldq] bytes of qa, then m row scales and m zero points (the calling thread's scratch).
        byte* q = (byte*)Scratch.Int8Rows((m * ldq + 8L * m + 3) / 4);
        Job job = Describe(m, b);
        job.A = a;
        job.Lda = lda;
        job.Q = q;
        job.Ldq = ldq;
        job.RowScale = (float*)(q + m * ldq);
        job.ZeroPoint = (int*)(q + m * ldq + 4L * m);
        job.Bias = bias;
        job.Act = act;
        job.Residual = residual;
        job.Ldr = ldr;
        job.C = c;
        job.Ldc = ldc;
        int threads = pool?.ThreadCount ?? 1;
        if (threads > 1 && m > 1 && (long)m * b.K >= ParallelQuantizeElements)
        {
            pool!.For(m, &QuantizeItems, &job, Math.Max(1, m / (4 * threads)));
        }
        else
        {
            QuantizeItems(&job, 0, m);
        }

        Execute(pool, &job);
    }

    /// <summary>Test hook: acc[i, j] = Σ_k q[i, k]·W[j, k] (exact int32) through the same driver and microkernels.</summary>
    /// <param name="q">[m, ldq] u7 bytes (0..127); ldq ≥ 4·⌈K/4⌉, bytes from K to 4·⌈K/4⌉ are read (any u7 value)</param>
    /// <param name="acc">[m, N] row stride ldacc</param>
    internal static void Accumulate(WorkerPool? pool, int m, byte* q, long ldq, Int8Matrix b, int* acc, long ldacc)
    {
        Debug.Assert(ldq >= b.Kq * 4L && ldacc >= b.N && m >= 1);
        Job job = Describe(m, b);
        job.Q = q;
        job.Ldq = ldq;
        job.Acc = acc;
        job.LdAcc = ldacc;
        Execute(pool, &job);
    }

    /// <summary>
    /// The per-row activation quantizer of <see cref="Run"/> (exposed for tests): q[i, 0..k) u7, q[i, k..kPadded) = 0,
    /// rowScale[i] and zeroPoint[i].
    /// </summary>
    internal static void QuantizeActivations(int m, float* a, long lda, int k, int kPadded, byte* q, long ldq, float* rowScale, int* zeroPoint)
    {
        for (int i = 0; i < m; i++)
        {
            QuantizeRow(a + i * lda, k, kPadded, q + i * ldq, out rowScale[i], out zeroPoint[i]);
        }
    }

    /// <summary>Everything one int8 GEMM needs, shared read-only by all threads through a pointer.</summary>
    private struct Job
    {
        public int M, K, Kq, N, Panels;
        public float* A;               // [M, K] stride Lda
        public long Lda;
        public byte* Q;                // [M, Ldq] u7 rows of A
        public long Ldq;
        public float* RowScale;        // [M]
        public int* ZeroPoint;         // [M]
        public sbyte* B;               // Int8Matrix.Data
        public float* ColScale;        // [Panels·64]
        public int* ColSum;            // [Panels·64]
        public float* Bias;            // [N] or null
        public Activation Act;
        public float* Residual;        // [M, N] stride Ldr or null
        public long Ldr;
        public float* C;               // [M, N] stride Ldc
        public long Ldc;
        public int* Acc;               // test hook: raw int32 sums [M, N] stride LdAcc instead of the epilogue
        public long LdAcc;
        public int ChunkRows, PanelGroups;
        public int RowBlock;           // 4, or 5 (AVX-512, M a multiple of 5 and not of 4)
    }

    private static Job Describe(int m, Int8Matrix b) => new()
    {
        M = m, K = b.K, Kq = b.Kq, N = b.N, Panels = b.Panels,
        B = b.Data, ColScale = b.ColumnScales, ColSum = b.ColumnSums,
    };

    private static void QuantizeItems(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        for (int i = begin; i < end; i++)
        {
            QuantizeRow(job->A + i * job->Lda, job->K, job->Kq * 4, job->Q + i * job->Ldq, out job->RowScale[i], out job->ZeroPoint[i]);
        }
    }

    // One row (see the file header). The range starts at [0, 0], so it always contains 0 and zero ∈ [0, 127].
    private static void QuantizeRow(float* x, int k, int kPadded, byte* q, out float scale, out int zero)
    {
        float min = 0, max = 0;
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> low = Vector512<float>.Zero, high = low;
            for (; i <= k - 16; i += 16)
            {
                Vector512<float> value = Vector512.Load(x + i);
                low = Vector512.Min(low, value);
                high = Vector512.Max(high, value);
            }

            min = Reduce(Vector128.Min(Vector128.Min(low.GetLower().GetLower(), low.GetLower().GetUpper()),
                                       Vector128.Min(low.GetUpper().GetLower(), low.GetUpper().GetUpper())), min, max: false);
            max = Reduce(Vector128.Max(Vector128.Max(high.GetLower().GetLower(), high.GetLower().GetUpper()),
                                       Vector128.Max(high.GetUpper().GetLower(), high.GetUpper().GetUpper())), max, max: true);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> low = Vector128<float>.Zero, high = low;
            for (; i <= k - 4; i += 4)
            {
                Vector128<float> value = Vector128.Load(x + i);
                low = Vector128.Min(low, value);
                high = Vector128.Max(high, value);
            }

            min = Reduce(low, min, max: false);
            max = Reduce(high, max, max: true);
        }

        for (; i < k; i++)
        {
            min = Math.Min(min, x[i]);
            max = Math.Max(max, x[i]);
        }

        new Span<byte>(q + k, kPadded - k).Clear();
        scale = (max - min) / 127f;
        float inv = 1f / scale;
        zero = 0;
        if (!float.IsFinite(scale))
        {
            // NaN or ±Inf in the row (Min/Max and Math.Min/Max propagate NaN), or a range beyond float: the row's outputs are NaN.
            scale = float.NaN;
            new Span<byte>(q, k).Clear();
            return;
        }

        if (scale == 0 || !float.IsFinite(inv))
        {
            // All zeros, or a range so small that 1/scale overflows: the row quantizes to zero.
            scale = 0;
            new Span<byte>(q, k).Clear();
            return;
        }

        zero = Math.Clamp((int)MathF.Round(-min * inv), 0, 127);
        float zeroF = zero;
        int j = 0;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            Vector512<float> inv16 = Vector512.Create(inv), zero16 = Vector512.Create(zeroF), top = Vector512.Create(127f);
            for (; j <= k - 16; j += 16)
            {
                // Finite row: the values are finite, so the native clamp and conversion are exact here.
                Vector512<float> value = Vector512.ClampNative(Vector512.Round(Vector512.Load(x + j) * inv16) + zero16, Vector512<float>.Zero, top);
                Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32Native(value)).Store(q + j);
            }
        }

        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> inv4 = Vector128.Create(inv), zero4 = Vector128.Create(zeroF), top = Vector128.Create(127f);
            for (; j <= k - 16; j += 16)
            {
                Vector128<int> q0 = Vector128.ConvertToInt32Native(Vector128.ClampNative(Vector128.Round(Vector128.Load(x + j) * inv4) + zero4, Vector128<float>.Zero, top));
                Vector128<int> q1 = Vector128.ConvertToInt32Native(Vector128.ClampNative(Vector128.Round(Vector128.Load(x + j + 4) * inv4) + zero4, Vector128<float>.Zero, top));
                Vector128<int> q2 = Vector128.ConvertToInt32Native(Vector128.ClampNative(Vector128.Round(Vector128.Load(x + j + 8) * inv4) + zero4, Vector128<float>.Zero, top));
                Vector128<int> q3 = Vector128.ConvertToInt32Native(Vector128.ClampNative(Vector128.Round(Vector128.Load(x + j + 12) * inv4) + zero4, Vector128<float>.Zero, top));
                Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte().Store(q + j);
            }
        }

        for (; j < k; j++)
        {
            q[j] = (byte)(int)Math.Clamp(MathF.Round(x[j] * inv) + zeroF, 0f, 127f);
        }
    }

    private static float Reduce(Vector128<float> v, float start, bool max)
    {
        for (int e = 0; e < 4; e++)
        {
            start = max ? Math.Max(start, v.GetElement(e)) : Math.Min(start, v.GetElement(e));
        }

        return start;
    }

    /// <summary>Splits the job into (row chunk × panel group) items and runs them on the pool (or inline).</summary>
    private static void Execute(WorkerPool? pool, Job* job)
    {
        int threads = pool?.ThreadCount ?? 1;
        int rowBlock = Avx512BW.IsSupported && job->M % RowBlock5 == 0 && job->M % RowBlock != 0 ? RowBlock5 : RowBlock;
        int maxRows = (long)job->Kq * 4 * job->Panels * PanelWidth > LargeBBytes ? MaxChunkRowsLargeB : MaxChunkRows;
        int items = WorkSplit.Plan(job->M, job->Panels, rowBlock, maxRows, threads, PanelsPerItem, out int chunkRows, out int panelGroups);
        job->ChunkRows = chunkRows;
        job->RowBlock = rowBlock;
        job->PanelGroups = panelGroups;
        if (pool == null || threads == 1)
        {
            RunItems(job, 0, items);
        }
        else
        {
            // Claims of ~4 M multiply-adds (~20 µs at the int8 rate), at least 4 claims per thread (see Gemm.Execute).
            long itemMacs = Math.Max(1L, (long)job->ChunkRows * job->Kq * 4 * PanelWidth * job->Panels / panelGroups);
            int grain = (int)Math.Clamp(4_000_000 / itemMacs, 1, Math.Max(1, items / (4 * threads)));
            pool.For(items, &RunItems, job, grain);
        }
    }

    private static void RunItems(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int* tile = stackalloc int[TileRows * PanelWidth];   // [8][64] sums of the current row block and panel
        float* values = stackalloc float[PanelWidth];        // one dequantized row of the tile
        for (int item = begin; item < end; item++)
        {
            int chunk = item / job->PanelGroups;
            int group = item % job->PanelGroups;
            int firstPanel = (int)((long)group * job->Panels / job->PanelGroups);
            int endPanel = (int)((long)(group + 1) * job->Panels / job->PanelGroups);
            RunBlock(job, chunk * job->ChunkRows, firstPanel, endPanel, tile, values);
        }
    }

    // Rows [row0, row0 + ChunkRows) ∩ [0, M) against panels [firstPanel, endPanel): for each panel (kept in L1/L2), every
    // 4-row block over the whole K, then its epilogue.
    private static void RunBlock(Job* job, int row0, int firstPanel, int endPanel, int* tile, float* values)
    {
        int rows = Math.Min(job->ChunkRows, job->M - row0);
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            sbyte* packed = job->B + (long)panel * job->Kq * 4 * PanelWidth;
            int width = panel < job->Panels - 1 ? PanelWidth : (job->N - panel * PanelWidth + 15) / 16 * 16;
            for (int r = 0; r < rows; r += job->RowBlock)
            {
                int count = Math.Min(job->RowBlock, rows - r);
                Microkernel(job->Kq, job->Q + (row0 + r) * job->Ldq, job->Ldq, count, packed, width, tile);
                Finish(job, row0 + r, count, panel, width, tile, values);
            }
        }
    }

    // The epilogue of one tile: rows [row0, row0 + rows), the columns of panel.
    private static void Finish(Job* job, int row0, int rows, int panel, int width, int* tile, float* values)
    {
        int column0 = panel * PanelWidth;
        int columns = Math.Min(PanelWidth, job->N - column0);
        int* sums = job->ColSum + column0;
        float* scales = job->ColScale + column0;
        float* bias = job->Bias != null ? job->Bias + column0 : null;
        if (Vector512.IsHardwareAccelerated && columns % 16 == 0 && job->Acc == null)
        {
            Finish512(job, row0, rows, columns, tile, sums, scales, bias, column0);
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            long row = row0 + r;
            int* acc = tile + r * PanelWidth;
            if (job->Acc != null)
            {
                new ReadOnlySpan<int>(acc, columns).CopyTo(new Span<int>(job->Acc + row * job->LdAcc + column0, columns));
                continue;
            }

            Dequantize(acc, sums, scales, job->RowScale[row], job->ZeroPoint[row], values, width);
            float* residual = job->Residual != null ? job->Residual + row * job->Ldr + column0 : null;
            Epilogue.Row(values, bias, job->Act, residual, job->C + row * job->Ldc + column0, columns);
        }
    }

    // Finish with Vector512 when the panel's columns are a multiple of 16: dequantization, bias, activation and residual
    // in registers, one 16-column vector at a time; residual is read before c is written. Not generic over the activation
    // (one copy of the code in the binary; the switch per vector is predicted).
    private static void Finish512(Job* job, int row0, int rows, int columns, int* tile, int* sums, float* scales, float* bias, int column0)
    {
        Activation act = job->Act;
        for (int r = 0; r < rows; r++)
        {
            long row = row0 + r;
            int* acc = tile + r * PanelWidth;
            Vector512<int> zero = Vector512.Create(job->ZeroPoint[row]);
            Vector512<float> rowScale = Vector512.Create(job->RowScale[row]);
            float* residual = job->Residual != null ? job->Residual + row * job->Ldr + column0 : null;
            float* c = job->C + row * job->Ldc + column0;
            for (int j = 0; j < columns; j += 16)
            {
                Vector512<float> x = Vector512.ConvertToSingle(Vector512.Load(acc + j) - zero * Vector512.Load(sums + j))
                                     * (rowScale * Vector512.Load(scales + j));
                if (bias != null)
                {
                    x += Vector512.Load(bias + j);
                }

                x = ActivationMath.Apply<Vector512Ops, Vector512<float>>(act, x);
                if (residual != null)
                {
                    x += Vector512.Load(residual + j);
                }

                x.Store(c + j);
            }
        }
    }

    // values[j] = (float)(acc[j] − zero·sums[j]) · (rowScale·scales[j]), j < width (a multiple of 16). The int32 difference
    // is exact (wrapping arithmetic, true value within int32: see the file header).
    private static void Dequantize(int* acc, int* sums, float* scales, float rowScale, int zero, float* values, int width)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<int> zero4 = Vector128.Create(zero);
            Vector128<float> scale4 = Vector128.Create(rowScale);
            for (; j < width; j += 4)
            {
                Vector128<int> centered = Vector128.Load(acc + j) - zero4 * Vector128.Load(sums + j);
                (Vector128.ConvertToSingle(centered) * (scale4 * Vector128.Load(scales + j))).Store(values + j);
            }
        }

        for (; j < width; j++)
        {
            values[j] = (acc[j] - zero * sums[j]) * (rowScale * scales[j]);
        }
    }

    /// <summary>The microkernel this process runs (for benchmarks and diagnostics).</summary>
    internal static string MicrokernelName =>
        Avx512BW.IsSupported ? "AVX-512BW pmaddubsw 4x64" : Avx2.IsSupported ? "AVX2 pmaddubsw 4x16" : Ssse3.IsSupported ? "SSSE3 pmaddubsw 4x8"
        : AdvSimd.Arm64.IsSupported ? (Dp.IsSupported ? "AdvSimd SDOT 4x8" : "AdvSimd SMULL/ADDP/SADALP 4x8") : "scalar";

    /// <summary>
    /// tile[r, j] = Σ_{q &lt; kq} Σ_{t &lt; 4} a[r, 4q + t]·packed[q, j, t] for r &lt; rows (1..4, or 5 with AVX-512BW),
    /// j &lt; width (16, 32, 48 or 64); packed is one panel [kq][width][4], tile is [8][64]. Tile rows from rows to 7 may
    /// receive a copy of the last row. a's bytes are u7 (0..127), packed's s8 in [−127, 127].
    /// </summary>
    internal static void Microkernel(int kq, byte* a, long lda, int rows, sbyte* packed, int width, int* tile)
    {
        Debug.Assert(rows >= 1 && rows <= (Avx512BW.IsSupported ? RowBlock5 : RowBlock) && width % 16 == 0 && width >= 16 && width <= PanelWidth);
        // Rows past the last are read as the last row again (the same arithmetic, results ignored).
        byte* a1 = a + Math.Min(1, rows - 1) * lda, a2 = a + Math.Min(2, rows - 1) * lda, a3 = a + Math.Min(3, rows - 1) * lda;
        int stride = width * 4;   // bytes per k-quad of the panel
        if (Avx512BW.IsSupported)
        {
            if (rows == RowBlock5)
            {
                byte* a4 = a + 4 * lda;
                if (width == PanelWidth)
                {
                    Tile5x64_Avx512(kq, a, a1, a2, a3, a4, packed, tile);
                    return;
                }

                // Narrow panel: row 4 as a second 4-row block (tile rows 4..7, of which 5..7 copy it).
                for (int v = 0; v < width; v += 16)
                {
                    Tile4x16_Avx512(kq, a4, a4, a4, a4, packed + v * 4, stride, tile + 4 * PanelWidth + v);
                }
            }

            if (width == PanelWidth)
            {
                Tile4x64_Avx512(kq, a, a1, a2, a3, packed, tile);
            }
            else
            {
                for (int v = 0; v < width; v += 16)
                {
                    Tile4x16_Avx512(kq, a, a1, a2, a3, packed + v * 4, stride, tile + v);
                }
            }
        }
        else if (Avx2.IsSupported)
        {
            for (int v = 0; v < width; v += 16)
            {
                Tile4x16_Avx2(kq, a, a1, a2, a3, packed + v * 4, stride, tile + v);
            }
        }
        else if (Ssse3.IsSupported)
        {
            for (int v = 0; v < width; v += 8)
            {
                Tile4x8_Ssse3(kq, a, a1, a2, a3, packed + v * 4, stride, tile + v);
            }
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            for (int v = 0; v < width; v += 8)
            {
                Tile4x8_Neon(kq, a, a1, a2, a3, packed + v * 4, stride, tile + v);
            }
        }
        else
        {
            TileScalar(kq, a, lda, rows, packed, width, tile);
        }
    }

    // Scalar microkernel: one row and one column at a time.
    private static void TileScalar(int kq, byte* a, long lda, int rows, sbyte* packed, int width, int* tile)
    {
        int stride = width * 4;
        for (int r = 0; r < rows; r++)
        {
            byte* row = a + r * lda;
            int* output = tile + r * PanelWidth;
            for (int j = 0; j < width; j++)
            {
                sbyte* column = packed + j * 4;
                int sum = 0;
                for (int q = 0; q < kq; q++, column += stride)
                {
                    byte* x = row + 4 * q;
                    sum += x[0] * column[0] + x[1] * column[1] + x[2] * column[2] + x[3] * column[3];
                }

                output[j] = sum;
            }
        }
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}

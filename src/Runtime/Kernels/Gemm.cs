// Gemm: c = act(a·B + bias) + residual with B pre-packed (PackedMatrix), plus the shared driver that Conv2d reuses
// with an implicit-im2col A. The driver blocks the problem as
//   item (chunk of ≤64 rows, ≤256 when B is over 1 MiB, × a range of 32-column panels) → one WorkerPool claim gets a run of items
//     panel → K block of 256 → 8-row block (10-row when M is a multiple of 10 only; 6-row with AVX2 only) → microkernel
//     (Gemm.Vector512.cs / Gemm.Fma256.cs / Gemm.Neon.cs on AArch64 / Gemm.Portable.cs / scalar below)
// A 256×32 B block (32 KiB) stays in L1 across the row blocks; row blocks 1–4 prefetch the next block into L2, so its
// first use does not wait on DRAM (ViT-B/32, 40 GEMMs of 50×3072×768 streamed from DRAM: 157 → 183 GFLOP/s on 1 thread).
// Partial sums live in a thread-static tile, never in c, so the epilogue may read residual from c itself.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>Single-precision GEMM with a fused epilogue over a packed B.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe partial class Gemm
{
    private const int PanelWidth = PackedMatrix.PanelWidth;
    private const int RowBlock = 8;
    // Without AVX-512: the 6×16 AVX2 + FMA kernel (Gemm.Fma256.cs) and 6-row blocks in the driver.
    private const int Fma256RowBlock = 6;
    internal static bool UseFma256 => !Vector512.IsHardwareAccelerated && Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported;
    /// <summary>Rows per microkernel call when every row block is full (8, or 6 on the AVX2 path): callers that choose
    /// their own M (Winograd's tile blocks) take a multiple of it.</summary>
    internal static int DirectRowBlock => UseFma256 ? Fma256RowBlock : RowBlock;
    private const int KBlock = 256;
    private const int MaxChunkRows = 64;
    // Rows per chunk when B is larger than L2 (ViT-B/32's 2.4–9.4 MB weights): every chunk streams all of B from L3 or
    // DRAM, so fewer, taller chunks (A's k-block slice, 256 KiB, still fits L2) cut that traffic. ViT-B/32 at batch 8
    // (400 rows), interleaved pairs: 1 thread 386/374 → 367/362 ms, 2 threads 195/207 → 182/205 ms. Small Bs stay in L2
    // and keep 64-row chunks: MobileViT-S measured 1–3 % slower with 256.
    private const int MaxChunkRowsLargeB = 256;
    private const long LargeBBytes = 1L << 20;
    // Panels per work item when a GEMM has few rows and at least 2·PanelsPerItem panels per thread (ViT at batch 1:
    // 50 rows × 24–96 panels).
    private const int PanelsPerItem = 4;
    // Floats the microkernel's prefetch pointer advances per k step: half a line, so 4 row blocks cover a B block.
    private const int PrefetchStep = PanelWidth / 4;
    // Conv2d gathers a chunk of im2col rows into scratch; keep that chunk within ~256 KiB (L2).
    private const int GatherBudgetFloats = 65536;

    /// <summary>
    /// c[i, j] = act(Σ_k a[i, k]·B[k, j] + bias[j]) + residual[i, j]
    /// </summary>
    /// <param name="pool">worker pool, or null for single-threaded</param>
    /// <param name="m">rows of a and c</param>
    /// <param name="a">[m, K] row stride lda</param>
    /// <param name="b">[K, N] packed</param>
    /// <param name="bias">[N] or null</param>
    /// <param name="residual">[m, N] row stride ldr, or null; may alias c (in-place residual add)</param>
    /// <param name="c">[m, N] row stride ldc</param>
    public static void Run(WorkerPool? pool, int m, float* a, int lda, PackedMatrix b,
                           float* bias, Activation act, float* residual, int ldr, float* c, int ldc)
    {
        ArgumentNullException.ThrowIfNull(b);
        if (b.Int8 is { } int8)
        {
            Int8Gemm.Run(pool, m, a, lda, int8, bias, act, residual, ldr, c, ldc);
            return;
        }
        Job job = new()
        {
            M = m, A = a, Lda = lda, B = b.Data, K = b.K, N = b.N, Panels = b.Panels,
            Bias = bias, Act = act, Residual = residual, Ldr = ldr, C = c, Ldc = ldc,
        };
        Execute(pool, &job);
    }

    /// <summary>Scalar oracle: c[i, j] = act(Σ_k a[i, k]·b[k, j] + bias[j]) + residual[i, j], summed in double.</summary>
    /// <param name="a">[m, k] row stride lda</param>
    /// <param name="b">[k, n] row stride ldb</param>
    /// <param name="bias">[n] or null</param>
    /// <param name="residual">[m, n] row stride ldr, or null; may alias c</param>
    /// <param name="c">[m, n] row stride ldc</param>
    public static void Reference(int m, int n, int k, float* a, int lda, float* b, int ldb,
                                 float* bias, Activation act, float* residual, int ldr, float* c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = bias != null ? bias[j] : 0;
                for (int p = 0; p < k; p++)
                {
                    sum += (double)a[(long)i * lda + p] * b[(long)p * ldb + j];
                }

                double value = Elementwise.Reference(act, sum);
                if (residual != null)
                {
                    value += residual[(long)i * ldr + j];
                }

                c[(long)i * ldc + j] = (float)value;
            }
        }
    }

    /// <summary>Everything one GEMM needs, shared read-only by all threads through a pointer.</summary>
    internal struct Job
    {
        public int M, K, N, Panels;
        public float* A;             // [M, K] stride Lda (unused when Gather is set)
        public long Lda;
        public float* B;             // [Panels][K][32]
        public float* Bias;          // [N] or null
        public Activation Act;
        public float* Residual;      // [M, N] stride Ldr or null
        public long Ldr;
        public float* C;             // [M, N] stride Ldc
        public long Ldc;
        public Conv2d.Geometry* Gather; // when set, A rows are im2col rows of this convolution
        public int ChunkRows, PanelGroups;
        public int RowBlock;         // rows per microkernel call: 8, or 10 (Gemm_f32_10x32) when M is a multiple of 10 only
    }

    /// <summary>Splits the job into items and runs them on the pool (or inline).</summary>
    internal static void Execute(WorkerPool? pool, Job* job)
    {
        if (job->M <= 0)
        {
            return;
        }

        int threads = pool?.ThreadCount ?? 1;
        // 50 rows (ViT-B/32, one image) as 5 blocks of 10 instead of 6 of 8 and a 4-row kernel for the last 2.
        int rowBlock = Vector512.IsHardwareAccelerated
            ? (job->Gather == null && job->M % 10 == 0 && job->M % RowBlock != 0 ? 10 : RowBlock)
            : DirectRowBlock;
        job->RowBlock = rowBlock;
        int maxRows = job->Gather != null ? Math.Clamp(GatherBudgetFloats / job->K / RowBlock * RowBlock, RowBlock, MaxChunkRows)
            : (long)job->K * job->Panels * PanelWidth * sizeof(float) > LargeBBytes ? MaxChunkRowsLargeB : MaxChunkRows;
        int items = WorkSplit.Plan(job->M, job->Panels, rowBlock, maxRows, threads, PanelsPerItem, out int chunkRows, out int panelGroups);
        job->ChunkRows = chunkRows;
        job->PanelGroups = panelGroups;
        if (pool == null || threads == 1)
        {
            RunItems(job, 0, items);
        }
        else
        {
            // Claims of ~2 M multiply-adds (~10 µs): small enough that a late or descheduled thread costs little,
            // large enough that the shared counter is touched rarely; at least 4 claims per thread.
            long itemMacs = Math.Max(1L, (long)job->ChunkRows * job->K * PanelWidth * job->Panels / panelGroups);
            int grain = (int)Math.Clamp(2_000_000 / itemMacs, 1, Math.Max(1, items / (4 * threads)));
            pool.For(items, &RunItems, job, grain);
        }
    }

    private static void RunItems(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        for (int item = begin; item < end; item++)
        {
            int chunk = item / job->PanelGroups;
            int group = item % job->PanelGroups;
            int firstPanel = (int)((long)group * job->Panels / job->PanelGroups);
            int endPanel = (int)((long)(group + 1) * job->Panels / job->PanelGroups);
            RunBlock(job, chunk * job->ChunkRows, firstPanel, endPanel);
        }
    }

    // Rows [row0, row0 + ChunkRows) ∩ [0, M) against panels [firstPanel, endPanel).
    private static void RunBlock(Job* job, int row0, int firstPanel, int endPanel)
    {
        int rows = Math.Min(job->ChunkRows, job->M - row0);
        int k = job->K;
        float* a;        // [rows, k] stride lda
        long lda;
        if (job->Gather != null)
        {
            a = Scratch.ConvRows((long)rows * k);
            lda = k;
            Conv2d.GatherRows(job->Gather, row0, rows, a);
        }
        else
        {
            a = job->A + row0 * job->Lda;
            lda = job->Lda;
        }

        int rowBlock = job->RowBlock;
        float* tile = Scratch.GemmTile((long)(rows + RowBlock) * PanelWidth);   // [rows rounded up to 8, 32]
        // The whole K in one block, AVX-512, 8-row blocks: whole panels go straight from the accumulators through the
        // epilogue into c (Gemm_f32_8x32_Fma512Direct), without the tile.
        bool direct = Vector512.IsHardwareAccelerated && k <= KBlock && rowBlock == RowBlock;
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            float* packed = job->B + (long)panel * k * PanelWidth;             // [k, 32]
            if (direct && (panel + 1) * PanelWidth <= job->N)
            {
                RunPanelDirect(job, row0, rows, a, lda, panel, packed, tile);
                continue;
            }

            int columns = Math.Min(PanelWidth, job->N - panel * PanelWidth);
            // A half panel runs in 8-row blocks: the 10-row kernel has no half-width form, and splitting every 10-row block
            // as 8 + 2 would let the 2-row call's repeated rows overwrite the next block's partial sums between k-blocks.
            int panelRowBlock = columns > PanelWidth / 2 ? rowBlock : RowBlock;
            for (int k0 = 0; k0 < k; k0 += KBlock)
            {
                int kc = Math.Min(KBlock, k - k0);
                bool accumulate = k0 > 0;
                // The next B block (rest of this panel, else the next panel) comes from DRAM on its first use: row blocks
                // 1..4 prefetch it into L2, a quarter each (half a line per k), while they compute from L1.
                float* next = k0 + KBlock < k ? packed + (long)(k0 + KBlock) * PanelWidth
                    : panel + 1 < job->Panels ? job->B + (long)(panel + 1) * k * PanelWidth : null;
                float* block = packed + (long)k0 * PanelWidth;                    // [kc, 32]
                for (int r = 0, rb = 0; r < rows; r += panelRowBlock, rb++)
                {
                    float* prefetch = PrefetchFor(rb, next, kc, block);
                    if (panelRowBlock == 10 && rows - r >= 10)
                    {
                        Gemm_f32_10x32_Fma512Broadcast(kc, a + r * lda + k0, lda, block, tile + r * PanelWidth, accumulate, prefetch);
                        continue;
                    }

                    // One call per block of rowBlock ≤ 8 rows (6 with AVX2); the tail of a 10-row blocking as 8 + rest.
                    int blockEnd = Math.Min(rows, r + panelRowBlock);
                    for (int r8 = r; r8 < blockEnd; r8 += RowBlock)
                    {
                        Microkernel(kc, a + r8 * lda + k0, lda, Math.Min(RowBlock, blockEnd - r8), block, tile + r8 * PanelWidth, accumulate, prefetch,
                            columns);
                    }
                }
            }

            int column0 = panel * PanelWidth;
            float* bias = job->Bias != null ? job->Bias + column0 : null;
            if (Vector512.IsHardwareAccelerated && columns == PanelWidth)
            {
                float* residual = job->Residual != null ? job->Residual + row0 * job->Ldr + column0 : null;
                Epilogue.Panel512(tile, rows, bias, job->Act, residual, job->Ldr, job->C + row0 * job->Ldc + column0, job->Ldc);
                continue;
            }

            for (int r = 0; r < rows; r++)
            {
                long row = row0 + r;
                float* residual = job->Residual != null ? job->Residual + row * job->Ldr + column0 : null;
                Epilogue.Row(tile + r * PanelWidth, bias, job->Act, residual, job->C + row * job->Ldc + column0, columns);
            }
        }
    }

    // One whole 32-column panel of rows [row0, row0 + rows) when K fits one k-block (AVX-512): 8-row blocks through the
    // in-register epilogue; a last block of ≤ 4 rows through the 4-row kernel and the tile, as the tiled path does.
    private static void RunPanelDirect(Job* job, int row0, int rows, float* a, long lda, int panel, float* packed, float* tile)
    {
        int k = job->K;
        int column0 = panel * PanelWidth;
        float* bias = job->Bias != null ? job->Bias + column0 : null;
        // The next panel comes from DRAM on its first use: row blocks 1..4 prefetch it into L2 (see RunBlock).
        float* next = panel + 1 < job->Panels ? job->B + (long)(panel + 1) * k * PanelWidth : null;
        for (int r = 0, rb = 0; r < rows; r += RowBlock, rb++)
        {
            float* prefetch = PrefetchFor(rb, next, k, packed);
            int count = Math.Min(RowBlock, rows - r);
            long row = row0 + r;
            float* residual = job->Residual != null ? job->Residual + row * job->Ldr + column0 : null;
            float* c = job->C + row * job->Ldc + column0;
            if (count > 4)
            {
                Direct8x32(job->Act, k, a + r * lda, lda, count, packed, prefetch, bias, residual, job->Ldr, c, job->Ldc);
            }
            else
            {
                Microkernel(k, a + r * lda, lda, count, packed, tile, false, prefetch);
                Epilogue.Panel512(tile, count, bias, job->Act, residual, job->Ldr, c, job->Ldc);
            }
        }
    }

    // Where row block rb of a block of kc k-steps points the microkernel's prefetch: blocks 1..4 fetch a quarter each of the
    // next block (null: none); the others "prefetch" the block they read (L1 hits), so the k loop has no branch.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* PrefetchFor(int rb, float* next, int kc, float* current) =>
        next != null && rb is >= 1 and <= 4 ? next + (long)(rb - 1) * kc * PrefetchStep : current;

    /// <summary>Most rows one <see cref="Microkernel"/> call takes: 8, or 12 (two 6-row blocks) with the AVX2 kernel.</summary>
    internal static int MicrokernelMaxRows => UseFma256 ? 2 * Fma256RowBlock : RowBlock;

    /// <summary>
    /// tile[r, 0..32) (+)= Σ_{k &lt; kc} a[r, k]·packed[k, 0..32) for r &lt; rows (1..<see cref="MicrokernelMaxRows"/>). Tile rows
    /// from rows up to 8 may receive a duplicate of the last row (the AVX-512 kernels store whole 4- or 8-row blocks; the
    /// AVX2 kernel stores only valid rows). accumulate = false starts from zero. With AVX-512 or AVX2 + FMA, the k loop
    /// also prefetches into L2 the line at prefetch + k·PrefetchStep (null: nothing to prefetch); other paths ignore it.
    /// <paramref name="columns"/> (1..32) is how many panel columns the caller reads: with at most 16 (a last panel whose
    /// right half is padding) the SIMD paths compute only the left half and tile columns 16..32 are left unwritten.
    /// </summary>
    internal static void Microkernel(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate,
                                     float* prefetch = null, int columns = PanelWidth)
    {
        Debug.Assert(rows >= 1 && rows <= MicrokernelMaxRows && kc >= 1 && columns is >= 1 and <= PanelWidth);
        int halves = columns > PanelWidth / 2 ? 2 : 1;
        if (prefetch == null)
        {
            // Nothing to fetch ahead: "prefetch" lines of the block being read (L1 hits) so the loop stays branch-free.
            prefetch = packed;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            if (halves == 1)
            {
                Gemm_f32_8x16_Fma512Broadcast(kc, a, lda, rows, packed, tile, accumulate, prefetch);
            }
            else if (rows > 4)
            {
                Gemm_f32_8x32_Fma512Broadcast(kc, a, lda, rows, packed, tile, accumulate, prefetch);
            }
            else
            {
                Gemm_f32_4x32_Fma512Broadcast(kc, a, lda, rows, packed, tile, accumulate, prefetch);
            }
        }
        else if (UseFma256)
        {
            for (int r = 0; r < rows; r += Fma256RowBlock)
            {
                int count = Math.Min(Fma256RowBlock, rows - r);
                Gemm_f32_6x16_Fma256Broadcast(kc, a + r * lda, lda, count, packed, tile + r * PanelWidth, accumulate, prefetch);
                if (halves == 2)
                {
                    Gemm_f32_6x16_Fma256Broadcast(kc, a + r * lda, lda, count, packed + 16, tile + r * PanelWidth + 16, accumulate, prefetch);
                }
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (int r = 0; r < rows; r += 4)
            {
                for (int column = 0; column < halves * PanelWidth / 2; column += 2 * Vector256<float>.Count)
                {
                    Gemm_f32_4x2v_Broadcast<Vector256Ops, Vector256<float>>(kc, a + r * lda, lda, Math.Min(4, rows - r),
                        packed + column, tile + r * PanelWidth + column, accumulate);
                }
            }
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            for (int column = 0; column < halves * PanelWidth / 2; column += 2 * Vector128<float>.Count)
            {
                Gemm_f32_8x8_ByLane(kc, a, lda, rows, packed + column, tile + column, accumulate);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (int r = 0; r < rows; r += 4)
            {
                for (int column = 0; column < halves * PanelWidth / 2; column += 2 * Vector128<float>.Count)
                {
                    Gemm_f32_4x2v_Broadcast<Vector128Ops, Vector128<float>>(kc, a + r * lda, lda, Math.Min(4, rows - r),
                        packed + column, tile + r * PanelWidth + column, accumulate);
                }
            }
        }
        else
        {
            Gemm_f32_1x32_Scalar(kc, a, lda, rows, packed, tile, accumulate);
        }
    }

    /// <summary>Scalar microkernel: tile[r, j] (+)= Σ_k a[r, k]·packed[k, j], one row at a time.</summary>
    private static void Gemm_f32_1x32_Scalar(int kc, float* a, long lda, int rows, float* packed, float* tile, bool accumulate)
    {
        for (int r = 0; r < rows; r++)
        {
            float* tileRow = tile + r * PanelWidth;   // [32]
            float* aRow = a + r * lda;                // [kc]
            if (!accumulate)
            {
                new Span<float>(tileRow, PanelWidth).Clear();
            }

            for (int k = 0; k < kc; k++)
            {
                float value = aRow[k];
                float* bRow = packed + k * PanelWidth;
                for (int j = 0; j < PanelWidth; j++)
                {
                    tileRow[j] += value * bRow[j];
                }
            }
        }
    }

    private static int CeilDiv(int value, int divisor) => (value + divisor - 1) / divisor;
}

// Attention, query-lane variant: one query per vector lane (16 with AVX-512, 8 with AVX, 4 with SSE, 1 scalar), so
// a block of W queries is one vector wide and every product runs as broadcast(k or v element) × vector of queries:
//   QT[t, lane]      = q[i0 + lane, t]                           (the block's queries, transposed; W·d floats)
//   ST[j, lane]      = Σ_t k[j, t]·QT[t, lane]                   (8 keys per step, k[j, t] broadcast from its QKV row)
//   PT[j, lane]      = e^(ST[j, lane]·scale − max_j ST·scale)    (in place; max and sum run down j, lane by lane)
//   OT[c, lane]      = Σ_j v[j, c]·PT[j, lane] / Σ_j PT[j, lane] (16, 8 or 4 head columns per step, v[j, c] broadcast)
//   out[i0 + lane, c] = OT[c, lane]
// Nothing is packed and neither the keys nor the head columns are padded: every multiply-add is useful except in the
// last query block's empty lanes. Key groups past the last key and column groups past the last head column repeat
// the last one; the repeats are computed and never stored (a repeated score equals a real one, so the max is right).
// Work items are (pair, block of the first `queries` tokens; all tokens unless the caller asks for fewer): each reads
// its pair's k and v rows (tokens·d floats each) from cache.
// On arm64 (4 lanes, 32 registers) the two products use FMLA by element instead of broadcasts (Attention.Neon.cs),
// and 4×4 blocks of q and of the output are transposed in registers (NEON zips; SSE unpacks on x64 without AVX).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Attention
{
    /// <summary>Keys per score step: 8 accumulators, so the loop fits AVX's 16 registers.</summary>
    private const int KeyGroup = 8;

    /// <summary>
    /// Same contract as <see cref="RunKeyPanels"/>; query-lane variant: one query per vector lane, keys and values
    /// broadcast from their rows, no packing.
    /// </summary>
    public static void RunQueryLanes(WorkerPool? pool, int sequences, int tokens, int heads, int headDim, float scale,
                                     float* q, float* k, float* v, int ldqkv, float* output, int ldo) =>
        RunQueryLanes(pool, sequences, tokens, tokens, heads, headDim, scale, q, k, v, ldqkv, output, ldo);

    /// <summary>
    /// Same contract as the key-panel overload with `queries`: the first `queries` tokens of each sequence against all
    /// `tokens` keys and values, output [sequences·queries, ldo]. Lanes never mix, so each query gets the same floats as
    /// in the full call.
    /// </summary>
    public static void RunQueryLanes(WorkerPool? pool, int sequences, int tokens, int queries, int heads, int headDim, float scale,
                                     float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(queries, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(queries, tokens);
        Job job = new()
        {
            Tokens = tokens, Queries = queries, Heads = heads, HeadDim = headDim, Scale = scale, Q = q, K = k, V = v, Ldqkv = ldqkv,
            Output = output, Ldo = ldo, ByLane = AdvSimd.Arm64.IsSupported,
        };
        int lanes = Vector512.IsHardwareAccelerated ? Vector512<float>.Count
            : Vector256.IsHardwareAccelerated ? Vector256<float>.Count
            : Vector128.IsHardwareAccelerated ? Vector128<float>.Count : 1;
        int items = sequences * heads * CeilDiv(queries, lanes);
        delegate*<void*, int, int, void> body = lanes switch
        {
            16 => &QueryLaneItems<Vector512Ops, Vector512<float>>,
            8 => &QueryLaneItems<Vector256Ops, Vector256<float>>,
            4 => &QueryLaneItems<Vector128Ops, Vector128<float>>,
            _ => &QueryLaneItems<ScalarOps, float>,
        };
        if (pool == null)
        {
            body(&job, 0, items);
        }
        else
        {
            pool.For(items, body, &job);
        }
    }

    // Items [begin, end), item = pair·blocks + block, pair = sequence·heads + head.
    private static void QueryLaneItems<TOps, TVec>(void* context, int begin, int end)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        Job* job = (Job*)context;
        int w = TOps.Count;
        int tokens = job->Tokens, d = job->HeadDim;
        long ld = job->Ldqkv;
        int blocks = CeilDiv(job->Queries, w);
        bool byLane = typeof(TVec) == typeof(Vector128<float>) && (AdvSimd.Arm64.IsSupported || job->ByLane);   // arm64 (or RunQueryLanesByLane)
        int keyRows = CeilDiv(tokens, KeyGroup) * KeyGroup;
        float* qt = Scratch.Attention((long)d * w + (long)keyRows * w + 16L * w);
        float* st = qt + (long)d * w;           // [keyRows][w]
        float* ot = st + (long)keyRows * w;     // [16][w]
        for (int item = begin; item < end; item++)
        {
            int pair = item / blocks, i0 = item % blocks * w;
            int sequence = pair / job->Heads, head = pair % job->Heads;
            long row0 = (long)sequence * tokens;
            int column0 = head * d;
            int count = Math.Min(w, job->Queries - i0);
            float* k = job->K + row0 * ld + column0;
            float* v = job->V + row0 * ld + column0;

            // QT[t, lane] = q[i0 + lane, t]; empty lanes 0. A full AVX-512 block: 16×16 register transposes, then the
            // head columns past the last multiple of 16 one by one.
            float* q = job->Q + (row0 + i0) * ld + column0;
            int transposed = 0;
            if (w == 16 && count == 16 && Vector512.IsHardwareAccelerated)
            {
                for (; transposed + 16 <= d; transposed += 16)
                {
                    Transpose16x16(q + transposed, ld, qt + transposed * 16, 16);
                }
            }
            else if (w == 4 && count == 4 && (AdvSimd.Arm64.IsSupported || Sse.IsSupported))
            {
                for (; transposed + 4 <= d; transposed += 4)
                {
                    Transpose4x4(q + transposed, ld, qt + transposed * 4, 4);
                }
            }

            for (int lane = 0; lane < w; lane++)
            {
                float* source = q + lane * ld;
                if (lane < count)
                {
                    for (int t = transposed; t < d; t++) qt[t * w + lane] = source[t];
                }
                else
                {
                    for (int t = transposed; t < d; t++) qt[t * w + lane] = 0f;
                }
            }

            TVec max;
            if (byLane)
            {
                Vector128<float> m = QueryLaneScoresByLane(tokens, d, k, ld, qt, st);
                max = Unsafe.As<Vector128<float>, TVec>(ref m);
            }
            else
            {
                max = QueryLaneScores<TOps, TVec>(tokens, d, k, ld, qt, st);
            }

            TVec inverseSum = TOps.Divide(TOps.Create(1f), QueryLaneSoftmax<TOps, TVec>(tokens, job->Scale, max, st));

            float* destination = job->Output + ((long)sequence * job->Queries + i0) * job->Ldo + column0;
            int wide = w == 16 || byLane ? 16 : 8;   // 16 accumulators only where there are 32 registers
            int c0 = 0;
            for (; c0 + wide <= d; c0 += wide)
            {
                if (byLane) QueryLaneValues16ByLane(tokens, v + c0, ld, st, Unsafe.As<TVec, Vector128<float>>(ref inverseSum), ot);
                else if (wide == 16) QueryLaneValues16<TOps, TVec>(tokens, v + c0, ld, st, inverseSum, ot);
                else QueryLaneValues8<TOps, TVec>(tokens, v + c0, ld, 8, st, inverseSum, ot);
                StoreQueryLanes(w, count, wide, ot, destination + c0, job->Ldo);
            }

            for (; c0 < d; c0 += 8)
            {
                int columns = Math.Min(8, d - c0);
                if (columns > 4) QueryLaneValues8<TOps, TVec>(tokens, v + c0, ld, columns, st, inverseSum, ot);
                else QueryLaneValues4<TOps, TVec>(tokens, v + c0, ld, columns, st, inverseSum, ot);
                StoreQueryLanes(w, count, columns, ot, destination + c0, job->Ldo);
            }
        }
    }

    /// <summary>
    /// st[j, lane] = Σ_t k[j, t]·qt[t, lane] for j &lt; tokens (rows up to the next multiple of 8 repeat the last key);
    /// returns max_j st[j, lane].
    /// </summary>
    /// <param name="k">[tokens, d] row stride ld</param>
    /// <param name="qt">[d][W]</param>
    /// <param name="st">[⌈tokens/8⌉·8][W]</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static TVec QueryLaneScores<TOps, TVec>(int tokens, int d, float* k, long ld, float* qt, float* st)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int w = TOps.Count;
        TVec max = TOps.Create(float.NegativeInfinity);
        for (int j0 = 0; j0 < tokens; j0 += KeyGroup)
        {
            int last = tokens - 1;
            float* k0 = k + j0 * ld, k1 = k + Math.Min(j0 + 1, last) * ld, k2 = k + Math.Min(j0 + 2, last) * ld;
            float* k3 = k + Math.Min(j0 + 3, last) * ld, k4 = k + Math.Min(j0 + 4, last) * ld, k5 = k + Math.Min(j0 + 5, last) * ld;
            float* k6 = k + Math.Min(j0 + 6, last) * ld, k7 = k + Math.Min(j0 + 7, last) * ld;
            TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            TVec a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
            float* qRow = qt;
            for (int t = 0; t < d; t++, qRow += w)
            {
                TVec x = TOps.Load(qRow);
                a0 = TOps.MultiplyAdd(TOps.Create(k0[t]), x, a0);
                a1 = TOps.MultiplyAdd(TOps.Create(k1[t]), x, a1);
                a2 = TOps.MultiplyAdd(TOps.Create(k2[t]), x, a2);
                a3 = TOps.MultiplyAdd(TOps.Create(k3[t]), x, a3);
                a4 = TOps.MultiplyAdd(TOps.Create(k4[t]), x, a4);
                a5 = TOps.MultiplyAdd(TOps.Create(k5[t]), x, a5);
                a6 = TOps.MultiplyAdd(TOps.Create(k6[t]), x, a6);
                a7 = TOps.MultiplyAdd(TOps.Create(k7[t]), x, a7);
            }

            float* s = st + (long)j0 * w;
            TOps.Store(a0, s); TOps.Store(a1, s + w); TOps.Store(a2, s + 2 * w); TOps.Store(a3, s + 3 * w);
            TOps.Store(a4, s + 4 * w); TOps.Store(a5, s + 5 * w); TOps.Store(a6, s + 6 * w); TOps.Store(a7, s + 7 * w);
            max = TOps.Max(TOps.Max(TOps.Max(a0, a1), TOps.Max(a2, a3)), TOps.Max(TOps.Max(TOps.Max(a4, a5), TOps.Max(a6, a7)), max));
        }

        return max;
    }

    /// <summary>st[j, lane] ← e^(st[j, lane]·scale − max[lane]·scale) for j &lt; tokens; returns Σ_j of them per lane.</summary>
    private static TVec QueryLaneSoftmax<TOps, TVec>(int tokens, float scale, TVec max, float* st)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int w = TOps.Count;
        TVec scaleVector = TOps.Create(scale);
        TVec offset = TOps.Multiply(max, TOps.Create(-scale));
        TVec sum0 = TOps.Zero, sum1 = TOps.Zero;
        int j = 0;
        for (; j + 2 <= tokens; j += 2)
        {
            float* s = st + (long)j * w;
            TVec e0 = ActivationMath.Exp<TOps, TVec>(TOps.MultiplyAdd(TOps.Load(s), scaleVector, offset));
            TVec e1 = ActivationMath.Exp<TOps, TVec>(TOps.MultiplyAdd(TOps.Load(s + w), scaleVector, offset));
            TOps.Store(e0, s);
            TOps.Store(e1, s + w);
            sum0 = TOps.Add(sum0, e0);
            sum1 = TOps.Add(sum1, e1);
        }

        if (j < tokens)
        {
            float* s = st + (long)j * w;
            TVec e = ActivationMath.Exp<TOps, TVec>(TOps.MultiplyAdd(TOps.Load(s), scaleVector, offset));
            TOps.Store(e, s);
            sum0 = TOps.Add(sum0, e);
        }

        return TOps.Add(sum0, sum1);
    }

    /// <summary>ot[c, lane] = Σ_j v[j, c]·pt[j, lane]·inverseSum[lane] for c &lt; 16.</summary>
    /// <param name="v">[tokens, 16] row stride ld</param>
    /// <param name="pt">[tokens][W]</param>
    /// <param name="ot">[16][W]</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QueryLaneValues16<TOps, TVec>(int tokens, float* v, long ld, float* pt, TVec inverseSum, float* ot)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int w = TOps.Count;
        TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
        TVec a8 = TOps.Zero, a9 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero, a12 = TOps.Zero, a13 = TOps.Zero, a14 = TOps.Zero, a15 = TOps.Zero;
        float* p = pt;
        for (int j = 0; j < tokens; j++, p += w, v += ld)
        {
            TVec x = TOps.Load(p);
            a0 = TOps.MultiplyAdd(TOps.Create(v[0]), x, a0);
            a1 = TOps.MultiplyAdd(TOps.Create(v[1]), x, a1);
            a2 = TOps.MultiplyAdd(TOps.Create(v[2]), x, a2);
            a3 = TOps.MultiplyAdd(TOps.Create(v[3]), x, a3);
            a4 = TOps.MultiplyAdd(TOps.Create(v[4]), x, a4);
            a5 = TOps.MultiplyAdd(TOps.Create(v[5]), x, a5);
            a6 = TOps.MultiplyAdd(TOps.Create(v[6]), x, a6);
            a7 = TOps.MultiplyAdd(TOps.Create(v[7]), x, a7);
            a8 = TOps.MultiplyAdd(TOps.Create(v[8]), x, a8);
            a9 = TOps.MultiplyAdd(TOps.Create(v[9]), x, a9);
            a10 = TOps.MultiplyAdd(TOps.Create(v[10]), x, a10);
            a11 = TOps.MultiplyAdd(TOps.Create(v[11]), x, a11);
            a12 = TOps.MultiplyAdd(TOps.Create(v[12]), x, a12);
            a13 = TOps.MultiplyAdd(TOps.Create(v[13]), x, a13);
            a14 = TOps.MultiplyAdd(TOps.Create(v[14]), x, a14);
            a15 = TOps.MultiplyAdd(TOps.Create(v[15]), x, a15);
        }

        TOps.Store(TOps.Multiply(a0, inverseSum), ot); TOps.Store(TOps.Multiply(a1, inverseSum), ot + w);
        TOps.Store(TOps.Multiply(a2, inverseSum), ot + 2 * w); TOps.Store(TOps.Multiply(a3, inverseSum), ot + 3 * w);
        TOps.Store(TOps.Multiply(a4, inverseSum), ot + 4 * w); TOps.Store(TOps.Multiply(a5, inverseSum), ot + 5 * w);
        TOps.Store(TOps.Multiply(a6, inverseSum), ot + 6 * w); TOps.Store(TOps.Multiply(a7, inverseSum), ot + 7 * w);
        TOps.Store(TOps.Multiply(a8, inverseSum), ot + 8 * w); TOps.Store(TOps.Multiply(a9, inverseSum), ot + 9 * w);
        TOps.Store(TOps.Multiply(a10, inverseSum), ot + 10 * w); TOps.Store(TOps.Multiply(a11, inverseSum), ot + 11 * w);
        TOps.Store(TOps.Multiply(a12, inverseSum), ot + 12 * w); TOps.Store(TOps.Multiply(a13, inverseSum), ot + 13 * w);
        TOps.Store(TOps.Multiply(a14, inverseSum), ot + 14 * w); TOps.Store(TOps.Multiply(a15, inverseSum), ot + 15 * w);
    }

    /// <summary>ot[c, lane] = Σ_j v[j, c]·pt[j, lane]·inverseSum[lane] for c &lt; columns (5..8; columns past the last repeat it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QueryLaneValues8<TOps, TVec>(int tokens, float* v, long ld, int columns, float* pt, TVec inverseSum, float* ot)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int w = TOps.Count;
        int c5 = Math.Min(5, columns - 1), c6 = Math.Min(6, columns - 1), c7 = Math.Min(7, columns - 1);
        TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
        float* p = pt;
        for (int j = 0; j < tokens; j++, p += w, v += ld)
        {
            TVec x = TOps.Load(p);
            a0 = TOps.MultiplyAdd(TOps.Create(v[0]), x, a0);
            a1 = TOps.MultiplyAdd(TOps.Create(v[1]), x, a1);
            a2 = TOps.MultiplyAdd(TOps.Create(v[2]), x, a2);
            a3 = TOps.MultiplyAdd(TOps.Create(v[3]), x, a3);
            a4 = TOps.MultiplyAdd(TOps.Create(v[4]), x, a4);
            a5 = TOps.MultiplyAdd(TOps.Create(v[c5]), x, a5);
            a6 = TOps.MultiplyAdd(TOps.Create(v[c6]), x, a6);
            a7 = TOps.MultiplyAdd(TOps.Create(v[c7]), x, a7);
        }

        TOps.Store(TOps.Multiply(a0, inverseSum), ot); TOps.Store(TOps.Multiply(a1, inverseSum), ot + w);
        TOps.Store(TOps.Multiply(a2, inverseSum), ot + 2 * w); TOps.Store(TOps.Multiply(a3, inverseSum), ot + 3 * w);
        TOps.Store(TOps.Multiply(a4, inverseSum), ot + 4 * w); TOps.Store(TOps.Multiply(a5, inverseSum), ot + 5 * w);
        TOps.Store(TOps.Multiply(a6, inverseSum), ot + 6 * w); TOps.Store(TOps.Multiply(a7, inverseSum), ot + 7 * w);
    }

    /// <summary>ot[c, lane] = Σ_j v[j, c]·pt[j, lane]·inverseSum[lane] for c &lt; columns (1..4; columns past the last repeat it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QueryLaneValues4<TOps, TVec>(int tokens, float* v, long ld, int columns, float* pt, TVec inverseSum, float* ot)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int w = TOps.Count;
        int c1 = Math.Min(1, columns - 1), c2 = Math.Min(2, columns - 1), c3 = Math.Min(3, columns - 1);
        // two accumulators per column (even and odd keys): 8 independent chains
        TVec a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
        float* p = pt;
        int j = 0;
        for (; j + 2 <= tokens; j += 2, p += 2 * w, v += 2 * ld)
        {
            TVec x = TOps.Load(p), y = TOps.Load(p + w);
            float* u = v + ld;
            a0 = TOps.MultiplyAdd(TOps.Create(v[0]), x, a0);
            a1 = TOps.MultiplyAdd(TOps.Create(v[c1]), x, a1);
            a2 = TOps.MultiplyAdd(TOps.Create(v[c2]), x, a2);
            a3 = TOps.MultiplyAdd(TOps.Create(v[c3]), x, a3);
            b0 = TOps.MultiplyAdd(TOps.Create(u[0]), y, b0);
            b1 = TOps.MultiplyAdd(TOps.Create(u[c1]), y, b1);
            b2 = TOps.MultiplyAdd(TOps.Create(u[c2]), y, b2);
            b3 = TOps.MultiplyAdd(TOps.Create(u[c3]), y, b3);
        }

        if (j < tokens)
        {
            TVec x = TOps.Load(p);
            a0 = TOps.MultiplyAdd(TOps.Create(v[0]), x, a0);
            a1 = TOps.MultiplyAdd(TOps.Create(v[c1]), x, a1);
            a2 = TOps.MultiplyAdd(TOps.Create(v[c2]), x, a2);
            a3 = TOps.MultiplyAdd(TOps.Create(v[c3]), x, a3);
        }

        TOps.Store(TOps.Multiply(TOps.Add(a0, b0), inverseSum), ot); TOps.Store(TOps.Multiply(TOps.Add(a1, b1), inverseSum), ot + w);
        TOps.Store(TOps.Multiply(TOps.Add(a2, b2), inverseSum), ot + 2 * w); TOps.Store(TOps.Multiply(TOps.Add(a3, b3), inverseSum), ot + 3 * w);
    }

    /// <summary>destination[lane·ldo + c] = ot[c, lane] for lane &lt; count, c &lt; columns.</summary>
    /// <param name="ot">[columns][w]</param>
    private static void StoreQueryLanes(int w, int count, int columns, float* ot, float* destination, long ldo)
    {
        if (w == 16 && count == 16 && columns == 16 && Vector512.IsHardwareAccelerated)
        {
            Transpose16x16(ot, 16, destination, ldo);
            return;
        }

        int done = 0;
        if (w == 4 && count == 4 && (AdvSimd.Arm64.IsSupported || Sse.IsSupported))
        {
            for (; done + 4 <= columns; done += 4)
            {
                Transpose4x4(ot + done * 4, 4, destination + done, ldo);
            }
        }

        for (int lane = 0; lane < count; lane++)
        {
            float* row = destination + lane * ldo;
            for (int c = done; c < columns; c++)
            {
                row[c] = ot[c * w + lane];
            }
        }
    }
}

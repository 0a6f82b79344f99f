// Attention, query-lane variant on AArch64 (AdvSimd, 32 × 128-bit registers): the two products of
// Attention.QueryLanes.cs with FMLA by element instead of broadcasts. With 4 query lanes per vector, the portable
// Vector128 loops load one broadcast per multiply-add (k[j, t] or v[j, c]); here one 128-bit load brings 4 of them and
// `FusedMultiplyAddBySelectedScalar` takes each lane in turn:
//   scores: 8 keys × 4 head columns per step = 8 key loads + 4 query-row loads for 32 FMLAs (portable: 36 loads);
//   values: 16 head columns per key = 4 value loads + 1 probability-row load for 16 FMLAs (portable: 17), 16
//           accumulators (the portable Vector128 path keeps 8, for SSE's 16 registers).
// Each accumulator sums in the same order as the portable loop (t, resp. j, ascending), so both give the same floats.
// Selected by RunQueryLanes when AdvSimd.Arm64 is supported (arm64 builds); elsewhere Gemm.FmaLane broadcasts the lane,
// so the tests run these loops under the x64 JIT too (RunQueryLanesByLane).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

public static unsafe partial class Attention
{
    /// <summary>
    /// <see cref="RunQueryLanes"/> with the by-lane (NEON) score and value loops on 4-lane vectors whatever the CPU: what
    /// arm64 builds run, callable on x64 for the tests (slowly: there each lane is broadcast).
    /// </summary>
    internal static void RunQueryLanesByLane(WorkerPool? pool, int sequences, int tokens, int queries, int heads, int headDim, float scale,
                                             float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        Job job = new()
        {
            Tokens = tokens, Queries = queries, Heads = heads, HeadDim = headDim, Scale = scale, Q = q, K = k, V = v, Ldqkv = ldqkv,
            Output = output, Ldo = ldo, ByLane = true,
        };
        int items = sequences * heads * CeilDiv(queries, Vector128<float>.Count);
        if (pool == null)
        {
            QueryLaneItems<Vector128Ops, Vector128<float>>(&job, 0, items);
        }
        else
        {
            pool.For(items, &QueryLaneItems<Vector128Ops, Vector128<float>>, &job);
        }
    }

    /// <summary>
    /// Like QueryLaneScores on 4-lane vectors: st[j, lane] = Σ_t k[j, t]·qt[t, lane] for j &lt; tokens (rows up to the next
    /// multiple of 8 repeat the last key); returns max_j st[j, lane]. Head columns 4 at a time by lane, the rest broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Vector128<float> QueryLaneScoresByLane(int tokens, int d, float* k, long ld, float* qt, float* st)
    {
        Vector128<float> max = Vector128.Create(float.NegativeInfinity);
        int d4 = d & ~3;
        for (int j0 = 0; j0 < tokens; j0 += KeyGroup)
        {
            int last = tokens - 1;
            float* k0 = k + j0 * ld, k1 = k + Math.Min(j0 + 1, last) * ld, k2 = k + Math.Min(j0 + 2, last) * ld;
            float* k3 = k + Math.Min(j0 + 3, last) * ld, k4 = k + Math.Min(j0 + 4, last) * ld, k5 = k + Math.Min(j0 + 5, last) * ld;
            float* k6 = k + Math.Min(j0 + 6, last) * ld, k7 = k + Math.Min(j0 + 7, last) * ld;
            Vector128<float> a0 = Vector128<float>.Zero, a1 = Vector128<float>.Zero, a2 = Vector128<float>.Zero, a3 = Vector128<float>.Zero;
            Vector128<float> a4 = Vector128<float>.Zero, a5 = Vector128<float>.Zero, a6 = Vector128<float>.Zero, a7 = Vector128<float>.Zero;
            int t = 0;
            for (; t < d4; t += 4)
            {
                float* qRow = qt + t * 4;
                Vector128<float> x0 = Vector128.Load(qRow), x1 = Vector128.Load(qRow + 4);
                Vector128<float> x2 = Vector128.Load(qRow + 8), x3 = Vector128.Load(qRow + 12);
                Vector128<float> y0 = Vector128.Load(k0 + t), y1 = Vector128.Load(k1 + t), y2 = Vector128.Load(k2 + t), y3 = Vector128.Load(k3 + t);
                Vector128<float> y4 = Vector128.Load(k4 + t), y5 = Vector128.Load(k5 + t), y6 = Vector128.Load(k6 + t), y7 = Vector128.Load(k7 + t);
                a0 = Gemm.FmaLane(a0, x0, y0, 0); a1 = Gemm.FmaLane(a1, x0, y1, 0); a2 = Gemm.FmaLane(a2, x0, y2, 0); a3 = Gemm.FmaLane(a3, x0, y3, 0);
                a4 = Gemm.FmaLane(a4, x0, y4, 0); a5 = Gemm.FmaLane(a5, x0, y5, 0); a6 = Gemm.FmaLane(a6, x0, y6, 0); a7 = Gemm.FmaLane(a7, x0, y7, 0);
                a0 = Gemm.FmaLane(a0, x1, y0, 1); a1 = Gemm.FmaLane(a1, x1, y1, 1); a2 = Gemm.FmaLane(a2, x1, y2, 1); a3 = Gemm.FmaLane(a3, x1, y3, 1);
                a4 = Gemm.FmaLane(a4, x1, y4, 1); a5 = Gemm.FmaLane(a5, x1, y5, 1); a6 = Gemm.FmaLane(a6, x1, y6, 1); a7 = Gemm.FmaLane(a7, x1, y7, 1);
                a0 = Gemm.FmaLane(a0, x2, y0, 2); a1 = Gemm.FmaLane(a1, x2, y1, 2); a2 = Gemm.FmaLane(a2, x2, y2, 2); a3 = Gemm.FmaLane(a3, x2, y3, 2);
                a4 = Gemm.FmaLane(a4, x2, y4, 2); a5 = Gemm.FmaLane(a5, x2, y5, 2); a6 = Gemm.FmaLane(a6, x2, y6, 2); a7 = Gemm.FmaLane(a7, x2, y7, 2);
                a0 = Gemm.FmaLane(a0, x3, y0, 3); a1 = Gemm.FmaLane(a1, x3, y1, 3); a2 = Gemm.FmaLane(a2, x3, y2, 3); a3 = Gemm.FmaLane(a3, x3, y3, 3);
                a4 = Gemm.FmaLane(a4, x3, y4, 3); a5 = Gemm.FmaLane(a5, x3, y5, 3); a6 = Gemm.FmaLane(a6, x3, y6, 3); a7 = Gemm.FmaLane(a7, x3, y7, 3);
            }

            for (; t < d; t++)
            {
                Vector128<float> x = Vector128.Load(qt + t * 4);
                a0 = Vector128.MultiplyAddEstimate(Vector128.Create(k0[t]), x, a0);
                a1 = Vector128.MultiplyAddEstimate(Vector128.Create(k1[t]), x, a1);
                a2 = Vector128.MultiplyAddEstimate(Vector128.Create(k2[t]), x, a2);
                a3 = Vector128.MultiplyAddEstimate(Vector128.Create(k3[t]), x, a3);
                a4 = Vector128.MultiplyAddEstimate(Vector128.Create(k4[t]), x, a4);
                a5 = Vector128.MultiplyAddEstimate(Vector128.Create(k5[t]), x, a5);
                a6 = Vector128.MultiplyAddEstimate(Vector128.Create(k6[t]), x, a6);
                a7 = Vector128.MultiplyAddEstimate(Vector128.Create(k7[t]), x, a7);
            }

            float* s = st + (long)j0 * 4;
            a0.Store(s); a1.Store(s + 4); a2.Store(s + 8); a3.Store(s + 12);
            a4.Store(s + 16); a5.Store(s + 20); a6.Store(s + 24); a7.Store(s + 28);
            max = Vector128.MaxNative(Vector128.MaxNative(Vector128.MaxNative(a0, a1), Vector128.MaxNative(a2, a3)),
                                      Vector128.MaxNative(Vector128.MaxNative(Vector128.MaxNative(a4, a5), Vector128.MaxNative(a6, a7)), max));
        }

        return max;
    }

    /// <summary>Like QueryLaneValues16 on 4-lane vectors: ot[c, lane] = Σ_j v[j, c]·pt[j, lane]·inverseSum[lane], c &lt; 16; v[j, 0..16) as 4 loads, by lane.</summary>
    /// <param name="v">[tokens, 16] row stride ld</param>
    /// <param name="pt">[tokens][4]</param>
    /// <param name="ot">[16][4]</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void QueryLaneValues16ByLane(int tokens, float* v, long ld, float* pt, Vector128<float> inverseSum, float* ot)
    {
        Vector128<float> a0 = Vector128<float>.Zero, a1 = Vector128<float>.Zero, a2 = Vector128<float>.Zero, a3 = Vector128<float>.Zero;
        Vector128<float> a4 = Vector128<float>.Zero, a5 = Vector128<float>.Zero, a6 = Vector128<float>.Zero, a7 = Vector128<float>.Zero;
        Vector128<float> a8 = Vector128<float>.Zero, a9 = Vector128<float>.Zero, a10 = Vector128<float>.Zero, a11 = Vector128<float>.Zero;
        Vector128<float> a12 = Vector128<float>.Zero, a13 = Vector128<float>.Zero, a14 = Vector128<float>.Zero, a15 = Vector128<float>.Zero;
        float* p = pt;
        for (int j = 0; j < tokens; j++, p += 4, v += ld)
        {
            Vector128<float> x = Vector128.Load(p);
            Vector128<float> v0 = Vector128.Load(v), v1 = Vector128.Load(v + 4), v2 = Vector128.Load(v + 8), v3 = Vector128.Load(v + 12);
            a0 = Gemm.FmaLane(a0, x, v0, 0); a1 = Gemm.FmaLane(a1, x, v0, 1); a2 = Gemm.FmaLane(a2, x, v0, 2); a3 = Gemm.FmaLane(a3, x, v0, 3);
            a4 = Gemm.FmaLane(a4, x, v1, 0); a5 = Gemm.FmaLane(a5, x, v1, 1); a6 = Gemm.FmaLane(a6, x, v1, 2); a7 = Gemm.FmaLane(a7, x, v1, 3);
            a8 = Gemm.FmaLane(a8, x, v2, 0); a9 = Gemm.FmaLane(a9, x, v2, 1); a10 = Gemm.FmaLane(a10, x, v2, 2); a11 = Gemm.FmaLane(a11, x, v2, 3);
            a12 = Gemm.FmaLane(a12, x, v3, 0); a13 = Gemm.FmaLane(a13, x, v3, 1); a14 = Gemm.FmaLane(a14, x, v3, 2); a15 = Gemm.FmaLane(a15, x, v3, 3);
        }

        (a0 * inverseSum).Store(ot); (a1 * inverseSum).Store(ot + 4); (a2 * inverseSum).Store(ot + 8); (a3 * inverseSum).Store(ot + 12);
        (a4 * inverseSum).Store(ot + 16); (a5 * inverseSum).Store(ot + 20); (a6 * inverseSum).Store(ot + 24); (a7 * inverseSum).Store(ot + 28);
        (a8 * inverseSum).Store(ot + 32); (a9 * inverseSum).Store(ot + 36); (a10 * inverseSum).Store(ot + 40); (a11 * inverseSum).Store(ot + 44);
        (a12 * inverseSum).Store(ot + 48); (a13 * inverseSum).Store(ot + 52); (a14 * inverseSum).Store(ot + 56); (a15 * inverseSum).Store(ot + 60);
    }
}

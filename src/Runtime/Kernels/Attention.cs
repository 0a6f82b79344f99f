// Attention: scaled dot-product attention for every (sequence, head) pair, reading q/k/v as column slices of a
// fused QKV activation. Per pair, kᵀ and v are first copied into thread-static scratch padded to 16 columns, so the
// two products (scores = q·kᵀ, out = p·v) become the same "weighted sum of padded rows" loop with no tails.
// Not a flash-attention kernel: tokens ≤ a few hundred here, and the whole score row fits in L1.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>Multi-head softmax attention.</summary>
public static unsafe class Attention
{
    private const int Padding = 16;

    /// <summary>
    /// For each of `sequences` independent sequences of `tokens` rows and each head h:
    ///   out[s, t, h·d..] = softmax(q·kᵀ · scale) · v     (d = headDim)
    /// </summary>
    /// <param name="q">[sequences·tokens, ldqkv], head h at columns h·d .. h·d + d − 1</param>
    /// <param name="k">[sequences·tokens, ldqkv], same column layout</param>
    /// <param name="v">[sequences·tokens, ldqkv], same column layout</param>
    /// <param name="output">[sequences·tokens, ldo], same column layout; must not overlap q, k, v</param>
    public static void Run(WorkerPool? pool, int sequences, int tokens, int heads, int headDim, float scale,
                           float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        Job job = new()
        {
            Tokens = tokens, Heads = heads, HeadDim = headDim, Scale = scale, Q = q, K = k, V = v, Ldqkv = ldqkv,
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

    /// <summary>Scalar oracle in double, same contract as <see cref="Run"/>.</summary>
    public static void Reference(int sequences, int tokens, int heads, int headDim, float scale,
                                 float* q, float* k, float* v, int ldqkv, float* output, int ldo)
    {
        double[] scores = new double[tokens];
        for (int s = 0; s < sequences; s++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < tokens; i++)
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

                        output[((long)s * tokens + i) * ldo + h * headDim + t] = (float)(value / sum);
                    }
                }
            }
        }
    }

    private struct Job
    {
        public int Tokens, Heads, HeadDim, Ldqkv, Ldo;
        public float Scale;
        public float* Q, K, V, Output;
    }

    // Pairs [begin, end), pair = sequence·heads + head.
    private static void RunPairs(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        int tokens = job->Tokens, d = job->HeadDim;
        int tokensPadded = RoundUp(tokens), dPadded = RoundUp(d);
        float* keysT = Scratch.Attention((long)d * tokensPadded + (long)tokens * dPadded + tokensPadded + dPadded);   // [d, tokensPadded]
        float* values = keysT + (long)d * tokensPadded;                  // [tokens, dPadded]
        float* scores = values + (long)tokens * dPadded;                 // [tokensPadded]
        float* outRow = scores + tokensPadded;                           // [dPadded]
        for (int pair = begin; pair < end; pair++)
        {
            int sequence = pair / job->Heads, head = pair % job->Heads;
            long row0 = (long)sequence * tokens;
            int column0 = head * d;
            for (int j = 0; j < tokensPadded; j++)
            {
                float* kRow = job->K + (row0 + j) * job->Ldqkv + column0;
                float* vRow = job->V + (row0 + j) * job->Ldqkv + column0;
                for (int t = 0; t < d; t++)
                {
                    keysT[(long)t * tokensPadded + j] = j < tokens ? kRow[t] : 0f;
                }

                if (j < tokens)
                {
                    for (int t = 0; t < dPadded; t++)
                    {
                        values[(long)j * dPadded + t] = t < d ? vRow[t] : 0f;
                    }
                }
            }

            for (int i = 0; i < tokens; i++)
            {
                float* qRow = job->Q + (row0 + i) * job->Ldqkv + column0;
                // scores[j] = Σ_t q[i, t]·kᵀ[t, j]
                WeightedRowSum(d, qRow, keysT, tokensPadded, scores);
                // p = softmax(scores·scale) over the first `tokens` entries; returns Σ e^(…)
                float sum = SoftmaxNumerators(tokens, tokensPadded, job->Scale, scores);
                // out[i, t] = Σ_j p[j]·v[j, t] / sum
                WeightedRowSum(tokens, scores, values, dPadded, outRow);
                float inverse = 1f / sum;
                float* destination = job->Output + (row0 + i) * job->Ldo + column0;
                for (int t = 0; t < d; t++)
                {
                    destination[t] = outRow[t] * inverse;
                }
            }
        }
    }

    /// <summary>result[c] = Σ_{r &lt; rows} weights[r]·matrix[r, c] for c &lt; columns (a multiple of 16).</summary>
    /// <param name="weights">[rows]</param>
    /// <param name="matrix">[rows, columns] row stride = columns</param>
    /// <param name="result">[columns]</param>
    private static void WeightedRowSum(int rows, float* weights, float* matrix, int columns, float* result)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            WeightedRowSum<Vector512Ops, Vector512<float>>(rows, weights, matrix, columns, result);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            WeightedRowSum<Vector256Ops, Vector256<float>>(rows, weights, matrix, columns, result);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            WeightedRowSum<Vector128Ops, Vector128<float>>(rows, weights, matrix, columns, result);
        }
        else
        {
            for (int c = 0; c < columns; c++)
            {
                float sum = 0;
                for (int r = 0; r < rows; r++)
                {
                    sum += weights[r] * matrix[(long)r * columns + c];
                }

                result[c] = sum;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightedRowSum<TOps, TVec>(int rows, float* weights, float* matrix, int columns, float* result)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int width = TOps.Count;
        int c = 0;
        // four vectors of columns at a time, accumulators in registers
        for (; c <= columns - 4 * width; c += 4 * width)
        {
            TVec sum0 = TOps.Zero, sum1 = TOps.Zero, sum2 = TOps.Zero, sum3 = TOps.Zero;
            float* column = matrix + c;
            for (int r = 0; r < rows; r++, column += columns)
            {
                TVec weight = TOps.Create(weights[r]);
                sum0 = TOps.MultiplyAdd(weight, TOps.Load(column), sum0);
                sum1 = TOps.MultiplyAdd(weight, TOps.Load(column + width), sum1);
                sum2 = TOps.MultiplyAdd(weight, TOps.Load(column + 2 * width), sum2);
                sum3 = TOps.MultiplyAdd(weight, TOps.Load(column + 3 * width), sum3);
            }

            TOps.Store(sum0, result + c);
            TOps.Store(sum1, result + c + width);
            TOps.Store(sum2, result + c + 2 * width);
            TOps.Store(sum3, result + c + 3 * width);
        }

        for (; c < columns; c += width)
        {
            TVec sum = TOps.Zero;
            float* column = matrix + c;
            for (int r = 0; r < rows; r++, column += columns)
            {
                sum = TOps.MultiplyAdd(TOps.Create(weights[r]), TOps.Load(column), sum);
            }

            TOps.Store(sum, result + c);
        }
    }

    /// <summary>
    /// scores[j] = e^(scores[j]·scale − max) for j &lt; tokens, 0 for tokens ≤ j &lt; padded; returns Σ_j scores[j].
    /// </summary>
    /// <param name="scores">[padded]</param>
    private static float SoftmaxNumerators(int tokens, int padded, float scale, float* scores)
    {
        for (int j = tokens; j < padded; j++)
        {
            scores[j] = float.NegativeInfinity;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            return SoftmaxNumerators<Vector512Ops, Vector512<float>>(padded, scale, scores);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            return SoftmaxNumerators<Vector256Ops, Vector256<float>>(padded, scale, scores);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            return SoftmaxNumerators<Vector128Ops, Vector128<float>>(padded, scale, scores);
        }

        float max = float.NegativeInfinity;
        for (int j = 0; j < tokens; j++)
        {
            max = MathF.Max(max, scores[j] * scale);
        }

        float sum = 0;
        for (int j = 0; j < padded; j++)
        {
            scores[j] = ActivationMath.Exp(scores[j] * scale - max);
            sum += scores[j];
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SoftmaxNumerators<TOps, TVec>(int padded, float scale, float* scores)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec scaleVector = TOps.Create(scale);
        TVec maxVector = TOps.Create(float.NegativeInfinity);
        for (int j = 0; j < padded; j += TOps.Count)
        {
            maxVector = TOps.Max(maxVector, TOps.Multiply(TOps.Load(scores + j), scaleVector));
        }

        // p = e^(s·scale − max); the −∞ padding gives exactly 0
        TVec max = TOps.Create(TOps.MaxAcross(maxVector));
        TVec sum = TOps.Zero;
        for (int j = 0; j < padded; j += TOps.Count)
        {
            TVec p = ActivationMath.Exp<TOps, TVec>(TOps.Subtract(TOps.Multiply(TOps.Load(scores + j), scaleVector), max));
            TOps.Store(p, scores + j);
            sum = TOps.Add(sum, p);
        }

        return TOps.Sum(sum);
    }

    private static int RoundUp(int value) => (value + Padding - 1) / Padding * Padding;
}

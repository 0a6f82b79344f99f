// LayerNorm over the last dimension, two passes in float (mean, then centred variance) as torch does on CPU.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>Row-wise layer normalisation.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class LayerNorm
{
    // Rows below this many floats in total run on the caller only: waking a worker costs more than it saves.
    private const int ParallelThresholdFloats = 16384;

    /// <summary>y = (x − mean) / sqrt(var + eps) · gamma + beta per row (biased variance, as torch).</summary>
    /// <param name="x">[rows, cols] row stride ldx</param>
    /// <param name="gamma">[cols]</param>
    /// <param name="beta">[cols]</param>
    /// <param name="y">[rows, cols] row stride ldy; may alias x when ldy == ldx</param>
    public static void Run(WorkerPool? pool, int rows, int cols, float* x, int ldx,
                           float* gamma, float* beta, float eps, float* y, int ldy)
    {
        Job job = new() { Cols = cols, X = x, Ldx = ldx, Gamma = gamma, Beta = beta, Eps = eps, Y = y, Ldy = ldy };
        if (pool == null || (long)rows * cols < ParallelThresholdFloats)
        {
            RunRows(&job, 0, rows);
        }
        else
        {
            pool.For(rows, &RunRows, &job);
        }
    }

    /// <summary>Scalar oracle in double: y = (x − mean)/sqrt(var + eps)·gamma + beta.</summary>
    public static void Reference(int rows, int cols, float* x, int ldx, float* gamma, float* beta, float eps, float* y, int ldy)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xRow = x + (long)r * ldx;
            double mean = 0;
            for (int j = 0; j < cols; j++)
            {
                mean += xRow[j];
            }

            mean /= cols;
            double variance = 0;
            for (int j = 0; j < cols; j++)
            {
                variance += (xRow[j] - mean) * (xRow[j] - mean);
            }

            variance /= cols;
            double inverse = 1 / Math.Sqrt(variance + eps);
            for (int j = 0; j < cols; j++)
            {
                y[(long)r * ldy + j] = (float)((xRow[j] - mean) * inverse * gamma[j] + beta[j]);
            }
        }
    }

    private struct Job
    {
        public int Cols, Ldx, Ldy;
        public float* X, Gamma, Beta, Y;
        public float Eps;
    }

    private static void RunRows(void* context, int begin, int end)
    {
        Job* job = (Job*)context;
        for (int r = begin; r < end; r++)
        {
            float* x = job->X + (long)r * job->Ldx;
            float* y = job->Y + (long)r * job->Ldy;
            if (Vector512.IsHardwareAccelerated)
            {
                Row<Vector512Ops, Vector512<float>>(job->Cols, x, job->Gamma, job->Beta, job->Eps, y);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Row<Vector256Ops, Vector256<float>>(job->Cols, x, job->Gamma, job->Beta, job->Eps, y);
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                Row<Vector128Ops, Vector128<float>>(job->Cols, x, job->Gamma, job->Beta, job->Eps, y);
            }
            else
            {
                RowScalar(job->Cols, x, job->Gamma, job->Beta, job->Eps, y);
            }
        }
    }

    // One row with vectors of TOps.Count and a scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TOps, TVec>(int cols, float* x, float* gamma, float* beta, float eps, float* y)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int width = TOps.Count;
        int vectorEnd = cols - cols % width;
        // mean = Σx / cols
        TVec sumVector = TOps.Zero;
        for (int j = 0; j < vectorEnd; j += width)
        {
            sumVector = TOps.Add(sumVector, TOps.Load(x + j));
        }

        float sum = TOps.Sum(sumVector);
        for (int j = vectorEnd; j < cols; j++)
        {
            sum += x[j];
        }

        float mean = sum / cols;
        // var = Σ(x − mean)² / cols
        TVec meanVector = TOps.Create(mean);
        TVec squares = TOps.Zero;
        for (int j = 0; j < vectorEnd; j += width)
        {
            TVec centred = TOps.Subtract(TOps.Load(x + j), meanVector);
            squares = TOps.MultiplyAdd(centred, centred, squares);
        }

        float variance = TOps.Sum(squares);
        for (int j = vectorEnd; j < cols; j++)
        {
            variance += (x[j] - mean) * (x[j] - mean);
        }

        float inverse = 1f / MathF.Sqrt(variance / cols + eps);
        // y = (x − mean)·inverse·gamma + beta
        TVec inverseVector = TOps.Create(inverse);
        for (int j = 0; j < vectorEnd; j += width)
        {
            TVec normalised = TOps.Multiply(TOps.Subtract(TOps.Load(x + j), meanVector), inverseVector);
            TOps.Store(TOps.MultiplyAdd(normalised, TOps.Load(gamma + j), TOps.Load(beta + j)), y + j);
        }

        for (int j = vectorEnd; j < cols; j++)
        {
            y[j] = (x[j] - mean) * inverse * gamma[j] + beta[j];
        }
    }

    // Without vectors a single float accumulator loses ~1e-6 over 768 terms; double keeps the scalar path as exact as the vector one.
    private static void RowScalar(int cols, float* x, float* gamma, float* beta, float eps, float* y)
    {
        double sum = 0;
        for (int j = 0; j < cols; j++)
        {
            sum += x[j];
        }

        float mean = (float)(sum / cols);
        double variance = 0;
        for (int j = 0; j < cols; j++)
        {
            variance += (x[j] - mean) * (x[j] - mean);
        }

        float inverse = 1f / MathF.Sqrt((float)(variance / cols) + eps);
        for (int j = 0; j < cols; j++)
        {
            y[j] = (x[j] - mean) * inverse * gamma[j] + beta[j];
        }
    }
}

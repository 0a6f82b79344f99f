// Pooling: global average pooling over the spatial positions of an NHWC tensor.

namespace AotVit.Runtime.Kernels;

/// <summary>Pooling kernels.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe class Pooling
{
    /// <summary>output[b, ch] = Σ_i input[b, i, ch] / hw</summary>
    /// <param name="input">[batch, hw, c]</param>
    /// <param name="output">[batch, c]</param>
    public static void GlobalAverage(int batch, int hw, int c, float* input, float* output)
    {
        float scale = 1f / hw;
        for (int b = 0; b < batch; b++)
        {
            float* sum = output + (long)b * c;   // [c]
            new Span<float>(sum, c).Clear();
            for (int i = 0; i < hw; i++)
            {
                Elementwise.Add(c, sum, input + ((long)b * hw + i) * c, sum);
            }

            for (int ch = 0; ch < c; ch++)
            {
                sum[ch] *= scale;
            }
        }
    }

    /// <summary>Scalar oracle for <see cref="GlobalAverage"/>, summed in double.</summary>
    public static void Reference(int batch, int hw, int c, float* input, float* output)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                double sum = 0;
                for (int i = 0; i < hw; i++)
                {
                    sum += input[((long)b * hw + i) * c + ch];
                }

                output[(long)b * c + ch] = (float)(sum / hw);
            }
        }
    }
}

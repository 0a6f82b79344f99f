// PackedMatrix: the B operand of every GEMM and convolution, packed once at load time into the layout the
// microkernels stream: 32-column panels, each [K][32] contiguous, N tail zero-padded. Not a general tensor type.
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>B operand of a GEMM ([K, N]) packed once at load into 64-byte aligned panels [N/32][K][32].</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed unsafe partial class PackedMatrix : IDisposable
{
    /// <summary>Columns per panel: two zmm, four ymm or eight xmm registers.</summary>
    public const int PanelWidth = 32;

    private readonly NativeBuffer _buffer;

    private PackedMatrix(int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        K = k;
        N = n;
        Panels = (n + PanelWidth - 1) / PanelWidth;
        _buffer = new NativeBuffer((long)Panels * k * PanelWidth);
    }

    /// <summary>Rows of B (the reduction length).</summary>
    public int K { get; }

    /// <summary>Columns of B (the output width).</summary>
    public int N { get; }

    /// <summary>Number of 32-column panels, ⌈N/32⌉.</summary>
    public int Panels { get; }

    /// <summary>Size of the packed data in bytes.</summary>
    public long ByteSize => _buffer.Length * sizeof(float);

    /// <summary>Packed data: [Panels][K][32], panel p holds columns 32p .. 32p+31.</summary>
    internal float* Data => _buffer.Pointer;

    /// <summary>Packs B = weightᵀ from a torch Linear / 1x1 conv weight.</summary>
    /// <param name="weight">[n, k] row-major (out, in)</param>
    public static PackedMatrix FromOutIn(ReadOnlySpan<float> weight, int n, int k)
    {
        if (weight.Length < (long)n * k)
        {
            throw new ArgumentException($"weight has {weight.Length} floats, expected [{n}, {k}].", nameof(weight));
        }

        PackedMatrix packed = new(k, n);
        float* data = packed.Data;
        for (int column = 0; column < n; column++)
        {
            float* panel = data + (long)(column / PanelWidth) * k * PanelWidth + column % PanelWidth;
            ReadOnlySpan<float> row = weight.Slice(column * k, k);
            for (int reduction = 0; reduction < k; reduction++)
            {
                panel[(long)reduction * PanelWidth] = row[reduction];
            }
        }

        return packed;
    }

    /// <summary>Packs B given row-major.</summary>
    /// <param name="b">[k, n] row-major</param>
    public static PackedMatrix FromKN(ReadOnlySpan<float> b, int k, int n)
    {
        if (b.Length < (long)n * k)
        {
            throw new ArgumentException($"b has {b.Length} floats, expected [{k}, {n}].", nameof(b));
        }

        PackedMatrix packed = new(k, n);
        float* data = packed.Data;
        for (int reduction = 0; reduction < k; reduction++)
        {
            ReadOnlySpan<float> row = b.Slice(reduction * n, n);
            for (int column = 0; column < n; column++)
            {
                data[((long)(column / PanelWidth) * k + reduction) * PanelWidth + column % PanelWidth] = row[column];
            }
        }

        return packed;
    }

    public void Dispose() => _buffer.Dispose();
}

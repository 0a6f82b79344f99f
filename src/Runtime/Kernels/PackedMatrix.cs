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

    // The float32 panels; after QuantizeToInt8 (or for a matrix built from int8 weights) a 0-float buffer, and the
    // weights live in _int8 instead. Exactly one of the two forms holds the weights at any time.
    private NativeBuffer _buffer;
    private Int8Matrix? _int8;

    private PackedMatrix(Int8Matrix int8)
    {
        K = int8.K;
        N = int8.N;
        Panels = (N + PanelWidth - 1) / PanelWidth;
        _buffer = new NativeBuffer(0);
        _int8 = int8;
    }

    /// <summary>A zeroed [k, n] matrix whose panels the caller fills (<see cref="Data"/> at <see cref="Offset"/>).</summary>
    internal static PackedMatrix Zeroed(int k, int n) => new(k, n);

    /// <summary>Where element [row, column] of the [K, N] matrix lives in <see cref="Data"/>: [panel][k][PanelWidth].</summary>
    internal long Offset(int row, int column) => ((long)(column / PanelWidth) * K + row) * PanelWidth + column % PanelWidth;

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

    /// <summary>Size of the packed data in bytes (the int8 form's when the matrix is quantized).</summary>
    public long ByteSize => _int8?.ByteSize ?? _buffer.Length * sizeof(float);

    /// <summary>Packed data: [Panels][K][32], panel p holds columns 32p .. 32p+31. Only a float32 matrix has them:
    /// kernels other than Gemm.Run never receive a quantized matrix (the generator quantizes only nn.Linear weights).</summary>
    internal float* Data => _int8 is null ? _buffer.Pointer : throw new InvalidOperationException("this weight matrix is stored in int8; only Gemm.Run reads int8 weights");

    /// <summary>The int8 form of the weights (Gemm.Run runs Int8Gemm on it), or null for float32.</summary>
    internal Int8Matrix? Int8 => _int8;

    /// <summary>Whether the weights are stored in int8 (per output channel, symmetric).</summary>
    public bool IsInt8 => _int8 is not null;

    /// <summary>A matrix whose weights are the given int8 ones (from an int8 checkpoint); takes ownership.</summary>
    public static PackedMatrix FromInt8(Int8Matrix int8)
    {
        ArgumentNullException.ThrowIfNull(int8);
        return new PackedMatrix(int8);
    }

    /// <summary>
    /// Replaces the float32 panels by int8 weights quantized per output channel (Int8Matrix.QuantizeRows on each
    /// column of B, i.e. each row of the torch weight) and frees the panels. Idempotent.
    /// </summary>
    public void QuantizeToInt8()
    {
        if (_int8 is not null) return;
        Int8Matrix int8 = Int8Matrix.FromPacked(this);
        NativeBuffer old = _buffer;
        _buffer = new NativeBuffer(0);
        _int8 = int8;
        old.Dispose();
    }

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
                data[packed.Offset(reduction, column)] = row[column];
            }
        }

        return packed;
    }

    public void Dispose()
    {
        _buffer.Dispose();
        _int8?.Dispose();
    }
}

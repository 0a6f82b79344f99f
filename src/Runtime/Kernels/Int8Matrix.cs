// Int8Matrix: the B operand of Int8Gemm, W [N out][K in] quantized symmetrically per output channel
// (w ≈ scale[j]·q[j, k], q in [−127, 127]; −128 never occurs, so every u7 × s8 pair sum fits a signed 16-bit lane)
// and packed once into the layout the int8 microkernels stream:
//   panel p (columns 64p .. 64p + width − 1): [Kq][width][4] bytes, Kq = ⌈K/4⌉, the 4 bytes of a column being 4
//   consecutive k; width = 64, except the last panel whose width is its column count rounded up to 16.
//   Padding (k ≥ K, columns ≥ N) is zero, so it adds nothing to any sum whatever the activation bytes are.
// Per padded column: the scale (float) and the sum of its q (int32, for the activation zero-point correction).
using System.Runtime.Intrinsics;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>B operand of <see cref="Int8Gemm"/>: W [N, K] as int8 with one float scale per output channel, packed.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public sealed unsafe class Int8Matrix : IDisposable
{
    /// <summary>Columns per full panel (four zmm of 16 columns × 4 k).</summary>
    internal const int PanelWidth = 64;

    /// <summary>
    /// Largest K: |Σ_k (qa − zero point)·qw| ≤ 127·127·K must fit an int32 (the accumulators are exact int32).
    /// </summary>
    internal const int MaxK = 131072;

    private readonly NativeBuffer _buffer;

    private Int8Matrix(int k, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        K = k;
        N = n;
        Kq = (k + 3) / 4;
        Panels = (n + PanelWidth - 1) / PanelWidth;
        long paddedColumns = (long)Panels * PanelWidth;
        long dataBytes = (long)(Panels - 1) * Kq * 4 * PanelWidth + (long)Kq * 4 * PanelWidthOf(Panels - 1);
        // [scales: paddedColumns floats][sums: paddedColumns ints][data], each section 64-byte aligned (paddedColumns is a
        // multiple of 64). NativeBuffer zeroes it, which is the padding's value.
        _buffer = new NativeBuffer(2 * paddedColumns + (dataBytes + 3) / 4);
        ColumnScales = _buffer.Pointer;
        ColumnSums = (int*)(_buffer.Pointer + paddedColumns);
        Data = (sbyte*)(_buffer.Pointer + 2 * paddedColumns);
        ByteSize = _buffer.Length * sizeof(float);
    }

    /// <summary>Reduction length (columns of W).</summary>
    public int K { get; }

    /// <summary>Output channels (rows of W).</summary>
    public int N { get; }

    /// <summary>Size of the packed data, scales and column sums in bytes.</summary>
    public long ByteSize { get; }

    /// <summary>⌈K/4⌉: k-quads per column.</summary>
    internal int Kq { get; }

    /// <summary>⌈N/64⌉.</summary>
    internal int Panels { get; }

    /// <summary>Packed q (see the file header).</summary>
    internal sbyte* Data { get; }

    /// <summary>[Panels·64] per-column scales, 0 past N.</summary>
    internal float* ColumnScales { get; }

    /// <summary>[Panels·64] Σ_k q[j, k], 0 past N.</summary>
    internal int* ColumnSums { get; }

    /// <summary>Padded width of panel p: 64, or for the last panel its columns rounded up to 16.</summary>
    internal int PanelWidthOf(int panel) =>
        panel < Panels - 1 ? PanelWidth : (N - panel * PanelWidth + 15) / 16 * 16;

    /// <summary>Start of panel p: [Kq][PanelWidthOf(p)][4].</summary>
    internal sbyte* Panel(int panel) => Data + (long)panel * Kq * 4 * PanelWidth;

    /// <summary>
    /// Quantizes each row j of W [n, k]: scale[j] = max_k |w[j, k]| / 127 (a zero row gets scale 0 and q = 0),
    /// q[j, k] = round-half-to-even(w[j, k] / scale[j]) clamped to [−127, 127], in float arithmetic (IEEE division and
    /// rounding: the same on every platform and SIMD width). Throws on non-finite weights.
    /// </summary>
    /// <param name="weight">[n, k] row-major (out, in)</param>
    /// <param name="q">[n, k] row-major output</param>
    /// <param name="scales">[n] output</param>
    public static void QuantizeRows(ReadOnlySpan<float> weight, int n, int k, Span<sbyte> q, Span<float> scales)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        long count = (long)n * k;
        CheckLength(weight.Length, n, k, nameof(weight));
        CheckLength(q.Length, n, k, nameof(q));
        CheckLength(scales.Length, n, 0, nameof(scales));
        fixed (float* w = weight)
        fixed (sbyte* output = q)
        {
            for (int row = 0; row < n; row++)
            {
                scales[row] = QuantizeRow(w + (long)row * k, k, output + (long)row * k, row);
            }
        }
    }

    // One row of QuantizeRows; returns its scale.
    private static float QuantizeRow(float* w, int k, sbyte* q, int row)
    {
        float max = 0;
        for (int i = 0; i < k; i++)
        {
            float value = w[i];
            if (!float.IsFinite(value))
            {
                throw Invalid("weight", row, i, value, "int8 quantization needs finite weights");
            }

            max = Math.Max(max, Math.Abs(value));
        }

        float scale = max / 127f;
        if (scale == 0)
        {
            // A zero row, or one so small that max/127 underflows: all q = 0 (the row contributes nothing).
            new Span<sbyte>(q, k).Clear();
            return 0;
        }

        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Vector division and Round are IEEE (round-half-to-even), so this equals the scalar loop bit for bit.
            Vector128<float> divisor = Vector128.Create(scale), low = Vector128.Create(-127f), high = Vector128.Create(127f);
            for (; j <= k - 16; j += 16)
            {
                Vector128<int> q0 = Vector128.ConvertToInt32(Vector128.Clamp(Vector128.Round(Vector128.Load(w + j) / divisor), low, high));
                Vector128<int> q1 = Vector128.ConvertToInt32(Vector128.Clamp(Vector128.Round(Vector128.Load(w + j + 4) / divisor), low, high));
                Vector128<int> q2 = Vector128.ConvertToInt32(Vector128.Clamp(Vector128.Round(Vector128.Load(w + j + 8) / divisor), low, high));
                Vector128<int> q3 = Vector128.ConvertToInt32(Vector128.Clamp(Vector128.Round(Vector128.Load(w + j + 12) / divisor), low, high));
                Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).Store(q + j);
            }
        }

        for (; j < k; j++)
        {
            q[j] = (sbyte)Math.Clamp(MathF.Round(w[j] / scale), -127f, 127f);
        }

        return scale;
    }

    /// <summary>Quantizes W [n, k] (see <see cref="QuantizeRows"/>) and packs it.</summary>
    /// <param name="weight">[n, k] row-major (out, in), e.g. a torch Linear weight</param>
    public static Int8Matrix FromOutIn(ReadOnlySpan<float> weight, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        CheckLength(weight.Length, n, k, nameof(weight));
        Int8Matrix matrix = new(k, n);
        try
        {
            // One row at a time through a row-sized buffer: no [n, k] int8 copy.
            sbyte[] row = new sbyte[k];
            fixed (float* w = weight)
            fixed (sbyte* q = row)
            {
                for (int j = 0; j < n; j++)
                {
                    float scale = QuantizeRow(w + (long)j * k, k, q, j);
                    matrix.PackColumn(j, q, scale);
                }
            }
        }
        catch
        {
            matrix.Dispose();
            throw;
        }

        return matrix;
    }

    /// <summary>Packs already quantized weights (an int8 checkpoint), after checking them.</summary>
    /// <param name="q">[n, k] row-major, every value in [−127, 127]</param>
    /// <param name="scales">[n], finite and ≥ 0</param>
    public static Int8Matrix FromQuantized(ReadOnlySpan<sbyte> q, ReadOnlySpan<float> scales, int n, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(k, MaxK);
        long count = (long)n * k;
        CheckLength(q.Length, n, k, nameof(q));
        CheckLength(scales.Length, n, 0, nameof(scales));
        for (int j = 0; j < n; j++)
        {
            float scale = scales[j];
            if (!float.IsFinite(scale) || scale < 0)
            {
                throw Invalid(nameof(scales), j, -1, scale, "int8 weight scales must be finite and >= 0");
            }
        }

        int bad = IndexOfMinus128(q.Slice(0, checked((int)count)));
        if (bad >= 0)
        {
            throw Invalid(nameof(q), bad / k, bad % k, -128, "int8 weights must be in [-127, 127] (symmetric quantization)");
        }

        Int8Matrix matrix = new(k, n);
        fixed (sbyte* source = q)
        {
            for (int j = 0; j < n; j++)
            {
                matrix.PackColumn(j, source + (long)j * k, scales[j]);
            }
        }

        return matrix;
    }

    /// <summary>Index of the first −128 in <paramref name="q"/>, or −1. A plain loop: span IndexOf over bytes brings
    /// ~14 KB of vectorised search code into the NativeAOT executable, for a check that runs once per matrix at load.</summary>
    public static int IndexOfMinus128(ReadOnlySpan<sbyte> q)
    {
        for (int i = 0; i < q.Length; i++)
        {
            if (q[i] == sbyte.MinValue) return i;
        }
        return -1;
    }

    /// <summary>Unpacks an fp32 packed B (= Wᵀ) back to W [N, K] and quantizes it (<see cref="FromOutIn"/>).</summary>
    public static Int8Matrix FromPacked(PackedMatrix fp32)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        int n = fp32.N, k = fp32.K;
        float[] weight = new float[(long)n * k];
        float* data = fp32.Data;
        // Panel by panel, reading each [K][32] panel front to back (contiguous) and scattering into 32 weight rows.
        for (int panel = 0; panel * PackedMatrix.PanelWidth < n; panel++)
        {
            int first = panel * PackedMatrix.PanelWidth, columns = Math.Min(PackedMatrix.PanelWidth, n - first);
            float* source = data + (long)panel * k * PackedMatrix.PanelWidth;
            for (int p = 0; p < k; p++)
            {
                float* line = source + (long)p * PackedMatrix.PanelWidth;
                for (int c = 0; c < columns; c++) weight[(long)(first + c) * k + p] = line[c];
            }
        }

        return FromOutIn(weight, n, k);
    }

    /// <summary>Writes q [N, K] row-major and the N scales back out: exactly what was packed.</summary>
    public void CopyQuantized(Span<sbyte> q, Span<float> scales)
    {
        CheckLength(q.Length, N, K, nameof(q));
        CheckLength(scales.Length, N, 0, nameof(scales));
        ObjectDisposedException.ThrowIf(_buffer.Pointer == null, this);
        for (int j = 0; j < N; j++)
        {
            int panel = j / PanelWidth, width = PanelWidthOf(panel);
            sbyte* column = Panel(panel) + (j % PanelWidth) * 4;
            for (int p = 0; p < K; p++)
            {
                q[(int)((long)j * K + p)] = column[(long)(p >> 2) * width * 4 + (p & 3)];
            }

            scales[j] = ColumnScales[j];
        }
    }

    // Throws unless a span of `length` values holds [rows, columns] (columns 0: a vector of rows).
    private static void CheckLength(int length, int rows, int columns, string name)
    {
        long need = columns == 0 ? rows : (long)rows * columns;
        if (length < need)
        {
            throw new ArgumentException(name + " has " + length.ToString() + " values, expected " +
                (columns == 0 ? "" : "[" + rows.ToString() + ", " + columns.ToString() + "] = ") + need.ToString() + ".", name);
        }
    }

    // "name[row, column] is value; rule." (column −1: name[row]). One formatting site for every element check.
    private static ArgumentException Invalid(string name, long row, long column, float value, string rule) =>
        new(name + "[" + row.ToString() + (column >= 0 ? ", " + column.ToString() : "") + "] is " + value.ToString() + "; " + rule + ".", name);

    // Writes column j (q [K], its scale) into its panel and its column sum.
    private void PackColumn(int j, sbyte* q, float scale)
    {
        int panel = j / PanelWidth, width = PanelWidthOf(panel);
        sbyte* column = Panel(panel) + (j % PanelWidth) * 4;
        int sum = 0;
        for (int p = 0; p < K; p++)
        {
            column[(long)(p >> 2) * width * 4 + (p & 3)] = q[p];
            sum += q[p];
        }

        ColumnScales[j] = scale;
        ColumnSums[j] = sum;
    }

    /// <summary>True once disposed.</summary>
    internal bool IsDisposed => _buffer.Pointer == null;

    public void Dispose() => _buffer.Dispose();
}

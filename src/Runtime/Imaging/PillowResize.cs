// PillowResize: bit-exact re-implementation of Pillow's 8-bit BILINEAR resample (Image.resize(size, BILINEAR),
// whole-image box, no reducing_gap), the resize inside Hugging Face's slow image processors.
// Algorithm as specified in docs/shared spec "Pillow 8-bit BILINEAR resample" and Pillow's libImaging/Resample.c:
//   per axis:  scale = in/out, filterscale = max(scale, 1), support = filterscale (bilinear base support 1)
//              center = (i + 0.5)·scale; taps xmin = trunc(center − support + 0.5) ≥ 0 .. xmax = trunc(center + support + 0.5) ≤ in
//              w(x) = k((x − center + 0.5) · (1/filterscale)), k(t) = max(0, 1 − |t|); w /= Σw      (all in double)
//              coefficient = trunc(w · 2²² + 0.5)                                                   (22-bit fixed point)
//   pixel:     clamp((2²¹ + Σ pixel·coefficient) >> 22, 0, 255), each channel independently
//   passes:    horizontal first, then vertical, through a uint8 intermediate; a pass is skipped when that
//              dimension is unchanged (both unchanged: plain copy).
// Note: Pillow multiplies by ss = 1/filterscale rather than dividing by filterscale; we do the same, because the
// two can differ in the last bit of the double and so, rarely, in a fixed-point coefficient.
// What it is not: a general resampler (no other filters, no sub-boxes, no 16-bit or float modes, and no
// premultiplied alpha: RGBA would need Pillow's premultiply step first).

using System.Buffers;

namespace AotVit.Runtime.Imaging;

public static class PillowResize
{
    private const int PrecisionBits = 22;           // Pillow's PRECISION_BITS for 8-bit images
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>Resizes an RGB image with Pillow's BILINEAR filter; the result equals
    /// <c>np.array(Image.fromarray(pixels).resize((outWidth, outHeight), Image.BILINEAR))</c> byte for byte.</summary>
    public static RgbImage Bilinear(RgbImage source, int outWidth, int outHeight)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        var pixels = new byte[checked(outWidth * outHeight * 3)];
        Bilinear(source.Pixels, source.Width, source.Height, 3, pixels, outWidth, outHeight);
        return new RgbImage(outWidth, outHeight, pixels);
    }

    /// <summary>
    /// Resizes interleaved 8-bit pixels with Pillow's BILINEAR filter into a caller buffer.
    /// source: [height, width, channels]; destination: [outHeight, outWidth, channels] (its first
    /// outHeight·outWidth·channels bytes are written). Channels are independent (1 = Pillow "L", 3 = "RGB").
    /// Temporary buffers (coefficients, intermediate image) come from ArrayPool, so steady-state calls do not
    /// allocate on the managed heap.
    /// </summary>
    public static void Bilinear(ReadOnlySpan<byte> source, int width, int height, int channels,
                                Span<byte> destination, int outWidth, int outHeight)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        long inLength = (long)width * height * channels;
        long outLength = (long)outWidth * outHeight * channels;
        long intermediateLength = (long)outWidth * height * channels;
        if (source.Length < inLength)
        {
            throw new ArgumentException($"Source holds {source.Length} bytes, {width}x{height}x{channels} needs {inLength}.", nameof(source));
        }
        if (destination.Length < outLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} bytes, {outWidth}x{outHeight}x{channels} needs {outLength}.", nameof(destination));
        }
        if (intermediateLength > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(outWidth), "Intermediate image too large.");
        }
        source = source[..(int)inLength];
        destination = destination[..(int)outLength];

        bool horizontal = outWidth != width;
        bool vertical = outHeight != height;
        if (!horizontal && !vertical)
        {
            source.CopyTo(destination);
            return;
        }
        if (!vertical)
        {
            using var columns = CoefficientTable.Create(width, outWidth);
            ResampleHorizontal(source, width, height, channels, columns, destination, outWidth);
            return;
        }
        using var rows = CoefficientTable.Create(height, outHeight);
        if (!horizontal)
        {
            ResampleVertical(source, width * channels, rows, destination, outHeight);
            return;
        }
        using var cols = CoefficientTable.Create(width, outWidth);
        byte[] intermediate = ArrayPool<byte>.Shared.Rent((int)intermediateLength);
        try
        {
            // [height, outWidth, channels] uint8: rounded and clipped, exactly like Pillow's temporary image.
            Span<byte> middle = intermediate.AsSpan(0, (int)intermediateLength);
            ResampleHorizontal(source, width, height, channels, cols, middle, outWidth);
            ResampleVertical(middle, outWidth * channels, rows, destination, outHeight);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(intermediate);
        }
    }

    /// <summary>Pillow's bilinear ("triangle") kernel: k(t) = max(0, 1 − |t|).</summary>
    private static double Triangle(double t)
    {
        if (t < 0.0)
        {
            t = -t;
        }
        return t < 1.0 ? 1.0 - t : 0.0;
    }

    private static byte Clip8(int accumulator)
    {
        int value = accumulator >> PrecisionBits;    // arithmetic shift, as in Pillow's clip8
        return (byte)(value < 0 ? 0 : value > 255 ? 255 : value);
    }

    /// <summary>Fixed-point taps for one axis: for output index i, taps start at First[i], Count[i] long,
    /// weights at Weights[i·KernelSize ..].</summary>
    private sealed class CoefficientTable : IDisposable
    {
        public int KernelSize;
        public int[] First = [];
        public int[] Count = [];
        public int[] Weights = [];

        public static CoefficientTable Create(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = 1.0 * filterScale;         // bilinear base support is 1
            int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
            var table = new CoefficientTable
            {
                KernelSize = kernelSize,
                First = ArrayPool<int>.Shared.Rent(outSize),
                Count = ArrayPool<int>.Shared.Rent(outSize),
                Weights = ArrayPool<int>.Shared.Rent(checked(outSize * kernelSize)),
            };
            double[] weights = ArrayPool<double>.Shared.Rent(kernelSize);
            try
            {
                double inverseFilterScale = 1.0 / filterScale;
                for (int i = 0; i < outSize; i++)
                {
                    double center = (i + 0.5) * scale;
                    // (int) in C truncates toward zero; the clamps make negative/oversized bounds harmless.
                    int first = (int)(center - support + 0.5);
                    if (first < 0)
                    {
                        first = 0;
                    }
                    int end = (int)(center + support + 0.5);
                    if (end > inSize)
                    {
                        end = inSize;
                    }
                    int count = end - first;
                    double sum = 0.0;
                    for (int t = 0; t < count; t++)
                    {
                        double w = Triangle((t + first - center + 0.5) * inverseFilterScale);
                        weights[t] = w;
                        sum += w;
                    }
                    Span<int> fixedPoint = table.Weights.AsSpan(i * kernelSize, kernelSize);
                    fixedPoint.Clear();
                    for (int t = 0; t < count; t++)
                    {
                        double w = sum != 0.0 ? weights[t] / sum : weights[t];
                        fixedPoint[t] = w < 0
                            ? (int)(-0.5 + w * (1 << PrecisionBits))
                            : (int)(0.5 + w * (1 << PrecisionBits));
                    }
                    table.First[i] = first;
                    table.Count[i] = count;
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(weights);
            }
            return table;
        }

        public void Dispose()
        {
            ArrayPool<int>.Shared.Return(First);
            ArrayPool<int>.Shared.Return(Count);
            ArrayPool<int>.Shared.Return(Weights);
            First = Count = Weights = [];
        }
    }

    // source: [height, width, channels] -> destination: [height, outWidth, channels]
    private static void ResampleHorizontal(ReadOnlySpan<byte> source, int width, int height, int channels,
                                           CoefficientTable columns, Span<byte> destination, int outWidth)
    {
        int kernelSize = columns.KernelSize;
        int[] first = columns.First;
        int[] count = columns.Count;
        int[] weights = columns.Weights;
        int inStride = width * channels;
        int outStride = outWidth * channels;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> inRow = source.Slice(y * inStride, inStride);
            Span<byte> outRow = destination.Slice(y * outStride, outStride);
            for (int x = 0; x < outWidth; x++)
            {
                ReadOnlySpan<int> k = weights.AsSpan(x * kernelSize, count[x]);
                int tap0 = first[x] * channels;
                if (channels == 3)
                {
                    // out[c] = clip8(2²¹ + Σ_t in[first + t][c] · k[t]) for c = R, G, B
                    int r = Half, g = Half, b = Half;
                    ReadOnlySpan<byte> taps = inRow.Slice(tap0, k.Length * 3);
                    for (int t = 0; t < k.Length; t++)
                    {
                        int w = k[t];
                        r += taps[t * 3] * w;
                        g += taps[t * 3 + 1] * w;
                        b += taps[t * 3 + 2] * w;
                    }
                    outRow[x * 3] = Clip8(r);
                    outRow[x * 3 + 1] = Clip8(g);
                    outRow[x * 3 + 2] = Clip8(b);
                }
                else
                {
                    for (int c = 0; c < channels; c++)
                    {
                        int sum = Half;
                        for (int t = 0; t < k.Length; t++)
                        {
                            sum += inRow[tap0 + t * channels + c] * k[t];
                        }
                        outRow[x * channels + c] = Clip8(sum);
                    }
                }
            }
        }
    }

    // source: [inHeight, rowLength] -> destination: [outHeight, rowLength]; rowLength = width·channels.
    // Rows are accumulated whole (tap-major) so every read is sequential; the sums are the same as Pillow's.
    private static void ResampleVertical(ReadOnlySpan<byte> source, int rowLength, CoefficientTable rows,
                                         Span<byte> destination, int outHeight)
    {
        int kernelSize = rows.KernelSize;
        int[] accumulator = ArrayPool<int>.Shared.Rent(rowLength);
        try
        {
            Span<int> sums = accumulator.AsSpan(0, rowLength);
            for (int y = 0; y < outHeight; y++)
            {
                ReadOnlySpan<int> k = rows.Weights.AsSpan(y * kernelSize, rows.Count[y]);
                int firstRow = rows.First[y];
                sums.Fill(Half);
                for (int t = 0; t < k.Length; t++)
                {
                    int w = k[t];
                    ReadOnlySpan<byte> inRow = source.Slice((firstRow + t) * rowLength, rowLength);
                    for (int i = 0; i < sums.Length; i++)
                    {
                        sums[i] += inRow[i] * w;
                    }
                }
                Span<byte> outRow = destination.Slice(y * rowLength, rowLength);
                for (int i = 0; i < outRow.Length; i++)
                {
                    outRow[i] = Clip8(sums[i]);
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(accumulator);
        }
    }
}

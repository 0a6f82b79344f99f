// PillowResize: bit-exact re-implementation of Pillow's 8-bit BILINEAR and BICUBIC resample
// (Image.resize(size, filter), whole-image box, no reducing_gap), the resize inside Hugging Face's slow image
// processors (resample 2 for ViT / MobileViT, 3 for DeiT).
// Coefficients and passes: ResampleAxis (Pillow's libImaging/Resample.c). Passes as ImagingResampleInner runs them:
// horizontal first, then vertical, through a uint8 intermediate; a pass is skipped when that dimension is unchanged
// (both unchanged: plain copy, as Image.resize returns self.copy()).
// What it is not: a general resampler (no other filters, no sub-boxes, no 16-bit or float modes, and no
// premultiplied alpha: RGBA would need Pillow's premultiply step first).

using System.Buffers;

namespace AotVit.Runtime.Imaging;

public static class PillowResize
{
    /// <summary>Resizes an RGB image with Pillow's BILINEAR filter; the result equals
    /// <c>np.array(Image.fromarray(pixels).resize((outWidth, outHeight), Image.BILINEAR))</c> byte for byte.</summary>
    public static RgbImage Bilinear(RgbImage source, int outWidth, int outHeight) =>
        Resize(source, outWidth, outHeight, ResampleFilter.Bilinear);

    /// <summary>Resizes interleaved 8-bit pixels with Pillow's BILINEAR filter into a caller buffer
    /// (see <see cref="Resize(ReadOnlySpan{byte}, int, int, int, Span{byte}, int, int, ResampleFilter)"/>).</summary>
    public static void Bilinear(ReadOnlySpan<byte> source, int width, int height, int channels,
                                Span<byte> destination, int outWidth, int outHeight) =>
        Resize(source, width, height, channels, destination, outWidth, outHeight, ResampleFilter.Bilinear);

    /// <summary>Resizes an RGB image with a Pillow filter; the result equals
    /// <c>np.array(Image.fromarray(pixels).resize((outWidth, outHeight), filter))</c> byte for byte.</summary>
    public static RgbImage Resize(RgbImage source, int outWidth, int outHeight, ResampleFilter filter)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        var pixels = new byte[checked(outWidth * outHeight * 3)];
        Resize(source.Pixels, source.Width, source.Height, 3, pixels, outWidth, outHeight, filter);
        return new RgbImage(outWidth, outHeight, pixels);
    }

    /// <summary>
    /// Resizes interleaved 8-bit pixels with a Pillow filter into a caller buffer.
    /// source: [height, width, channels]; destination: [outHeight, outWidth, channels] (its first
    /// outHeight·outWidth·channels bytes are written). Channels are independent (1 = Pillow "L", 3 = "RGB").
    /// Temporary buffers (coefficients, intermediate image) come from ArrayPool, so steady-state calls do not
    /// allocate on the managed heap.
    /// </summary>
    public static void Resize(ReadOnlySpan<byte> source, int width, int height, int channels,
                              Span<byte> destination, int outWidth, int outHeight, ResampleFilter filter)
    {
        ResampleFilters.ThrowIfUndefined(filter, nameof(filter));
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
            using var columns = new ResampleAxis(width, outWidth, filter);
            ResampleHorizontal(source, width, height, channels, columns, destination, outWidth);
            return;
        }
        using var rows = new ResampleAxis(height, outHeight, filter);
        if (!horizontal)
        {
            rows.ResampleRows(source, width * channels, 0, destination, 0, outHeight);
            return;
        }
        using var cols = new ResampleAxis(width, outWidth, filter);
        byte[] intermediate = ArrayPool<byte>.Shared.Rent((int)intermediateLength);
        try
        {
            // [height, outWidth, channels] uint8: rounded and clipped, exactly like Pillow's temporary image.
            Span<byte> middle = intermediate.AsSpan(0, (int)intermediateLength);
            ResampleHorizontal(source, width, height, channels, cols, middle, outWidth);
            rows.ResampleRows(middle, outWidth * channels, 0, destination, 0, outHeight);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(intermediate);
        }
    }

    // source: [height, width, channels] -> destination: [height, outWidth, channels]
    private static void ResampleHorizontal(ReadOnlySpan<byte> source, int width, int height, int channels,
                                           ResampleAxis columns, Span<byte> destination, int outWidth)
    {
        int inStride = width * channels;
        int outStride = outWidth * channels;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<byte> inRow = source.Slice(y * inStride, inStride);
            Span<byte> outRow = destination.Slice(y * outStride, outStride);
            if (channels == 3)
            {
                columns.ResampleRow(inRow, reversed: false, 0, outWidth, outRow);
                continue;
            }
            for (int x = 0; x < outWidth; x++)
            {
                ReadOnlySpan<int> k = columns.Weights.AsSpan(x * columns.KernelSize, columns.Count[x]);
                int tap0 = columns.First[x] * channels;
                for (int c = 0; c < channels; c++)
                {
                    int sum = ResampleAxis.Half;
                    for (int t = 0; t < k.Length; t++)
                    {
                        sum += inRow[tap0 + t * channels + c] * k[t];
                    }
                    outRow[x * channels + c] = ResampleAxis.Clip8(sum);
                }
            }
        }
    }
}

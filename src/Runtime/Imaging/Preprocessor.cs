// Preprocessor: RgbImage + PreprocessPlan -> float32 CHW pixel_values, reproducing Hugging Face's slow image
// processors (PIL path) bit for bit:
//   resize    Pillow BILINEAR or BICUBIC on uint8 (PillowResize); ShortestEdge: short -> n, long -> int(n·long/short)
//   rescale   float32(float64(v) · factor)
//   normalize (x − float32(mean)) / float32(std) in float32        (rescale+normalize = one 256-entry table per channel)
//   crop      top = ⌊(H − ch)/2⌋, left = ⌊(W − cw)/2⌋; outside the image -> 0 (HF zero padding)
//   flip      output channel c = input channel 2 − c (RGB -> BGR)
//   layout    [3, H, W] float32
// Order matters only for the padding value: HF MobileViT crops after rescale, so padded pixels are 0.0 in the
// output; we always write 0.0 (processors that crop before normalising would pad with (0 − mean)/std instead).
// HF's own padding code mis-sizes the result when (crop − size) is odd (it returns one row/column short); we
// place the image at the offset above, which is what HF does for even differences.

using System.Buffers;

namespace AotVit.Runtime.Imaging;

public static class Preprocessor
{
    /// <summary>
    /// Largest intermediate (resized, before the crop) image, in pixels: 2^24 (48 MiB of RGB8). A shortest-edge
    /// resize of an extreme aspect ratio is otherwise unbounded: 1x4000 pixels to MobileViT's shortest edge 288 is
    /// 288x1152000 (1 GB, 13 s) before its 256x256 centre crop; 1x65535 overflowed the buffer size. Found by tools/Fuzz.
    /// </summary>
    public const long MaxResizedPixels = 1L << 24;

    /// <summary>The error for an image whose resized intermediate is above <see cref="MaxResizedPixels"/>.</summary>
    internal static LimitExceededException TooLarge(int width, int height, int resizedWidth, int resizedHeight) =>
        new($"a {width}x{height} image resizes to {resizedWidth}x{resizedHeight}, above the limit of {MaxResizedPixels} pixels; its aspect ratio is too extreme for this model");

    /// <summary>Size (height, width) of the image after the resize step, for an input of the given size.</summary>
    /// <exception cref="LimitExceededException">The resized long side would not fit in an int.</exception>
    public static (int Height, int Width) ResizedSize(PreprocessPlan plan, int imageWidth, int imageHeight)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageHeight);
        switch (plan.Resize)
        {
            case null:
                return (imageHeight, imageWidth);
            case ResizeMode.Exact exact:
                return (exact.Height, exact.Width);
            case ResizeMode.ShortestEdge edge:
                {
                    // transformers get_resize_output_image_size(default_to_square=False):
                    // integer product, true division in double, truncation toward zero.
                    int shortSide = Math.Min(imageWidth, imageHeight);
                    int longSide = Math.Max(imageWidth, imageHeight);
                    double scaled = (double)((long)edge.Size * longSide) / shortSide;
                    if (scaled > int.MaxValue)
                    {
                        throw new LimitExceededException($"a {imageWidth}x{imageHeight} image resizes to a long side of {scaled:F0} pixels; its aspect ratio is too extreme for this model");
                    }
                    int newLong = (int)scaled;
                    return imageWidth <= imageHeight ? (newLong, edge.Size) : (edge.Size, newLong);
                }
            default:
                throw new ArgumentException($"Unknown resize mode {plan.Resize}.", nameof(plan));
        }
    }

    /// <summary>Output shape (3, Height, Width) for an input image of the given size.</summary>
    public static (int Channels, int Height, int Width) OutputSize(PreprocessPlan plan, int imageWidth, int imageHeight)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.CenterCrop is { } crop)
        {
            return (3, crop.Height, crop.Width);
        }
        (int height, int width) = ResizedSize(plan, imageWidth, imageHeight);
        return (3, height, width);
    }

    /// <summary>Output shape (3, Height, Width) when it does not depend on the input: the plan crops or
    /// resizes to an exact size.</summary>
    /// <exception cref="InvalidOperationException">The output size depends on the input image.</exception>
    public static (int Channels, int Height, int Width) OutputSize(PreprocessPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan switch
        {
            { CenterCrop: { } crop } => (3, crop.Height, crop.Width),
            { Resize: ResizeMode.Exact exact } => (3, exact.Height, exact.Width),
            _ => throw new InvalidOperationException("The output size of this plan depends on the input image size."),
        };
    }

    /// <summary>Runs the plan. destination: [3, H, W] float32 (see <see cref="OutputSize(PreprocessPlan, int, int)"/>);
    /// must hold at least 3·H·W values.</summary>
    public static void Run(RgbImage image, PreprocessPlan plan, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(plan);
        (int resizedHeight, int resizedWidth) = ResizedSize(plan, image.Width, image.Height);
        if ((long)resizedWidth * resizedHeight > MaxResizedPixels)
        {
            throw TooLarge(image.Width, image.Height, resizedWidth, resizedHeight);
        }
        (_, int outHeight, int outWidth) = OutputSize(plan, image.Width, image.Height);
        long planeLength = (long)outHeight * outWidth;
        if (destination.Length < 3 * planeLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, [3, {outHeight}, {outWidth}] needs {3 * planeLength}.", nameof(destination));
        }

        byte[]? rented = null;
        ReadOnlySpan<byte> resized;
        if (resizedWidth == image.Width && resizedHeight == image.Height)
        {
            resized = image.Pixels;   // PIL returns a copy for an unchanged size; values are identical
        }
        else
        {
            int length = checked(resizedWidth * resizedHeight * 3);
            rented = ArrayPool<byte>.Shared.Rent(length);
            PillowResize.Resize(image.Pixels, image.Width, image.Height, 3, rented.AsSpan(0, length), resizedWidth, resizedHeight,
                                plan.Resize!.Filter);
            resized = rented.AsSpan(0, length);
        }
        try
        {
            WriteChw(resized, resizedWidth, resizedHeight, plan, destination, outWidth, outHeight);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // resized: [resizedHeight, resizedWidth, 3] uint8 -> destination: [3, outHeight, outWidth] float32
    private static void WriteChw(ReadOnlySpan<byte> resized, int resizedWidth, int resizedHeight, PreprocessPlan plan,
                                 Span<float> destination, int outWidth, int outHeight)
    {
        // Floor division also for negative differences (crop larger than the image).
        int top = plan.CenterCrop is { } crop ? FloorHalf(resizedHeight - crop.Height) : 0;
        int left = plan.CenterCrop is { } crop2 ? FloorHalf(resizedWidth - crop2.Width) : 0;
        WriteWindowChw(resized, resizedWidth, resizedHeight, -left, -top, plan, destination, outWidth, outHeight);
    }

    /// <summary>
    /// Writes the output [3, outHeight, outWidth] float32 from a window of the resized image: window [height, width, 3]
    /// uint8 holds output pixels starting at output column <paramref name="atX"/> and row <paramref name="atY"/> (either
    /// may be negative: window pixels left of / above the output are not used). Output pixels the window does not cover
    /// are 0 (HF's zero padding after normalisation).
    /// </summary>
    internal static void WriteWindowChw(ReadOnlySpan<byte> window, int width, int height, int atX, int atY, PreprocessPlan plan,
                                        Span<float> destination, int outWidth, int outHeight)
    {
        float[][] tables = plan.ValueTables;
        int planeLength = outHeight * outWidth;
        int columnStart = Math.Clamp(atX, 0, outWidth);                  // first output column inside the window
        int columnEnd = Math.Clamp(atX + width, columnStart, outWidth);  // one past the last
        for (int outChannel = 0; outChannel < 3; outChannel++)
        {
            int inChannel = plan.FlipChannelOrder ? 2 - outChannel : outChannel;
            ReadOnlySpan<float> table = tables[inChannel];
            Span<float> plane = destination.Slice(outChannel * planeLength, planeLength);
            for (int y = 0; y < outHeight; y++)
            {
                Span<float> outRow = plane.Slice(y * outWidth, outWidth);
                int sourceY = y - atY;
                if (sourceY < 0 || sourceY >= height || columnStart >= columnEnd)
                {
                    outRow.Clear();
                    continue;
                }
                outRow[..columnStart].Clear();
                outRow[columnEnd..].Clear();
                ReadOnlySpan<byte> inRow = window.Slice(sourceY * width * 3, width * 3);
                for (int x = columnStart; x < columnEnd; x++)
                {
                    outRow[x] = table[inRow[(x - atX) * 3 + inChannel]];
                }
            }
        }
    }

    private static int FloorHalf(int value) => value >> 1;   // arithmetic shift = ⌊value / 2⌋, like Python's //
}

// RgbImage: a decoded 8-bit RGB image, the common currency of src/Runtime/Imaging.
// It is a plain buffer with validated dimensions; it does not know where the pixels came from
// (ImageDecoder, a camera, a test) and never converts colour.

namespace AotVit.Runtime.Imaging;

/// <summary>An 8-bit RGB image stored row-major, interleaved: <c>Pixels[(y · Width + x) · 3 + channel]</c>.</summary>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="pixels"/> (not copied). pixels: [height, width, 3] RGB8.</summary>
    /// <exception cref="ArgumentOutOfRangeException">width or height ≤ 0, or width·height·3 overflows an array.</exception>
    /// <exception cref="ArgumentException">pixels.Length ≠ width·height·3.</exception>
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)width * height * 3;
        if (expected > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height} RGB does not fit in one array.");
        }
        if (pixels.Length != expected)
        {
            throw new ArgumentException($"Expected {expected} bytes for {width}x{height} RGB, got {pixels.Length}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>[Height, Width, 3] RGB8, row-major.</summary>
    public byte[] Pixels { get; }

    public override string ToString() => $"RgbImage {Width}x{Height}";
}

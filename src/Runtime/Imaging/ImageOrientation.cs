// ImageOrientation: the EXIF / TIFF Orientation tag (0x0112) values 1..8, and the pixel permutations that
// Pillow's ImageOps.exif_transpose applies for them (PIL/ImageOps.py, exif_transpose; PIL/Image.py, transpose):
//   2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM, 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90
// (Pillow's ROTATE_n turn counter-clockwise, so 6 is a quarter turn clockwise and 8 one counter-clockwise).
// Invariant: every mapping here is a bijection between the stored grid (W x H, as the file holds the pixels) and
// the oriented grid (W x H, or H x W when the orientation swaps the axes); Apply and the coordinate functions
// use the same per-orientation affine map, so a streaming consumer that samples through ToStored sees exactly
// the pixels Apply would have written. The golden tests check Apply against Pillow's transpose output.

namespace AotVit.Runtime.Imaging;

/// <summary>EXIF Orientation (tag 0x0112), named after the TIFF 6.0 spec: where row 0 and column 0 of the stored
/// image belong when it is displayed. <see cref="ExifOrientation.Apply"/> turns a stored image into the displayed one
/// exactly as Pillow's <c>ImageOps.exif_transpose</c> does.</summary>
public enum ImageOrientation : byte
{
    /// <summary>1: stored as displayed (no change).</summary>
    TopLeft = 1,

    /// <summary>2: mirrored left-right (Pillow FLIP_LEFT_RIGHT).</summary>
    TopRight = 2,

    /// <summary>3: upside down (Pillow ROTATE_180).</summary>
    BottomRight = 3,

    /// <summary>4: mirrored top-bottom (Pillow FLIP_TOP_BOTTOM).</summary>
    BottomLeft = 4,

    /// <summary>5: mirrored along the main diagonal (Pillow TRANSPOSE); swaps width and height.</summary>
    LeftTop = 5,

    /// <summary>6: needs a quarter turn clockwise (Pillow ROTATE_270), the usual phone portrait; swaps width and height.</summary>
    RightTop = 6,

    /// <summary>7: mirrored along the anti-diagonal (Pillow TRANSVERSE); swaps width and height.</summary>
    RightBottom = 7,

    /// <summary>8: needs a quarter turn counter-clockwise (Pillow ROTATE_90); swaps width and height.</summary>
    LeftBottom = 8,
}

/// <summary>Orientation geometry: oriented size, oriented ↔ stored pixel coordinates, and the transpose of an
/// <see cref="RgbImage"/>. Pure functions; nothing here reads a file.</summary>
public static class ExifOrientation
{
    /// <summary>True for 5..8, whose oriented image is Height x Width.</summary>
    public static bool SwapsAxes(this ImageOrientation orientation) => Check(orientation) >= ImageOrientation.LeftTop;

    /// <summary>The displayed size of a stored <paramref name="storedWidth"/> x <paramref name="storedHeight"/> image.</summary>
    public static (int Width, int Height) OrientedSize(this ImageOrientation orientation, int storedWidth, int storedHeight) =>
        orientation.SwapsAxes() ? (storedHeight, storedWidth) : (storedWidth, storedHeight);

    /// <summary>The stored pixel shown at oriented (x, y). Coordinates are not range-checked beyond the arithmetic:
    /// callers pass 0 ≤ x &lt; oriented width, 0 ≤ y &lt; oriented height.</summary>
    public static (int X, int Y) ToStored(this ImageOrientation orientation, int storedWidth, int storedHeight, int x, int y)
    {
        int w = storedWidth - 1, h = storedHeight - 1;
        return Check(orientation) switch
        {
            ImageOrientation.TopLeft => (x, y),
            ImageOrientation.TopRight => (w - x, y),
            ImageOrientation.BottomRight => (w - x, h - y),
            ImageOrientation.BottomLeft => (x, h - y),
            ImageOrientation.LeftTop => (y, x),
            ImageOrientation.RightTop => (y, h - x),
            ImageOrientation.RightBottom => (w - y, h - x),
            _ => (w - y, x),   // LeftBottom
        };
    }

    /// <summary>Where stored pixel (x, y) is shown: the inverse of <see cref="ToStored"/>.</summary>
    public static (int X, int Y) ToOriented(this ImageOrientation orientation, int storedWidth, int storedHeight, int x, int y)
    {
        int w = storedWidth - 1, h = storedHeight - 1;
        return Check(orientation) switch
        {
            ImageOrientation.TopLeft => (x, y),
            ImageOrientation.TopRight => (w - x, y),
            ImageOrientation.BottomRight => (w - x, h - y),
            ImageOrientation.BottomLeft => (x, h - y),
            ImageOrientation.LeftTop => (y, x),
            ImageOrientation.RightTop => (h - y, x),
            ImageOrientation.RightBottom => (h - y, w - x),
            _ => (y, w - x),   // LeftBottom
        };
    }

    /// <summary>The displayed image: Pillow's <c>exif_transpose</c> pixel permutation of <paramref name="stored"/>.
    /// Returns <paramref name="stored"/> itself for <see cref="ImageOrientation.TopLeft"/>, else a new image.</summary>
    public static RgbImage Apply(RgbImage stored, ImageOrientation orientation)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (Check(orientation) == ImageOrientation.TopLeft)
        {
            return stored;
        }
        int sw = stored.Width, sh = stored.Height;
        var (ow, oh) = orientation.OrientedSize(sw, sh);
        // Stored pixel index of oriented (x, y) = origin + x·stepX + y·stepY: ToStored written as one affine map.
        var (x0, y0) = orientation.ToStored(sw, sh, 0, 0);
        long origin = (long)y0 * sw + x0;
        var (x1, y1) = ow > 1 ? orientation.ToStored(sw, sh, 1, 0) : (x0, y0);
        var (x2, y2) = oh > 1 ? orientation.ToStored(sw, sh, 0, 1) : (x0, y0);
        long stepX = ((long)y1 * sw + x1) - origin, stepY = ((long)y2 * sw + x2) - origin;
        byte[] src = stored.Pixels;
        var dst = new byte[src.Length];
        int d = 0;
        for (int y = 0; y < oh; y++)
        {
            long s = origin + y * stepY;
            for (int x = 0; x < ow; x++, s += stepX, d += 3)
            {
                int at = (int)(s * 3);
                dst[d] = src[at];
                dst[d + 1] = src[at + 1];
                dst[d + 2] = src[at + 2];
            }
        }
        return new RgbImage(ow, oh, dst);
    }

    /// <summary>Parses a tag value: 1..8, else null.</summary>
    public static ImageOrientation? FromTagValue(long value) =>
        value is >= 1 and <= 8 ? (ImageOrientation)value : null;

    private static ImageOrientation Check(ImageOrientation orientation) =>
        orientation is >= ImageOrientation.TopLeft and <= ImageOrientation.LeftBottom
            ? orientation
            : throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation must be 1..8.");
}

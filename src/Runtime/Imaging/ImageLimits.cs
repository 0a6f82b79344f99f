namespace AotVit.Runtime.Imaging;

/// <summary>Resource limits checked from the image header, before any pixel memory is allocated.</summary>
public sealed record ImageLimits
{
    /// <summary>Pillow's <c>Image.MAX_IMAGE_PIXELS</c> (the point where Pillow starts warning about decompression bombs).</summary>
    public const long PillowMaxImagePixels = 89_478_485;

    /// <summary>The default limits: <see cref="MaxPixels"/> = <see cref="PillowMaxImagePixels"/>.</summary>
    public static ImageLimits Default { get; } = new();

    /// <summary>Images with width·height above this are refused. Must be positive.</summary>
    public long MaxPixels
    {
        get => _maxPixels;
        init
        {
            if (value <= 0) throw new InputException($"ImageLimits.MaxPixels is {value}; it must be positive");
            _maxPixels = value;
        }
    }

    /// <summary>Encoded inputs (bytes or file) longer than this are refused before they are read or parsed. Default 256 MiB.</summary>
    public long MaxEncodedBytes
    {
        get => _maxEncodedBytes;
        init
        {
            if (value <= 0) throw new InputException($"ImageLimits.MaxEncodedBytes is {value}; it must be positive");
            _maxEncodedBytes = value;
        }
    }

    private readonly long _maxPixels = PillowMaxImagePixels;
    private readonly long _maxEncodedBytes = 256L << 20;
}

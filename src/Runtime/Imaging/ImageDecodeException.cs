namespace AotVit.Runtime.Imaging;

/// <summary>
/// The only exception <see cref="ImageDecoder"/> lets escape for bad input: unknown format, corrupt or
/// truncated data, or an image larger than <see cref="ImageLimits.MaxPixels"/>.
/// </summary>
public sealed class ImageDecodeException : InputException
{
    public ImageDecodeException(string message) : base(message)
    {
    }

    public ImageDecodeException(string message, Exception innerException) : base(message, innerException)
    {
    }
}

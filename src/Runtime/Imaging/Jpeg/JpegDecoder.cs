// JpegDecoder: the JPEG front door — JpegReader (markers, Huffman scans → quantized coefficients) feeding
// JpegPixelPipeline (IDCT, smoothing, upsampling, colour → RGB rows), giving Pillow 9.4's Image.open(f).convert("RGB")
// on libjpeg-turbo 2.1.5 bit for bit.
//
// Invariants:
// * A single-scan (baseline / extended sequential) file is decoded MCU row by MCU row: only one MCU row of
//   coefficients and three iMCU rows of component samples are held, never all coefficients. A multi-scan
//   (progressive) file needs every scan before any pixel (libjpeg does the same), so its coefficients are decoded
//   whole, then streamed through the pixel pipeline.
// * Into a StreamingPreprocessor the pipeline produces only its StoredRegion's pixels, in row batches, so the
//   full-resolution RGB image is never built; the pixels produced equal the whole-image decode's.
// * Bad input surfaces only as ImageDecodeException (anything else the decoder might throw on hostile data is
//   wrapped), and every MCU row is entropy-decoded even when no pixel of it is needed, so truncated or corrupt data
//   is an error exactly as in a whole-image decode.
// * Given a WorkerPool with a second thread (not running another For), a large single-scan file is decoded by two
//   threads (JpegOverlap: entropy decoding ahead of the pixel stage); the pixels and errors are the one-thread decode's.
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Imaging.Jpeg;

internal static class JpegDecoder
{
    /// <summary>Parses the markers up to the first scan (sizes, tables, colour space); ImageLimits.MaxPixels is
    /// checked there, before any allocation proportional to the image.</summary>
    public static JpegReader ReadHeader(ReadOnlySpan<byte> data, ImageLimits? limits)
    {
        try
        {
            return JpegReader.ReadHeader(data, limits);
        }
        catch (Exception e) when (e is not ImageDecodeException and not OutOfMemoryException)
        {
            throw new ImageDecodeException($"Corrupt JPEG header: {e.Message}", e);
        }
    }

    /// <summary>The whole image (stored orientation) as RGB.</summary>
    /// <param name="overlapAnySize">Decode with <paramref name="pool"/> whatever the image's size (tests: small files
    /// through the two-thread path).</param>
    public static RgbImage Decode(JpegReader reader, ReadOnlySpan<byte> data, WorkerPool? pool = null, bool overlapAnySize = false)
    {
        JpegFrame frame = reader.Frame;
        byte[] rgb = GC.AllocateUninitializedArray<byte>(checked(frame.Width * frame.Height * 3));
        Run(reader, data, new JpegPixelPipeline(frame, null, null, rgb), pool, overlapAnySize);
        return new RgbImage(frame.Width, frame.Height, rgb);
    }

    /// <summary>Decodes into <paramref name="sink"/> (built for this image's stored size), producing only the pixels of
    /// its StoredRegion.</summary>
    public static void DecodeInto(JpegReader reader, ReadOnlySpan<byte> data, StreamingPreprocessor sink, WorkerPool? pool = null)
    {
        var region = sink.StoredRegion;
        Run(reader, data, new JpegPixelPipeline(reader.Frame, region, sink, null), pool, false);
    }

    private static void Run(JpegReader reader, ReadOnlySpan<byte> data, JpegPixelPipeline pipeline, WorkerPool? pool, bool overlapAnySize)
    {
        try
        {
            if (pool is { ThreadCount: > 1 } && reader.IsSingleScan && (overlapAnySize || JpegOverlap.Worthwhile(reader.Frame)))
            {
                JpegOverlap.Run(reader, data, pipeline, pool!);
            }
            else if (reader.IsSingleScan)
            {
                reader.DecodeRows(data, pipeline);
            }
            else
            {
                pipeline.ProcessMcuRows(reader.DecodeAll(data));
            }
        }
        catch (Exception e) when (e is not ImageDecodeException and not OutOfMemoryException)
        {
            throw new ImageDecodeException($"Corrupt JPEG data: {e.Message}", e);
        }
        if (!pipeline.Done)
        {
            throw new ImageDecodeException("Corrupt JPEG data: the scan ended before the last MCU row.");
        }
    }
}

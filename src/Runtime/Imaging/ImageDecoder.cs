// ImageDecoder: encoded bytes (JPEG, PNG, BMP, GIF first frame, TGA) -> RgbImage, as Hugging Face's load_image sees
// them: Pillow 9.4's Image.open(f) -> ImageOps.exif_transpose (on by default) -> convert("RGB").
//
// What it guarantees: for bad input the only exception is ImageDecodeException, and it is thrown exactly where Pillow
// raises for the formats we decode ourselves; the header is read and the pixel count checked against ImageLimits
// before any pixel memory is allocated, and files too short for the image they declare are refused before it is
// allocated; non-RGB sources are converted the way Image.convert("RGB") does.
// Decoders: JPEG (Jpeg/JpegDecoder: JpegReader's Huffman decoding + JpegPixelPipeline's IDCT, block smoothing, fancy
// upsampling and colour conversion as libjpeg-turbo 2.1.5 on x86-64 and Pillow's convert), PNG (PngDecoder,
// ZLibStream), GIF first frame (GifDecoder), TGA (TgaDecoder) are ours and bit-exact with Pillow
// (tests/AotVit.Tests/Imaging/FormatGoldenTests.cs, Imaging/Jpeg/*); BMP goes through StbImageSharp. DecodeStreaming
// decodes a JPEG in MCU rows straight into a StreamingPreprocessor, producing only the pixels the model input reads.
// EXIF orientation:
// ExifJpeg / PngDecoder find the EXIF Pillow uses, ExifReader reads IFD0's Orientation as TiffImagePlugin does,
// ExifOrientation applies exif_transpose's permutation. What it deliberately is not: a colour-managed decoder (ICC
// profiles and gamma chunks are ignored, as by Hugging Face's processors).
//
// Known differences from Pillow (the oracle of the HF pipeline), all in the decoder, none in the resize:
// * JPEG: arithmetic-coded and 12-bit files are refused with a clear error (Pillow's libjpeg-turbo decodes them).
//   The IDCT reproduces libjpeg-turbo's x86 SIMD IDCT, which Pillow uses on x86-64; on machines where Pillow's
//   libjpeg-turbo runs its C IDCT (no SIMD) Pillow differs from us on coefficient blocks no encoder produces.
// * Truncation: a JPEG whose data ends before its EOI marker is refused, as Pillow (without LOAD_TRUNCATED_IMAGES)
//   refuses it; uncompressed BMP shorter than its pixel array is refused (see CheckNotTruncated) where stb would
//   fill zeros.
// * JPEG EXIF: failures of Pillow's open-time DPI probe other than the TIFF-header ones (e.g. a one-byte
//   XResolution of type BYTE, an IndexError in Pillow) are not reproduced: we decode those files.
// * PNG (see PngDecoder): APNG image data starting with fdAT, or an fcTL before IDAT covering part of the image, is
//   refused (Pillow decodes into the frame box). Whether zlib checks adler32 in Pillow depends on its input pieces;
//   we check it when it directly follows the last row, Pillow's usual case.
// * Sizes above ImageLimits.MaxPixels are refused (Pillow warns above MAX_IMAGE_PIXELS and raises at twice that).
// * StbImageSharp (BMP only) reads through ClampedMemoryStream, which fixes an infinite loop in its stream port on
//   inputs whose segment lengths run past the end of the data (see that file).

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using AotVit.Runtime.Imaging.Jpeg;
using AotVit.Runtime.Interop;
using AotVit.Runtime.Threading;
using StbImageSharp;

namespace AotVit.Runtime.Imaging;

public static class ImageDecoder
{
    /// <summary>Decodes a JPEG, PNG, BMP, GIF (first frame) or TGA image to 8-bit RGB, as Hugging Face's
    /// <c>load_image</c> sees it: Pillow's <c>Image.open</c>, then <c>ImageOps.exif_transpose</c> when
    /// <paramref name="applyExifOrientation"/> is true (the default), then <c>convert("RGB")</c>.</summary>
    /// <param name="applyExifOrientation">false: the stored pixels, as a processor given <c>Image.open(f)</c> without
    /// exif_transpose sees them.</param>
    /// <exception cref="ImageDecodeException">Unknown or unsupported format, corrupt or truncated data, a zero
    /// dimension, width·height above <paramref name="limits"/>.MaxPixels (checked before decoding), or EXIF data on
    /// which Pillow's exif_transpose raises (only when <paramref name="applyExifOrientation"/> is true).</exception>
    public static RgbImage Decode(ReadOnlySpan<byte> encoded, ImageLimits? limits = null, bool applyExifOrientation = true)
    {
        RgbImage image = DecodeStored(encoded, limits, applyExifOrientation, pool: null, out ImageOrientation orientation);
        return orientation == ImageOrientation.TopLeft ? image : ExifOrientation.Apply(image, orientation);
    }

    /// <summary>
    /// The stored pixels (before orientation) and the orientation <see cref="Decode(ReadOnlySpan{byte}, ImageLimits?, bool)"/>
    /// would apply to them (TopLeft when none, or when <paramref name="applyExifOrientation"/> is false): for consumers
    /// that orient while they read (StreamingPreprocessor) instead of materialising the turned image. Same errors as Decode.
    /// </summary>
    /// <param name="pool">As for <see cref="DecodeStreaming"/>.</param>
    public static (RgbImage Stored, ImageOrientation Orientation) DecodeStored(ReadOnlySpan<byte> encoded, ImageLimits? limits = null, bool applyExifOrientation = true,
                                                                               WorkerPool? pool = null)
    {
        RgbImage image = DecodeStored(encoded, limits, applyExifOrientation, pool, out ImageOrientation orientation);
        return (image, orientation);
    }

    // Decode uses this form, not the tuple: a (RgbImage, ImageOrientation) tuple built in the executable makes the enum
    // reflectable (through the tuple's IEquatable metadata), which keeps the runtime's enum formatting in the binary.
    private static RgbImage DecodeStored(ReadOnlySpan<byte> encoded, ImageLimits? limits, bool applyExifOrientation, WorkerPool? pool,
                                         out ImageOrientation orientation)
    {
        var header = ValidateHeader(encoded, limits);
        RgbImage image = header.Format switch
        {
            "JPEG" => JpegDecoder.Decode(header.Jpeg!, encoded, pool),
            "PNG" => PngDecoder.Decode(encoded, header.Png!),
            "GIF" => GifDecoder.Decode(encoded, header.Gif!),
            "TGA" => TgaDecoder.Decode(encoded, header.Tga!),
            _ => DecodeWithStb(encoded, header),
        };
        orientation = Orientation(encoded, header, applyExifOrientation) ?? ImageOrientation.TopLeft;
        return image;
    }

    /// <summary>
    /// Decodes <paramref name="encoded"/> straight into a <see cref="StreamingPreprocessor"/> for <paramref name="plan"/>
    /// (built for the stored size and the orientation <see cref="DecodeStored"/> reports), with every row it needs
    /// given: call Finish on the result, then dispose it. The pixel values equal
    /// Preprocessor.Run(Decode(encoded, ...), plan). JPEG is decoded in MCU rows and only the pixels of the
    /// preprocessor's StoredRegion are produced (no full-resolution RGB image is built); other formats are decoded
    /// whole, then streamed. Same errors as Decode, plus the StreamingPreprocessor constructor's.
    /// </summary>
    /// <param name="pool">Threads a large single-scan JPEG may be decoded with (the caller and one worker; the pool
    /// must not be running anything else); null decodes on the calling thread. The result is the same either way.</param>
    public static StreamingPreprocessor DecodeStreaming(ReadOnlySpan<byte> encoded, PreprocessPlan plan, ImageLimits? limits = null,
                                                        bool applyExifOrientation = true, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        StreamingPreprocessor stream;
        var header = ValidateHeader(encoded, limits);
        if (header.Format == "JPEG")
        {
            ImageOrientation orientation = Orientation(encoded, header, applyExifOrientation) ?? ImageOrientation.TopLeft;
            stream = new StreamingPreprocessor(plan, header.Width, header.Height, orientation);
            try
            {
                JpegDecoder.DecodeInto(header.Jpeg!, encoded, stream, pool);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
            return stream;
        }
        RgbImage image = header.Format switch
        {
            "PNG" => PngDecoder.Decode(encoded, header.Png!),
            "GIF" => GifDecoder.Decode(encoded, header.Gif!),
            "TGA" => TgaDecoder.Decode(encoded, header.Tga!),
            _ => DecodeWithStb(encoded, header),
        };
        ImageOrientation o = Orientation(encoded, header, applyExifOrientation) ?? ImageOrientation.TopLeft;
        stream = new StreamingPreprocessor(plan, image.Width, image.Height, o);
        stream.OnRows(0, image.Height, image.Pixels, image.Width * 3);
        return stream;
    }

    /// <summary>Reads at most <see cref="ImageLimits.MaxEncodedBytes"/> + 1 bytes of the file at <paramref name="path"/>:
    /// the bytes <see cref="Load"/> decodes. Errors as Load.</summary>
    public static byte[] ReadFile(string path, ImageLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ImageLimits.Default;
        return UserFiles.ReadAtMost(path, "image file", limits.MaxEncodedBytes)
            ?? throw new ImageDecodeException(
                $"Encoded image has more than {limits.MaxEncodedBytes} bytes, the limit (ImageLimits.MaxEncodedBytes).");
    }

    /// <inheritdoc cref="Decode(ReadOnlySpan{byte}, ImageLimits?, bool)"/>
    public static RgbImage Decode(byte[] encoded, ImageLimits? limits = null, bool applyExifOrientation = true)
    {
        ArgumentNullException.ThrowIfNull(encoded);
        return Decode(encoded.AsSpan(), limits, applyExifOrientation);
    }

    /// <summary>Reads and decodes the file at <paramref name="path"/>, reading at most
    /// <see cref="ImageLimits.MaxEncodedBytes"/> + 1 bytes (a larger file, or an endless one such as /dev/zero, is an
    /// ImageDecodeException). I/O errors (missing file, a directory, no access) are reported as the usual IOException
    /// types with plain messages (<see cref="UserFiles.OpenRead"/>), not as ImageDecodeException.
    /// <paramref name="applyExifOrientation"/> as in <see cref="Decode(ReadOnlySpan{byte}, ImageLimits?, bool)"/>.</summary>
    public static RgbImage Load(string path, ImageLimits? limits = null, bool applyExifOrientation = true) =>
        Decode(ReadFile(path, limits), limits, applyExifOrientation);

    /// <summary>The EXIF orientation Decode applies (null: none), without decoding pixels. Same errors as Decode's
    /// header and EXIF checks. For a PNG it reads the chunks after the image data too, as Pillow's getexif does.</summary>
    public static ImageOrientation? ReadOrientation(ReadOnlySpan<byte> encoded, ImageLimits? limits = null)
    {
        var header = ValidateHeader(encoded, limits);
        if (header.Format == "PNG")
        {
            PngDecoder.WalkAfterImageData(encoded, header.Png!);
        }
        return Orientation(encoded, header, apply: true);
    }

    private static unsafe RgbImage DecodeWithStb(ReadOnlySpan<byte> encoded, Header header)
    {
        string format = header.Format;
        CheckNotTruncated(encoded, format, header.Width, header.Height);
        fixed (byte* data = encoded)
        {
            // stb's BMP loader called directly, not through ImageResult.FromStream: that entry tries every stb format
            // in turn, which keeps stb's JPEG, PNG, GIF, PSD, HDR and TGA decoders in the NativeAOT binaries (unused:
            // those formats are ours; ≈50 KB of code). For a file whose header is BMP the two give the same pixels:
            // FromStream reaches the BMP loader first (the JPEG and PNG tests reject "BM"), with the same request
            // (RedGreenBlue: grey -> (g, g, g), alpha dropped, palettes expanded, as Image.convert("RGB")).
            int width, height, components;
            StbImage.stbi__result_info info;
            byte* pixels = null;
            try
            {
                using var stream = new ClampedMemoryStream(data, encoded.Length);
                pixels = (byte*)StbImage.stbi__bmp_load(new StbImage.stbi__context(stream), &width, &height, &components,
                                                         (int)ColorComponents.RedGreenBlue, &info);
                if (pixels is null)
                {
                    throw new InvalidOperationException(StbImage.stbi__g_failure_reason);   // as FromStream reports it
                }
                if (width != header.Width || height != header.Height)
                {
                    throw new ImageDecodeException(
                        $"Corrupt {format} data: header says {header.Width}x{header.Height}, decoder produced {width}x{height}.");
                }
                var rgb = new byte[(long)width * height * 3];
                new ReadOnlySpan<byte>(pixels, rgb.Length).CopyTo(rgb);
                return new RgbImage(width, height, rgb);
            }
            catch (Exception e) when (e is not OutOfMemoryException and not ImageDecodeException)
            {
                // stb reports corrupt data as InvalidOperationException, but truncated or hostile input can also
                // surface as IndexOutOfRange/NullReference/Overflow from its ported C code: all are "corrupt".
                throw new ImageDecodeException($"Corrupt or truncated {format} data: {e.Message}", e);
            }
            finally
            {
                // stb allocates its result with Marshal.AllocHGlobal (its CRuntime.malloc, internal to the package).
                if (pixels is not null) Marshal.FreeHGlobal((nint)pixels);
            }
        }
    }

    // What exif_transpose does for this file (null: nothing), and the EXIF failures Pillow has even without it.
    // JPEG: Pillow's open already parses the EXIF when no JFIF DPI came first (see ExifJpeg): a struct.error there
    // (short or BigTIFF header) makes Image.open fail, a SyntaxError (not TIFF) is swallowed; with JFIF DPI first,
    // both raise in exif_transpose. PNG: getexif runs only in exif_transpose, and every header error raises.
    // GIF, BMP, TGA: Pillow 9.4 reads no EXIF from them.
    private static ImageOrientation? Orientation(ReadOnlySpan<byte> encoded, Header header, bool apply)
    {
        switch (header.Format)
        {
            case "JPEG":
                {
                    JpegExifSegment segment = ExifJpeg.Find(encoded);
                    if (!segment.Found)
                    {
                        return null;
                    }
                    ExifOrientationTag tag = ExifReader.ReadOrientation(encoded.Slice(segment.Offset, segment.Length));
                    if (tag.Error == ExifHeaderError.ShortOrBigTiff && !segment.DpiBeforeExif)
                    {
                        throw new ImageDecodeException("JPEG EXIF segment has a truncated or BigTIFF header: Pillow cannot open the file.");
                    }
                    if (!apply)
                    {
                        return null;
                    }
                    if (tag.Error != ExifHeaderError.None && (segment.DpiBeforeExif || tag.Error == ExifHeaderError.ShortOrBigTiff))
                    {
                        throw new ImageDecodeException("JPEG EXIF segment is not a valid TIFF header (Pillow's exif_transpose raises).");
                    }
                    return tag.Orientation;
                }
            case "PNG":
                return apply ? PngDecoder.Orientation(header.Png!) : null;
            default:
                return null;
        }
    }

    /// <summary>Copies raw interleaved RGB8 pixels ([height, width, 3], row-major) into a new RgbImage.</summary>
    /// <exception cref="ArgumentException">rgb.Length ≠ width·height·3 or a dimension ≤ 0.</exception>
    public static RgbImage DecodeRgb(ReadOnlySpan<byte> rgb, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        if (rgb.Length != (long)width * height * 3)
        {
            throw new ArgumentException($"Expected {(long)width * height * 3} bytes for {width}x{height} RGB, got {rgb.Length}.", nameof(rgb));
        }
        return new RgbImage(width, height, rgb.ToArray());
    }

    /// <summary>Reads only the header: (width, height, format name), the size Decode with the same
    /// <paramref name="applyExifOrientation"/> returns (for an EXIF orientation of 5..8, the stored height x width).
    /// Same errors and limits as Decode's header checks.</summary>
    public static (int Width, int Height, string Format) ReadInfo(ReadOnlySpan<byte> encoded, ImageLimits? limits = null,
                                                                  bool applyExifOrientation = true)
    {
        var header = ValidateHeader(encoded, limits);
        if (applyExifOrientation)
        {
            if (header.Format == "PNG")
            {
                PngDecoder.WalkAfterImageData(encoded, header.Png!);
            }
            if (Orientation(encoded, header, apply: true) is { } o)
            {
                var (w, h) = o.OrientedSize(header.Width, header.Height);
                return (w, h, header.Format);
            }
        }
        return (header.Width, header.Height, header.Format);
    }

    // A class, not a record: nothing compares or prints a Header, and a record's generated equality and text are code
    // in every binary.
    private sealed class Header(string format, int width, int height, PngInfo? png = null,
                                GifDecoder.Frame? gif = null, TgaDecoder.Header? tga = null, JpegReader? jpeg = null)
    {
        public string Format { get; } = format;
        public int Width { get; } = width;
        public int Height { get; } = height;
        public PngInfo? Png { get; } = png;
        public GifDecoder.Frame? Gif { get; } = gif;
        public TgaDecoder.Header? Tga { get; } = tga;
        public JpegReader? Jpeg { get; } = jpeg;
    }

    /// <summary>
    /// The header checks that Decode and ReadInfo share, in this order: not empty, the encoded size limit, the format
    /// from the signature, the size the format's own fields declare, the header (PNG: our chunk walk up to the image
    /// data; JPEG: JpegReader's markers up to the first scan; GIF, TGA: ours; BMP: stb's header parser), then the dimension and pixel-count limits. No pixel memory is allocated.
    /// </summary>
    private static unsafe Header ValidateHeader(ReadOnlySpan<byte> encoded, ImageLimits? limits)
    {
        limits ??= ImageLimits.Default;
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException("Empty input: no image data.");
        }
        CheckEncodedSize(encoded.Length, limits);
        string format = DetectFormat(encoded);
        CheckDeclaredSize(encoded, format, limits);
        if (format == "PNG")
        {
            PngInfo png = PngDecoder.ReadHeader(encoded);
            CheckLimits(png.Width, png.Height, format, limits);
            return new Header(format, (int)png.Width, (int)png.Height, png);
        }
        if (format == "JPEG")
        {
            JpegReader jpeg = JpegDecoder.ReadHeader(encoded, limits);
            CheckLimits(jpeg.Frame.Width, jpeg.Frame.Height, format, limits);
            return new Header(format, jpeg.Frame.Width, jpeg.Frame.Height, jpeg: jpeg);
        }
        if (format == "GIF")
        {
            GifDecoder.Frame gif = GifDecoder.ReadHeader(encoded);
            CheckLimits(gif.Width, gif.Height, format, limits);
            return new Header(format, gif.Width, gif.Height, gif: gif);
        }
        if (format == "TGA")
        {
            TgaDecoder.Header tga = TgaDecoder.ReadHeader(encoded);
            CheckLimits(tga.Width, tga.Height, format, limits);
            return new Header(format, tga.Width, tga.Height, tga: tga);
        }
        ImageInfo info;
        fixed (byte* data = encoded)
        {
            info = ReadHeader(data, encoded.Length, format);
        }
        CheckLimits(info.Width, info.Height, format, limits);
        return new Header(format, info.Width, info.Height);
    }

    // Formats are recognised by their signature so that stb's other decoders (PSD, HDR, PIC, PNM), whose output
    // Pillow would not reproduce, are never reached. TGA has no signature: anything unrecognised is offered to
    // stb's TGA header check, which rejects implausible headers.
    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static string DetectFormat(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(PngSignature))
        {
            return "PNG";
        }
        if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8)
        {
            return "JPEG";
        }
        if (data.StartsWith("GIF87a"u8) || data.StartsWith("GIF89a"u8))
        {
            return "GIF";
        }
        if (data.StartsWith("BM"u8))
        {
            return "BMP";
        }
        if (data.StartsWith("8BPS"u8))
        {
            throw new ImageDecodeException("Unsupported image format: PSD.");
        }
        if (data.StartsWith("#?RADIANCE"u8) || data.StartsWith("#?RGBE"u8))
        {
            throw new ImageDecodeException("Unsupported image format: Radiance HDR.");
        }
        if (data.Length >= 2 && data[0] == (byte)'P' && data[1] is (byte)'5' or (byte)'6')
        {
            throw new ImageDecodeException("Unsupported image format: PNM.");
        }
        if (data.StartsWith((ReadOnlySpan<byte>)[0x53, 0x80, 0xF6, 0x34]))
        {
            throw new ImageDecodeException("Unsupported image format: Softimage PIC.");
        }
        return "TGA";
    }

    // stb's own header parser refuses images above 2^30 bytes without saying how large they claim to be, so for
    // the formats whose size sits at a fixed offset we read it ourselves and apply ImageLimits first, with a
    // message that names the size. (JPEG's size is in the SOF marker, checked by JpegReader.)
    private static void CheckDeclaredSize(ReadOnlySpan<byte> data, string format, ImageLimits limits)
    {
        long width, height;
        switch (format)
        {
            case "PNG" when data.Length >= 24 && data.Slice(12, 4).SequenceEqual("IHDR"u8):
                width = BinaryPrimitives.ReadUInt32BigEndian(data[16..]);
                height = BinaryPrimitives.ReadUInt32BigEndian(data[20..]);
                break;
            case "GIF" when data.Length >= 10:
                width = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
                height = BinaryPrimitives.ReadUInt16LittleEndian(data[8..]);
                break;
            case "BMP" when data.Length >= 26 && BinaryPrimitives.ReadUInt32LittleEndian(data[14..]) == 12:
                width = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
                height = BinaryPrimitives.ReadUInt16LittleEndian(data[20..]);
                break;
            case "BMP" when data.Length >= 26:
                width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[18..]));
                height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(data[22..]));   // negative = top-down
                break;
            default:
                return;
        }
        if (width * height > limits.MaxPixels)
        {
            throw new ImageDecodeException(
                $"{format} image is {width}x{height} = {width * height} pixels, above the limit of {limits.MaxPixels} (ImageLimits.MaxPixels).");
        }
    }

    // stb_image decodes truncated BMP and TGA data without complaint (missing bytes read as zeros), where
    // Pillow raises "image file is truncated". Refuse what we can recognise cheaply:
    // * BMP (uncompressed / bitfields) and TGA (uncompressed): fewer bytes than the header's pixel array needs.
    // Not covered: RLE TGA and GIF (a first frame cut short decodes with the missing pixels black or transparent).
    // PNG needs no check: stb fails on a missing IDAT tail itself.
    private static void CheckNotTruncated(ReadOnlySpan<byte> data, string format, int width, int height)
    {
        long required;
        switch (format)
        {
            case "BMP":
                {
                    uint headerSize = data.Length >= 18 ? BinaryPrimitives.ReadUInt32LittleEndian(data[14..]) : 0;
                    if (data.Length < (headerSize == 12 ? 26 : 34))
                    {
                        throw new ImageDecodeException($"Truncated BMP header: {data.Length} bytes.");
                    }
                    int bitsPerPixel = headerSize == 12 ? BinaryPrimitives.ReadUInt16LittleEndian(data[24..])
                                                        : BinaryPrimitives.ReadUInt16LittleEndian(data[28..]);
                    uint compression = headerSize >= 40 && data.Length >= 34 ? BinaryPrimitives.ReadUInt32LittleEndian(data[30..]) : 0;
                    if (compression is not (0 or 3))
                    {
                        return;   // RLE and others: stb refuses them itself
                    }
                    long stride = ((long)width * bitsPerPixel + 31) / 32 * 4;
                    required = BinaryPrimitives.ReadUInt32LittleEndian(data[10..]) + stride * height;
                    break;
                }
            case "TGA":
                {
                    if (data.Length < 18)
                    {
                        throw new ImageDecodeException($"Truncated TGA header: {data.Length} bytes.");
                    }
                    if (data[2] is not (1 or 2 or 3))
                    {
                        return;   // RLE: not checked
                    }
                    int colorMapLength = data[1] == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(data[5..]) : 0;
                    required = 18 + data[0] + (long)colorMapLength * ((data[7] + 7) / 8)
                             + (long)width * height * ((data[16] + 7) / 8);
                    break;
                }
            default:
                return;
        }
        if (data.Length < required)
        {
            throw new ImageDecodeException($"Truncated {format} data: {data.Length} bytes, the header needs {required}.");
        }
    }

    private static void CheckEncodedSize(long length, ImageLimits limits)
    {
        if (length > limits.MaxEncodedBytes)
        {
            throw new ImageDecodeException($"Encoded image is {length} bytes, above the limit of {limits.MaxEncodedBytes} (ImageLimits.MaxEncodedBytes).");
        }
    }

    // Only BMP reaches here (DetectFormat gives every other format to our own readers or refuses it): stb's BMP header
    // parser is called directly, not through ImageInfo.FromStream, which tries every stb format in turn and so would keep
    // their header parsers in the NativeAOT binaries. For a "BM" file the answer is the same (FromStream's JPEG, PNG and
    // GIF probes reject it before the BMP one; after a failed BMP probe none of the others accepts "BM" either).
    private static unsafe ImageInfo ReadHeader(byte* data, int length, string format)
    {
        int width, height, components, found;
        try
        {
            using var stream = new ClampedMemoryStream(data, length);
            found = StbImage.stbi__bmp_info(new StbImage.stbi__context(stream), &width, &height, &components);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageDecodeException($"Corrupt {format} header: {e.Message}", e);
        }
        if (found == 0)
        {
            throw new ImageDecodeException(format == "TGA"
                ? "Unknown image format (expected JPEG, PNG, BMP, GIF or TGA)."
                : $"Corrupt or truncated {format} header.");
        }
        return new ImageInfo { Width = width, Height = height, ColorComponents = (ColorComponents)components, BitsPerChannel = 8 };
    }

    private static void CheckLimits(long width, long height, string format, ImageLimits limits)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException($"Invalid {format} dimensions {width}x{height}.");
        }
        long pixels = width * height;
        if (pixels > limits.MaxPixels)
        {
            throw new ImageDecodeException(
                $"{format} image is {width}x{height} = {pixels} pixels, above the limit of {limits.MaxPixels} (ImageLimits.MaxPixels).");
        }
        if (pixels * 4 > Array.MaxLength)
        {
            throw new ImageDecodeException($"{format} image {width}x{height} is too large to decode into one array.");
        }
    }
}

// PngDecoder: PNG -> RgbImage exactly as Pillow 9.4's Image.open(f) (+ ImageOps.exif_transpose) + convert("RGB")
// produces it, with the BCL's ZLibStream (native zlib) for IDAT.
//
// Chunk walk (PIL/PngImagePlugin.py: PngImageFile._open, PngStream.chunk_*, ChunkStream.read/crc):
// * Before the first IDAT every chunk needs a 4-character [A-Za-z0-9_] type ("broken PNG file"), all its data
//   (ImageFile._safe_read: "Truncated File Read") and a matching CRC ("bad header checksum"); IHDR need not be first.
//   Handler checks reproduced: IHDR < 13 bytes or nonzero filter method; tRNS shorter than its mode's i16 reads
//   (1/L/I: 2 bytes, RGB: 6); gAMA < 4, sRGB < 1, pHYs < 9, acTL < 8, fcTL < 26 bytes; zTXt / iCCP compression method
//   not 0; zTXt / iTXt / iCCP inflating past MAX_TEXT_CHUNK (1 MiB); text chunks over MAX_TEXT_MEMORY (64 MiB).
//   The compression method byte of IHDR is not checked; any nonzero interlace byte means Adam7. An IDAT seen while
//   no IHDR with a known bit depth / colour type has been read is an unknown chunk (Pillow's AttributeError path).
//   PLTE counts only while the mode is P, and at most 256 entries (more: "invalid palette size"); palette entries it
//   does not give keep the grey ramp of ImagingPaletteNew ((i, i, i)), as does P without PLTE.
// * Image data: the data of consecutive IDAT chunks; their CRCs are not checked (load_read skips them). Rows are
//   inflated one at a time and inflation stops when the last row is complete: data after it is never inflated, so
//   a stream that inflates past the image (zlib bomb) costs no more than the image. Then one more byte is read: a
//   broken stream or adler32 right after the rows fails, as zlib does when the trailer is in the same input.
//   A stream that ends properly at a row boundary before the last row succeeds with the remaining pixels zero (raw
//   zero, so P shows palette entry 0): ZipDecode.c returns on Z_STREAM_END after a row. Input that runs out
//   (truncated deflate, or a partial row) is "image file is truncated". Filter types above 4 fail.
// * After the image (load_end): the remaining chunks are read without CRC checks; a chunk whose data is cut short
//   fails, a cut chunk header ends the walk quietly, and the same handler checks apply.
// * convert("RGB") per mode (_MODES table; Unpack.c, Convert.c): 1 -> 0/255; L;2 x85, L;4 x17; 16-bit grey is mode I
//   and i2rgb clips it to 0..255 (so most 16-bit grey pixels are 255); RGB;16B, LA;16B (mode RGBA), RGBA;16B keep the
//   high byte; LA / RGBA drop alpha; P looks up the palette; tRNS never changes RGB.
// Not reproduced (refused with ImageDecodeException instead): APNG image data that starts with fdAT, and an fcTL
// before IDAT whose frame is smaller than the image (Pillow decodes IDAT into that box); both are invalid APNGs.
// The IDAT stream hands ZLibStream at most one chunk per read, so the chunk the last row finished in is known: the
// IDAT chunks after it are skipped as load_end does, and one cut short fails ("Truncated File Read").

using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace AotVit.Runtime.Imaging;

/// <summary>What the chunk walk found: the header, palette, image-data start, and the metadata Pillow's getexif reads.</summary>
internal sealed class PngInfo
{
    public long Width, Height;
    public int BitDepth = -1, ColorType = -1;   // of the last IHDR with a known mode
    public bool Interlaced;
    public byte[]? Palette;                      // PLTE data while mode was P (last one)
    public int FirstIdat = -1;                   // offset of the first image-data chunk header

    // info["exif"], info["Raw profile type exif"], info["XML:com.adobe.xmp"] before the first IDAT and overall.
    public PngText PreIdat, All;

    // PngStream state that lives across the whole walk: text memory, APNG sequence number, frame count.
    public long TextMemory;
    public long? SeqNum;
    public long? FrameCount;
    public bool FrameBeforeIdat, FramePartial;
    public long PreIdatTextMemory;
    public long? PreIdatSeqNum;

    /// <summary>PngImageFile.is_animated: acTL's frame count, plus the IDAT image when no fcTL preceded it, above 1.</summary>
    public bool Animated => FrameCount is long n && n + (FrameBeforeIdat ? 0 : 1) > 1;
}

internal struct PngText
{
    public byte[]? Exif;           // eXIf (with "Exif\0\0" prepended, as Pillow does) or tEXt "exif" bytes
    public bool ExifIsText;        // zTXt / iTXt "exif": a str, on which Exif.load raises TypeError
    public string? RawProfileExif;
    public string? Xmp;
}

internal static class PngDecoder
{
    private const int MaxTextChunk = 1 << 20;          // ImageFile.SAFEBLOCK: PngImagePlugin.MAX_TEXT_CHUNK
    private const long MaxTextMemory = 64L << 20;      // PngImagePlugin.MAX_TEXT_MEMORY

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool IsKnownMode(int depth, int colorType) => (depth, colorType) switch
    {
        (1 or 2 or 4 or 8 or 16, 0) => true,
        (8 or 16, 2) => true,
        (1 or 2 or 4 or 8, 3) => true,
        (8 or 16, 4) => true,
        (8 or 16, 6) => true,
        _ => false,
    };

    private static int Channels(int colorType) => colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };

    private static string ModeName(int colorType, int depth) => (colorType, depth) switch
    {
        (0, 1) => "1",
        (0, 16) => "I",
        (0, _) => "L",
        (2, _) => "RGB",
        (3, _) => "P",
        (4, 8) => "LA",
        _ => "RGBA",
    };

    /// <summary>The chunk walk up to the first IDAT, with Pillow's checks. Throws ImageDecodeException where Pillow's open fails.</summary>
    public static PngInfo ReadHeader(ReadOnlySpan<byte> data)
    {
        if (!data.StartsWith(Signature))
        {
            throw new ImageDecodeException("Not a PNG file.");
        }
        var info = new PngInfo();
        int at = 8;
        while (true)
        {
            if (data.Length - at < 8)
            {
                throw new ImageDecodeException("Truncated PNG file: no image data (IDAT) before the end of the file.");
            }
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            ReadOnlySpan<byte> type = data.Slice(at + 4, 4);
            CheckChunkType(type);
            int body = at + 8;
            if (IsType(type, "IDAT") && info.BitDepth >= 0)
            {
                if (info.FramePartial)
                {
                    throw new ImageDecodeException("Unsupported PNG: an APNG frame control before IDAT covers only part of the image.");
                }
                info.FirstIdat = at;
                info.All = info.PreIdat;
                info.PreIdatTextMemory = info.TextMemory;
                info.PreIdatSeqNum = info.SeqNum;
                return info;
            }
            if (IsType(type, "IEND"))
            {
                throw new ImageDecodeException("Corrupt PNG file: IEND before any image data.");
            }
            if (IsType(type, "fdAT"))
            {
                throw new ImageDecodeException("Unsupported PNG: APNG image data (fdAT) before any IDAT.");
            }
            if (length > (uint)(data.Length - body))
            {
                throw new ImageDecodeException($"Truncated PNG file: chunk {Name(type)} needs {length} bytes, {data.Length - body} left.");
            }
            ReadOnlySpan<byte> chunk = data.Slice(body, (int)length);
            Handle(type, chunk, info, ref info.PreIdat, postImage: false);
            int crcAt = body + (int)length;
            if (data.Length - crcAt < 4)
            {
                throw new ImageDecodeException($"Broken PNG file: incomplete checksum in {Name(type)}.");
            }
            uint expected = BinaryPrimitives.ReadUInt32BigEndian(data[crcAt..]);
            if (Crc32.Compute(type, chunk) != expected)
            {
                throw new ImageDecodeException($"Broken PNG file: bad checksum in {Name(type)}.");
            }
            at = crcAt + 4;
        }
    }

    private static void CheckChunkType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
        {
            if (!(b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_'))
            {
                throw new ImageDecodeException($"Broken PNG file: invalid chunk type {Name(type)}.");
            }
        }
    }

    private static bool IsType(ReadOnlySpan<byte> type, string name) =>
        type[0] == name[0] && type[1] == name[1] && type[2] == name[2] && type[3] == name[3];

    private static string Name(ReadOnlySpan<byte> type) =>
        "'" + string.Create(4, type.ToArray(), static (s, t) => { for (int i = 0; i < 4; i++) s[i] = t[i] is >= 32 and < 127 ? (char)t[i] : '?'; }) + "'";

    // The chunk handlers' effects and failures (PngStream.chunk_*), before or after the image data.
    private static void Handle(ReadOnlySpan<byte> type, ReadOnlySpan<byte> s, PngInfo info, ref PngText text, bool postImage)
    {
        string mode = info.BitDepth >= 0 ? ModeName(info.ColorType, info.BitDepth) : "";
        if (IsType(type, "IHDR"))
        {
            if (s.Length < 13)
            {
                throw new ImageDecodeException("Corrupt PNG file: truncated IHDR chunk.");
            }
            info.Width = BinaryPrimitives.ReadUInt32BigEndian(s);
            info.Height = BinaryPrimitives.ReadUInt32BigEndian(s[4..]);
            if (IsKnownMode(s[8], s[9]))
            {
                info.BitDepth = s[8];
                info.ColorType = s[9];
            }
            if (s[12] != 0)
            {
                info.Interlaced = true;
            }
            if (s[11] != 0)
            {
                throw new ImageDecodeException("Corrupt PNG file: unknown filter method.");
            }
        }
        else if (IsType(type, "PLTE"))
        {
            if (mode == "P")
            {
                info.Palette = s.ToArray();
            }
        }
        else if (IsType(type, "tRNS"))
        {
            if ((mode is "1" or "L" or "I" && s.Length < 2) || (mode == "RGB" && s.Length < 6))
            {
                throw new ImageDecodeException("Corrupt PNG file: tRNS chunk too short for the image mode.");
            }
        }
        else if ((IsType(type, "gAMA") && s.Length < 4) || (IsType(type, "sRGB") && s.Length < 1)
                 || (IsType(type, "pHYs") && s.Length < 9) || (IsType(type, "acTL") && s.Length < 8))
        {
            throw new ImageDecodeException($"Corrupt PNG file: truncated {Name(type)} chunk.");
        }
        else if (IsType(type, "acTL"))
        {
            long n = BinaryPrimitives.ReadUInt32BigEndian(s);
            info.FrameCount = info.FrameCount is not null || n == 0 || n > 0x80000000 ? null : n;
        }
        else if (IsType(type, "fdAT"))
        {
            // Only reached after the image (load_end): chunk_fdAT checks length and sequence, then skips the data.
            if (s.Length < 4)
            {
                throw new ImageDecodeException("Corrupt PNG file: truncated fdAT chunk.");
            }
            long seq = BinaryPrimitives.ReadUInt32BigEndian(s);
            if (info.SeqNum is not long previous || previous != seq - 1)
            {
                throw new ImageDecodeException("Corrupt PNG file: APNG frame sequence error.");
            }
            info.SeqNum = seq;
        }
        else if (IsType(type, "fcTL"))
        {
            if (s.Length < 26)
            {
                throw new ImageDecodeException("Corrupt PNG file: truncated fcTL chunk.");
            }
            long seq = BinaryPrimitives.ReadUInt32BigEndian(s);
            if ((info.SeqNum is null && seq != 0) || (info.SeqNum is long previous && previous != seq - 1))
            {
                throw new ImageDecodeException("Corrupt PNG file: APNG frame sequence error.");
            }
            info.SeqNum = seq;
            long w = BinaryPrimitives.ReadUInt32BigEndian(s[4..]), h = BinaryPrimitives.ReadUInt32BigEndian(s[8..]);
            long px = BinaryPrimitives.ReadUInt32BigEndian(s[12..]), py = BinaryPrimitives.ReadUInt32BigEndian(s[16..]);
            if (px + w > info.Width || py + h > info.Height)
            {
                throw new ImageDecodeException("Corrupt PNG file: APNG frame outside the image.");
            }
            if (!postImage)
            {
                info.FrameBeforeIdat = true;
                info.FramePartial = px != 0 || py != 0 || w != info.Width || h != info.Height;
            }
        }
        else if (IsType(type, "eXIf"))
        {
            text.Exif = [.. "Exif\0\0"u8, .. s];
            text.ExifIsText = false;
        }
        else if (IsType(type, "iCCP"))
        {
            if (s.IsEmpty)
            {
                throw new ImageDecodeException("Corrupt PNG file: empty iCCP chunk.");
            }
            int i = s.IndexOf((byte)0);
            byte method = i < 0 ? s[^1] : s[i];   // Pillow reads s[i] even when find() gave -1
            if (method != 0)
            {
                throw new ImageDecodeException("Corrupt PNG file: unknown compression method in iCCP chunk.");
            }
            InflateText(s[Math.Min(s.Length, i + 2)..], "iCCP");
        }
        else if (IsType(type, "tEXt"))
        {
            int zero = s.IndexOf((byte)0);
            ReadOnlySpan<byte> k = zero < 0 ? s : s[..zero], v = zero < 0 ? [] : s[(zero + 1)..];
            if (!k.IsEmpty)
            {
                AddText(ref text, info, k, v, latin1: true, exifIsBytes: true);
            }
        }
        else if (IsType(type, "zTXt"))
        {
            int zero = s.IndexOf((byte)0);
            ReadOnlySpan<byte> k = zero < 0 ? s : s[..zero], v = zero < 0 ? [] : s[(zero + 1)..];
            if (!v.IsEmpty && v[0] != 0)
            {
                throw new ImageDecodeException("Corrupt PNG file: unknown compression method in zTXt chunk.");
            }
            byte[] plain = InflateText(v.IsEmpty ? v : v[1..], "zTXt") ?? [];
            if (!k.IsEmpty)
            {
                AddText(ref text, info, k, plain, latin1: true, exifIsBytes: false);
            }
        }
        else if (IsType(type, "iTXt"))
        {
            int zero = s.IndexOf((byte)0);
            if (zero < 0 || s.Length - zero - 1 < 2)
            {
                return;
            }
            ReadOnlySpan<byte> k = s[..zero], r = s[(zero + 1)..];
            byte cf = r[0], cm = r[1];
            r = r[2..];
            int z1 = r.IndexOf((byte)0);
            if (z1 < 0)
            {
                return;
            }
            int z2 = r[(z1 + 1)..].IndexOf((byte)0);
            if (z2 < 0)
            {
                return;
            }
            ReadOnlySpan<byte> lang = r[..z1], tkey = r.Slice(z1 + 1, z2), v = r[(z1 + 1 + z2 + 1)..];
            byte[]? plain = null;
            if (cf != 0)
            {
                if (cm != 0)
                {
                    return;
                }
                plain = InflateText(v, "iTXt");
                if (plain is null)
                {
                    return;   // zlib.error: the chunk is ignored
                }
                v = plain;
            }
            if (!IsUtf8(lang) || !IsUtf8(tkey) || !IsUtf8(v))
            {
                return;
            }
            AddText(ref text, info, k, v, latin1: false, exifIsBytes: false);
        }
    }

    // Python's strict UTF-8 decoding: like Utf8.IsValid, it refuses overlong forms and encoded surrogates.
    private static bool IsUtf8(ReadOnlySpan<byte> s) => System.Text.Unicode.Utf8.IsValid(s);

    private static void AddText(ref PngText text, PngInfo info, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value,
                                bool latin1, bool exifIsBytes)
    {
        // Pillow keys are str: latin-1 bytes for all three chunk types. Values count in characters.
        long chars = latin1 ? value.Length : CountCodePoints(value);
        info.TextMemory += chars;
        if (key.SequenceEqual("exif"u8))
        {
            text.Exif = value.ToArray();
            text.ExifIsText = !exifIsBytes;
        }
        else if (key.SequenceEqual("Raw profile type exif"u8))
        {
            text.RawProfileExif = latin1 ? Encoding.Latin1.GetString(value) : Encoding.UTF8.GetString(value);
        }
        else if (key.SequenceEqual("XML:com.adobe.xmp"u8))
        {
            text.Xmp = latin1 ? Encoding.Latin1.GetString(value) : Encoding.UTF8.GetString(value);
        }
        if (info.TextMemory > MaxTextMemory)
        {
            throw new ImageDecodeException($"PNG text chunks hold more than {MaxTextMemory} characters (Pillow's MAX_TEXT_MEMORY).");
        }
    }

    private static long CountCodePoints(ReadOnlySpan<byte> utf8)
    {
        long n = 0;
        foreach (byte b in utf8)
        {
            if ((b & 0xC0) != 0x80) n++;
        }
        return n;
    }

    // PngImagePlugin._safe_zlib_decompress: at most MAX_TEXT_CHUNK bytes, more is an error; corrupt data is
    // zlib.error, returned here as null (callers treat it as Pillow does); a truncated stream gives what it has.
    private static byte[]? InflateText(ReadOnlySpan<byte> compressed, string chunk)
    {
        if (compressed.IsEmpty)
        {
            return null;   // zlib.decompressobj().decompress(b"") gives b"": same effect as an empty text
        }
        using var input = new MemoryStream(compressed.ToArray(), writable: false);
        using var z = new ZLibStream(input, CompressionMode.Decompress);
        var output = new MemoryStream();
        var buffer = new byte[16384];
        try
        {
            for (int read; (read = z.Read(buffer)) > 0;)
            {
                output.Write(buffer, 0, read);
                if (output.Length > MaxTextChunk)
                {
                    throw new ImageDecodeException($"PNG {chunk} chunk inflates to more than {MaxTextChunk} bytes (Pillow: 'Decompressed Data Too Large').");
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return null;
        }
        return output.ToArray();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Image data

    /// <summary>Decodes the image data and walks the chunks after it. <paramref name="info"/> comes from ReadHeader;
    /// its All text is completed by the post-image walk.</summary>
    public static unsafe RgbImage Decode(ReadOnlySpan<byte> data, PngInfo info)
    {
        int width = checked((int)info.Width), height = checked((int)info.Height);
        int depth = info.BitDepth, colorType = info.ColorType;
        int bitsPerPixel = depth * Channels(colorType);
        byte[] palette = BuildPalette(info.Palette);

        var (chunks, compressed, afterRun) = FindRun(data, info);

        long needed = 0;
        for (int pass = 0; pass < (info.Interlaced ? 7 : 1); pass++)
        {
            var (pw, ph) = PassSize(info.Interlaced, pass, width, height);
            if (pw > 0 && ph > 0) needed += ph * (1 + RowBytes(pw, bitsPerPixel));
        }

        RowResult result;
        byte[]? rgb = null;
        fixed (byte* basePtr = data)
        {
            var runs = chunks.ToArray();
            long firstRow = 1 + RowBytes(PassSize(info.Interlaced, FirstPass(info.Interlaced, width, height), width, height).W, bitsPerPixel);
            if (compressed * 1040 + 4096 < firstRow)
            {
                // Too little data for even one row: Pillow calls this truncated whatever the stream holds.
                throw new ImageDecodeException($"Truncated PNG image data: {compressed} compressed bytes cannot hold a {firstRow}-byte row (image file is truncated).");
            }
            // A stream this small cannot produce the image (deflate expands at most ~1032:1): find out first, without
            // the output array, whether it ends properly early (Pillow: success, rest zero) or is truncated.
            if (compressed * 1040 + 4096 < needed)
            {
                result = DecodeRows(basePtr, runs, info, palette, null, width, height, bitsPerPixel);
                if (result.Error is not null)
                {
                    throw new ImageDecodeException(result.Error);
                }
            }
            rgb = new byte[checked(width * height * 3)];
            result = DecodeRows(basePtr, runs, info, palette, rgb, width, height, bitsPerPixel);
        }
        if (result.Error is not null)
        {
            throw new ImageDecodeException(result.Error);
        }

        // load_end: skip what is left of the IDAT run after the chunk that completed the image, then the other chunks.
        for (int c = result.LastChunk + 1; c < chunks.Count; c++)
        {
            var (start, length) = chunks[c];
            if (BinaryPrimitives.ReadUInt32BigEndian(data[(start - 8)..]) != length)
            {
                throw new ImageDecodeException("Truncated PNG file: an IDAT chunk after the image is cut short (Truncated File Read).");
            }
        }
        WalkAfter(data, info, afterRun);
        return new RgbImage(width, height, rgb);
    }

    /// <summary>The post-image walk alone (for ReadInfo / ReadOrientation, which decode no pixels).</summary>
    public static void WalkAfterImageData(ReadOnlySpan<byte> data, PngInfo info) => WalkAfter(data, info, FindRun(data, info).AfterRun);

    // The IDAT run: consecutive IDAT / DDAT chunks from the first, each clipped to the end of the file.
    private static (List<(int Start, int Length)> Chunks, long Compressed, int AfterRun) FindRun(ReadOnlySpan<byte> data, PngInfo info)
    {
        var chunks = new List<(int Start, int Length)>();
        long compressed = 0;
        int at = info.FirstIdat;
        int afterRun = data.Length;
        while (data.Length - at >= 8)
        {
            ReadOnlySpan<byte> type = data.Slice(at + 4, 4);
            if (!IsType(type, "IDAT") && !IsType(type, "DDAT"))
            {
                // Any other chunk ends the image data (load_read pushes it back): data needed beyond it is
                // truncation. fdAT (APNG frame data) is not followed, so it too ends the run.
                afterRun = at;
                break;
            }
            long length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            int start = at + 8;
            int available = (int)Math.Min(length, data.Length - start);
            chunks.Add((start, available));
            compressed += available;
            long next = (long)start + length + 4;
            if (next > data.Length)
            {
                break;
            }
            at = (int)next;
        }
        return (chunks, compressed, afterRun);
    }

    // load_end after the IDAT run: no CRC checks; a cut header or an invalid type ends the walk quietly, a cut body
    // fails (_safe_read), IEND ends it, and so does fcTL in an animated PNG.
    private static void WalkAfter(ReadOnlySpan<byte> data, PngInfo info, int at)
    {
        // Restartable: ReadInfo and Decode may both walk; start from the state the first IDAT left.
        info.All = info.PreIdat;
        info.TextMemory = info.PreIdatTextMemory;
        info.SeqNum = info.PreIdatSeqNum;
        while (data.Length - at >= 8)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[at..]);
            ReadOnlySpan<byte> type = data.Slice(at + 4, 4);
            if (!IsValidType(type) || IsType(type, "IEND") || (IsType(type, "fcTL") && info.Animated))
            {
                break;
            }
            int body = at + 8;
            if (length > (uint)(data.Length - body))
            {
                throw new ImageDecodeException($"Truncated PNG file: chunk {Name(type)} after the image data is cut short (Truncated File Read).");
            }
            if (!IsType(type, "IDAT"))
            {
                Handle(type, data.Slice(body, (int)length), info, ref info.All, postImage: true);
            }
            at = body + (int)length + 4;
        }
    }

    private static bool IsValidType(ReadOnlySpan<byte> type)
    {
        foreach (byte b in type)
        {
            if (!(b is (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_'))
                return false;
        }
        return true;
    }

    private static int FirstPass(bool interlaced, int width, int height)
    {
        for (int pass = 0; pass < (interlaced ? 7 : 1); pass++)
        {
            var (w, h) = PassSize(interlaced, pass, width, height);
            if (w > 0 && h > 0) return pass;
        }
        return 0;
    }

    private static long RowBytes(long pixels, int bitsPerPixel) => (pixels * bitsPerPixel + 7) / 8;

    private static ReadOnlySpan<int> PassX0 => [0, 4, 0, 2, 0, 1, 0];
    private static ReadOnlySpan<int> PassY0 => [0, 0, 4, 0, 2, 0, 1];
    private static ReadOnlySpan<int> PassDx => [8, 8, 4, 4, 2, 2, 1];
    private static ReadOnlySpan<int> PassDy => [8, 8, 8, 4, 4, 2, 2];

    private static (int W, int H) PassSize(bool interlaced, int pass, int width, int height) =>
        interlaced
            ? ((width - PassX0[pass] + PassDx[pass] - 1) / PassDx[pass], (height - PassY0[pass] + PassDy[pass] - 1) / PassDy[pass])
            : (width, height);

    // Palette as ImagingPaletteNew + putpalette leave it: (i, i, i) for every entry PLTE does not set.
    private static byte[] BuildPalette(byte[]? plte)
    {
        var table = new byte[256 * 3];
        for (int i = 0; i < 256; i++)
        {
            table[3 * i] = table[3 * i + 1] = table[3 * i + 2] = (byte)i;
        }
        if (plte is not null)
        {
            int entries = plte.Length / 3;
            if (entries > 256)
            {
                throw new ImageDecodeException($"Corrupt PNG file: PLTE has {entries} entries (Pillow: invalid palette size).");
            }
            plte.AsSpan(0, entries * 3).CopyTo(table);
        }
        return table;
    }

    private readonly record struct RowResult(string? Error, int LastChunk);

    /// <summary>Inflates and unfilters every row (every Adam7 pass row), converting into rgb when it is not null.</summary>
    private static unsafe RowResult DecodeRows(byte* basePtr, (int Start, int Length)[] runs, PngInfo info, byte[] palette,
                                               byte[]? rgb, int width, int height, int bitsPerPixel)
    {
        using var source = new IdatStream(basePtr, runs);
        using var z = new ZLibStream(source, CompressionMode.Decompress);
        int bpp = Math.Max(1, bitsPerPixel / 8);
        int maxRow = checked((int)RowBytes(width, bitsPerPixel));
        var previous = new byte[maxRow + 1];
        var current = new byte[maxRow + 1];
        byte[]? passRgb = info.Interlaced && rgb is not null ? new byte[width * 3] : null;
        bool complete = true;
        string? error = null;

        if (rgb is not null && info.Interlaced)
        {
            FillZero(rgb, 0, width * height, info.ColorType, palette);   // pixels no pass reaches stay raw zero
        }
        int passes = info.Interlaced ? 7 : 1;
        int rowsDone = 0;
        int lastChunk = 0;
        try
        {
            for (int pass = 0; pass < passes && complete; pass++)
            {
                var (pw, ph) = PassSize(info.Interlaced, pass, width, height);
                if (pw <= 0 || ph <= 0)
                {
                    continue;
                }
                int rowBytes = (int)RowBytes(pw, bitsPerPixel);
                Array.Clear(previous, 0, rowBytes + 1);
                for (int r = 0; r < ph; r++)
                {
                    int got = ReadFull(z, current.AsSpan(0, rowBytes + 1));
                    if (got < rowBytes + 1)
                    {
                        complete = false;
                        if (got != 0 || !source.EndedProperly(z))
                        {
                            return new RowResult("Truncated PNG image data: image file is truncated.", source.CurrentChunk);
                        }
                        break;
                    }
                    if (!Unfilter(current.AsSpan(0, rowBytes + 1), previous.AsSpan(0, rowBytes + 1), bpp))
                    {
                        return new RowResult($"Corrupt PNG image data: unknown filter type {current[0]}.", source.CurrentChunk);
                    }
                    if (rgb is not null)
                    {
                        if (info.Interlaced)
                        {
                            ConvertRow(current.AsSpan(1, rowBytes), passRgb.AsSpan(0, pw * 3), pw, info.BitDepth, info.ColorType, palette);
                            int y = PassY0[pass] + r * PassDy[pass];
                            int dx = PassDx[pass];
                            int dst = (y * width + PassX0[pass]) * 3;
                            for (int i = 0, s = 0; i < pw; i++, s += 3, dst += 3 * dx)
                            {
                                rgb[dst] = passRgb![s];
                                rgb[dst + 1] = passRgb[s + 1];
                                rgb[dst + 2] = passRgb[s + 2];
                            }
                        }
                        else
                        {
                            ConvertRow(current.AsSpan(1, rowBytes), rgb.AsSpan(r * width * 3, width * 3), width, info.BitDepth, info.ColorType, palette);
                        }
                    }
                    (previous, current) = (current, previous);
                    rowsDone++;
                }
            }
            lastChunk = source.CurrentChunk;   // before the probe below reads further input
            if (complete)
            {
                // zlib reaches the adler32 trailer in the call that ends the last row when the input holds it; a
                // byte more (data past the image) is ignored, as Pillow never inflates it.
                int beyond = z.Read(new byte[1]);
                complete = beyond >= 0;
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // The input is in memory, so an IOException here is the BCL's (internal) ZLibException: a zlib code other
            // than a data error, e.g. a stream that asks for a preset dictionary. Pillow's zlib reports those as a
            // broken stream too.
            error = $"Corrupt PNG image data: broken data stream ({e.Message}).";
        }
        if (error is not null)
        {
            return new RowResult(error, lastChunk);
        }
        if (!complete && rgb is not null && !info.Interlaced)
        {
            FillZero(rgb, rowsDone * width, (height - rowsDone) * width, info.ColorType, palette);
        }
        return new RowResult(null, lastChunk);
    }

    private static int ReadFull(Stream z, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = z.Read(buffer[total..]);
            if (read == 0) break;
            total += read;
        }
        return total;
    }

    private static void FillZero(byte[] rgb, long firstPixel, long pixels, int colorType, byte[] palette)
    {
        byte r = 0, g = 0, b = 0;
        if (colorType == 3)
        {
            (r, g, b) = (palette[0], palette[1], palette[2]);
        }
        Span<byte> span = rgb.AsSpan((int)(firstPixel * 3), (int)(pixels * 3));
        if (r == g && g == b)
        {
            span.Fill(r);
            return;
        }
        for (int i = 0; i < span.Length; i += 3)
        {
            span[i] = r;
            span[i + 1] = g;
            span[i + 2] = b;
        }
    }

    /// <summary>PNG filters 0-4 in place (ZipDecode.c's arithmetic: average rounds down, Paeth ties a, b, c).</summary>
    private static bool Unfilter(Span<byte> row, ReadOnlySpan<byte> prev, int bpp)
    {
        int n = row.Length;   // row[0] is the filter type
        ref byte c = ref MemoryMarshal.GetReference(row);
        ref byte p = ref MemoryMarshal.GetReference(prev);
        switch (row[0])
        {
            case 0:
                return true;
            case 1:
                for (int i = bpp + 1; i < n; i++)
                    Unsafe.Add(ref c, i) += Unsafe.Add(ref c, i - bpp);
                return true;
            case 2:
                {
                    int i = 1;
                    if (System.Numerics.Vector.IsHardwareAccelerated)
                    {
                        int vc = System.Numerics.Vector<byte>.Count;
                        for (; i + vc <= n; i += vc)
                        {
                            var sum = System.Numerics.Vector.LoadUnsafe(ref c, (nuint)i) + System.Numerics.Vector.LoadUnsafe(ref p, (nuint)i);
                            System.Numerics.Vector.StoreUnsafe(sum, ref c, (nuint)i);
                        }
                    }
                    for (; i < n; i++)
                        Unsafe.Add(ref c, i) += Unsafe.Add(ref p, i);
                    return true;
                }
            case 3:
                {
                    int i = 1;
                    for (; i <= bpp && i < n; i++)
                        Unsafe.Add(ref c, i) += (byte)(Unsafe.Add(ref p, i) >> 1);
                    for (; i < n; i++)
                        Unsafe.Add(ref c, i) += (byte)((Unsafe.Add(ref c, i - bpp) + Unsafe.Add(ref p, i)) >> 1);
                    return true;
                }
            case 4:
                {
                    int i = 1;
                    for (; i <= bpp && i < n; i++)
                        Unsafe.Add(ref c, i) += Unsafe.Add(ref p, i);
                    for (; i < n; i++)
                    {
                        int a = Unsafe.Add(ref c, i - bpp), b = Unsafe.Add(ref p, i), cc = Unsafe.Add(ref p, i - bpp);
                        int pa = Math.Abs(b - cc), pb = Math.Abs(a - cc), pc = Math.Abs(a + b - 2 * cc);
                        Unsafe.Add(ref c, i) += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : cc);
                    }
                    return true;
                }
            default:
                return false;
        }
    }

    /// <summary>One unfiltered row (without its filter byte) -> RGB8, as Pillow's unpacker + convert("RGB").</summary>
    private static void ConvertRow(ReadOnlySpan<byte> src, Span<byte> dst, int pixels, int depth, int colorType, byte[] palette)
    {
        ref byte d = ref MemoryMarshal.GetReference(dst);
        ref byte s = ref MemoryMarshal.GetReference(src);
        switch (colorType, depth)
        {
            case (0, 16):
                for (int x = 0; x < pixels; x++)
                {
                    int v = (Unsafe.Add(ref s, 2 * x) << 8) | Unsafe.Add(ref s, 2 * x + 1);
                    byte g = (byte)Math.Min(v, 255);   // mode I, i2rgb clips
                    Unsafe.Add(ref d, 3 * x) = g; Unsafe.Add(ref d, 3 * x + 1) = g; Unsafe.Add(ref d, 3 * x + 2) = g;
                }
                break;
            case (0, 8):
                for (int x = 0; x < pixels; x++)
                {
                    byte g = Unsafe.Add(ref s, x);
                    Unsafe.Add(ref d, 3 * x) = g; Unsafe.Add(ref d, 3 * x + 1) = g; Unsafe.Add(ref d, 3 * x + 2) = g;
                }
                break;
            case (0, _):
                {
                    int scale = depth switch { 1 => 255, 2 => 0x55, _ => 0x11 };
                    int perByte = 8 / depth, mask = (1 << depth) - 1;
                    for (int x = 0; x < pixels; x++)
                    {
                        int shift = 8 - depth * (x % perByte + 1);
                        byte g = (byte)(((Unsafe.Add(ref s, x / perByte) >> shift) & mask) * scale);
                        Unsafe.Add(ref d, 3 * x) = g; Unsafe.Add(ref d, 3 * x + 1) = g; Unsafe.Add(ref d, 3 * x + 2) = g;
                    }
                    break;
                }
            case (2, 8):
                src[..(pixels * 3)].CopyTo(dst);
                break;
            case (2, _):
                for (int x = 0; x < 3 * pixels; x++)
                    Unsafe.Add(ref d, x) = Unsafe.Add(ref s, 2 * x);
                break;
            case (3, _):
                {
                    ref byte pal = ref MemoryMarshal.GetArrayDataReference(palette);
                    int perByte = 8 / depth, mask = (1 << depth) - 1;
                    for (int x = 0; x < pixels; x++)
                    {
                        int index = depth == 8 ? Unsafe.Add(ref s, x)
                            : (Unsafe.Add(ref s, x / perByte) >> (8 - depth * (x % perByte + 1))) & mask;
                        Unsafe.Add(ref d, 3 * x) = Unsafe.Add(ref pal, 3 * index);
                        Unsafe.Add(ref d, 3 * x + 1) = Unsafe.Add(ref pal, 3 * index + 1);
                        Unsafe.Add(ref d, 3 * x + 2) = Unsafe.Add(ref pal, 3 * index + 2);
                    }
                    break;
                }
            case (4, _):
                {
                    int step = depth == 8 ? 2 : 4;   // L of LA, or the high byte of LA;16B's L
                    for (int x = 0; x < pixels; x++)
                    {
                        byte g = Unsafe.Add(ref s, step * x);
                        Unsafe.Add(ref d, 3 * x) = g; Unsafe.Add(ref d, 3 * x + 1) = g; Unsafe.Add(ref d, 3 * x + 2) = g;
                    }
                    break;
                }
            default:   // 6: RGBA, RGBA;16B
                {
                    int step = depth == 8 ? 1 : 2;
                    for (int x = 0; x < pixels; x++)
                    {
                        int from = 4 * step * x;
                        Unsafe.Add(ref d, 3 * x) = Unsafe.Add(ref s, from);
                        Unsafe.Add(ref d, 3 * x + 1) = Unsafe.Add(ref s, from + step);
                        Unsafe.Add(ref d, 3 * x + 2) = Unsafe.Add(ref s, from + 2 * step);
                    }
                    break;
                }
        }
    }

    /// <summary>The IDAT run's data as one read-only stream over the pinned input. Counts reads after the inflater
    /// first reports an end, to tell a finished zlib stream (no further input wanted) from input that ran out.</summary>
    private sealed unsafe class IdatStream(byte* basePtr, (int Start, int Length)[] runs) : Stream
    {
        private int _chunk, _offset;
        private int _reads;

        /// <summary>The chunk the last byte handed out came from.</summary>
        public int CurrentChunk => Math.Max(0, _offset == 0 ? _chunk - 1 : _chunk);

        /// <summary>After the inflater returned 0: true when asking again does not make it read more input, i.e.
        /// zlib reached the end of the stream (DeflateStream stops reading its source once finished).</summary>
        public bool EndedProperly(Stream inflater)
        {
            int before = _reads;
            int more = inflater.Read(new byte[1]);
            return more == 0 && _reads == before;
        }

        public override int Read(Span<byte> buffer)
        {
            _reads++;
            while (_chunk < runs.Length && _offset == runs[_chunk].Length)
            {
                _chunk++;
                _offset = 0;
            }
            if (_chunk >= runs.Length || buffer.IsEmpty)
            {
                return 0;
            }
            int n = Math.Min(buffer.Length, runs[_chunk].Length - _offset);
            new ReadOnlySpan<byte>(basePtr + runs[_chunk].Start + _offset, n).CopyTo(buffer);
            _offset += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    // ------------------------------------------------------------------------------------------------------------
    // Orientation (Image.getexif for a PngImageFile)

    /// <summary>What ImageOps.exif_transpose does with this PNG: the orientation to apply, or an error where Pillow raises.
    /// Call after Decode (chunks after the image are part of the answer).</summary>
    public static ImageOrientation? Orientation(PngInfo info)
    {
        // PngImageFile.getexif loads the image (reading the chunks after IDAT) only when info has no "exif" yet.
        PngText text = info.PreIdat.Exif is not null ? info.PreIdat : info.All;
        byte[]? exif = text.Exif;
        if (exif is null && text.RawProfileExif is not null)
        {
            exif = FromRawProfile(text.RawProfileExif);
        }
        ExifOrientationTag tag = ExifOrientationTag.Absent;
        if (exif is not null)
        {
            if (text.ExifIsText)
            {
                throw new ImageDecodeException("PNG EXIF text chunk holds text, not bytes: Pillow's Exif.load raises TypeError.");
            }
            tag = ExifReader.ReadOrientation(exif);
            if (tag.Error != ExifHeaderError.None)
            {
                throw new ImageDecodeException("PNG EXIF data is not a valid TIFF header (Pillow's exif_transpose raises).");
            }
        }
        if (tag.TagPresent)
        {
            return tag.Orientation;
        }
        // XMP fallback: re.search(r'tiff:Orientation(="|>)([0-9])', xmp)
        string? xmp = text.Xmp;
        if (!string.IsNullOrEmpty(xmp))
        {
            for (int i = xmp.IndexOf("tiff:Orientation", StringComparison.Ordinal); i >= 0;
                 i = xmp.IndexOf("tiff:Orientation", i + 1, StringComparison.Ordinal))
            {
                int j = i + "tiff:Orientation".Length;
                if (j + 1 < xmp.Length && xmp[j] == '=' && xmp[j + 1] == '"' && j + 2 < xmp.Length && char.IsAsciiDigit(xmp[j + 2]))
                    return ExifReaderTransposing(xmp[j + 2] - '0');
                if (j < xmp.Length && xmp[j] == '>' && j + 1 < xmp.Length && char.IsAsciiDigit(xmp[j + 1]))
                    return ExifReaderTransposing(xmp[j + 1] - '0');
            }
        }
        return null;
    }

    private static ImageOrientation? ExifReaderTransposing(int value) => value is >= 2 and <= 8 ? (ImageOrientation)value : null;

    // Image.getexif: bytes.fromhex("".join(value.split("\n")[3:])): the text after the third newline, newlines
    // removed; fromhex skips ASCII whitespace between byte pairs and raises ValueError on anything else.
    private static byte[] FromRawProfile(string value)
    {
        int start = 0;
        for (int line = 0; line < 3; line++)
        {
            int nl = value.IndexOf('\n', start);
            if (nl < 0)
            {
                return [];
            }
            start = nl + 1;
        }
        string hex = value[start..].Replace("\n", "", StringComparison.Ordinal);
        var bytes = new byte[hex.Length / 2];
        int count = 0;
        for (int i = 0; i < hex.Length;)
        {
            char ch = hex[i];
            if (ch is ' ' or '\t' or '\r' or '\v' or '\f')
            {
                i++;
                continue;
            }
            if (i + 1 >= hex.Length || !char.IsAsciiHexDigit(ch) || !char.IsAsciiHexDigit(hex[i + 1]))
            {
                throw new ImageDecodeException("PNG 'Raw profile type exif' text is not hexadecimal (Pillow's bytes.fromhex raises).");
            }
            bytes[count++] = (byte)((HexValue(ch) << 4) | HexValue(hex[i + 1]));
            i += 2;
        }
        return bytes.AsSpan(0, count).ToArray();
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/// <summary>CRC-32 (ISO-HDLC, as PNG and zlib.crc32 use) of a chunk's type and data.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256 * 8];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        for (int i = 256; i < t.Length; i++) t[i] = (t[i - 256] >> 8) ^ t[t[i - 256] & 0xFF];
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> type, ReadOnlySpan<byte> data) => ~Update(Update(0xFFFFFFFFu, type), data);

    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint lo = crc ^ BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            crc = t[7 * 256 + (lo & 0xFF)] ^ t[6 * 256 + ((lo >> 8) & 0xFF)] ^ t[5 * 256 + ((lo >> 16) & 0xFF)] ^ t[4 * 256 + (lo >> 24)]
                ^ t[3 * 256 + (hi & 0xFF)] ^ t[2 * 256 + ((hi >> 8) & 0xFF)] ^ t[256 + ((hi >> 16) & 0xFF)] ^ t[hi >> 24];
        }
        for (; i < data.Length; i++) crc = t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        return crc;
    }
}

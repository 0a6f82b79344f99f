// TgaDecoder: TGA as Pillow 9.4 opens and converts it: PIL/TgaImagePlugin.py (_open, MODES, load_end's
// left-right flip) and libImaging/TgaRleDecode.c; raw rows as the "raw" decoder reads them.
// * Header: colour-map type 0 or 1, nonzero size, depth 1/8/16/24/32, image type 1/2/3 or 9/10/11, origin bits 0x30
//   (0x20 set: top-down rows; 0x10 set: mirrored left-right after decoding), else "not a TGA file".
// * Modes: (1, 8) P; (3, 1) 1; (3, 8) L; (3, 16) LA; (2, 16) BGR;5 (5-bit channels scaled as c·255/31); (2, 24) BGR;
//   (2, 32) BGRA. Other type/depth pairs cannot be decoded (Pillow leaves no tile).
// * Colour map: read when the map type is 1 and its entry size is 16 (BGR;15), 24 (BGR) or 32 (BGRA), after `start`
//   zero entries; with another entry size it is not skipped (the image data is read from where the map would be).
//   A map on a non-P image makes Pillow fail (putpalette on RGB/L); more than 256 entries fails; a P image without a
//   map uses the grey ramp.
// * RLE (TgaRleDecode.c): packets in units of (depth + 7) / 8 bytes over rows of (bits·width + 7) / 8 bytes; a run
//   may not cross a row end (overrun error), a literal may; a packet is used only when all its bytes are present;
//   decoding ends with the last row, and running out of data first is "image file is truncated".
// Work bound: a packet header covers at most 128 units, so a file shorter than ceil(units / 128) · (1 + unit) bytes
// cannot hold its image and is refused before any pixel memory is allocated (the 34-byte 9000x9000 RLE file).

using System.Buffers.Binary;

namespace AotVit.Runtime.Imaging;

internal static class TgaDecoder
{
    internal sealed class Header
    {
        public int Width, Height, Depth, ImageType, Bits, Unit;
        public bool TopDown, Mirror, Rle;
        public string RawMode = "";
        public byte[]? Palette;     // 256 RGB entries for P
        public int DataStart;
    }

    public static Header ReadHeader(ReadOnlySpan<byte> s)
    {
        if (s.Length < 18)
        {
            throw new ImageDecodeException($"Truncated TGA header: {s.Length} bytes.");
        }
        var h = new Header
        {
            Width = BinaryPrimitives.ReadUInt16LittleEndian(s[12..]),
            Height = BinaryPrimitives.ReadUInt16LittleEndian(s[14..]),
            Depth = s[16],
            ImageType = s[2],
        };
        int colorMapType = s[1], flags = s[17];
        if (colorMapType is not (0 or 1) || h.Width <= 0 || h.Height <= 0 || h.Depth is not (1 or 8 or 16 or 24 or 32)
            || h.ImageType is not (1 or 2 or 3 or 9 or 10 or 11))
        {
            throw new ImageDecodeException("Unknown image format (expected JPEG, PNG, BMP, GIF or TGA).");
        }
        int orientation = flags & 0x30;
        h.Mirror = orientation is 0x10 or 0x30;
        h.TopDown = orientation is 0x20 or 0x30;
        h.Rle = (h.ImageType & 8) != 0;
        (h.RawMode, h.Bits) = (h.ImageType & 7, h.Depth) switch
        {
            (1, 8) => ("P", 8),
            (3, 1) => ("1", 1),
            (3, 8) => ("L", 8),
            (3, 16) => ("LA", 16),
            (2, 16) => ("BGR;5", 16),
            (2, 24) => ("BGR", 24),
            (2, 32) => ("BGRA", 32),
            _ => throw new ImageDecodeException($"Unsupported TGA: image type {h.ImageType} with {h.Depth}-bit pixels (Pillow cannot decode it)."),
        };
        h.Unit = (h.Depth + 7) / 8;
        int at = 18 + s[0];
        if (colorMapType == 1)
        {
            int start = BinaryPrimitives.ReadUInt16LittleEndian(s[3..]), size = BinaryPrimitives.ReadUInt16LittleEndian(s[5..]);
            int mapDepth = s[7];
            int entryBytes = mapDepth switch { 16 => 2, 24 => 3, 32 => 4, _ => 0 };
            if (entryBytes != 0)
            {
                int available = Math.Clamp(s.Length - at, 0, entryBytes * size);
                ReadOnlySpan<byte> map = at <= s.Length ? s.Slice(at, available) : [];
                at += available;
                if (h.RawMode != "P")
                {
                    throw new ImageDecodeException("Corrupt TGA: a colour map on a non-palette image (Pillow: unrecognized image mode).");
                }
                int entries = start + map.Length / entryBytes;
                if (entries > 256)
                {
                    throw new ImageDecodeException($"Corrupt TGA: colour map of {entries} entries (Pillow: invalid palette size).");
                }
                h.Palette = Ramp();
                for (int i = 0; i < map.Length / entryBytes; i++)
                {
                    ReadOnlySpan<byte> e = map.Slice(i * entryBytes, entryBytes);
                    int o = 3 * (start + i);
                    if (entryBytes == 2)
                    {
                        int px = e[0] | (e[1] << 8);
                        (h.Palette[o], h.Palette[o + 1], h.Palette[o + 2]) =
                            ((byte)(((px >> 10) & 31) * 255 / 31), (byte)(((px >> 5) & 31) * 255 / 31), (byte)((px & 31) * 255 / 31));
                    }
                    else
                    {
                        (h.Palette[o], h.Palette[o + 1], h.Palette[o + 2]) = (e[2], e[1], e[0]);
                    }
                }
                for (int i = 0; i < start; i++)
                {
                    h.Palette[3 * i] = h.Palette[3 * i + 1] = h.Palette[3 * i + 2] = 0;   // b"\0" * start entries
                }
            }
        }
        h.Palette ??= h.RawMode == "P" ? Ramp() : null;
        h.DataStart = Math.Min(at, s.Length);
        return h;
    }

    private static byte[] Ramp()
    {
        var p = new byte[768];
        for (int i = 0; i < 256; i++) p[3 * i] = p[3 * i + 1] = p[3 * i + 2] = (byte)i;
        return p;
    }

    public static RgbImage Decode(ReadOnlySpan<byte> s, Header h)
    {
        long rowBytes = ((long)h.Bits * h.Width + 7) / 8;
        long units = rowBytes * h.Height / h.Unit;
        ReadOnlySpan<byte> data = s[h.DataStart..];
        long minimum = h.Rle ? (units + 127) / 128 * (1 + h.Unit) : rowBytes * h.Height;
        if (data.Length < minimum)
        {
            throw new ImageDecodeException($"Truncated TGA data: {data.Length} bytes cannot hold the {h.Width}x{h.Height} image (at least {minimum}; image file is truncated).");
        }
        var rgb = new byte[(long)h.Width * h.Height * 3];
        var row = new byte[rowBytes];
        int y = h.TopDown ? 0 : h.Height - 1, ystep = h.TopDown ? 1 : -1;
        if (!h.Rle)
        {
            for (int r = 0; r < h.Height; r++, y += ystep)
            {
                Unpack(data.Slice((int)(r * rowBytes), (int)rowBytes), rgb.AsSpan(y * h.Width * 3, h.Width * 3), h);
            }
        }
        else
        {
            int pos = 0, x = 0, depth = h.Unit, bytes = (int)rowBytes;
            while (true)
            {
                if (pos >= data.Length)
                {
                    throw new ImageDecodeException("Truncated TGA RLE data: image file is truncated.");
                }
                int n = depth * ((data[pos] & 0x7F) + 1);
                int extra = 0;
                if ((data[pos] & 0x80) != 0)
                {
                    if (data.Length - pos < 1 + depth)
                    {
                        throw new ImageDecodeException("Truncated TGA RLE data: image file is truncated.");
                    }
                    if (x + n > bytes)
                    {
                        throw new ImageDecodeException("Corrupt TGA RLE data: a run crosses the end of a row (buffer overrun).");
                    }
                    for (int i = 0; i < n; i += depth) data.Slice(pos + 1, depth).CopyTo(row.AsSpan(x + i));
                    pos += 1 + depth;
                }
                else
                {
                    if (data.Length - pos < 1 + n)
                    {
                        throw new ImageDecodeException("Truncated TGA RLE data: image file is truncated.");
                    }
                    if (x + n > bytes)
                    {
                        extra = n - (bytes - x);
                        n = bytes - x;
                    }
                    data.Slice(pos + 1, n).CopyTo(row.AsSpan(x));
                    pos += 1 + n;
                }
                while (true)
                {
                    x += n;
                    if (x >= bytes)
                    {
                        Unpack(row, rgb.AsSpan(y * h.Width * 3, h.Width * 3), h);
                        x = 0;
                        y += ystep;
                        if (y < 0 || y >= h.Height)
                        {
                            goto done;
                        }
                    }
                    if (extra == 0 || x > 0)
                    {
                        break;
                    }
                    n = Math.Min(extra, bytes);
                    data.Slice(pos, n).CopyTo(row.AsSpan(x));
                    pos += n;
                    extra -= n;
                }
            }
        }
    done:
        if (h.Mirror)
        {
            return ExifOrientation.Apply(new RgbImage(h.Width, h.Height, rgb), ImageOrientation.TopRight);
        }
        return new RgbImage(h.Width, h.Height, rgb);
    }

    private static void Unpack(ReadOnlySpan<byte> src, Span<byte> dst, Header h)
    {
        int w = h.Width;
        switch (h.RawMode)
        {
            case "P":
                for (int x = 0; x < w; x++)
                {
                    int p = 3 * src[x];
                    (dst[3 * x], dst[3 * x + 1], dst[3 * x + 2]) = (h.Palette![p], h.Palette[p + 1], h.Palette[p + 2]);
                }
                break;
            case "1":
                for (int x = 0; x < w; x++)
                {
                    byte g = (src[x >> 3] & (0x80 >> (x & 7))) != 0 ? (byte)255 : (byte)0;
                    dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = g;
                }
                break;
            case "L":
            case "LA":
                {
                    int step = h.RawMode == "L" ? 1 : 2;
                    for (int x = 0; x < w; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[step * x];
                    break;
                }
            case "BGR;5":
                for (int x = 0; x < w; x++)
                {
                    int px = src[2 * x] | (src[2 * x + 1] << 8);
                    dst[3 * x] = (byte)(((px >> 10) & 31) * 255 / 31);
                    dst[3 * x + 1] = (byte)(((px >> 5) & 31) * 255 / 31);
                    dst[3 * x + 2] = (byte)((px & 31) * 255 / 31);
                }
                break;
            default:   // BGR, BGRA
                {
                    int step = h.RawMode == "BGR" ? 3 : 4;
                    for (int x = 0; x < w; x++)
                    {
                        dst[3 * x] = src[step * x + 2];
                        dst[3 * x + 1] = src[step * x + 1];
                        dst[3 * x + 2] = src[step * x];
                    }
                    break;
                }
        }
    }
}

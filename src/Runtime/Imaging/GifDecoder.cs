// GifDecoder: the first frame of a GIF as Pillow 9.4 gives it to convert("RGB"): PIL/GifImagePlugin.py
// (_open, _seek(0), load_prepare) and libImaging/GifDecode.c.
// * The image is the logical screen, enlarged to the first frame when the frame reaches past it. Outside the frame
//   it holds the GCE's transparent index when there is one, else index 0 (load_prepare's fill / a new image).
// * Frame 0 is decoded with transparency -1, so transparent pixels keep their index, and convert("RGB") shows the
//   palette colour of that index (not black). Palette: the local table, else the global one; entries it lacks, and
//   an image with neither, use the grey ramp (an identity palette makes Pillow use mode L: the same RGB).
// * LZW as GifDecode.c: code size above 12 fails; codes past the table, a first code above the clear code, or a
//   string longer than the 4096-byte buffer are "broken"; END codes and sub-block terminators do not stop it: it
//   reads on (a 0 length is just an empty sub-block) until the frame is full, and runs out of data as "truncated".
//   The table stops growing at 4096 entries (no deferred clear). A sub-block is only used once it is complete.
// * Frame extent: x0 = 0 with width 0 means the whole image (decode.c _setimage); otherwise an empty extent fails.
// * Failures of the header walk reproduced: fewer than 13 header bytes, cut palettes, a graphic control block
//   shorter than 3 bytes (4 with the transparency flag), missing sub-blocks where Pillow indexes them (GCE,
//   NETSCAPE2.0), an image descriptor shorter than 9 bytes, no image before the trailer or the end of the file.
// Decoding work is bounded: every code consumes input bits, and a frame needs at least
// pixels / 4096 codes, so a file too short for that many codes is refused before the image is allocated.

using System.Buffers.Binary;

namespace AotVit.Runtime.Imaging;

internal static class GifDecoder
{
    internal sealed class Frame
    {
        public int Width, Height;                  // image size (screen, enlarged)
        public int X0, Y0, FrameWidth, FrameHeight;
        public bool Interlaced;
        public int Fill;                           // index outside the frame
        public byte[] Palette = [];                // 256 RGB entries
        public int DataStart;                      // offset of the LZW minimum code size byte
    }

    public static Frame ReadHeader(ReadOnlySpan<byte> d)
    {
        if (d.Length < 13)
        {
            throw new ImageDecodeException("Truncated GIF header.");
        }
        var f = new Frame { Width = BinaryPrimitives.ReadUInt16LittleEndian(d[6..]), Height = BinaryPrimitives.ReadUInt16LittleEndian(d[8..]) };
        int flags = d[10];
        int at = 13;
        ReadOnlySpan<byte> global = [];
        if ((flags & 128) != 0)
        {
            int size = 3 << ((flags & 7) + 1);
            if (d.Length - at < size)
            {
                throw new ImageDecodeException("Truncated GIF global colour table.");
            }
            global = d.Slice(at, size);
            at += size;
        }
        int? transparency = null;
        while (true)
        {
            if (at >= d.Length || d[at] == (byte)';')
            {
                throw new ImageDecodeException("GIF file has no image before its end.");
            }
            byte s = d[at++];
            if (s == (byte)'!')
            {
                if (at >= d.Length)
                {
                    throw new ImageDecodeException("Truncated GIF extension.");
                }
                byte label = d[at++];
                ReadOnlySpan<byte> block = SubBlock(d, ref at, out bool none);
                if (label == 249)
                {
                    if (none || block.Length < 3 || ((block[0] & 1) != 0 && block.Length < 4))
                    {
                        throw new ImageDecodeException("Corrupt GIF graphic control extension.");
                    }
                    if ((block[0] & 1) != 0)
                    {
                        transparency = block[3];
                    }
                }
                else if (label == 254)
                {
                    while (!none) block = SubBlock(d, ref at, out none);
                    continue;
                }
                else if (label == 255)
                {
                    if (none)
                    {
                        throw new ImageDecodeException("Corrupt GIF application extension.");
                    }
                    if (block.StartsWith("NETSCAPE2.0"u8))
                    {
                        SubBlock(d, ref at, out none);
                        if (none)
                        {
                            throw new ImageDecodeException("Corrupt GIF NETSCAPE2.0 extension.");
                        }
                    }
                }
                while (!none) SubBlock(d, ref at, out none);
            }
            else if (s == (byte)',')
            {
                if (d.Length - at < 9)
                {
                    throw new ImageDecodeException("Truncated GIF image descriptor.");
                }
                int x0 = BinaryPrimitives.ReadUInt16LittleEndian(d[at..]), y0 = BinaryPrimitives.ReadUInt16LittleEndian(d[(at + 2)..]);
                int x1 = x0 + BinaryPrimitives.ReadUInt16LittleEndian(d[(at + 4)..]), y1 = y0 + BinaryPrimitives.ReadUInt16LittleEndian(d[(at + 6)..]);
                int iflags = d[at + 8];
                at += 9;
                f.Width = Math.Max(f.Width, x1);
                f.Height = Math.Max(f.Height, y1);
                f.Interlaced = (iflags & 64) != 0;
                ReadOnlySpan<byte> table = global;
                if ((iflags & 128) != 0)
                {
                    int size = 3 << ((iflags & 7) + 1);
                    if (d.Length - at < size)
                    {
                        throw new ImageDecodeException("Truncated GIF local colour table.");
                    }
                    table = d.Slice(at, size);
                    at += size;
                }
                if (at >= d.Length)
                {
                    throw new ImageDecodeException("Truncated GIF image: no LZW code size.");
                }
                if (x0 == 0 && x1 == 0)
                {
                    (x1, y0, y1) = (f.Width, 0, f.Height);
                }
                if (x1 - x0 <= 0 || y1 - y0 <= 0)
                {
                    throw new ImageDecodeException("Corrupt GIF: empty first frame (tile cannot extend outside image).");
                }
                (f.X0, f.Y0, f.FrameWidth, f.FrameHeight) = (x0, y0, x1 - x0, y1 - y0);
                f.DataStart = at;
                f.Fill = transparency ?? 0;
                var palette = new byte[768];
                for (int i = 0; i < 256; i++) palette[3 * i] = palette[3 * i + 1] = palette[3 * i + 2] = (byte)i;
                table[..Math.Min(table.Length, 768)].CopyTo(palette);
                f.Palette = palette;
                return f;
            }
            // any other byte between blocks is skipped
        }
    }

    // GifImageFile.data(): a length byte and that many bytes; a 0 length (or the end of the file) is "None".
    private static ReadOnlySpan<byte> SubBlock(ReadOnlySpan<byte> d, ref int at, out bool none)
    {
        if (at >= d.Length || d[at] == 0)
        {
            if (at < d.Length) at++;
            none = true;
            return [];
        }
        int n = d[at++];
        int take = Math.Min(n, d.Length - at);
        ReadOnlySpan<byte> block = d.Slice(at, take);
        at += take;
        none = false;
        return block;
    }

    public static RgbImage Decode(ReadOnlySpan<byte> d, Frame f)
    {
        int bits = d[f.DataStart];
        if (bits > 12)
        {
            throw new ImageDecodeException($"Corrupt GIF: LZW code size {bits} (above 12).");
        }
        long framePixels = (long)f.FrameWidth * f.FrameHeight;
        // Each code takes at least bits+1 input bits and yields at most 4096 pixels.
        long minCodes = (framePixels + 4095) / 4096;
        if ((long)(d.Length - f.DataStart - 1) * 8 < minCodes * (bits + 1))
        {
            throw new ImageDecodeException("Truncated GIF image data: the file is too short for its first frame (image file is truncated).");
        }
        var index = new byte[(long)f.Width * f.Height];
        if (f.Fill != 0) index.AsSpan().Fill((byte)f.Fill);
        string? error = Lzw(d[(f.DataStart + 1)..], bits, f, index);
        if (error is not null)
        {
            throw new ImageDecodeException(error);
        }
        var rgb = new byte[index.Length * 3];
        byte[] pal = f.Palette;
        for (int i = 0, o = 0; i < index.Length; i++, o += 3)
        {
            int p = 3 * index[i];
            rgb[o] = pal[p];
            rgb[o + 1] = pal[p + 1];
            rgb[o + 2] = pal[p + 2];
        }
        return new RgbImage(f.Width, f.Height, rgb);
    }

    // GifDecode.c over the whole rest of the file as one buffer. Returns null when the frame is full.
    private static string? Lzw(ReadOnlySpan<byte> input, int bits, Frame f, byte[] image)
    {
        const int Table = 4096;
        var data = new byte[Table];
        var link = new short[Table];
        var buffer = new byte[Table];
        int clear = 1 << bits, end = clear + 1;
        int next = 0, codesize = 0, codemask = 0, bufferIndex = Table;
        int state = 1, lastCode = 0;
        byte lastData = 0;
        int x = 0, y = 0, interlace = f.Interlaced ? 1 : 0, step = f.Interlaced ? 8 : 1;
        int xsize = f.FrameWidth, ysize = f.FrameHeight;
        int pos = 0, blockSize = 0, bitCount = 0;
        uint bitBuffer = 0;
        var single = new byte[1];
        while (true)
        {
            if (state == 1)
            {
                next = clear + 2;
                codesize = bits + 1;
                codemask = (1 << codesize) - 1;
                bufferIndex = Table;
                state = 2;
            }
            ReadOnlySpan<byte> p;
            if (bufferIndex < Table)
            {
                p = buffer.AsSpan(bufferIndex);
                bufferIndex = Table;
            }
            else
            {
                while (bitCount < codesize)
                {
                    if (blockSize > 0)
                    {
                        bitBuffer |= (uint)input[pos++] << bitCount;
                        bitCount += 8;
                        blockSize--;
                    }
                    else
                    {
                        if (pos >= input.Length || input.Length - pos < input[pos] + 1)
                        {
                            return "Truncated GIF image data: image file is truncated.";
                        }
                        blockSize = input[pos++];
                    }
                }
                int c = (int)(bitBuffer & (uint)codemask);
                bitBuffer >>= codesize;
                bitCount -= codesize;
                if (c == clear)
                {
                    if (state != 2) state = 1;
                    continue;
                }
                if (c == end)
                {
                    continue;   // Pillow returns and is called again with the rest: decoding goes on
                }
                if (state == 2)
                {
                    if (c > clear)
                    {
                        return "Corrupt GIF image data: broken data stream.";
                    }
                    lastData = (byte)c;
                    lastCode = c;
                    state = 3;
                }
                else
                {
                    int thisCode = c;
                    if (c > next)
                    {
                        return "Corrupt GIF image data: broken data stream.";
                    }
                    if (c == next)
                    {
                        if (bufferIndex <= 0) return "Corrupt GIF image data: broken data stream.";
                        buffer[--bufferIndex] = lastData;
                        c = lastCode;
                    }
                    while (c >= clear)
                    {
                        if (bufferIndex <= 0 || c >= Table) return "Corrupt GIF image data: broken data stream.";
                        buffer[--bufferIndex] = data[c];
                        c = link[c];
                    }
                    lastData = (byte)c;
                    if (next < Table)
                    {
                        data[next] = (byte)c;
                        link[next] = (short)lastCode;
                        if (next == codemask && codesize < 12)
                        {
                            codesize++;
                            codemask = (1 << codesize) - 1;
                        }
                        next++;
                    }
                    lastCode = thisCode;
                }
                single[0] = lastData;
                p = single;
            }
            if (y >= ysize)
            {
                return "Corrupt GIF image data: more pixels than the frame holds.";
            }
            foreach (byte value in p)
            {
                image[(long)(y + f.Y0) * f.Width + f.X0 + x] = value;
                if (++x >= xsize)
                {
                    x = 0;
                    y += step;
                    while (y >= ysize)
                    {
                        switch (interlace)
                        {
                            case 1: y = 4; interlace = 2; break;
                            case 2: step = 4; y = 2; interlace = 3; break;
                            case 3: step = 2; y = 1; interlace = 0; break;
                            default: return null;   // frame complete
                        }
                    }
                }
            }
        }
    }
}

// Huffman tables of the JPEG entropy decoder: a DHT definition as stored (JpegHuffmanSpec) and its decoding form
// (JpegHuffmanTable), validated like libjpeg-turbo 2.1.5 jdhuff.c jpeg_make_d_derived_tbl.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Imaging.Jpeg;

/// <summary>A Huffman table as a DHT marker defines it: Bits[1..16] = number of codes of each length, Values = the
/// symbols in code order (zero-padded to 256 like libjpeg's huffval). Its decoding tables are built on first use
/// (the DC and AC forms separately, since DC tables are validated more strictly).</summary>
internal sealed class JpegHuffmanSpec
{
    public readonly byte[] Bits = new byte[17];
    public readonly byte[] Values = new byte[256];
    private JpegHuffmanTable? _dc, _ac;

    public JpegHuffmanTable Derived(bool isDc)
    {
        if (isDc)
            return _dc ??= JpegHuffmanTable.Build(this, true);
        return _ac ??= JpegHuffmanTable.Build(this, false);
    }

    /// <summary>The tables of ITU-T T.81 Annex K.3 that libjpeg-turbo installs (jstdhuff.c) in DC/AC slots 0 and 1 when
    /// a sequential file's header defines none there (Motion-JPEG frames omit them).</summary>
    public static JpegHuffmanSpec Standard(bool isDc, int slot)
    {
        var spec = new JpegHuffmanSpec();
        ReadOnlySpan<byte> bits, vals;
        if (isDc)
        {
            bits = slot == 0 ? DcLuminanceBits : DcChrominanceBits;
            vals = DcValues;
        }
        else
        {
            bits = slot == 0 ? AcLuminanceBits : AcChrominanceBits;
            vals = slot == 0 ? AcLuminanceValues : AcChrominanceValues;
        }
        bits.CopyTo(spec.Bits.AsSpan(1));
        vals.CopyTo(spec.Values);
        return spec;
    }

    private static ReadOnlySpan<byte> DcLuminanceBits => [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static ReadOnlySpan<byte> DcChrominanceBits => [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
    private static ReadOnlySpan<byte> DcValues => [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    private static ReadOnlySpan<byte> AcLuminanceBits => [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
    private static ReadOnlySpan<byte> AcChrominanceBits => [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];

    private static ReadOnlySpan<byte> AcLuminanceValues =>
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
        0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
        0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
        0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];

    private static ReadOnlySpan<byte> AcChrominanceValues =>
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
        0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
        0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
        0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
        0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
        0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
        0xf9, 0xfa,
    ];
}

/// <summary>
/// Decoding tables of one Huffman table. Codes are read MSB-first from a left-aligned 64-bit buffer.
/// <see cref="Fast"/>: for each 9-bit prefix, (length &lt;&lt; 8) | symbol of the code of length ≤ 9 it starts with, or 0
/// when the code is longer (then <see cref="DecodeLong"/>). <see cref="FastAc"/> (AC tables): for prefixes holding a
/// whole code of a nonzero-size symbol and its value bits within 9 bits, value &lt;&lt; 16 | run &lt;&lt; 8 | total length;
/// else 0. Every code libjpeg accepts decodes to the same symbol here; a prefix that is no code of length ≤ 16 is
/// reported as a bad code.
/// </summary>
internal sealed class JpegHuffmanTable
{
    public const int LookupBits = 11;

    public readonly ushort[] Fast = new ushort[1 << LookupBits];
    public readonly int[] FastAc = new int[1 << LookupBits];

    /// <summary>maxcode[l]: the largest code of length l, -1 if none (l = 1..16).</summary>
    private readonly int[] _maxCode = new int[18];

    /// <summary>valoffset[l]: index in Values of the first code of length l minus that code.</summary>
    private readonly int[] _valOffset = new int[18];

    private readonly byte[] _values = new byte[256];

    public static JpegHuffmanTable Build(JpegHuffmanSpec spec, bool isDc)
    {
        var t = new JpegHuffmanTable();
        Span<byte> huffSize = stackalloc byte[257];
        Span<int> huffCode = stackalloc int[257];
        int p = 0;
        for (int l = 1; l <= 16; l++)
        {
            int n = spec.Bits[l];
            if (p + n > 256)
                throw new ImageDecodeException("Corrupt JPEG: a Huffman table defines more than 256 codes.");
            for (int i = 0; i < n; i++)
                huffSize[p++] = (byte)l;
        }
        huffSize[p] = 0;
        int numSymbols = p;

        // Canonical code assignment (T.81 Figure C.2); a code may not run out of its length (no all-ones code).
        int code = 0;
        int si = huffSize[0];
        p = 0;
        while (huffSize[p] != 0)
        {
            while (huffSize[p] == si)
            {
                huffCode[p++] = code;
                code++;
            }
            if (code >= 1 << si)
                throw new ImageDecodeException("Corrupt JPEG: a Huffman table's code lengths do not form a valid code.");
            code <<= 1;
            si++;
        }

        p = 0;
        for (int l = 1; l <= 16; l++)
        {
            int n = spec.Bits[l];
            if (n != 0)
            {
                t._valOffset[l] = p - huffCode[p];
                p += n;
                t._maxCode[l] = huffCode[p - 1];
            }
            else
            {
                t._maxCode[l] = -1;
            }
        }
        t._maxCode[17] = int.MaxValue;

        if (isDc)
        {
            for (int i = 0; i < numSymbols; i++)
            {
                if (spec.Values[i] > 15)
                    throw new ImageDecodeException("Corrupt JPEG: a DC Huffman table has a symbol above 15.");
            }
        }
        spec.Values.CopyTo(t._values, 0);

        p = 0;
        for (int l = 1; l <= LookupBits; l++)
        {
            for (int i = 0; i < spec.Bits[l]; i++, p++)
            {
                int sym = spec.Values[p];
                int first = huffCode[p] << (LookupBits - l);
                int span = 1 << (LookupBits - l);
                for (int j = 0; j < span; j++)
                {
                    int look = first + j;
                    t.Fast[look] = (ushort)((l << 8) | sym);
                    if (isDc)
                        continue;
                    int run = sym >> 4, size = sym & 15;
                    if (size == 0 || l + size > LookupBits)
                        continue;
                    int raw = (look >> (LookupBits - l - size)) & ((1 << size) - 1);
                    int value = Extend(raw, size);
                    t.FastAc[look] = (value << 16) | (run << 8) | (l + size);
                }
            }
        }
        return t;
    }

    /// <summary>Decodes a code longer than <see cref="LookupBits"/> from the top of <paramref name="buf"/> (which must
    /// hold at least 16 bits). Returns (length &lt;&lt; 8) | symbol, or -1 when no code of length ≤ 16 matches.</summary>
    public int DecodeLong(ulong buf)
    {
        for (int l = LookupBits + 1; l <= 16; l++)
        {
            int code = (int)(buf >> (64 - l));
            if (code <= _maxCode[l])
                return (l << 8) | _values[(code + _valOffset[l]) & 0xFF];
        }
        return -1;
    }

    /// <summary>T.81 Figure F.12: the signed value of the <paramref name="size"/>-bit magnitude field
    /// <paramref name="raw"/> (size ≥ 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Extend(int raw, int size) => raw + (((raw >> (size - 1)) - 1) & ((-1 << size) + 1));
}

/// <summary>Zigzag position → natural (row-major) index, with 16 extra entries mapping to 63 as libjpeg's
/// jpeg_natural_order has: corrupt data whose run passes position 63 writes coefficient 63, exactly as libjpeg does.</summary>
internal static class JpegZigzag
{
    public static ReadOnlySpan<byte> NaturalOrder =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
        63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ref byte NaturalOrderRef() => ref MemoryMarshal.GetReference(NaturalOrder);
}

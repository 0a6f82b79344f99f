// ExifReader: the EXIF Orientation tag (0x0112) of IFD0, read the way Pillow 9.4 reads it for
// ImageOps.exif_transpose: Image.getexif -> Exif.load -> TiffImagePlugin.ImageFileDirectory_v2(head).load(fp),
// then exif.get(0x0112) -> ImageFileDirectory_v2.__getitem__ (type handler, _setitem's length-1 rule) -> the
// lookup in exif_transpose's {2..8: method} dict.
//
// Reproduced (each pinned by a Pillow-generated case in tests/AotVit.Tests/Imaging/ExifOrientationTests.cs):
// * An optional "Exif\0\0" prefix is removed (Exif.load); empty data means no EXIF.
// * The first 4 bytes must be one of TiffImagePlugin.PREFIXES, else Pillow raises SyntaxError ("not a TIFF file");
//   "MM"/"II" pick the byte order. Fewer than 8 header bytes, or a BigTIFF prefix (its 8-byte offset is read from
//   bytes the 8-byte head does not have), make Pillow raise struct.error. Both are reported, not thrown, as
//   ExifHeaderError: what follows from them depends on the container (see ImageDecoder).
// * IFD0 is at the header's offset (anywhere, even inside the header). Its entry count and entries are read
//   sequentially; a short read stops the directory and keeps the tags read so far (IFD.load catches OSError).
//   Entries of unsupported types (not 1-13 or 16) are skipped. Values over 4 bytes live at a u32 offset; one that
//   runs past the end stops the directory (ImageFile._safe_read raises OSError). Zero-count entries are skipped.
//   A later entry for the same tag replaces an earlier one. Only IFD0 is read: no next-IFD or sub-IFD pointer is
//   followed, so offset loops cannot occur and the work is bounded by the data length.
// * The value: the first element (Orientation is a length-1 tag: _setitem keeps values[0] when there are more).
//   Integers of any integer type count; FLOAT / DOUBLE count when they equal an integer (Python's dict lookup
//   uses ==, and 6.0 == 6); RATIONAL / SRATIONAL count when the fraction is an integer (IFDRational hashes and
//   compares as a Fraction; a zero denominator is NaN). BYTE, ASCII and UNDEFINED values are bytes / str in
//   Pillow and never match. A value outside 2..8 means "no transpose" (1 included).

using System.Buffers.Binary;

namespace AotVit.Runtime.Imaging;

/// <summary>How Pillow's EXIF parser ends on a TIFF header: fine, SyntaxError or struct.error.</summary>
internal enum ExifHeaderError : byte
{
    None,

    /// <summary>Pillow raises SyntaxError: the data does not start with a TIFF byte-order prefix.</summary>
    NotTiff,

    /// <summary>Pillow raises struct.error: a TIFF prefix with fewer than 8 header bytes, or BigTIFF.</summary>
    ShortOrBigTiff,
}

/// <summary>The parse result: whether 0x0112 is in Pillow's IFD0 dictionary, and the transposing value (2..8) if any.</summary>
internal readonly record struct ExifOrientationTag(ExifHeaderError Error, bool TagPresent, ImageOrientation? Orientation)
{
    public static ExifOrientationTag Absent => new(ExifHeaderError.None, false, null);
}

internal static class ExifReader
{
    private static ReadOnlySpan<byte> ExifPrefix => "Exif\0\0"u8;

    /// <summary>Reads IFD0's Orientation from EXIF data as Pillow keeps it in <c>info["exif"]</c>.</summary>
    public static ExifOrientationTag ReadOrientation(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith(ExifPrefix))
        {
            data = data[ExifPrefix.Length..];
        }
        if (data.IsEmpty)
        {
            return ExifOrientationTag.Absent;
        }
        if (data.Length < 4)
        {
            return new(ExifHeaderError.NotTiff, false, null);
        }
        bool bigEndian;
        bool bigTiff = false;
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        switch (magic)
        {
            case 0x4D4D002A or 0x4D4D2A00: bigEndian = true; break;            // "MM\0*", "MM*\0"
            case 0x49492A00 or 0x4949002A: bigEndian = false; break;           // "II*\0", "II\0*"
            case 0x4D4D002B: bigEndian = true; bigTiff = true; break;          // "MM\0+"
            case 0x49492B00: bigEndian = false; bigTiff = true; break;         // "II+\0"
            default: return new(ExifHeaderError.NotTiff, false, null);
        }
        if (bigTiff || data.Length < 8)
        {
            return new(ExifHeaderError.ShortOrBigTiff, false, null);
        }

        uint ifdOffset = U32(data[4..], bigEndian);
        if (ifdOffset > data.Length - 2)
        {
            return ExifOrientationTag.Absent;   // the entry count is not there: an empty directory
        }
        int count = U16(data[(int)ifdOffset..], bigEndian);
        int at = (int)ifdOffset + 2;
        bool present = false;
        ImageOrientation? orientation = null;
        for (int i = 0; i < count; i++, at += 12)
        {
            if (at > data.Length - 12)
            {
                break;   // truncated entry: the directory ends here
            }
            ReadOnlySpan<byte> entry = data.Slice(at, 12);
            int tag = U16(entry, bigEndian), type = U16(entry[2..], bigEndian);
            long valueCount = U32(entry[4..], bigEndian);
            int unit = UnitSize(type);
            if (unit == 0)
            {
                continue;   // unsupported type: ignored, as IFD.load does
            }
            long size = valueCount * unit;
            ReadOnlySpan<byte> value;
            if (size > 4)
            {
                long offset = U32(entry[8..], bigEndian);
                if (offset + size > data.Length)
                {
                    break;   // _safe_read raises OSError: the rest of the directory is lost
                }
                value = data.Slice((int)offset, (int)size);
            }
            else
            {
                value = entry.Slice(8, (int)size);
            }
            if (value.IsEmpty || tag != 0x0112)
            {
                continue;
            }
            present = true;
            orientation = Interpret(type, value, bigEndian);
        }
        return new(ExifHeaderError.None, present, orientation);
    }

    // Unit sizes of TiffImagePlugin's _load_dispatch; 0 = not registered.
    private static int UnitSize(int type) => type switch
    {
        1 or 2 or 6 or 7 => 1,
        3 or 8 => 2,
        4 or 9 or 11 or 13 => 4,
        5 or 10 or 12 or 16 => 8,
        _ => 0,
    };

    private static ImageOrientation? Interpret(int type, ReadOnlySpan<byte> v, bool bigEndian)
    {
        switch (type)
        {
            case 3: return Transposing(U16(v, bigEndian));
            case 4 or 13: return Transposing(U32(v, bigEndian));
            case 6: return Transposing((sbyte)v[0]);
            case 8: return Transposing((short)U16(v, bigEndian));
            case 9: return Transposing((int)U32(v, bigEndian));
            case 16:
                {
                    ulong x = bigEndian ? BinaryPrimitives.ReadUInt64BigEndian(v) : BinaryPrimitives.ReadUInt64LittleEndian(v);
                    return x <= 8 ? Transposing((long)x) : null;
                }
            case 11: return Transposing(BitConverter.Int32BitsToSingle((int)U32(v, bigEndian)));
            case 12:
                return Transposing(BitConverter.Int64BitsToDouble(bigEndian
                    ? BinaryPrimitives.ReadInt64BigEndian(v) : BinaryPrimitives.ReadInt64LittleEndian(v)));
            case 5:
                {
                    long n = U32(v, bigEndian), d = U32(v[4..], bigEndian);
                    return d != 0 && n % d == 0 ? Transposing(n / d) : null;
                }
            case 10:
                {
                    long n = (int)U32(v, bigEndian), d = (int)U32(v[4..], bigEndian);
                    return d != 0 && n % d == 0 ? Transposing(n / d) : null;
                }
            default:
                return null;   // BYTE, ASCII, UNDEFINED: bytes or str in Pillow, never equal to an int
        }
    }

    private static ImageOrientation? Transposing(long value) =>
        value is >= 2 and <= 8 ? (ImageOrientation)value : null;

    private static ImageOrientation? Transposing(double value) =>
        value is >= 2 and <= 8 && value == Math.Floor(value) ? (ImageOrientation)(int)value : null;

    private static int U16(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    private static uint U32(ReadOnlySpan<byte> s, bool bigEndian) =>
        bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
}

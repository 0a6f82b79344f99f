// ExifJpeg: where a JPEG keeps the EXIF that Pillow 9.4 uses, found by the same marker walk as
// PIL/JpegImagePlugin.py (JpegImageFile._open and its APP handler), up to the first SOS.
// * The first APP1 whose payload starts with "Exif\0" (5 bytes: Pillow checks no more) is info["exif"]; later ones
//   are ignored ("if 'exif' not in self.info").
// * Pillow's APP handler also calls getexif() at the end of every APPn once info has "exif" and no "dpi", catching
//   SyntaxError (and the other DPI errors) but not struct.error, which makes Image.open give up on the file. "dpi"
//   comes only from a JFIF APP0 with density unit 1 and at least 12 payload bytes. So whether a broken TIFF header is
//   fatal depends on whether such a JFIF segment came before the Exif one: DpiBeforeExif records that.
// The walk is one function so that a full JPEG decoder exposing its own APP1 list can replace it.

using System.Buffers.Binary;

namespace AotVit.Runtime.Imaging;

/// <summary>Location of Pillow's <c>info["exif"]</c> in a JPEG: offset/length of the APP1 payload (from "Exif").</summary>
internal readonly record struct JpegExifSegment(int Offset, int Length, bool DpiBeforeExif)
{
    public bool Found => Length > 0;
}

internal static class ExifJpeg
{
    /// <summary>Walks the markers after SOI until SOS, a marker Pillow does not know, or the end of the data.</summary>
    public static JpegExifSegment Find(ReadOnlySpan<byte> jpeg)
    {
        bool dpi = false;
        int at = 2;   // after FF D8
        while (at + 1 < jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
            {
                at++;   // non-0xFF junk between segments is skipped byte by byte
                continue;
            }
            int marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++;   // fill byte: the second FF starts the marker
                continue;
            }
            if (marker == 0x00)
            {
                at += 2;   // escaped FF: skipped
                continue;
            }
            at += 2;
            if (marker is 0xC8 or (>= 0xD0 and <= 0xD9) or (>= 0xF0 and <= 0xFD))
            {
                continue;   // markers without a length in Pillow's MARKER table
            }
            if (marker < 0xC0)
            {
                break;      // Pillow: "no marker found"
            }
            if (at + 2 > jpeg.Length)
            {
                break;
            }
            int payload = BinaryPrimitives.ReadUInt16BigEndian(jpeg[at..]) - 2;
            at += 2;
            if (payload <= 0)
            {
                payload = 0;   // _safe_read of n <= 0 reads nothing; the walk goes on right after the length
            }
            if (payload > jpeg.Length - at)
            {
                break;   // truncated segment: Pillow's open fails; the decoder reports it
            }
            ReadOnlySpan<byte> s = jpeg.Slice(at, payload);
            if (marker == 0xE0 && s.Length >= 12 && s.StartsWith("JFIF"u8) && s[7] == 1)
            {
                dpi = true;
            }
            if (marker == 0xE1 && s.StartsWith("Exif\0"u8))
            {
                return new JpegExifSegment(at, payload, dpi);
            }
            if (marker == 0xDA)
            {
                break;
            }
            at += payload;
        }
        return default;
    }
}

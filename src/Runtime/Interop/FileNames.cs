// FileNames: file names that are not valid UTF-8, carried in .NET strings. Linux names are bytes; .NET decodes them as
// UTF-8 and turns each invalid byte into U+FFFD, so a Latin-1 "caf\xE9.jpg" from an old archive is listed under a name
// that opens nothing. Here, as in Python's surrogateescape, an invalid byte b (always 0x80–0xFF) becomes the lone
// surrogate U+DC00 + b: Decode and Encode are inverse on every byte string, and a name that is valid UTF-8 decodes to
// the string .NET itself gives. Only code that meets such a name needs this: the .NET file APIs would encode a lone
// surrogate as U+FFFD, so a path holding one is opened or examined through its bytes (UserFiles, LinuxFiles).
using System.Text;

namespace AotVit.Runtime.Interop;

internal static class FileNames
{
    private const char FirstEscape = '\uDC80', LastEscape = '\uDCFF';

    /// <summary>The string for the name bytes <paramref name="bytes"/>: UTF-8, with each byte of an invalid sequence as
    /// U+DC00 + byte.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];   // a valid sequence of n bytes is at most n UTF-16 units; an escape is one per byte
        int written = 0;
        for (int i = 0; i < bytes.Length;)
        {
            int lead = bytes[i];
            if (lead < 0x80)
            {
                chars[written++] = (char)lead;
                i++;
                continue;
            }

            // Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
            int length = lead is >= 0xC2 and <= 0xDF ? 2 : lead is >= 0xE0 and <= 0xEF ? 3 : lead is >= 0xF0 and <= 0xF4 ? 4 : 0;
            int value = length == 2 ? lead & 0x1F : length == 3 ? lead & 0x0F : lead & 0x07;
            bool valid = length > 0 && i + length <= bytes.Length;
            for (int k = 1; valid && k < length; k++)
            {
                int next = bytes[i + k];
                valid = (next & 0xC0) == 0x80;
                value = (value << 6) | (next & 0x3F);
            }

            valid &= length switch { 2 => true, 3 => value >= 0x800 && value is < 0xD800 or > 0xDFFF, _ => value is >= 0x10000 and <= 0x10FFFF };
            if (!valid)
            {
                chars[written++] = (char)(0xDC00 + lead);   // the lead byte escaped; what follows is decoded again
                i++;
                continue;
            }

            if (value >= 0x10000)
            {
                value -= 0x10000;
                chars[written++] = (char)(0xD800 + (value >> 10));
                chars[written++] = (char)(0xDC00 + (value & 0x3FF));
            }
            else
            {
                chars[written++] = (char)value;
            }

            i += length;
        }

        return new string(chars, 0, written);
    }

    /// <summary>Whether <paramref name="path"/> holds an escaped byte (a lone U+DC80–U+DCFF).</summary>
    public static bool HasEscapes(string path)
    {
        for (int i = 0; i < path.Length; i++)
        {
            char c = path[i];
            if (char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                i++;
            }
            else if (c is >= FirstEscape and <= LastEscape)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The bytes of <paramref name="text"/>: UTF-8, each escape back to its byte (other lone surrogates as U+FFFD,
    /// as .NET writes them); with <paramref name="nulTerminated"/>, a 0 after them for a C call, and a NUL inside the text
    /// is an ArgumentException (C would read a shorter path: another file), as the .NET file APIs treat it.</summary>
    public static byte[] Encode(string text, bool nulTerminated = false)
    {
        if (nulTerminated && text.Contains('\0'))
        {
            throw new ArgumentException("a path cannot contain a NUL character", nameof(text));
        }

        if (!HasEscapes(text))
        {
            return nulTerminated ? Encoding.UTF8.GetBytes(text + "\0") : Encoding.UTF8.GetBytes(text);
        }

        var bytes = new byte[text.Length * 3 + 1];   // UTF-8 takes at most 3 bytes per UTF-16 unit (4 per pair)
        int written = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= FirstEscape and <= LastEscape)   // lone: a low surrogate after a high one went with it below
            {
                bytes[written++] = (byte)(c - 0xDC00);
                continue;
            }

            int units = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            written += Encoding.UTF8.GetBytes(text.AsSpan(i, units), bytes.AsSpan(written));
            i += units - 1;
        }

        if (nulTerminated)
        {
            bytes[written++] = 0;
        }

        return bytes.AsSpan(0, written).ToArray();
    }
}

// TextFiles: File.ReadAllText and Environment.GetFolderPath(UserProfile) as .NET gives them on Linux, without the
// StreamReader those two use (File.ReadAllText reads through one; GetFolderPath's other folders read the XDG config
// through one). A StreamReader keeps its byte-order-mark detection and the UTF-16 and UTF-32 decoders in the
// NativeAOT binaries. Invariant: same results as the framework calls they stand for, byte for byte, on every input.
using System.Runtime.InteropServices;
using System.Text;

namespace AotVit.Runtime.Interop;

internal static unsafe class TextFiles
{
    /// <summary>File.ReadAllText(<paramref name="path"/>): UTF-8, unless a byte-order mark says UTF-16 or UTF-32;
    /// invalid sequences become U+FFFD. Same exceptions (the file is read by File.ReadAllBytes).</summary>
    public static string ReadAllText(string path) => Decode(File.ReadAllBytes(path));

    /// <summary>The text StreamReader(detectEncodingFromByteOrderMarks: true, UTF-8).ReadToEnd() makes of <paramref name="b"/>.</summary>
    internal static string Decode(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) return Encoding.UTF8.GetString(b[3..]);
        if (b.Length >= 2)
        {
            if (b[0] == 0xFE && b[1] == 0xFF) return Utf16(b[2..], bigEndian: true);
            if (b[0] == 0xFF && b[1] == 0xFE)
                return b.Length < 4 || b[2] != 0 || b[3] != 0 ? Utf16(b[2..], bigEndian: false) : Utf32(b[4..], bigEndian: false);
            if (b.Length >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF) return Utf32(b[4..], bigEndian: true);
        }
        return Encoding.UTF8.GetString(b);
    }

    private static string Utf16(ReadOnlySpan<byte> b, bool bigEndian)
    {
        var text = new StringBuilder(b.Length / 2 + 1);
        int units = b.Length / 2;
        for (int i = 0; i < units; i++)
        {
            char c = Unit(b, i, bigEndian);
            if (char.IsHighSurrogate(c) && i + 1 < units && char.IsLowSurrogate(Unit(b, i + 1, bigEndian)))
            {
                text.Append(c).Append(Unit(b, ++i, bigEndian));
            }
            else
            {
                text.Append(char.IsSurrogate(c) ? '\uFFFD' : c);
            }
        }
        if (b.Length % 2 != 0) text.Append('\uFFFD');
        return text.ToString();
    }

    private static char Unit(ReadOnlySpan<byte> b, int i, bool bigEndian) =>
        (char)(bigEndian ? b[2 * i] << 8 | b[2 * i + 1] : b[2 * i + 1] << 8 | b[2 * i]);

    private static string Utf32(ReadOnlySpan<byte> b, bool bigEndian)
    {
        var text = new StringBuilder(b.Length / 4 + 1);
        for (int i = 0; i + 4 <= b.Length; i += 4)
        {
            uint v = bigEndian ? (uint)(b[i] << 24 | b[i + 1] << 16 | b[i + 2] << 8 | b[i + 3])
                               : (uint)(b[i + 3] << 24 | b[i + 2] << 16 | b[i + 1] << 8 | b[i]);
            if (v > 0x10FFFF || v is >= 0xD800 and <= 0xDFFF) text.Append('\uFFFD');
            else if (v < 0x10000) text.Append((char)v);
            else text.Append((char)(0xD7C0 + (v >> 10))).Append((char)(0xDC00 | (v & 0x3FF)));
        }
        if (b.Length % 4 != 0) text.Append('\uFFFD');
        return text.ToString();
    }

    /// <summary>Environment.GetFolderPath(SpecialFolder.UserProfile) on Linux: HOME, else the effective user's passwd
    /// entry (getpwuid_r), else "/" (as when reading the entry fails); "" unless that folder is readable (access R_OK).</summary>
    public static string UserProfile()
    {
        string? home = Environment.GetEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home))
        {
            try { home = PasswdHome(); }
            catch (IOException) { home = null; }
        }
        if (string.IsNullOrEmpty(home)) home = "/";
        byte[] path = new byte[Encoding.UTF8.GetByteCount(home) + 1];   // NUL-terminated UTF-8, as the runtime passes it
        Encoding.UTF8.GetBytes(home, path);
        fixed (byte* p = path) return Access(p, ReadOk) == 0 ? home : "";
    }

    private static string? PasswdHome()
    {
        uint uid = GetEUid();
        for (int length = 1024; ; length *= 2)
        {
            byte[] buffer = new byte[length];
            Passwd entry;
            Passwd* result;
            int error;
            fixed (byte* b = buffer)
            {
                do error = GetPwUidR(uid, &entry, b, (nuint)length, &result); while (error == Eintr);
                if (error == 0) return result == null ? null : Marshal.PtrToStringUTF8((nint)entry.Dir);
            }
            if (error != Erange) throw new IOException(Marshal.GetPInvokeErrorMessage(error), error);
        }
    }

    private const int Eintr = 4, Erange = 34, ReadOk = 4;

    /// <summary>glibc's and musl's struct passwd (the same on every 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public byte* Name, Password;
        public uint Uid, Gid;
        public byte* Gecos, Dir, Shell;
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEUid();

    [DllImport("libc", EntryPoint = "getpwuid_r")]
    private static extern int GetPwUidR(uint uid, Passwd* entry, byte* buffer, nuint length, Passwd** result);

    [DllImport("libc", EntryPoint = "access")]
    private static extern int Access(byte* path, int mode);
}

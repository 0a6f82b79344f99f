// The images a classify/embed run reads, from its INPUT arguments, in a fixed order: arguments in the order given;
// a directory's images in ordinal name order (depth first with --recursive); a glob's matches in ordinal order.
// Expansion reads only directory listings and file kinds (no image is opened), so it runs before the model loads. An
// argument that yields nothing (no match, an unreadable or empty directory) becomes one failed input carrying its
// reason, reported in its place in the output order like any other failure. Listings and patterns take regular files
// only: a FIFO, socket or device with an image name is skipped and counted (a FIFO's open would wait for a writer
// forever); a path named on the command line is read whatever it is (a FIFO there is the user's: `<(curl …)`).
using System.Text;
using AotVit.Runtime.Interop;

namespace AotVit.Cli;

/// <summary>One input: a file path, or stdin (Path "-"); Error set when the argument could not be expanded.</summary>
internal sealed class InputItem(string path, string? error = null)
{
    public string Path { get; } = path;
    public bool IsStdin => Path == "-";
    public string? Error { get; } = error;
}

internal static class Inputs
{
    /// <summary>Extensions (lower case, with the dot) of the files a directory listing takes; files named directly or
    /// by a glob are taken whatever their name. Formats the decoder does not read are listed on purpose: they are
    /// reported as failed inputs rather than silently skipped.</summary>
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tga", ".webp", ".tif", ".tiff"];

    public static bool IsImageName(string name)
    {
        foreach (string ext in ImageExtensions)
        {
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>What a listing or a pattern left out.</summary>
    internal struct Skipped
    {
        /// <summary>Directory entries whose names have no image extension.</summary>
        public int NotImages;
        /// <summary>Directory entries and pattern matches with an image name that are FIFOs, sockets or devices.</summary>
        public int Special;
    }

    /// <summary>Expands the INPUT arguments; <paramref name="skipped"/> counts what directory listings and patterns left out.</summary>
    public static List<InputItem> Expand(List<string> arguments, bool recursive, out Skipped skipped)
    {
        var items = new List<InputItem>();
        skipped = default;
        bool stdin = false;
        foreach (string a in arguments)
        {
            if (a == "-")
            {
                if (stdin) throw new UsageException("'-' (stdin) given twice: stdin holds one image");
                stdin = true;
                items.Add(new InputItem(a));
            }
            else if (a.Length > 0 && UserFiles.IsDirectory(a))
            {
                int before = items.Count;
                AddDirectory(a, recursive, items, ref skipped);
                if (items.Count == before)
                    items.Add(new InputItem(a, $"directory '{a}' holds no image files{(recursive ? "" : " (--recursive also reads its subdirectories)")}"));
            }
            else if (!Exists(a) && HasWildcard(a))
            {
                int before = items.Count;
                bool anyMatch = false;
                foreach (string match in Glob(a))
                {
                    anyMatch = true;
                    if (UserFiles.IsDirectory(match)) AddDirectory(match, recursive, items, ref skipped);
                    else AddListed(match, items, ref skipped);
                }
                if (items.Count == before)
                    items.Add(new InputItem(a, anyMatch ? $"'{a}' matches no image file (only FIFOs, sockets or devices)" : $"no file matches '{a}'"));
            }
            else
            {
                items.Add(new InputItem(a));   // read (and any error reported) when its turn comes
            }
        }
        return items;
    }

    private static void AddDirectory(string directory, bool recursive, List<InputItem> items, ref Skipped skipped)
    {
        List<Entry> entries;
        try
        {
            entries = List(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            items.Add(new InputItem(directory, $"directory '{directory}' cannot be listed: {(e is UnauthorizedAccessException ? "permission denied" : e.Message)}"));
            return;
        }
        foreach (var entry in entries)
        {
            string name = entry.Name;
            if (name.StartsWith('.')) continue;   // hidden, as a shell's * leaves them out
            string path = Path.Join(directory, name);
            if (entry.IsDirectory)
            {
                if (recursive) AddDirectory(path, recursive, items, ref skipped);
            }
            else if (IsImageName(name)) AddListed(path, items, ref skipped);
            else skipped.NotImages++;
        }
    }

    /// <summary>The image files of <paramref name="directory"/> as an INPUT folder without --recursive lists them (image
    /// names, not hidden, no FIFOs, sockets or devices, names that are not UTF-8 included), in ordinal name order.</summary>
    public static List<string> ImagesIn(string directory)
    {
        var items = new List<InputItem>();
        Skipped skipped = default;
        AddDirectory(directory, recursive: false, items, ref skipped);
        var paths = new List<string>(items.Count);
        foreach (var item in items)
        {
            if (item.Error is { } error) throw new IOException(error);
            paths.Add(item.Path);
        }
        return paths;
    }

    /// <summary>A path found by a listing or a pattern: taken unless it is a FIFO, socket or device.</summary>
    private static void AddListed(string path, List<InputItem> items, ref Skipped skipped)
    {
        if (IsSpecial(path)) skipped.Special++;
        else items.Add(new InputItem(path));
    }

    /// <summary>Whether <paramref name="path"/> (links followed) is a FIFO, a socket or a device, which listings leave out.</summary>
    public static bool IsSpecial(string path) => LinuxFiles.KindOf(path) == LinuxFiles.PathKind.Special;

    /// <summary>A directory entry: its name, and whether to descend into it.</summary>
    private sealed class Entry(string name, bool isDirectory)
    {
        public string Name { get; } = name;
        public bool IsDirectory { get; } = isDirectory;
    }

    /// <summary>The entries of <paramref name="directory"/> in ordinal name order. A symbolic link to a directory counts
    /// as a file (so --recursive never loops), and is taken only if its name is an image name (it then fails as a directory).
    /// A name that is not UTF-8 (.NET's listing shows U+FFFD for its bytes) is read again by its bytes
    /// (<see cref="LinuxFiles.ListDirectory"/>), as a string that opens the file (<see cref="FileNames"/>).</summary>
    private static List<Entry> List(string directory)
    {
        var entries = new List<Entry>();
        bool lossy = false;
        if (!FileNames.HasEscapes(directory))
        {
            foreach (var info in new DirectoryInfo(directory).EnumerateFileSystemInfos())
            {
                lossy |= info.Name.Contains('\uFFFD');
                entries.Add(new Entry(info.Name, info is DirectoryInfo && (info.Attributes & FileAttributes.ReparsePoint) == 0));
            }
        }

        if (lossy || FileNames.HasEscapes(directory))
        {
            var raw = LinuxFiles.ListDirectory(directory, out int errno);
            if (raw is null)
            {
                const int EACCES = 13;
                if (errno == EACCES) throw new UnauthorizedAccessException($"directory '{directory}' cannot be read");
                throw new IOException(System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno));
            }
            entries.Clear();
            foreach (string name in raw) entries.Add(name.EndsWith('/') ? new Entry(name[..^1], true) : new Entry(name, false));
        }

        entries.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary>Path.Exists, also for a path whose name is not UTF-8.</summary>
    private static bool Exists(string path) =>
        FileNames.HasEscapes(path) ? LinuxFiles.KindOf(path) != LinuxFiles.PathKind.Unknown : Path.Exists(path);

    public static bool HasWildcard(string s) => s.AsSpan().IndexOfAny('*', '?', '[') >= 0;

    /// <summary>
    /// The paths matching a shell pattern, in ordinal order: '*' any run of characters, '?' one character, [abc] [a-z]
    /// [!a] a class, each within one path component; a component starting with '.' is matched only by a pattern
    /// component starting with '.'. Components without wildcards are taken literally.
    /// </summary>
    public static List<string> Glob(string pattern)
    {
        bool absolute = pattern.StartsWith('/');
        string[] parts = pattern.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var current = new List<string> { absolute ? "/" : "" };
        for (int p = 0; p < parts.Length; p++)
        {
            bool last = p == parts.Length - 1;
            var next = new List<string>();
            foreach (string prefix in current)
            {
                string directory = prefix.Length == 0 ? "." : prefix;
                if (!HasWildcard(parts[p]))
                {
                    string path = prefix.Length == 0 ? parts[p] : Path.Join(prefix, parts[p]);
                    if (last ? Exists(path) : UserFiles.IsDirectory(path)) next.Add(path);
                    continue;
                }
                List<Entry> entries;
                try { entries = List(directory); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                foreach (var entry in entries)
                {
                    string name = entry.Name;
                    if (name.StartsWith('.') && !parts[p].StartsWith('.')) continue;
                    if (!last && !entry.IsDirectory && !UserFiles.IsDirectory(Path.Join(directory, name))) continue;
                    if (Matches(parts[p], name)) next.Add(prefix.Length == 0 ? name : Path.Join(prefix, name));
                }
            }
            current = next;
        }
        current.Sort(string.CompareOrdinal);
        return current;
    }

    /// <summary>Whether <paramref name="name"/> matches the one-component pattern (iterative '*' backtracking: linear
    /// in practice, never exponential).</summary>
    public static bool Matches(string pattern, string name)
    {
        int p = 0, n = 0, starP = -1, starN = 0;
        while (n < name.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                starP = ++p;
                starN = n;
                continue;
            }
            if (p < pattern.Length && MatchOne(pattern, ref p, name[n]))
            {
                n++;
                continue;
            }
            if (starP < 0) return false;
            p = starP;
            n = ++starN;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>Whether the pattern element at <paramref name="p"/> (a literal, '?' or a [class]) matches
    /// <paramref name="c"/>; on a match, moves <paramref name="p"/> past the element.</summary>
    private static bool MatchOne(string pattern, ref int p, char c)
    {
        char first = pattern[p];
        if (first == '?') { p++; return true; }
        if (first == '[')
        {
            int close = pattern.IndexOf(']', p + 2);   // "[]a]": a ']' right after '[' (or "[!") belongs to the class
            if (p + 1 < pattern.Length && pattern[p + 1] == '!') close = pattern.IndexOf(']', p + 3);
            if (close > 0)
            {
                int i = p + 1;
                bool negate = pattern[i] == '!';
                if (negate) i++;
                bool found = false;
                for (; i < close; i++)
                {
                    if (i + 2 < close && pattern[i + 1] == '-')
                    {
                        if (c >= pattern[i] && c <= pattern[i + 2]) found = true;
                        i += 2;
                    }
                    else if (pattern[i] == c) found = true;
                }
                if (found == negate) return false;
                p = close + 1;
                return true;
            }
        }
        if (first != c) return false;   // a literal (an unclosed '[' is one too)
        p++;
        return true;
    }

    /// <summary>A path as one field of the index file: tab, newline and backslash escaped (\t, \n, \r, \\).</summary>
    public static string TsvField(string s)
    {
        if (s.AsSpan().IndexOfAny("\t\n\r\\") < 0) return s;
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            switch (c)
            {
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\\': sb.Append("\\\\"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }
}

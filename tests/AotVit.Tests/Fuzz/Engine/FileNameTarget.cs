// `filenames`: file names as bytes (FileNames, LinuxFiles.ListDirectory, UserFiles.OpenRead on escaped paths).
// * Inputs: names built from UTF-8 pieces (ASCII, 2-, 3- and 4-byte characters, U+FFFD itself), Latin-1 and CP437
//   bytes, encoded surrogates, overlong forms, bytes above F4, sequences cut short, random bytes; then byte mutations.
//   Never NUL or '/'; at most 255 bytes (a name, not a path).
// * Invariants: Encode(Decode(b)) == b; the decoded string holds an escape exactly when b is not valid UTF-8, and
//   equals .NET's own decoding when it is; Encode on a string without escapes is UTF-8. Every fourth input is also
//   made a real file in a temporary directory (open(2) on the bytes): the raw listing names it by the decoded string,
//   KindOf calls it a regular file, and UserFiles.OpenRead reads back its contents through that string.
using System.Text;
using AotVit.Runtime.Interop;

namespace AotVit.Fuzzing;

public sealed class FileNameTarget : FuzzTarget
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"aotvit-fuzz-names-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private static readonly byte[][] Pieces =
    [
        "a"u8.ToArray(), ".png"u8.ToArray(), "é"u8.ToArray(), "日本"u8.ToArray(), "\U0001F600"u8.ToArray(), "\uFFFD"u8.ToArray(),
        [0xE9], [0xE9, 0x74, 0xE9], [0x82, 0x8A], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF],
        [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFF], [0xFE], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3], [0x80], [0xBF],
    ];

    public FileNameTarget() => Directory.CreateDirectory(_dir);

    public override string Name => "filenames";

    public override string? ExpectedError(Exception exception) => null;   // nothing here may fail

    public override void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        base.Dispose();
    }

    public override FuzzCase Next(Random random, long index)
    {
        var name = new List<byte>();
        int parts = 1 + random.Next(8);
        for (int i = 0; i < parts; i++)
        {
            if (random.Next(4) == 0)
            {
                var bytes = new byte[1 + random.Next(6)];
                random.NextBytes(bytes);
                name.AddRange(bytes);
            }
            else
            {
                name.AddRange(random.Pick(Pieces));
            }
        }

        byte[] raw = name.ToArray();
        if (random.Next(3) == 0) raw = Mutator.Mutate(random, raw, maxMutations: 3);
        raw = raw.Select(b => b is 0 or (byte)'/' ? (byte)'_' : b).Take(255).ToArray();
        if (raw.Length == 0 || raw.AsSpan().SequenceEqual("."u8) || raw.AsSpan().SequenceEqual(".."u8)) raw = [.. raw, (byte)'x'];
        bool onDisk = index % 4 == 0;
        byte[] contents = BitConverter.GetBytes(index);
        return new FuzzCase(onDisk ? "name on disk" : "name", raw, "bin", () => Execute(raw, onDisk, contents));
    }

    private FuzzResult Execute(byte[] raw, bool onDisk, byte[] contents)
    {
        string decoded = FileNames.Decode(raw);
        if (!FileNames.Encode(decoded).AsSpan().SequenceEqual(raw)) throw new FuzzInvariantException("Encode(Decode(bytes)) is not the bytes");
        bool valid = System.Text.Unicode.Utf8.IsValid(raw);
        if (FileNames.HasEscapes(decoded) == valid) throw new FuzzInvariantException($"HasEscapes is {!valid} for {(valid ? "valid" : "invalid")} UTF-8");
        if (valid && decoded != Encoding.UTF8.GetString(raw)) throw new FuzzInvariantException("valid UTF-8 decodes unlike .NET");
        if (!onDisk) return FuzzResult.Ok(valid ? "utf-8" : "escaped");

        byte[] path = [.. FileNames.Encode(_dir), (byte)'/', .. raw];
        try
        {
            RawFiles.Write(path, contents);
            var listed = LinuxFiles.ListDirectory(_dir, out int errno) ?? throw new FuzzInvariantException($"readdir failed: errno {errno}");
            if (!listed.Contains(decoded)) throw new FuzzInvariantException("the raw listing does not name the file by its decoded string");
            string full = _dir + "/" + decoded;
            if (LinuxFiles.KindOf(full) != LinuxFiles.PathKind.Regular) throw new FuzzInvariantException("KindOf does not see a regular file");
            using var stream = UserFiles.OpenRead(full, "file");
            var back = new byte[contents.Length + 1];
            int read = stream.Read(back);
            if (!back.AsSpan(0, read).SequenceEqual(contents)) throw new FuzzInvariantException("the file read back differs");
            return FuzzResult.Ok(valid ? "utf-8 on disk" : "escaped on disk");
        }
        finally
        {
            RawFiles.Unlink(path);
        }
    }
}

// classify and embed over real workloads, as a user runs them (child processes through CliTests' runner): folders
// with a broken file in the middle, stdin, globs the shell did not expand, the streamed formats (jsonl order and
// content, one json document, .npy rows and their index file), --version and help, and usage errors found before any
// model or weights file is touched. Results are compared with the C# API on the same synthetic checkpoint.

using System.Runtime.InteropServices;
using AotVit.Fuzzing;
using System.Text.Json;
using Xunit;
using static AotVit.Tests.Cli.CliTests;

namespace AotVit.Tests.Cli;

[Trait("Category", "Cli")]
public sealed class CliFolderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-cli-folder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Coffee = TestPaths.Data("images", "coffee.png");
    private static readonly string Small = TestPaths.Data("images", "small.png");

    /// <summary>photos/{a.png, b.jpg (not an image), c.png, notes.txt, sub/d.png}.</summary>
    private string Folder()
    {
        string photos = Directory.CreateDirectory(Path.Combine(_dir, "photos")).FullName;
        File.Copy(Image, Path.Combine(photos, "a.png"));
        File.WriteAllText(Path.Combine(photos, "b.jpg"), "this is not a JPEG");
        File.Copy(Coffee, Path.Combine(photos, "c.png"));
        File.WriteAllText(Path.Combine(photos, "notes.txt"), "skipped: not an image name");
        Directory.CreateDirectory(Path.Combine(photos, "sub"));
        File.Copy(Small, Path.Combine(photos, "sub", "d.png"));
        return photos;
    }

    private static JsonElement[] Lines(string jsonl) =>
        jsonl.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();

    private static void AssertClassified(JsonElement result, string path, Classification expected)
    {
        Assert.Equal(path, result.GetProperty("image").GetString());
        var top = result.GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(expected.Top.Count, top.Length);
        for (int i = 0; i < top.Length; i++)
        {
            Assert.Equal(expected.Top[i].ClassIndex, top[i].GetProperty("index").GetInt32());
            Assert.Equal(expected.Top[i].Label, top[i].GetProperty("label").GetString());
            Assert.Equal(expected.Top[i].Probability, top[i].GetProperty("probability").GetSingle(), 1e-5f);
        }
    }

    [Fact]
    public void A_folder_with_a_corrupt_file_in_the_middle_goes_on_and_exits_2()
    {
        string photos = Folder();
        var r = Run("classify", photos, "--format", "jsonl", "--top", "3", "--threads", "1");
        Assert.True(r.Code == 2, $"exit {r.Code}, stderr: {r.Err}");
        string bad = Path.Combine(photos, "b.jpg");
        Assert.Contains($"aotvit: error: {bad}: ", r.Err);
        Assert.EndsWith("aotvit: 1 of 3 images failed\n", r.Err);
        Assert.Contains("skipped 1 file(s)", r.Err);
        Assert.DoesNotContain("images/s", r.Err);   // stderr is not a terminal: no progress line

        var lines = Lines(r.Out);
        Assert.Equal(3, lines.Length);
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 1 });
        AssertClassified(lines[0], Path.Combine(photos, "a.png"), model.Classify(Image, 3));
        Assert.Equal(bad, lines[1].GetProperty("image").GetString());
        Assert.StartsWith($"{bad}: ", lines[1].GetProperty("error").GetString());
        AssertClassified(lines[2], Path.Combine(photos, "c.png"), model.Classify(Coffee, 3));
        Assert.Equal(451, lines[0].GetProperty("width").GetInt32());
        Assert.Equal(300, lines[0].GetProperty("height").GetInt32());

        // --recursive adds sub/d.png after c.png (names in ordinal order, depth first); all good files: exit 0.
        File.Delete(bad);
        var all = Run("classify", photos, "-r", "--format", "jsonl", "--top", "1", "--threads", "1", "--batch", "2", "--decoders", "2");
        Assert.True(all.Code == 0, all.Err);
        var names = Lines(all.Out).Select(l => l.GetProperty("image").GetString()).ToArray();
        Assert.Equal(new[] { "a.png", "c.png", Path.Combine("sub", "d.png") }.Select(n => Path.Combine(photos, n)), names);
        AssertClassified(Lines(all.Out)[2], Path.Combine(photos, "sub", "d.png"), model.Classify(Small, 1));
        Assert.DoesNotContain("failed", all.Err);
    }

    [Fact]
    public void Stdin_is_one_image_named_dash()
    {
        var r = RunWithStdin(File.ReadAllBytes(Image), [], "classify", "-", "--format", "jsonl", "--top", "2", "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 1 });
        AssertClassified(Lines(r.Out).Single(), "-", model.Classify(Image, 2));

        var empty = RunWithStdin([], [], "classify", "-", "--threads", "1");
        AssertInputError(empty, "stdin: no data (stdin was empty)");
        AssertUsage(Run("classify", "-", "-"), "'-' (stdin) given twice");
    }

    [Fact]
    public void Embed_jsonl_keeps_the_input_order_over_batches_and_matches_the_api()
    {
        string[] inputs = [Coffee, Image, Small, Coffee, Image];   // not sorted, with repeats: the order is the given one
        var r = Run(["embed", .. inputs, "--format", "jsonl", "--full", "--threads", "1", "--batch", "2", "--decoders", "3"]);
        Assert.True(r.Code == 0, r.Err);
        var lines = Lines(r.Out);
        Assert.Equal(inputs, lines.Select(l => l.GetProperty("image").GetString()));
        using var vit = FeatureExtractor.CreateSynthetic("vit-base-patch32-224-in21k", new ModelOptions { Threads = 1 });
        for (int i = 0; i < inputs.Length; i++)
        {
            var expected = vit.Extract(inputs[i]);
            float[] pooled = lines[i].GetProperty("pooler_output").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            Assert.Equal(768, pooled.Length);
            for (int j = 0; j < pooled.Length; j++) Assert.Equal(expected.PoolerOutput![j], pooled[j], 1e-5f);
            Assert.Equal([50, 768], lines[i].GetProperty("last_hidden_state_shape").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(50 * 768, lines[i].GetProperty("last_hidden_state").GetArrayLength());
        }
    }

    [Fact]
    public void Json_is_one_document_with_the_counts_in_both_commands()
    {
        string photos = Folder();
        string output = Path.Combine(_dir, "out.json");
        var c = Run("classify", photos, "--json", "--logits", "-o", output, "--threads", "1");
        Assert.Equal(2, c.Code);
        Assert.Equal("", c.Out);
        using var doc = JsonDocument.Parse(File.ReadAllText(output));
        Assert.Equal(3, doc.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(1, doc.RootElement.GetProperty("failed").GetInt32());
        var results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(1000, results[0].GetProperty("logits").GetArrayLength());
        Assert.True(results[1].TryGetProperty("error", out _));

        var e = Run("embed", Image, "--format", "json", "--threads", "1");
        Assert.True(e.Code == 0, e.Err);
        using var embedDoc = JsonDocument.Parse(e.Out);
        Assert.Equal(768, embedDoc.RootElement.GetProperty("results")[0].GetProperty("pooler_output").GetArrayLength());
        // The same layout: two-space indentation, members one per line, a vector on one line.
        Assert.Contains("\n  \"results\": [\n    {\n      \"image\": ", e.Out);
        Assert.Contains("\n      \"pooler_output\": [", e.Out);
        Assert.Contains("\n  \"results\": [\n    {\n      \"image\": ", File.ReadAllText(output));
        Assert.Contains("\n      \"logits\": [", File.ReadAllText(output));
    }

    [Fact]
    public void Npy_rows_and_the_index_file_name_each_image()
    {
        string photos = Folder();
        string stem = Path.Combine(_dir, "logits");
        var r = Run("classify", photos, "--format", "npy", "-o", stem + ".npy", "--threads", "1");
        Assert.Equal(2, r.Code);
        var (descr, shape, data) = ReadNpy(stem + ".npy");
        Assert.Equal("<f4", descr);
        Assert.Equal([2, 1000], shape);
        float[] rows = MemoryMarshal.Cast<byte, float>(data).ToArray();
        using var model = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 1 });
        float[] a = model.Classify(Image).Logits, c = model.Classify(Coffee).Logits;
        for (int j = 0; j < 1000; j++)
        {
            Assert.Equal(a[j], rows[j], 1e-5f);
            Assert.Equal(c[j], rows[1000 + j], 1e-5f);
        }
        string[] index = File.ReadAllLines(stem + ".index.tsv");
        Assert.Equal("row\timage\terror", index[0]);
        Assert.Equal($"0\t{Path.Combine(photos, "a.png")}\t", index[1]);
        Assert.StartsWith($"\t{Path.Combine(photos, "b.jpg")}\t{Path.Combine(photos, "b.jpg")}: ", index[2]);
        Assert.Equal($"1\t{Path.Combine(photos, "c.png")}\t", index[3]);
        Assert.Equal(4, index.Length);

        var e = Run("embed", Image, Small, "--format", "npy", "--full", "-o", Path.Combine(_dir, "emb"), "--threads", "1");
        Assert.True(e.Code == 0, e.Err);
        Assert.Equal([2, 768], ReadNpy(Path.Combine(_dir, "emb.npy")).Shape);
        Assert.Equal([2, 50, 768], ReadNpy(Path.Combine(_dir, "emb.last_hidden_state.npy")).Shape);
    }

    [Fact]
    public void Globs_the_shell_left_alone_are_expanded_in_order()
    {
        string photos = Folder();
        var r = Run("classify", Path.Combine(photos, "*.png"), Path.Combine(photos, "s?b", "[a-d].png"), "--format", "jsonl", "--top", "1", "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(new[] { "a.png", "c.png", Path.Combine("sub", "d.png") }.Select(n => Path.Combine(photos, n)),
                     Lines(r.Out).Select(l => l.GetProperty("image").GetString()));

        string none = Path.Combine(photos, "*.gif");
        var missing = Run("classify", none, Image, "--format", "jsonl", "--threads", "1");
        AssertInputError(missing, $"no file matches '{none}'");
        Assert.Equal(Image, Lines(missing.Out)[1].GetProperty("image").GetString());
    }

    [Fact]
    public async Task Fifos_sockets_and_devices_in_listings_are_skipped_but_a_named_fifo_is_read()
    {
        // A FIFO with no writer would block the decoder's open forever, a device may never end: listings and patterns
        // take regular files only (links followed) and say how many they left out.
        string photos = Directory.CreateDirectory(Path.Combine(_dir, "special")).FullName;
        File.Copy(Image, Path.Combine(photos, "a.png"));
        Assert.Equal(0, RawFiles.MakeFifo(Path.Combine(photos, "b.jpg")));
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                                                         System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(photos, "c.png")));
        File.CreateSymbolicLink(Path.Combine(photos, "d.jpg"), "/dev/zero");
        File.CreateSymbolicLink(Path.Combine(photos, "e.png"), Path.Combine(photos, "a.png"));

        var r = Run("classify", photos, "--format", "jsonl", "--top", "1", "--threads", "1");
        Assert.True(r.Code == 0, $"exit {r.Code}, stderr: {r.Err}");
        Assert.Contains("aotvit: skipped 3 FIFO(s), socket(s) or device(s) with image names", r.Err);
        Assert.Equal(new[] { "a.png", "e.png" }.Select(n => Path.Combine(photos, n)), Lines(r.Out).Select(l => l.GetProperty("image").GetString()));

        var pattern = Run("classify", Path.Combine(photos, "*"), "--format", "jsonl", "--top", "1", "--threads", "1");
        Assert.True(pattern.Code == 0, $"exit {pattern.Code}, stderr: {pattern.Err}");
        Assert.Contains("aotvit: skipped 3 FIFO(s)", pattern.Err);
        Assert.Equal(2, Lines(pattern.Out).Length);
        string onlySpecial = Path.Combine(photos, "[bcd].*");
        AssertInputError(Run("classify", onlySpecial, "--threads", "1"), $"'{onlySpecial}' matches no image file (only FIFOs, sockets or devices)");

        // Named on the command line, a FIFO is the user's choice (a shell's <(...)): it is opened and read.
        string fifo = Path.Combine(photos, "b.jpg");
        var writer = Task.Run(() => File.WriteAllBytes(fifo, File.ReadAllBytes(Image)));
        var named = Run("classify", fifo, "--format", "jsonl", "--top", "1", "--threads", "1");
        Assert.True(named.Code == 0, $"exit {named.Code}, stderr: {named.Err}");
        await writer.WaitAsync(TimeSpan.FromSeconds(30));   // TimeoutException if the CLI never read the FIFO to its end
        Assert.Equal(Lines(r.Out)[0].GetProperty("top").ToString(), Lines(named.Out)[0].GetProperty("top").ToString());
    }

    [Fact]
    public void Files_whose_names_are_not_utf8_are_read_from_folders_patterns_and_arguments()
    {
        // "caf\xE9.png" (Latin-1). .NET alone lists it as "caf\uFFFD.png" and then cannot open it.
        string photos = Directory.CreateDirectory(Path.Combine(_dir, "latin1")).FullName;
        byte[] raw = [.. System.Text.Encoding.UTF8.GetBytes(photos + "/caf"), 0xE9, .. ".png"u8];
        RawFiles.Write(raw, File.ReadAllBytes(Image));
        try
        {
            using var model = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 1 });
            var expected = model.Classify(Image, 1).Top[0];
            string jsonName = $"\"image\":\"{photos}/caf\\udce9.png\"";   // JSON's escape for the byte, as Python's surrogateescape reads it
            string label = $"\"index\":{expected.ClassIndex},";

            var folder = Run("classify", photos, "--format", "jsonl", "--top", "1", "--threads", "1");
            Assert.True(folder.Code == 0, $"exit {folder.Code}, stderr: {folder.Err}");
            Assert.Contains(jsonName, folder.Out);
            Assert.Contains(label, folder.Out);

            // Text output carries the name's own bytes (read back here as UTF-8, so as U+FFFD).
            var pattern = Run("classify", Path.Combine(photos, "c*.png"), "--top", "1", "--threads", "1");
            Assert.True(pattern.Code == 0, $"exit {pattern.Code}, stderr: {pattern.Err}");
            Assert.Contains($"{photos}/caf\uFFFD.png  (451×300)", pattern.Out);

            // The shell expanded the name: its bytes are in argv, which .NET decodes lossily; the CLI reads them again.
            var argument = RunShell("exec \"$0\" \"$1\" classify \"$2\"$(printf '\\351').png --format jsonl --top 1 --threads 1", photos + "/caf");
            Assert.True(argument.Code == 0, $"exit {argument.Code}, stderr: {argument.Err}");
            Assert.Contains(jsonName, argument.Out);
            Assert.Contains(label, argument.Out);

            // -o with such a name (bytes in argv again) creates exactly that name, not "caf\uFFFD.jsonl", another one.
            var write = RunShell("exec \"$0\" \"$1\" classify \"$2\" -o \"$3\"$(printf '\\351').jsonl --format jsonl --top 1 --threads 1",
                                 Image, photos + "/caf");
            Assert.True(write.Code == 0, $"exit {write.Code}, stderr: {write.Err}");
            Assert.Contains("caf\uDCE9.jsonl", AotVit.Runtime.Interop.LinuxFiles.ListDirectory(photos, out _)!);
            Assert.Contains(label, System.Text.Encoding.UTF8.GetString(AotVit.Runtime.Interop.UserFiles.ReadAtMost(photos + "/caf\uDCE9.jsonl", "output", 1 << 20)!));
        }
        finally
        {
            RawFiles.Unlink(raw);   // Directory.Delete cannot name it
            AotVit.Runtime.Interop.UserFiles.DeleteIfExists(photos + "/caf\uDCE9.jsonl");
        }
    }

    [Fact]
    public void Version_and_help_exit_0()
    {
        var v = Run("--version");
        Assert.True(v.Code == 0, v.Err);
        Assert.Equal($"aotvit {BuildInfo.InformationalVersion}\n", v.Out);

        foreach (var args in new[] { new[] { "help", "classify" }, ["classify", "--help"], ["classify", "x.png", "-h", "--bogus"] })
        {
            var h = Run(args);
            Assert.True(h.Code == 0, $"{string.Join(' ', args)}: exit {h.Code}, {h.Err}");
            Assert.Contains("aotvit classify INPUT...", h.Out);
            Assert.DoesNotContain("aotvit embed", h.Out);
        }
        var embed = Run("embed", "--help");
        Assert.Equal(0, embed.Code);
        Assert.Contains("--full", embed.Out);
        var all = Run("help");
        Assert.Equal(0, all.Code);
        Assert.Contains("aotvit make-weights", all.Out);
        AssertUsage(Run("help", "clasify"), "unknown command 'clasify'");
    }

    [Theory]
    [InlineData("unknown option '--bogus'", "--bogus")]
    [InlineData("unknown option '-x'", "-x")]
    [InlineData("--format must be text, json, jsonl or npy, got 'xml'", "--format", "xml")]
    [InlineData("--format npy needs -o FILE", "--format", "npy")]
    [InlineData("--json and --format jsonl disagree", "--json", "--format", "jsonl")]
    [InlineData("--batch must be an integer from 1 to 64, got '0'", "--batch", "0")]
    [InlineData("--decoders must be an integer from 1 to 64, got 'two'", "--decoders", "two")]
    [InlineData("unknown model 'resnet-50'", "--model", "resnet-50")]
    public void Usage_errors_come_before_the_weights_are_touched(string expected, params string[] options)
    {
        // The weights path is a FIFO with no writer: a run that looked at the weights before checking its options would
        // fail on it ("not a regular file", exit 2; or hang in open() where the file's kind cannot be read) instead of
        // exiting 1 with the usage message.
        string fifo = Path.Combine(_dir, "weights.fifo");
        if (!File.Exists(fifo)) Assert.Equal(0, RawFiles.MakeFifo(fifo));
        var r = Run(["classify", Image, "--weights", fifo, .. options]);
        Assert.True(r.Code == 1, $"exit {r.Code}, stderr: {r.Err}");
        string[] lines = r.Err.Split('\n');
        Assert.StartsWith("aotvit: " + expected, lines[0], StringComparison.Ordinal);   // nothing said before it: no load, no warning
        Assert.Equal("usage:", lines[1]);
        Assert.DoesNotContain("WARNING", r.Err);
    }
}

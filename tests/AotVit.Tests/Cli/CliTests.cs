// The `aotvit` command line as a user meets it: the JIT build of src/Cli run as a child process (the test project
// references it for build order only). Exit codes (0 ok, 1 usage, 2 input error), messages in plain words (the
// NativeAOT build strips the runtime's resource strings, so every message a user can trigger here is our own text),
// and options that do not apply to a command rejected instead of ignored.

using System.Diagnostics;
using System.Text.Json;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Cli;

[Trait("Category", "Cli")]
public sealed class CliTests : IDisposable
{
    // aotvit.dll through the dotnet host: the apphost beside it is missing after a NativeAOT publish of src/Cli, which
    // leaves a self-contained layout in the same folder (the host runs both layouts).
    internal static readonly string Dll = TestPaths.Repo("src", "Cli", "bin", "Release", "net10.0", "linux-x64", "aotvit.dll");
    private static readonly string Host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    internal static readonly string Image = TestPaths.Data("images", "chelsea.png");
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int Code, string Out, string Err) Run(params string[] args) => RunWith([], args);

    internal static (int Code, string Out, string Err) RunWith((string Name, string Value)[] environment, params string[] args) =>
        RunWithStdin(null, environment, args);

    /// <summary>Runs the CLI with <paramref name="stdin"/> (null: none, stdin closed at once) as its standard input.</summary>
    internal static (int Code, string Out, string Err) RunWithStdin(byte[]? stdin, (string Name, string Value)[] environment, params string[] args) =>
        Finish(Start(environment, args), stdin, string.Join(' ', args));

    /// <summary>
    /// Runs <paramref name="script"/> with /bin/sh, where "$0" "$1" start the CLI (the host and the dll) and "$2"… are
    /// <paramref name="args"/>: for arguments a .NET string cannot carry, such as file name bytes that are not UTF-8
    /// (<c>"$2"$(printf '\351')</c>).
    /// </summary>
    internal static (int Code, string Out, string Err) RunShell(string script, params string[] args)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in (string[])["-c", script, Host, Dll, .. args]) start.ArgumentList.Add(a);
        return Finish(Process.Start(start)!, null, script);
    }

    private static (int Code, string Out, string Err) Finish(Process started, byte[]? stdin, string description)
    {
        using Process process = started;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            try { process.StandardInput.BaseStream.Write(stdin); }
            catch (IOException) { }   // the child exited without reading it all: its exit code and stderr say why
        }
        process.StandardInput.Close();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"aotvit {description} did not finish in 120 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    internal static Process Start((string Name, string Value)[] environment, string[] args)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: build the solution (dotnet build aot-vit.sln -c Release)");
        var start = new ProcessStartInfo(Host) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return Process.Start(start)!;
    }

    internal static void AssertInputError((int Code, string Out, string Err) r, string expected)
    {
        Assert.True(r.Code == 2, $"exit {r.Code}, stderr: {r.Err}");
        Assert.Contains("aotvit: error: ", r.Err);
        Assert.Contains(expected, r.Err);
        Assert.DoesNotContain("internal error", r.Err);
    }

    [Fact]
    public void Classify_prints_json_with_the_synthetic_warning()
    {
        var r = Run("classify", Image, "--json", "--top", "2", "--threads", "1");
        Assert.True(r.Code == 0, r.Err);
        Assert.Contains("SYNTHETIC checkpoint", r.Err);
        using var json = JsonDocument.Parse(r.Out);
        Assert.True(json.RootElement.GetProperty("synthetic").GetBoolean());
        JsonElement first = json.RootElement.GetProperty("results").EnumerateArray().Single();
        Assert.Equal(2, first.GetProperty("top").GetArrayLength());
    }

    [Fact]
    public void Selftest_passes_here_and_exits_4_when_a_model_output_disagrees()
    {
        var r = Run("selftest", "--image", Image);
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains("kernels: ", r.Out);
        Assert.Contains(" checks passed", r.Out);
        Assert.Contains("ok   mobilevit-small forward", r.Out);
        Assert.Contains("ok   vit-base-patch32-224-in21k forward", r.Out);

        // Another image: the kernels still pass, the built-in chelsea values do not.
        var wrong = Run("selftest", "--image", TestPaths.Data("images", "coffee.png"));
        Assert.Equal(4, wrong.Code);
        Assert.Contains("kernels: ", wrong.Out);
        Assert.Contains(", 0 failed", wrong.Out);
        Assert.Contains("FAIL vit-base-patch32-224-in21k forward", wrong.Out);

        string missing = Path.Combine(_dir, "chelsea.png");
        AssertInputError(Run("selftest", "--image", missing), $"not found at {missing}");

        // --kernels: the kernel checks only, no image needed.
        var kernels = Run("selftest", "--kernels");
        Assert.True(kernels.Code == 0, kernels.Out + kernels.Err);
        Assert.Contains(", 0 failed", kernels.Out);
        Assert.DoesNotContain("forward", kernels.Out);
        Assert.Equal(1, Run("selftest", "--kernels", "--image", Image).Code);
    }

    [Fact]
    public void Missing_or_unreadable_inputs_are_input_errors_in_plain_words()
    {
        string missing = Path.Combine(_dir, "missing.png");
        AssertInputError(Run("classify", missing), $"image file not found: {missing}");
        AssertInputError(Run("classify", Path.Combine(_dir, "no-dir", "x.png")), "(no such directory)");
        AssertInputError(Run("classify", _dir), $"directory '{_dir}' holds no image files");
        AssertInputError(Run("classify", ""), "image file path is empty");

        string text = Path.Combine(_dir, "notes.png");
        File.WriteAllText(text, "not an image");
        AssertInputError(Run("classify", text), $"{text}: ");

        string checkpoint = Path.Combine(_dir, "missing.safetensors");
        AssertInputError(Run("embed", Image, "--weights", checkpoint), $"checkpoint not found: {checkpoint}");
        AssertInputError(Run("embed", Image, "--weights", _dir), $"checkpoint '{_dir}': no weights in this folder: expected one of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json; it holds ");
        AssertInputError(Run("embed", Image, "--weights", "no-such-org/no-such-model"), "checkpoint not found: 'no-such-org/no-such-model' is not a file or folder here, and the Hugging Face cache has no copy of it");
        AssertInputError(Run("embed", Image, "--weights", "no-such-org/no-such-model"), "huggingface-cli download no-such-org/no-such-model");
    }

    [Fact]
    public void Pytorch_model_bin_is_read_by_content_and_a_hostile_one_is_an_input_error()
    {
        string hostile = TestPaths.Data("torch", "hostile_os_system.bin");
        AssertInputError(Run("classify", Image, "--weights", hostile), "pickle global 'posix.system' is not allowed: not a plain state dict");
        Assert.False(File.Exists("/tmp/aotvit-torch-fixture-pwned-os_system"));
        // A readable torch file of another (tiny) model: the binder's shape errors, as for safetensors.
        string tiny = Path.Combine(_dir, "weights.data");   // no telling extension: recognised by content
        File.Copy(TestPaths.Data("torch", "vit_p2_f32.bin"), tiny);
        AssertInputError(Run("embed", Image, "--weights", tiny), "tensor 'embeddings.cls_token': expected shape [1, 1, 768], found [1, 1, 3]");
    }

    /// <summary>A .npy file as NumPy writes version 1.0: (descr, shape, data).</summary>
    internal static (string Descr, long[] Shape, byte[] Data) ReadNpy(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0], bytes[..8]);
        int headerLength = bytes[8] | bytes[9] << 8;
        Assert.Equal(0, (10 + headerLength) % 64);
        string header = System.Text.Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.EndsWith("\n", header);
        var m = System.Text.RegularExpressions.Regex.Match(header, @"^\{'descr': '([^']+)', 'fortran_order': False, 'shape': \(([0-9, ]*)\), \} *\n$");
        Assert.True(m.Success, header);
        long[] shape = m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return (m.Groups[1].Value, shape, bytes[(10 + headerLength)..]);
    }

    [Fact]
    public void Preprocess_writes_what_the_model_sees_as_npy_with_and_without_exif_orientation()
    {
        string photo = TestPaths.Data("imaging", "formats", "exif_png_o6.png");   // stored landscape, displayed portrait
        string decoded = Path.Combine(_dir, "decoded.npy"), stored = Path.Combine(_dir, "stored.npy"), pixels = Path.Combine(_dir, "pixels.npy");
        Assert.Equal(0, Run("preprocess", photo, "--stage", "decoded", "-o", decoded).Code);
        Assert.Equal(0, Run("preprocess", photo, "--stage", "decoded", "--no-exif-transpose", "-o", stored).Code);
        var (descr, shape, data) = ReadNpy(decoded);
        var (_, storedShape, storedData) = ReadNpy(stored);
        Assert.Equal("|u1", descr);
        RgbImage oriented = ImageDecoder.Load(photo), raw = ImageDecoder.Load(photo, applyExifOrientation: false);
        Assert.Equal([oriented.Height, oriented.Width, 3], shape);
        Assert.Equal(oriented.Pixels, data);
        Assert.Equal([raw.Height, raw.Width, 3], storedShape);
        Assert.Equal(raw.Pixels, storedData);
        Assert.Equal(shape[0], storedShape[1]);   // orientation 6 swaps the axes

        var r = Run("preprocess", photo, "--model", "google/vit-base-patch32-224-in21k", "-o", pixels);
        Assert.True(r.Code == 0, r.Err);
        var (floatDescr, floatShape, floatData) = ReadNpy(pixels);
        Assert.Equal("<f4", floatDescr);
        Assert.Equal([1, 3, 224, 224], floatShape);
        var expected = new float[3 * 224 * 224];
        Preprocessor.Run(oriented, ModelCatalog.Find("vit-base-patch32-224-in21k").Plan, expected);
        Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(floatData).ToArray());

        AssertUsage(Run("preprocess", photo), "preprocess needs -o OUT.npy");
        AssertUsage(Run("preprocess", photo, "--stage", "resized", "-o", pixels), "--stage must be decoded or pixel_values, got 'resized'");
        AssertUsage(Run("preprocess", "-o", pixels), "preprocess needs one IMAGE");
    }

    [Fact]
    public void Classify_orients_photos_by_exif_unless_told_not_to()
    {
        string turned = TestPaths.Data("imaging", "formats", "exif_png_o6.png");
        var a = Run("classify", turned, "--json", "--threads", "1");
        var b = Run("classify", turned, "--json", "--threads", "1", "--no-exif-transpose");
        Assert.True(a.Code == 0 && b.Code == 0, a.Err + b.Err);
        using var oriented = JsonDocument.Parse(a.Out);
        using var storedJson = JsonDocument.Parse(b.Out);
        Assert.NotEqual(oriented.RootElement.GetProperty("results").GetRawText(), storedJson.RootElement.GetProperty("results").GetRawText());
    }

    internal static void AssertUsage((int Code, string Out, string Err) r, string expected)
    {
        Assert.True(r.Code == 1, $"exit {r.Code}, stderr: {r.Err}");
        Assert.Contains(expected, r.Err);
    }

    [Fact]
    public void A_hub_repo_id_loads_offline_from_the_cache_the_environment_names()
    {
        // The cache as huggingface_hub writes it: blobs, relative symlinks from the snapshot, refs/main.
        const string commit = "0123456789abcdef0123456789abcdef01234567";
        string repo = Path.Combine(_dir, "hf", "hub", "models--apple--mobilevit-small");
        string snapshot = Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit)).FullName;
        Directory.CreateDirectory(Path.Combine(repo, "blobs"));
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), commit);
        SyntheticCheckpoint.Write("mobilevit-small", Path.Combine(repo, "blobs", "aa11"));
        File.Copy(TestPaths.Repo("src", "Graphs", "mobilevit-small", "config.json"), Path.Combine(repo, "blobs", "bb22"));
        File.CreateSymbolicLink(Path.Combine(snapshot, "model.safetensors"), "../../blobs/aa11");
        File.CreateSymbolicLink(Path.Combine(snapshot, "config.json"), "../../blobs/bb22");

        var fromCache = RunWith([("HF_HOME", Path.Combine(_dir, "hf")), ("HF_HUB_CACHE", "")],
                                "classify", Image, "--weights", "apple/mobilevit-small", "--json", "--threads", "1");
        Assert.True(fromCache.Code == 0, fromCache.Err);
        Assert.Contains($"Hugging Face cache: apple/mobilevit-small at main (commit {commit})", fromCache.Err);
        Assert.Contains("--weights is a SYNTHETIC checkpoint", fromCache.Err);
        var fromFile = Run("classify", Image, "--weights", Path.Combine(repo, "blobs", "aa11"), "--json", "--threads", "1");
        Assert.True(fromFile.Code == 0, fromFile.Err);
        using var a = JsonDocument.Parse(fromCache.Out);
        using var b = JsonDocument.Parse(fromFile.Out);
        Assert.Equal(b.RootElement.GetProperty("results").GetRawText(), a.RootElement.GetProperty("results").GetRawText());
    }

    [Fact]
    public void A_checkpoint_changed_while_it_loads_is_an_input_error_never_a_signal()
    {
        // What a service sees when another process rewrites the weights it is loading: the model reads by position,
        // so a shortened or rewritten file is a checkpoint error (exit 2), not SIGBUS (exit 135) from a mapped page.
        // The change is made once the child has read a given amount (its /proc/PID/io rchar), so it lands mid-load.
        string pristine = Path.Combine(_dir, "vit-pristine.safetensors");
        SyntheticCheckpoint.Write("vit-base-patch32-224-in21k", pristine);
        long size = new FileInfo(pristine).Length;
        string path = Path.Combine(_dir, "vit.safetensors");
        int refused = 0;
        foreach (var (afterMiB, truncate) in new[] { (0, true), (30, true), (90, true), (160, true), (250, true), (120, false) })
        {
            File.Copy(pristine, path, overwrite: true);
            using Process process = Start([], ["embed", Image, "--weights", path, "--threads", "1"]);
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            WaitUntilRead(process, (long)afterMiB << 20);
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
            {
                if (truncate)
                {
                    stream.SetLength(size / 3);
                }
                else
                {
                    stream.Position = size - 4096;   // same length, other bytes: only the modification time tells
                    stream.Write(new byte[4096]);
                }
            }
            Assert.True(process.WaitForExit(120_000), "aotvit did not finish");
            string err = stderr.Result;
            string what = truncate ? $"truncated after {afterMiB} MiB read" : $"rewritten after {afterMiB} MiB read";
            Assert.True(process.ExitCode is 0 or 2, $"{what}: exit {process.ExitCode} (a signal is 128 + its number); stderr: {err}");
            if (process.ExitCode == 2)
            {
                refused++;
                Assert.Matches("it was truncated or replaced while it was being read|changed while it was being read|modified while it was being read|end beyond the data buffer", err);
                Assert.DoesNotContain("internal error", err);
            }
        }
        Assert.True(refused >= 3, $"only {refused} of 6 loads saw the change: the test proved little");
    }

    /// <summary>Waits until the process has read at least <paramref name="bytes"/> through read/pread (Linux rchar), or
    /// has exited; elsewhere waits a fixed time per 100 MiB.</summary>
    private static void WaitUntilRead(Process process, long bytes)
    {
        string io = $"/proc/{process.Id}/io";
        if (!File.Exists(io))
        {
            Thread.Sleep((int)(bytes / (100 << 20) * 200));
            return;
        }
        var clock = Stopwatch.StartNew();
        while (!process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                string? line = File.ReadLines(io).FirstOrDefault(l => l.StartsWith("rchar:", StringComparison.Ordinal));
                if (line is not null && long.Parse(line[6..].Trim(), System.Globalization.CultureInfo.InvariantCulture) >= bytes) return;
            }
            catch (IOException)
            {
                return;   // exited between the checks
            }
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void Another_models_checkpoint_is_named_once()
    {
        string mobilevit = Path.Combine(_dir, "mobilevit.safetensors");
        SyntheticCheckpoint.Write("mobilevit-small", mobilevit, dtype: AotVit.Runtime.Weights.DType.BF16);
        var r = Run("embed", Image, "--weights", mobilevit);
        AssertInputError(r, $"checkpoint '{mobilevit}': 200 of the 200 expected tensors are missing, e.g. ");
        Assert.Equal(1, r.Err.Split("is this a vit-base-patch32-224-in21k checkpoint?").Length - 1);
    }

    [Fact]
    public void Outputs_in_missing_directories_fail_before_any_work()
    {
        string noDir = Path.Combine(_dir, "no-dir");
        AssertInputError(Run("make-weights", "mobilevit", Path.Combine(noDir, "w.safetensors")), $"directory '{noDir}' does not exist");
        AssertInputError(Run("bench", "--model", "mobilevit", "--markdown", Path.Combine(noDir, "b.md")), $"directory '{noDir}' does not exist");
        Assert.False(Directory.Exists(noDir));
        if (Directory.Exists("/proc/self"))
        {
            AssertInputError(Run("make-weights", "mobilevit", "/proc/aotvit-cli.safetensors"), "cannot create safetensors file '/proc/aotvit-cli.safetensors'");
            var bench = Run("bench", "--model", "mobilevit", "--markdown", "/proc/aotvit-cli.md");
            AssertInputError(bench, "cannot create markdown file '/proc/aotvit-cli.md'");
            Assert.DoesNotContain("measured FMA peak", bench.Out);   // refused before any timing
        }
    }

    [Theory]
    [InlineData("option '--top' does not apply to 'embed'", "embed", "IMAGE", "--top", "3")]
    [InlineData("option '--full' does not apply to 'classify'", "classify", "IMAGE", "--full")]
    [InlineData("--weights applies to one model: give --model NAME too", "bench", "--weights", "w.safetensors")]
    [InlineData("unknown model 'resnet-50'; compiled models: ", "classify", "x.png", "--model", "resnet-50")]
    [InlineData("'classify' needs an image classifier; 'vit-base-patch32-224-in21k' is a feature extractor (use embed)", "classify", "x.png", "--model", "google/vit-base-patch32-224-in21k")]
    [InlineData("'embed' needs a feature extractor; 'mobilevit-small' is an image classifier (use classify)", "embed", "x.png", "--model", "mobilevit-small")]
    [InlineData("'info' takes no arguments, got 'extra'", "info", "extra")]
    [InlineData("'bench' takes no arguments, got 'vit'", "bench", "vit")]
    [InlineData("unknown option '--bogus'", "classify", "IMAGE", "--bogus")]
    [InlineData("--top must be an integer from 1 to 1000, got '0'", "classify", "IMAGE", "--top", "0")]
    [InlineData("no INPUT given", "embed")]
    [InlineData("unknown command 'clasify'", "clasify", "IMAGE")]
    public void Usage_errors_exit_1_and_say_what_is_wrong(string expected, params string[] args)
    {
        var r = Run(args.Select(a => a == "IMAGE" ? Image : a).ToArray());
        Assert.True(r.Code == 1, $"exit {r.Code}, stderr: {r.Err}");
        Assert.Contains(r.Err.Split('\n'), line => line.StartsWith("aotvit: " + expected, StringComparison.Ordinal));
        Assert.Contains("usage:", r.Err);
    }
}

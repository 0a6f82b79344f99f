// The `aotvit` command line as a user meets it: the JIT build of src/Cli run as a child process (the test project
// references it for build order only). Exit codes (0 ok, 1 usage, 2 input error), messages in plain words (the
// NativeAOT build strips the runtime's resource strings, so every message a user can trigger here is our own text),
// and options that do not apply to a command rejected instead of ignored.

using System.Diagnostics;
using System.Text.Json;
using Xunit;

namespace AotVit.Tests.Cli;

[Trait("Category", "Cli")]
public sealed class CliTests : IDisposable
{
    // aotvit.dll through the dotnet host: the apphost beside it is missing after a NativeAOT publish of src/Cli, which
    // leaves a self-contained layout in the same folder (the host runs both layouts).
    private static readonly string Dll = TestPaths.Repo("src", "Cli", "bin", "Release", "net10.0", "linux-x64", "aotvit.dll");
    private static readonly string Host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
    private static readonly string Image = TestPaths.Data("images", "chelsea.png");
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        Assert.True(File.Exists(Dll), $"{Dll} is missing: build the solution (dotnet build aot-vit.sln -c Release)");
        var start = new ProcessStartInfo(Host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"aotvit {string.Join(' ', args)} did not finish in 120 s");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static void AssertInputError((int Code, string Out, string Err) r, string expected)
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
    public void Missing_or_unreadable_inputs_are_input_errors_in_plain_words()
    {
        string missing = Path.Combine(_dir, "missing.png");
        AssertInputError(Run("classify", missing), $"image file not found: {missing}");
        AssertInputError(Run("classify", Path.Combine(_dir, "no-dir", "x.png")), "(no such directory)");
        AssertInputError(Run("classify", _dir), $"image file '{_dir}' is a directory, not a file");
        AssertInputError(Run("classify", ""), "image file path is empty");

        string text = Path.Combine(_dir, "notes.png");
        File.WriteAllText(text, "not an image");
        AssertInputError(Run("classify", text), $"{text}: ");

        string checkpoint = Path.Combine(_dir, "missing.safetensors");
        AssertInputError(Run("embed", Image, "--weights", checkpoint), $"checkpoint not found: {checkpoint}");
        AssertInputError(Run("embed", Image, "--weights", _dir), $"checkpoint '{_dir}' is a directory, not a file");
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
    [InlineData("option '--weights' does not apply to 'bench'", "bench", "--weights", "w.safetensors")]
    [InlineData("'info' takes no arguments, got 'extra'", "info", "extra")]
    [InlineData("'bench' takes no arguments, got 'vit'", "bench", "vit")]
    [InlineData("unknown option '--bogus'", "classify", "IMAGE", "--bogus")]
    [InlineData("--top must be an integer from 1 to 1000, got '0'", "classify", "IMAGE", "--top", "0")]
    [InlineData("no IMAGE given", "embed")]
    [InlineData("unknown command 'clasify'", "clasify", "IMAGE")]
    public void Usage_errors_exit_1_and_say_what_is_wrong(string expected, params string[] args)
    {
        var r = Run(args.Select(a => a == "IMAGE" ? Image : a).ToArray());
        Assert.True(r.Code == 1, $"exit {r.Code}, stderr: {r.Err}");
        Assert.Contains(r.Err.Split('\n'), line => line.StartsWith("aotvit: " + expected, StringComparison.Ordinal));
        Assert.Contains("usage:", r.Err);
    }
}

// Ctrl-C in the middle of a long run: SIGINT sent to a running `aotvit embed FOLDER --format npy -o FILE` stops it
// after the batch under way, with exit status 130 and a message, and leaves FILE.npy a valid array whose header counts
// exactly the rows written, with FILE.index.tsv listing the same rows. A run whose next input never comes (a FIFO that
// no one writes) stops on the first signal too.

using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace AotVit.Tests.Cli;

[Trait("Category", "Cli")]
public sealed partial class CliInterruptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-cli-interrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private const int SIGINT = 2, RowBytes = 768 * 4;

    [Fact]
    public void Ctrl_C_during_an_npy_run_leaves_a_valid_array_of_the_rows_written()
    {
        const int Images = 1000;
        string photos = Directory.CreateDirectory(Path.Combine(_dir, "photos")).FullName;
        byte[] image = File.ReadAllBytes(TestPaths.Data("images", "bilevel.png"));
        for (int i = 0; i < Images; i++) File.WriteAllBytes(Path.Combine(photos, $"{i:D4}.png"), image);
        string npy = Path.Combine(_dir, "out.npy"), index = Path.Combine(_dir, "out.index.tsv");

        using var process = CliTests.Start([], ["embed", photos, "--format", "npy", "-o", npy, "--threads", "1", "--batch", "1", "--decoders", "1"]);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Close();
        try
        {
            // Rows are on disk (the header is at most 128 bytes): the run is under way.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(npy) && new FileInfo(npy).Length >= 128 + 3 * RowBytes) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120))
                Thread.Sleep(20);
            if (process.HasExited) Assert.Fail($"aotvit ended before it was interrupted: exit {process.ExitCode}, stderr: {stderr.Result}");
            Assert.Equal(0, Kill(process.Id, SIGINT));
            Assert.True(process.WaitForExit(60_000), "aotvit did not stop after SIGINT");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}, stderr: {stderr.Result}");
        Assert.Matches(@"aotvit: interrupted: stopped after \d+ of 1000 images \(0 failed\); the output files hold their results\n$", stderr.Result);
        Assert.Equal("", stdout.Result);

        string[] lines = File.ReadAllLines(index);
        Assert.Equal("row\timage\terror", lines[0]);
        int rows = lines.Length - 1;
        for (int r = 0; r < rows; r++) Assert.Equal($"{r}\t{Path.Combine(photos, $"{r:D4}.png")}\t", lines[r + 1]);
        Assert.InRange(rows, 3, Images - 1);

        byte[] bytes = File.ReadAllBytes(npy);
        Assert.Equal("\x93NUMPY", Encoding.Latin1.GetString(bytes, 0, 6));
        int headerLength = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Contains($"'shape': ({rows}, 768)", Encoding.ASCII.GetString(bytes, 10, headerLength - 10));
        Assert.Equal(headerLength + (long)rows * RowBytes, bytes.Length);
    }

    [Fact]
    public async Task A_signal_stops_a_run_whose_next_input_is_a_fifo_that_no_one_writes()
    {
        // The decoder's open() of the FIFO never returns. The run still stops on the first signal: the results so far
        // are complete (jsonl, one line), the message says so, and the process exits 130 after the decoders' grace.
        string fifo = Path.Combine(_dir, "never.jpg");
        Assert.Equal(0, AotVit.Fuzzing.RawFiles.MakeFifo(fifo));
        using var process = CliTests.Start([], ["classify", TestPaths.Data("images", "coffee.png"), fifo, "--format", "jsonl", "--top", "1",
                                                 "--threads", "1", "--decoders", "1"]);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Close();
        try
        {
            string? first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Contains("coffee.png", first);
            Thread.Sleep(200);   // the consumer is now waiting for the FIFO's image
            Assert.Equal(0, Kill(process.Id, SIGINT));
            Assert.True(process.WaitForExit(30_000), "aotvit did not stop after SIGINT");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }

        string err = await stderr;
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}, stderr: {err}");
        Assert.Equal("", await process.StandardOutput.ReadToEndAsync());
        Assert.Contains("aotvit: interrupted: stopped after 1 of 2 images (0 failed); their results are above\n", err);
        Assert.EndsWith("aotvit: a decoder is still reading its input (a FIFO with no writer?); exiting without it\n", err);
    }
}

// How failures reach the user: an input the model cannot take (here an image whose aspect ratio makes the resize
// intermediate exceed Preprocessor.MaxResizedPixels) is an input error, exit 2, with the runtime's own message naming
// the file; an exception that is not the input's fault (ArgumentException from a kernel precondition included) is an
// internal error, exit 3. The second cannot be provoked from outside, so it is checked on the CLI's own mapping
// (CommandLine.Failure, loaded from aotvit.dll), which is what the command's top-level handler calls.

using System.Reflection;
using Xunit;
using static AotVit.Tests.Cli.CliTests;

namespace AotVit.Tests.Cli;

[Trait("Category", "Cli")]
public sealed class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-cli-errors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>An uncompressed 24-bit BMP, every pixel grey.</summary>
    internal static byte[] Bmp(int width, int height)
    {
        int stride = (3 * width + 3) & ~3;
        var bmp = new byte[54 + stride * height];
        var s = bmp.AsSpan();
        s[0] = (byte)'B'; s[1] = (byte)'M';
        BitConverter.TryWriteBytes(s[2..], bmp.Length);
        BitConverter.TryWriteBytes(s[10..], 54);          // pixel data offset
        BitConverter.TryWriteBytes(s[14..], 40);          // BITMAPINFOHEADER
        BitConverter.TryWriteBytes(s[18..], width);
        BitConverter.TryWriteBytes(s[22..], height);
        BitConverter.TryWriteBytes(s[26..], (short)1);    // planes
        BitConverter.TryWriteBytes(s[28..], (short)24);   // bits per pixel
        s[54..].Fill(128);
        return bmp;
    }

    private string TallImage()
    {
        string path = Path.Combine(_dir, "tall.bmp");
        File.WriteAllBytes(path, Bmp(1, 4000));
        return path;
    }

    private const string TooExtreme = "a 1x4000 image resizes to 288x1152000, above the limit of 16777216 pixels; its aspect ratio is too extreme for this model";

    [Fact]
    public void An_image_too_extreme_to_resize_is_an_input_error_with_our_own_message()
    {
        string tall = TallImage();
        var r = Run("classify", tall, "--threads", "1");
        AssertInputError(r, $"aotvit: error: {tall}: {TooExtreme}");
        Assert.DoesNotContain("Arg_", r.Err);
        Assert.EndsWith("aotvit: 1 of 1 images failed\n", r.Err);
    }

    [Fact]
    public void Preprocess_of_an_image_too_extreme_to_resize_is_an_input_error()
    {
        string tall = TallImage();
        var r = Run("preprocess", tall, "-o", Path.Combine(_dir, "out.npy"));
        AssertInputError(r, $"aotvit: error: {tall}: {TooExtreme}");
        Assert.False(File.Exists(Path.Combine(_dir, "out.npy")));
    }

    [Fact]
    public void A_folder_with_an_image_too_extreme_to_resize_goes_on_and_exits_2()
    {
        string tall = TallImage();
        File.Copy(Image, Path.Combine(_dir, "cat.png"));
        var r = Run("classify", _dir, "--format", "jsonl", "--threads", "1");
        AssertInputError(r, $"aotvit: error: {tall}: {TooExtreme}");
        Assert.Single(r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.Contains("cat.png"));
    }

    private static (int Code, string Message) Failure(Exception e)
    {
        var type = Assembly.LoadFrom(Dll).GetType("AotVit.Cli.CommandLine", throwOnError: true)!;
        var method = type.GetMethod("Failure", BindingFlags.Static | BindingFlags.NonPublic)!;
        return ((int, string))method.Invoke(null, [e])!;
    }

    [Fact]
    public void Input_errors_exit_2_and_everything_else_3()
    {
        Assert.Equal((2, "aotvit: error: unknown model 'x'"), Failure(new AotVit.Runtime.InputException("unknown model 'x'")));
        Assert.Equal((2, "aotvit: error: too big"), Failure(new AotVit.Runtime.LimitExceededException("too big")));
        Assert.Equal(2, Failure(new AotVit.Runtime.Imaging.ImageDecodeException("bad")).Code);
        Assert.Equal(2, Failure(new AotVit.Runtime.Weights.CheckpointException("bad")).Code);
        Assert.Equal(2, Failure(new FileNotFoundException("image file not found: x.png")).Code);
        Assert.Equal(2, Failure(new UnauthorizedAccessException("cannot write output file 'o': permission denied")).Code);
        // A kernel's precondition is the program's bug, not the user's: exit 3, with the exception's type.
        var (code, message) = Failure(new ArgumentException("rows hold 7 floats, not a multiple of K = 3", "rows"));
        Assert.Equal(3, code);
        Assert.StartsWith("aotvit: internal error: System.ArgumentException: rows hold 7 floats", message);
        Assert.Equal(3, Failure(new ArgumentOutOfRangeException("batch")).Code);
        Assert.Equal(3, Failure(new InvalidOperationException("bug")).Code);
    }
}

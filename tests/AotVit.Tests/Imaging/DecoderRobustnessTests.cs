// Hostile input for ImageDecoder: every prefix of small files in each format, and a deterministic mutation fuzz.
// The contract under test: the result is an image or an ImageDecodeException (nothing else escapes), and each
// call returns within a time bound (a hang fails the test with the iteration that hung).

using System.Diagnostics;
using AotVit.Runtime.Imaging;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class DecoderRobustnessTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PerCallBound = TimeSpan.FromSeconds(5);     // generous: 2 shared cores, Debug build
    private static readonly ImageLimits FuzzLimits = new() { MaxPixels = 4_000_000 };

    private static string SeedPath(string file) => Path.Combine(GoldenFile.DataDirectory, "imaging", "fuzz", file);

    // strictTail: prefixes shorter than (length − strictTail) must be refused (truncation is detected);
    // −1: no such promise (GIF and RLE TGA decode a short first frame with missing pixels left black).
    [Theory]
    [InlineData("seed.png", 21)]            // Pillow needs neither IEND nor the IDAT CRC and adler32 (see FormatGoldenTests)
    [InlineData("seed.jpg", 0)]
    [InlineData("seed_progressive.jpg", 0)]
    [InlineData("seed.gif", -1)]
    [InlineData("seed_animated.gif", -1)]
    [InlineData("seed.bmp", 0)]
    [InlineData("seed.tga", 26)]            // TGA 2.0 footer is optional
    [InlineData("seed_rle.tga", -1)]
    public void EveryPrefixDecodesOrFailsCleanly(string file, int strictTail)
    {
        byte[] bytes = File.ReadAllBytes(SeedPath(file));
        int decoded = 0, refused = 0;
        RunWithHangGuard(bytes.Length + 1, length =>
        {
            if (TryDecode(bytes.AsSpan(0, length), $"{file}[..{length}]"))
            {
                decoded++;
                Assert.False(strictTail >= 0 && length < bytes.Length - strictTail,
                             $"{file}: truncated prefix of {length} of {bytes.Length} bytes was accepted");
            }
            else
            {
                refused++;
            }
        });
        output.WriteLine($"{file}: {bytes.Length + 1} prefixes, {decoded} decoded, {refused} refused");
        Assert.True(refused > 0);
        Assert.True(TryDecode(bytes, file), "the whole file must decode");
    }

    [Fact]
    public void MutatedFilesDecodeOrFailCleanly()
    {
        string[] files = Directory.GetFiles(Path.Combine(GoldenFile.DataDirectory, "imaging", "fuzz")).Order(StringComparer.Ordinal).ToArray();
        byte[][] seeds = files.Select(File.ReadAllBytes).ToArray();
        var random = new Random(20240601);
        const int Iterations = 3000;
        int decoded = 0, refused = 0;
        var messages = new Dictionary<string, int>();
        RunWithHangGuard(Iterations, iteration =>
        {
            int seedIndex = random.Next(seeds.Length);
            byte[] mutated = Mutate(seeds[seedIndex], random);
            try
            {
                if (TryDecode(mutated, $"iteration {iteration} ({Path.GetFileName(files[seedIndex])})"))
                {
                    decoded++;
                }
                else
                {
                    refused++;
                }
            }
            catch (ImageDecodeException e)
            {
                throw new InvalidOperationException("unreachable", e);
            }
        });
        output.WriteLine($"{Iterations} mutated files: {decoded} decoded, {refused} refused with ImageDecodeException");
        Assert.True(decoded > 0 && refused > 0);
    }

    private static bool TryDecode(ReadOnlySpan<byte> data, string what)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            RgbImage image = ImageDecoder.Decode(data, FuzzLimits);
            Assert.Equal((long)image.Width * image.Height * 3, image.Pixels.Length);
            return true;
        }
        catch (ImageDecodeException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            return false;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped the decoder: {e}");
            return false;
        }
        finally
        {
            Assert.True(clock.Elapsed < PerCallBound, $"{what}: decoding took {clock.Elapsed}");
        }
    }

    /// <summary>Runs body(0..count−1) on its own thread; fails if it does not finish in count·bound.</summary>
    private static void RunWithHangGuard(int count, Action<int> body)
    {
        int current = -1;
        var worker = Task.Factory.StartNew(() =>
        {
            for (int i = 0; i < count; i++)
            {
                Volatile.Write(ref current, i);
                body(i);
            }
        }, TaskCreationOptions.LongRunning);
        TimeSpan overall = TimeSpan.FromSeconds(60) + PerCallBound;
        if (!worker.Wait(overall))
        {
            Assert.Fail($"decoder did not return: stuck at iteration {Volatile.Read(ref current)} after {overall}");
        }
        worker.GetAwaiter().GetResult();   // rethrow assertion failures from the worker
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = new List<byte>(seed);
        int mutations = 1 + random.Next(4);
        for (int m = 0; m < mutations && bytes.Count > 0; m++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(7))
            {
                case 0:   // flip one bit
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:   // random byte
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 2:   // extreme byte
                    bytes[at] = random.Next(2) == 0 ? (byte)0x00 : (byte)0xFF;
                    break;
                case 3:   // truncate
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:   // interesting 32-bit value, either endianness (sizes, lengths, offsets)
                    {
                        uint[] interesting = [0, 1, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];
                        uint value = interesting[random.Next(interesting.Length)];
                        for (int b = 0; b < 4 && at + b < bytes.Count; b++)
                        {
                            int shift = random.Next(2) == 0 ? 8 * b : 8 * (3 - b);
                            bytes[at + b] = (byte)(value >> shift);
                        }
                        break;
                    }
                case 5:   // duplicate a slice
                    {
                        int length = Math.Min(1 + random.Next(64), bytes.Count - at);
                        bytes.InsertRange(at, bytes.GetRange(at, length));
                        break;
                    }
                default:  // delete a slice
                    bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                    break;
            }
        }
        return bytes.ToArray();
    }
}

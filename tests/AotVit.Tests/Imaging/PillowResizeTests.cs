// PillowResize against Pillow 9.4 BILINEAR outputs (tools/pil_goldens.py, resize_cases.bin.gz): 40 seeded
// random RGB and L images from 1x1 to 300x300, up- and down-scaling, one-axis-unchanged and identity cases.

using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class PillowResizeTests
{
    private static readonly Lazy<GoldenFile> Cases = new(() => GoldenFile.Load("resize_cases.bin.gz"));

    public static TheoryData<int> CaseIndices()
    {
        var data = new TheoryData<int>();
        int count = Cases.Value.Meta.GetProperty("cases").GetArrayLength();
        for (int i = 0; i < count; i++)
        {
            data.Add(i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesPillowBitForBit(int index)
    {
        var meta = Cases.Value.Meta.GetProperty("cases")[index];
        int channels = meta.GetProperty("channels").GetInt32();
        int inWidth = meta.GetProperty("in_w").GetInt32(), inHeight = meta.GetProperty("in_h").GetInt32();
        int outWidth = meta.GetProperty("out_w").GetInt32(), outHeight = meta.GetProperty("out_h").GetInt32();
        byte[] input = SeededBytes.Generate((ulong)meta.GetProperty("seed").GetInt32(), inWidth * inHeight * channels);
        Assert.Equal(meta.GetProperty("input_sha256").GetString(), SeededBytes.Sha256(input));
        byte[] expected = Cases.Value.Bytes($"case{index}.output");

        var actual = new byte[outWidth * outHeight * channels];
        PillowResize.Bilinear(input, inWidth, inHeight, channels, actual, outWidth, outHeight);
        AssertBytesEqual(expected, actual, outWidth * channels, $"{inWidth}x{inHeight} -> {outWidth}x{outHeight} x{channels}");

        if (channels == 3)
        {
            var image = PillowResize.Bilinear(new RgbImage(inWidth, inHeight, input), outWidth, outHeight);
            Assert.Equal(expected, image.Pixels);
        }
    }

    [Fact]
    public void CallerBufferOverloadDoesNotAllocateAfterWarmUp()
    {
        byte[] input = SeededBytes.Generate(1, 300 * 200 * 3);
        var output = new byte[224 * 224 * 3];
        PillowResize.Bilinear(input, 300, 200, 3, output, 224, 224);
        long before = GC.GetAllocatedBytesForCurrentThread();
        PillowResize.Bilinear(input, 300, 200, 3, output, 224, 224);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void RejectsTooSmallBuffers()
    {
        var input = new byte[4 * 4 * 3];
        Assert.Throws<ArgumentException>(() => PillowResize.Bilinear(input, 4, 4, 3, new byte[10], 2, 2));
        Assert.Throws<ArgumentException>(() => PillowResize.Bilinear(input.AsSpan(1), 4, 4, 3, new byte[12], 2, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => PillowResize.Bilinear(input, 4, 4, 3, new byte[12], 0, 2));
    }

    internal static void AssertBytesEqual(byte[] expected, ReadOnlySpan<byte> actual, int rowLength, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatches = 0, first = -1, maxDiff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                if (first < 0)
                {
                    first = i;
                }
                mismatches++;
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
            }
        }
        Assert.True(mismatches == 0,
            $"{what}: {mismatches} bytes differ (max |diff| {maxDiff}); first at row {first / rowLength}, " +
            $"byte {first % rowLength}: expected {(first >= 0 ? expected[first] : 0)}, got {(first >= 0 ? actual[first] : 0)}");
    }
}

// PillowResize against Pillow 9.4 outputs (tools/pil_goldens.py): BILINEAR (resize_cases.bin.gz, 40 seeded random RGB
// and L images from 1x1 to 300x300, up- and down-scaling, one-axis-unchanged and identity cases) and BICUBIC
// (resize_bicubic_cases.bin.gz, 55 cases: the same kinds plus 1xN / Nx1, windows clipped at both ends, ratios from
// 1/1000 to 200, and random sizes). Under every ISA setting of tools/test.sh this covers each SIMD path and the scalar one.

using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class PillowResizeTests
{
    private static readonly Lazy<GoldenFile> Cases = new(() => GoldenFile.Load("resize_cases.bin.gz"));
    private static readonly Lazy<GoldenFile> BicubicCases = new(() => GoldenFile.Load("resize_bicubic_cases.bin.gz"));

    public static TheoryData<int> CaseIndices() => Indices(Cases.Value);

    public static TheoryData<int> BicubicCaseIndices() => Indices(BicubicCases.Value);

    private static TheoryData<int> Indices(GoldenFile file)
    {
        var data = new TheoryData<int>();
        int count = file.Meta.GetProperty("cases").GetArrayLength();
        for (int i = 0; i < count; i++)
        {
            data.Add(i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void MatchesPillowBitForBit(int index) => MatchesPillow(Cases.Value, index, ResampleFilter.Bilinear);

    [Theory]
    [MemberData(nameof(BicubicCaseIndices))]
    public void Bicubic_matches_Pillow_bit_for_bit(int index) => MatchesPillow(BicubicCases.Value, index, ResampleFilter.Bicubic);

    private static void MatchesPillow(GoldenFile cases, int index, ResampleFilter filter)
    {
        var meta = cases.Meta.GetProperty("cases")[index];
        int channels = meta.GetProperty("channels").GetInt32();
        int inWidth = meta.GetProperty("in_w").GetInt32(), inHeight = meta.GetProperty("in_h").GetInt32();
        int outWidth = meta.GetProperty("out_w").GetInt32(), outHeight = meta.GetProperty("out_h").GetInt32();
        byte[] input = SeededBytes.Generate((ulong)meta.GetProperty("seed").GetInt32(), inWidth * inHeight * channels);
        Assert.Equal(meta.GetProperty("input_sha256").GetString(), SeededBytes.Sha256(input));
        byte[] expected = cases.Bytes($"case{index}.output");

        var actual = new byte[outWidth * outHeight * channels];
        PillowResize.Resize(input, inWidth, inHeight, channels, actual, outWidth, outHeight, filter);
        AssertBytesEqual(expected, actual, outWidth * channels, $"{filter.Name()} {inWidth}x{inHeight} -> {outWidth}x{outHeight} x{channels}");

        if (channels == 3)
        {
            var image = PillowResize.Resize(new RgbImage(inWidth, inHeight, input), outWidth, outHeight, filter);
            Assert.Equal(expected, image.Pixels);
            if (filter == ResampleFilter.Bilinear)
            {
                Assert.Equal(expected, PillowResize.Bilinear(new RgbImage(inWidth, inHeight, input), outWidth, outHeight).Pixels);
            }
        }
    }

    [Fact]
    public void Bicubic_coefficients_are_Pillows()
    {
        // Upscaling 2 -> 4: output 0 has center 0.25 and reads both inputs, at t = 0.25 and 1.25: k = 0.8671875 and
        // -0.0703125 (Pillow's cubic, a = -0.5), normalised by their sum 0.796875, at 2^22 rounded half away from zero:
        // 4564390 and -370086. Pillow 9.4 resizes [0, 255] to [0, 53, 202, 255]: output 0's sum is negative (clipped).
        using var axis = new ResampleAxis(2, 4, ResampleFilter.Bicubic);
        Assert.Equal(5, axis.KernelSize);
        Assert.Equal(0, axis.First[0]);
        Assert.Equal(2, axis.Count[0]);
        Assert.Equal(4564390, axis.Weights[0]);
        Assert.Equal(-370086, axis.Weights[1]);
        var output = new byte[4];
        PillowResize.Resize([0, 255], 2, 1, 1, output, 4, 1, ResampleFilter.Bicubic);
        Assert.Equal(new byte[] { 0, 53, 202, 255 }, output);
    }

    [Fact]
    public void Filters_are_checked()
    {
        var input = new byte[4 * 4 * 3];
        Assert.Throws<ArgumentOutOfRangeException>(() => PillowResize.Resize(input, 4, 4, 3, new byte[12], 2, 2, (ResampleFilter)1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResizeMode.Exact(2, 2, (ResampleFilter)0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ResizeMode.ShortestEdge(2, (ResampleFilter)4));
        Assert.Equal(ResampleFilter.Bilinear, new ResizeMode.Exact(2, 2).Filter);
        Assert.Equal(ResampleFilter.Bilinear, new ResizeMode.ShortestEdge(2).Filter);
        Assert.NotEqual<ResizeMode>(new ResizeMode.Exact(2, 2), new ResizeMode.Exact(2, 2, ResampleFilter.Bicubic));
        Assert.Equal<ResizeMode>(new ResizeMode.ShortestEdge(9, ResampleFilter.Bicubic), new ResizeMode.ShortestEdge(9, ResampleFilter.Bicubic));
        Assert.Contains("Filter = BICUBIC", new ResizeMode.Exact(256, 256, ResampleFilter.Bicubic).ToString());
    }

    [Theory]
    [InlineData(ResampleFilter.Bilinear)]
    [InlineData(ResampleFilter.Bicubic)]
    public void CallerBufferOverloadDoesNotAllocateAfterWarmUp(ResampleFilter filter)
    {
        byte[] input = SeededBytes.Generate(1, 300 * 200 * 3);
        var output = new byte[224 * 224 * 3];
        PillowResize.Resize(input, 300, 200, 3, output, 224, 224, filter);
        long before = GC.GetAllocatedBytesForCurrentThread();
        PillowResize.Resize(input, 300, 200, 3, output, 224, 224, filter);
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

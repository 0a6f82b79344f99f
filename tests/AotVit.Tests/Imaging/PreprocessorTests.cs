// Full preprocessing (decode -> resize -> rescale -> normalize -> crop -> flip -> CHW) against the numpy
// emulation of HF's slow ViT and MobileViT processors in tools/pil_goldens.py, plus the padding and size rules.

using System.Runtime.InteropServices;
using AotVit.Runtime.Imaging;
using Xunit;

namespace AotVit.Tests.Imaging;

[Trait("Category", "Imaging")]
public sealed class PreprocessorTests
{
    // google/vit-base-patch32-224-in21k preprocessor_config.json: size 224, mean = std = 0.5, rescale 1/255.
    internal static readonly PreprocessPlan Vit = new(
        new ResizeMode.Exact(224, 224), centerCrop: null, rescaleFactor: 1 / 255.0,
        new ChannelNormalization([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]), flipChannelOrder: false);

    // apple/mobilevit-small: shortest edge 288, center crop 256, flip to BGR, no normalisation.
    internal static readonly PreprocessPlan MobileVit = new(
        new ResizeMode.ShortestEdge(288), centerCrop: (256, 256), rescaleFactor: 1 / 255.0,
        normalize: null, flipChannelOrder: true);

    // facebook/deit-small-distilled-patch16-224: size 256 (a square resize: get_size_dict default_to_square), BICUBIC,
    // centre crop 224, rescale 1/255, ImageNet mean / std, RGB.
    internal static readonly PreprocessPlan Deit = new(
        new ResizeMode.Exact(256, 256, ResampleFilter.Bicubic), centerCrop: (224, 224), rescaleFactor: 1 / 255.0,
        new ChannelNormalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]), flipChannelOrder: false);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string image in new[] { "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "small.png" })
        {
            data.Add(image, "vit");
            data.Add(image, "mobilevit");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesHuggingFaceEmulation(string imageName, string planName)
    {
        var golden = GoldenFile.Load($"preprocess_{Path.GetFileNameWithoutExtension(imageName)}.bin.gz");
        var meta = golden.Meta;
        var planMeta = meta.GetProperty(planName);
        PreprocessPlan plan = planName == "vit" ? Vit : MobileVit;

        // The input: Pillow's decode. PNG: our decoder must give the same bytes. JPEG: decoders legitimately
        // differ (see DecoderTests), so the pipeline is checked from Pillow's stored decode.
        RgbImage image;
        if (golden.Has("decoded"))
        {
            int[] shape = golden.Shape("decoded");
            image = ImageDecoder.DecodeRgb(golden.Bytes("decoded"), shape[1], shape[0]);
        }
        else
        {
            image = ImageDecoder.Load(GoldenFile.ImagePath(imageName));
        }
        Assert.Equal(meta.GetProperty("width").GetInt32(), image.Width);
        Assert.Equal(meta.GetProperty("height").GetInt32(), image.Height);
        Assert.Equal(meta.GetProperty("decoded_sha256").GetString(), SeededBytes.Sha256(image.Pixels));

        // Resize step on its own (uint8).
        (int resizedHeight, int resizedWidth) = Preprocessor.ResizedSize(plan, image.Width, image.Height);
        Assert.Equal(planMeta.GetProperty("resized_h").GetInt32(), resizedHeight);
        Assert.Equal(planMeta.GetProperty("resized_w").GetInt32(), resizedWidth);
        RgbImage resized = PillowResize.Bilinear(image, resizedWidth, resizedHeight);
        if (golden.Has($"{planName}.resized"))
        {
            PillowResizeTests.AssertBytesEqual(golden.Bytes($"{planName}.resized"), resized.Pixels, resizedWidth * 3, imageName);
        }
        Assert.Equal(planMeta.GetProperty("resized_sha256").GetString(), SeededBytes.Sha256(resized.Pixels));

        // Whole pipeline (float32 CHW): exact bytes via SHA-256, and sampled values for a readable failure.
        var shape3 = planMeta.GetProperty("shape");
        (int channels, int height, int width) = Preprocessor.OutputSize(plan, image.Width, image.Height);
        Assert.Equal((shape3[0].GetInt32(), shape3[1].GetInt32(), shape3[2].GetInt32()), (channels, height, width));
        var pixelValues = new float[channels * height * width];
        Preprocessor.Run(image, plan, pixelValues);
        int[] sampleIndex = golden.Ints($"{planName}.sample_index");
        float[] sampleValue = golden.Floats($"{planName}.sample_value");
        for (int i = 0; i < sampleIndex.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(sampleValue[i]) == BitConverter.SingleToInt32Bits(pixelValues[sampleIndex[i]]),
                $"pixel_values[{sampleIndex[i]}]: expected {sampleValue[i]:R}, got {pixelValues[sampleIndex[i]]:R}");
        }
        Assert.Equal(planMeta.GetProperty("pixel_values_sha256").GetString(),
                     SeededBytes.Sha256(MemoryMarshal.AsBytes(pixelValues.AsSpan())));
    }

    [Theory]
    [InlineData(451, 300, 432, 288)]   // chelsea (W x H): 288·451/300 = 432.96 truncated
    [InlineData(640, 427, 431, 288)]   // rocket
    [InlineData(1000, 872, 330, 288)]
    [InlineData(180, 260, 288, 416)]   // portrait: width is the short side
    [InlineData(512, 512, 288, 288)]
    [InlineData(200, 150, 384, 288)]   // small.png: upscaled
    public void ShortestEdgeSizeTruncates(int width, int height, int expectedWidth, int expectedHeight)
    {
        Assert.Equal((expectedHeight, expectedWidth), Preprocessor.ResizedSize(MobileVit, width, height));
    }

    [Fact]
    public void OutputSizeWithoutImage()
    {
        Assert.Equal((3, 224, 224), Preprocessor.OutputSize(Vit));
        Assert.Equal((3, 256, 256), Preprocessor.OutputSize(MobileVit));
        var noCrop = new PreprocessPlan(new ResizeMode.ShortestEdge(10), null, 1 / 255.0, null, false);
        Assert.Throws<InvalidOperationException>(() => Preprocessor.OutputSize(noCrop));
        Assert.Equal((3, 10, 15), Preprocessor.OutputSize(noCrop, 30, 20));
    }

    [Fact]
    public void RescaleAndNormalizeTablesFollowHuggingFaceArithmetic()
    {
        // float32(float64(v)·(1/255)) then (x − 0.5f)/0.5f in float32, for every byte value.
        var tables = Vit.ValueTables;
        for (int v = 0; v < 256; v++)
        {
            float rescaled = (float)(v * (1 / 255.0));
            float expected = (rescaled - 0.5f) / 0.5f;
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(tables[c][v]));
            }
            Assert.Equal(BitConverter.SingleToInt32Bits(rescaled), BitConverter.SingleToInt32Bits(MobileVit.ValueTables[0][v]));
        }
    }

    [Fact]
    public void CropLargerThanImagePadsWithZerosAtFloorOffsets()
    {
        // 3x2 image (W x H), no resize, crop 4 high x 7 wide: top = (2 − 4)//2 = −1, left = (3 − 7)//2 = −2.
        var pixels = new byte[2 * 3 * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(10 * (i + 1));
        }
        var image = new RgbImage(3, 2, pixels);
        var plan = new PreprocessPlan(null, (4, 7), rescaleFactor: null, normalize: null, flipChannelOrder: true);
        var output = new float[3 * 4 * 7];
        output.AsSpan().Fill(float.NaN);
        Preprocessor.Run(image, plan, output);
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 4; y++)
            {
                for (int x = 0; x < 7; x++)
                {
                    int sourceY = y - 1, sourceX = x - 2;
                    float expected = sourceY is >= 0 and < 2 && sourceX is >= 0 and < 3
                        ? pixels[(sourceY * 3 + sourceX) * 3 + (2 - c)]
                        : 0f;
                    Assert.Equal(expected, output[(c * 4 + y) * 7 + x]);
                }
            }
        }
    }

    [Fact]
    public void CropSmallerThanImageUsesFloorOffsets()
    {
        // 5x5 image, crop 2x2: top = left = (5 − 2)//2 = 1.
        var pixels = new byte[5 * 5 * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)i;
        }
        var plan = new PreprocessPlan(null, (2, 2), null, null, false);
        var output = new float[3 * 2 * 2];
        Preprocessor.Run(new RgbImage(5, 5, pixels), plan, output);
        Assert.Equal(pixels[(1 * 5 + 1) * 3 + 0], output[0]);
        Assert.Equal(pixels[(2 * 5 + 2) * 3 + 2], output[2 * 4 + 3]);
    }

    [Fact]
    public void RejectsShortDestination()
    {
        var image = new RgbImage(4, 4, new byte[48]);
        Assert.Throws<ArgumentException>(() => Preprocessor.Run(image, Vit, new float[3 * 224 * 224 - 1]));
    }
}

// The JPEG decoder's pixel half against Pillow 9.4 / libjpeg-turbo 2.1.5: libjpeg's own coefficients
// (tools/jpeg/make_pixel_fixtures.py) through JpegPixelPipeline must give the SHA-256 of Pillow's convert("RGB").
using System.Security.Cryptography;
using AotVit.Runtime.Imaging.Jpeg;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Imaging.Jpeg;

public sealed class JpegPixelTests(ITestOutputHelper output)
{
    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var f in CoefDump.Manifest()) data.Add(f.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void WholeImageMatchesPillow(string name)
    {
        var fixture = CoefDump.Manifest().Single(f => f.Name == name);
        JpegCoefficients coefficients = CoefDump.LoadFixture(name);
        Assert.Equal((fixture.Width, fixture.Height), (coefficients.Frame.Width, coefficients.Frame.Height));
        byte[] rgb = JpegPixelPipeline.DecodeImage(coefficients);
        string sha = Convert.ToHexStringLower(SHA256.HashData(rgb));
        if (sha != fixture.Sha256)
        {
            // Development aid: tools/jpeg/make_pixel_fixtures.py --keep /tmp/pixkeep leaves Pillow's pixels there.
            string raw = Path.Combine("/tmp/pixkeep", name + ".rgb");
            if (File.Exists(raw))
            {
                byte[] pillow = File.ReadAllBytes(raw);
                int count = 0, first = -1, max = 0;
                for (int i = 0; i < rgb.Length; i++)
                {
                    if (rgb[i] == pillow[i]) continue;
                    count++;
                    if (first < 0) first = i;
                    max = Math.Max(max, Math.Abs(rgb[i] - pillow[i]));
                }
                int p = first / 3;
                output.WriteLine($"{count} bytes differ, max {max}; first at x={p % fixture.Width} y={p / fixture.Width} c={first % 3}: ours {rgb[first]} Pillow {pillow[first]}");
            }
        }
        Assert.Equal(fixture.Sha256, sha);
    }
}

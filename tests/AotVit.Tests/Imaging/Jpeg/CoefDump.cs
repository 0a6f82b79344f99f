// Reader for tools/jpeg/coefdump.c output (format in that file's header): what libjpeg's jpeg_read_coefficients
// returns, as the JpegFrame / JpegCoefficients contract the decoder's pixel half consumes.
using System.IO.Compression;
using AotVit.Runtime.Imaging.Jpeg;

namespace AotVit.Tests.Imaging.Jpeg;

internal static class CoefDump
{
    public static string FixtureDirectory => Path.Combine(AppContext.BaseDirectory, "data", "jpeg", "pixels");

    /// <summary>(name, width, height, sha256) per fixture from manifest.txt.</summary>
    public static IEnumerable<(string Name, int Width, int Height, string Sha256)> Manifest() =>
        File.ReadAllLines(Path.Combine(FixtureDirectory, "manifest.txt"))
            .Where(l => l.Length > 0)
            .Select(l => l.Split(' '))
            .Select(p => (p[0], int.Parse(p[1]), int.Parse(p[2]), p[3]));

    public static JpegCoefficients LoadFixture(string name)
    {
        using var file = File.OpenRead(Path.Combine(FixtureDirectory, name + ".coef.gz"));
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return Parse(ms.ToArray());
    }

    public static JpegCoefficients Parse(byte[] data)
    {
        using var r = new BinaryReader(new MemoryStream(data));
        var f = new JpegFrame
        {
            Width = r.ReadInt32(),
            Height = r.ReadInt32(),
            Precision = 8,
        };
        int n = r.ReadInt32();
        f.ColorSpace = r.ReadInt32() switch
        {
            1 => JpegColorSpace.Grayscale,
            2 => JpegColorSpace.Rgb,
            3 => JpegColorSpace.YCbCr,
            4 => JpegColorSpace.Cmyk,
            5 => JpegColorSpace.Ycck,
            _ => JpegColorSpace.Unknown,
        };
        f.Progressive = r.ReadInt32() != 0;
        f.SofMarker = f.Progressive ? 0xC2 : 0xC0;
        f.HasJfif = r.ReadInt32() != 0;
        bool adobe = r.ReadInt32() != 0;
        int transform = r.ReadInt32();
        f.AdobeTransform = adobe ? transform : -1;
        f.MaxH = r.ReadInt32();
        f.MaxV = r.ReadInt32();
        f.McusWide = (f.Width + 8 * f.MaxH - 1) / (8 * f.MaxH);
        f.McusHigh = (f.Height + 8 * f.MaxV - 1) / (8 * f.MaxV);
        f.Components = new JpegComponent[n];
        for (int c = 0; c < n; c++)
        {
            var comp = new JpegComponent
            {
                Index = c,
                Id = r.ReadInt32(),
                H = r.ReadInt32(),
                V = r.ReadInt32(),
                QuantTableIndex = r.ReadInt32(),
                WidthInBlocks = r.ReadInt32(),
                HeightInBlocks = r.ReadInt32(),
                DownsampledWidth = r.ReadInt32(),
                DownsampledHeight = r.ReadInt32(),
            };
            comp.Quant = new ushort[64];
            for (int k = 0; k < 64; k++) comp.Quant[k] = (ushort)r.ReadInt32();
            for (int k = 0; k < 64; k++) comp.CoefBits[k] = r.ReadInt32();
            comp.BlocksPerLine = f.McusWide * comp.H;
            comp.BlockLines = f.McusHigh * comp.V;
            f.Components[c] = comp;
        }
        var blocks = new short[n][];
        for (int c = 0; c < n; c++)
        {
            JpegComponent comp = f.Components[c];
            blocks[c] = new short[comp.BlocksPerLine * comp.BlockLines * 64];
            for (int by = 0; by < comp.HeightInBlocks; by++)
            {
                for (int bx = 0; bx < comp.WidthInBlocks; bx++)
                {
                    int at = (by * comp.BlocksPerLine + bx) * 64;
                    for (int k = 0; k < 64; k++) blocks[c][at + k] = r.ReadInt16();
                }
            }
        }
        return new JpegCoefficients { Frame = f, Blocks = blocks, FirstMcuRow = 0, McuRows = f.McusHigh };
    }
}

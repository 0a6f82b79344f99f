// The byte layout of tools/jpeg/coefdump.c (what libjpeg's jpeg_read_coefficients returns), written from a decoded
// JpegCoefficients, so the entropy decoder can be compared with libjpeg through committed SHA-256 hashes.
using System.Buffers.Binary;
using AotVit.Runtime.Imaging.Jpeg;

namespace AotVit.Tests.Imaging.Jpeg;

internal static class JpegCoefDump
{
    /// <summary>Dump of a whole-image decode (FirstMcuRow 0, all rows).</summary>
    public static byte[] Write(JpegCoefficients coefs)
    {
        JpegFrame f = coefs.Frame;
        var o = new MemoryStream();
        Header(o, f);
        for (int c = 0; c < f.Components.Length; c++)
        {
            JpegComponent comp = f.Components[c];
            short[] blocks = coefs.Blocks[c];
            for (int by = 0; by < comp.HeightInBlocks; by++)
            {
                for (int bx = 0; bx < comp.WidthInBlocks; bx++)
                    Blocks(o, blocks.AsSpan((by * comp.BlocksPerLine + bx) * 64, 64));
            }
        }
        return o.ToArray();
    }

    public static void Header(Stream o, JpegFrame f)
    {
        Put(o, f.Width);
        Put(o, f.Height);
        Put(o, f.Components.Length);
        Put(o, f.ColorSpace switch
        {
            JpegColorSpace.Grayscale => 1,
            JpegColorSpace.Rgb => 2,
            JpegColorSpace.YCbCr => 3,
            JpegColorSpace.Cmyk => 4,
            JpegColorSpace.Ycck => 5,
            _ => 0,
        });
        Put(o, f.Progressive ? 1 : 0);
        Put(o, f.HasJfif ? 1 : 0);
        Put(o, f.AdobeTransform >= 0 ? 1 : 0);
        Put(o, Math.Max(f.AdobeTransform, 0));
        Put(o, f.MaxH);
        Put(o, f.MaxV);
        foreach (JpegComponent c in f.Components)
        {
            Put(o, c.Id);
            Put(o, c.H);
            Put(o, c.V);
            Put(o, c.QuantTableIndex);
            Put(o, c.WidthInBlocks);
            Put(o, c.HeightInBlocks);
            Put(o, c.DownsampledWidth);
            Put(o, c.DownsampledHeight);
            for (int k = 0; k < 64; k++)
                Put(o, c.Quant?[k] ?? 0);
            for (int k = 0; k < 64; k++)
                Put(o, f.Progressive ? c.CoefBits[k] : 0);
        }
    }

    public static void Blocks(Stream o, ReadOnlySpan<short> block)
    {
        Span<byte> b = stackalloc byte[2];
        foreach (short v in block)
        {
            BinaryPrimitives.WriteInt16LittleEndian(b, v);
            o.Write(b);
        }
    }

    private static void Put(Stream o, int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        o.Write(b);
    }

    /// <summary>Collects a streamed decode's rows into the same dump (blocks within width/height_in_blocks, per
    /// component in block-row order), written after the header once the decode finished.</summary>
    public sealed class RowCollector : IJpegMcuRowSink
    {
        private readonly MemoryStream[] _perComponent;
        public int Rows;

        public RowCollector(JpegFrame frame)
        {
            _perComponent = new MemoryStream[frame.Components.Length];
            for (int i = 0; i < _perComponent.Length; i++)
                _perComponent[i] = new MemoryStream();
        }

        public void OnMcuRows(JpegCoefficients rows)
        {
            JpegFrame f = rows.Frame;
            if (rows.FirstMcuRow != Rows || rows.McuRows != 1)
                throw new InvalidOperationException($"rows out of order: {rows.FirstMcuRow} (+{rows.McuRows}), expected {Rows}");
            for (int c = 0; c < f.Components.Length; c++)
            {
                JpegComponent comp = f.Components[c];
                for (int v = 0; v < comp.V; v++)
                {
                    int by = rows.FirstMcuRow * comp.V + v;
                    if (by >= comp.HeightInBlocks)
                        break;
                    for (int bx = 0; bx < comp.WidthInBlocks; bx++)
                        Blocks(_perComponent[c], rows.Blocks[c].AsSpan((v * comp.BlocksPerLine + bx) * 64, 64));
                }
            }
            Rows++;
        }

        public byte[] Dump(JpegFrame frame)
        {
            var o = new MemoryStream();
            Header(o, frame);
            foreach (MemoryStream s in _perComponent)
                s.WriteTo(o);
            return o.ToArray();
        }
    }
}

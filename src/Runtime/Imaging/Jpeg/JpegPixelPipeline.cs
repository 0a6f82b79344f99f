// JpegPixelPipeline: quantized coefficients, MCU row by MCU row → RGB rows top to bottom, as libjpeg-turbo 2.1.5
// (ISLOW IDCT, block smoothing, do_fancy_upsampling) and then Pillow 9.4's convert("RGB") produce them.
//
// Invariants:
// * Upsampling per component is chosen as jdsample.c jinit_upsampler chooses it from the ratio of the frame's maximum
//   sampling factors to the component's: 1:1 none; 2:1 horizontal fancy (box when downsampled_width ≤ 2); 1:2 vertical
//   fancy (h1v2, always with fancy upsampling); 2:2 fancy (box when downsampled_width ≤ 2); any other integral ratio
//   box (int_upsample); anything else is refused as libjpeg does. Every fancy filter's first/last column equals the
//   general formula with the neighbour index clamped to [0, downsampled_width − 1], and jdmainct.c's context rows
//   make the row above the first row the first row itself and every row at or below downsampled_height the last real
//   row, so all neighbour reads here are clamped to the component's real samples.
// * Component samples live in a ring of three iMCU rows per component; output rows of iMCU row m are produced after
//   iMCU row m + 1 has been transformed (its first row is the context below), and need rows of m − 1, m and m + 1 only.
// * Region: only output pixels in [X0, X1) × [Y0, Y1) are produced (the rest of each row buffer is undefined); only
//   blocks holding component samples those pixels read — including the fancy filters' neighbours — are transformed.
//   The produced pixels equal the full decode's.
using System.Runtime.CompilerServices;

namespace AotVit.Runtime.Imaging.Jpeg;

/// <summary>Receives decoded RGB rows top to bottom (the shape of StreamingPreprocessor.OnRows).</summary>
internal interface IRgbRowSink
{
    void OnRows(int y, int count, ReadOnlySpan<byte> rgb, int strideBytes);
}

internal sealed unsafe class JpegPixelPipeline : IJpegMcuRowSink
{
    private enum Upsample { Full, Box, FancyH2V1, FancyH1V2, FancyH2V2 }

    private sealed class Plane
    {
        public required JpegComponent Component;
        public Upsample Method;
        public int HExpand, VExpand;
        public int Rows;            // sample rows per iMCU row: 8·V
        public int Stride;          // bytes per sample row: 8·BlocksPerLine
        public byte[] Samples = []; // 3 iMCU rows, pinned
        public byte* SamplesPtr;
        public int[] Dequant = [];  // pinned
        public int* DequantPtr;
        public int BlockCol0, BlockCol1, BlockRow0, BlockRow1;   // blocks to transform
        public byte[] UpRow = [];   // one upsampled row (output width + 2), pinned
        public byte* UpRowPtr;
    }

    private readonly JpegFrame _frame;
    private readonly Plane[] _planes;
    private readonly int _x0, _x1, _y0, _y1;
    private readonly IRgbRowSink? _sink;
    private readonly byte[]? _target;      // full-image destination (stride Width·3), or null to use the sink
    private readonly byte[] _rows = [];    // one iMCU row of RGB for the sink, pinned
    private readonly int _rowStride;
    private readonly int _mcuHeight;       // output rows per iMCU row: 8·MaxV
    private bool _smooth, _latched;
    private int _nextMcuRow;

    /// <param name="region">Output pixels to produce ([X0, X1) × [Y0, Y1)), or null for all.</param>
    /// <param name="sink">Receives each iMCU row's output rows; null when <paramref name="target"/> is given.</param>
    /// <param name="target">Width·Height·3 bytes to fill directly, or null.</param>
    public JpegPixelPipeline(JpegFrame frame, (int X0, int X1, int Y0, int Y1)? region, IRgbRowSink? sink, byte[]? target)
    {
        _frame = frame;
        _sink = sink;
        _target = target;
        if ((sink is null) == (target is null)) throw new ArgumentException("exactly one of sink and target");
        if (target is not null && target.Length != (long)frame.Width * frame.Height * 3) throw new ArgumentException("target size");
        var (x0, x1, y0, y1) = region ?? (0, frame.Width, 0, frame.Height);
        _x0 = Math.Clamp(x0, 0, frame.Width);
        _x1 = Math.Clamp(x1, _x0, frame.Width);
        _y0 = Math.Clamp(y0, 0, frame.Height);
        _y1 = Math.Clamp(y1, _y0, frame.Height);
        int n = frame.Components.Length;
        bool supported = n switch
        {
            1 => true,
            3 => frame.ColorSpace is JpegColorSpace.YCbCr or JpegColorSpace.Rgb,
            4 => frame.ColorSpace is JpegColorSpace.Cmyk or JpegColorSpace.Ycck,
            _ => false,
        };
        if (!supported)
        {
            // Named by hand: formatting an enum value would keep the runtime's enum formatting in the binary.
            string space = frame.ColorSpace switch
            {
                JpegColorSpace.Grayscale => "Grayscale", JpegColorSpace.YCbCr => "YCbCr", JpegColorSpace.Rgb => "Rgb",
                JpegColorSpace.Cmyk => "Cmyk", JpegColorSpace.Ycck => "Ycck", _ => "Unknown",
            };
            throw new ImageDecodeException($"Unsupported JPEG colour space: {n} components, {space}.");
        }
        _mcuHeight = 8 * frame.MaxV;
        _rowStride = frame.Width * 3;
        if (sink is not null) _rows = GC.AllocateUninitializedArray<byte>(_mcuHeight * _rowStride, pinned: true);
        _planes = new Plane[n];
        bool empty = _x0 >= _x1 || _y0 >= _y1;
        for (int i = 0; i < n; i++)
        {
            JpegComponent c = frame.Components[i];
            var p = new Plane { Component = c, Rows = 8 * c.V, Stride = 8 * Math.Max(c.BlocksPerLine, c.WidthInBlocks) };
            if (frame.MaxH % c.H != 0 || frame.MaxV % c.V != 0)
            {
                throw new ImageDecodeException($"Unsupported JPEG sampling factors {c.H}x{c.V} with maximum {frame.MaxH}x{frame.MaxV} (fractional sampling, as libjpeg).");
            }
            p.HExpand = frame.MaxH / c.H;
            p.VExpand = frame.MaxV / c.V;
            p.Method = (p.HExpand, p.VExpand) switch
            {
                (1, 1) => Upsample.Full,
                (2, 1) => c.DownsampledWidth > 2 ? Upsample.FancyH2V1 : Upsample.Box,
                (1, 2) => Upsample.FancyH1V2,
                (2, 2) => c.DownsampledWidth > 2 ? Upsample.FancyH2V2 : Upsample.Box,
                _ => Upsample.Box,
            };
            // Component samples the region reads (columns [s0, s1), rows [t0, t1)).
            int s0, s1, t0, t1;
            switch (p.Method)
            {
                case Upsample.Full:
                    (s0, s1, t0, t1) = (_x0, _x1, _y0, _y1);
                    break;
                case Upsample.Box:
                    (s0, s1, t0, t1) = (_x0 / p.HExpand, (_x1 - 1) / p.HExpand + 1, _y0 / p.VExpand, (_y1 - 1) / p.VExpand + 1);
                    break;
                case Upsample.FancyH2V1:
                    (s0, s1, t0, t1) = ((_x0 >> 1) - 1, ((_x1 - 1) >> 1) + 2, _y0, _y1);
                    break;
                case Upsample.FancyH1V2:
                    (s0, s1, t0, t1) = (_x0, _x1, (_y0 >> 1) - 1, ((_y1 - 1) >> 1) + 2);
                    break;
                default:
                    (s0, s1, t0, t1) = ((_x0 >> 1) - 1, ((_x1 - 1) >> 1) + 2, (_y0 >> 1) - 1, ((_y1 - 1) >> 1) + 2);
                    break;
            }
            s0 = Math.Max(s0, 0); t0 = Math.Max(t0, 0);
            s1 = Math.Min(s1, c.DownsampledWidth); t1 = Math.Min(t1, c.DownsampledHeight);
            if (empty || s0 >= s1 || t0 >= t1)
            {
                (p.BlockCol0, p.BlockCol1, p.BlockRow0, p.BlockRow1) = (0, 0, 0, 0);
            }
            else
            {
                (p.BlockCol0, p.BlockCol1, p.BlockRow0, p.BlockRow1) = (s0 >> 3, ((s1 - 1) >> 3) + 1, t0 >> 3, ((t1 - 1) >> 3) + 1);
            }
            p.Samples = GC.AllocateUninitializedArray<byte>(3 * p.Rows * p.Stride, pinned: true);
            p.SamplesPtr = (byte*)Unsafe.AsPointer(ref p.Samples[0]);
            p.Dequant = GC.AllocateArray<int>(64, pinned: true);
            p.DequantPtr = (int*)Unsafe.AsPointer(ref p.Dequant[0]);
            if (p.Method != Upsample.Full)
            {
                p.UpRow = GC.AllocateUninitializedArray<byte>(frame.Width + 2, pinned: true);
                p.UpRowPtr = (byte*)Unsafe.AsPointer(ref p.UpRow[0]);
            }
            _planes[i] = p;
        }
    }

    // Quantisers are latched when a component's first scan starts and coef_bits are final after the last scan, so
    // both are read when the first coefficients arrive (a multi-scan image arrives whole, after every scan).
    private void Latch()
    {
        foreach (Plane p in _planes)
        {
            JpegComponent c = p.Component;
            JpegIdct.DequantTable(c.Quant ?? throw new ImageDecodeException($"JPEG component {c.Id} has no quantisation table.")).CopyTo(p.Dequant, 0);
        }
        _smooth = JpegSmoothing.IsActive(_frame);
        _latched = true;
    }

    /// <summary>True once every MCU row has been given and every output row emitted.</summary>
    public bool Done => _nextMcuRow > _frame.McusHigh;

    /// <summary>Transforms MCU rows [FirstMcuRow, FirstMcuRow + McuRows) (which must continue the previous call) and
    /// emits every output row that no longer needs later MCU rows. Block smoothing (progressive images) needs the
    /// whole image in one call.</summary>
    public void ProcessMcuRows(JpegCoefficients coefficients)
    {
        if (coefficients.FirstMcuRow != _nextMcuRow || coefficients.McuRows < 0 || _nextMcuRow + coefficients.McuRows > _frame.McusHigh)
        {
            throw new InvalidOperationException($"MCU rows {coefficients.FirstMcuRow}+{coefficients.McuRows} do not continue at {_nextMcuRow} of {_frame.McusHigh}");
        }
        if (!_latched) Latch();
        bool smooth = _smooth;
        if (smooth && (coefficients.FirstMcuRow != 0 || coefficients.McuRows != _frame.McusHigh))
        {
            throw new InvalidOperationException("block smoothing needs the whole image's coefficients");
        }
        for (int r = 0; r < coefficients.McuRows; r++)
        {
            int m = coefficients.FirstMcuRow + r;
            TransformMcuRow(coefficients, m, smooth);
            if (m > 0) Emit(m - 1);
            _nextMcuRow = m + 1;
        }
        if (_nextMcuRow == _frame.McusHigh)
        {
            Emit(_frame.McusHigh - 1);
            _nextMcuRow = _frame.McusHigh + 1;
        }
    }

    /// <summary>The entropy decoder's streaming callback: one MCU row (reused buffer, consumed before returning).</summary>
    void IJpegMcuRowSink.OnMcuRows(JpegCoefficients rows) => ProcessMcuRows(rows);

    /// <summary>Decodes a whole-image coefficient set into a new Width·Height·3 RGB buffer.</summary>
    public static byte[] DecodeImage(JpegCoefficients coefficients)
    {
        JpegFrame frame = coefficients.Frame;
        byte[] rgb = GC.AllocateUninitializedArray<byte>(checked(frame.Width * frame.Height * 3));
        new JpegPixelPipeline(frame, null, null, rgb).ProcessMcuRows(coefficients);
        return rgb;
    }

    private void TransformMcuRow(JpegCoefficients coefficients, int m, bool smooth)
    {
        for (int ci = 0; ci < _planes.Length; ci++)
        {
            Plane p = _planes[ci];
            JpegComponent c = p.Component;
            int v = c.V;
            int by0 = Math.Max(m * v, p.BlockRow0), by1 = Math.Min(Math.Min(m * v + v, c.HeightInBlocks), p.BlockRow1);
            if (by0 >= by1 || p.BlockCol0 >= p.BlockCol1) continue;
            short[] blocks = coefficients.Blocks[ci];
            int perLine = c.BlocksPerLine;
            byte* slot = p.SamplesPtr + (long)(m % 3) * p.Rows * p.Stride;
            fixed (short* all = blocks)
            {
                for (int by = by0; by < by1; by++)
                {
                    byte* outRow = slot + (long)(by - m * v) * 8 * p.Stride;
                    if (smooth)
                    {
                        JpegSmoothing.TransformRow(_frame, c, blocks, p.DequantPtr, by, p.BlockCol0, p.BlockCol1, outRow, p.Stride);
                        continue;
                    }
                    short* row = all + ((long)(by - coefficients.FirstMcuRow * v) * perLine) * 64;
                    for (int bx = p.BlockCol0; bx < p.BlockCol1; bx++)
                    {
                        JpegIdct.Transform(row + bx * 64, p.DequantPtr, outRow + 8 * bx, p.Stride);
                    }
                }
            }
        }
    }

    // Sample row r (already clamped to the component's real rows) of a component.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Row(Plane p, int r) => p.SamplesPtr + ((long)((r / p.Rows) % 3) * p.Rows + r % p.Rows) * p.Stride;

    private void Emit(int m)
    {
        int first = Math.Max(m * _mcuHeight, _y0), end = Math.Min((m + 1) * _mcuHeight, _y1);
        if (first >= end) return;
        fixed (byte* targetPtr = _target, rowsPtr = _rows)
        {
            int n = _planes.Length;
            byte** comp = stackalloc byte*[4];
            for (int y = first; y < end; y++)
            {
                for (int ci = 0; ci < n; ci++) comp[ci] = UpsampleRow(_planes[ci], y);
                byte* rgb = targetPtr is not null ? targetPtr + (long)y * _rowStride : rowsPtr + (long)(y - first) * _rowStride;
                switch (n)
                {
                    case 1:
                        JpegColor.GreyToRgb(comp[0], rgb, _x0, _x1);
                        break;
                    case 3 when _frame.ColorSpace == JpegColorSpace.YCbCr:
                        JpegColor.YccToRgb(comp[0], comp[1], comp[2], rgb, _x0, _x1);
                        break;
                    case 3:
                        JpegColor.PlanarToRgb(comp[0], comp[1], comp[2], rgb, _x0, _x1);
                        break;
                    default:
                        JpegColor.CmykToRgb(comp[0], comp[1], comp[2], comp[3], rgb, _x0, _x1, _frame.ColorSpace == JpegColorSpace.Ycck);
                        break;
                }
            }
            if (_sink is not null)
            {
                _sink.OnRows(first, end - first, new ReadOnlySpan<byte>(rowsPtr, (end - first) * _rowStride), _rowStride);
            }
        }
    }

    // The component's samples for output row y, indexed by output column (valid in [x0, x1)).
    private byte* UpsampleRow(Plane p, int y)
    {
        JpegComponent c = p.Component;
        int last = c.DownsampledHeight - 1;
        switch (p.Method)
        {
            case Upsample.Full:
                return Row(p, y);
            case Upsample.Box:
                JpegUpsample.Box(Row(p, y / p.VExpand), p.UpRowPtr, _x0, _x1, p.HExpand);
                return p.UpRowPtr;
            case Upsample.FancyH2V1:
                JpegUpsample.FancyH2V1(Row(p, y), p.UpRowPtr, _x0, _x1, c.DownsampledWidth);
                return p.UpRowPtr;
            case Upsample.FancyH1V2:
                {
                    int near = y >> 1, far = (y & 1) == 0 ? Math.Max(near - 1, 0) : Math.Min(near + 1, last);
                    JpegUpsample.FancyH1V2(Row(p, near), Row(p, far), p.UpRowPtr, _x0, _x1, (y & 1) == 0 ? 1 : 2);
                    return p.UpRowPtr;
                }
            default:
                {
                    int near = y >> 1, far = (y & 1) == 0 ? Math.Max(near - 1, 0) : Math.Min(near + 1, last);
                    JpegUpsample.FancyH2V2(Row(p, near), Row(p, far), p.UpRowPtr, _x0, _x1, c.DownsampledWidth);
                    return p.UpRowPtr;
                }
        }
    }
}

// JpegReader: the entropy half of the JPEG decoder. Markers, frame and scan headers, Huffman decoding of baseline,
// extended-sequential and progressive scans into quantized coefficients (JpegCoefficients), as libjpeg-turbo 2.1.5's
// jpeg_read_coefficients returns them (jdmarker.c, jdinput.c, jdhuff.c, jdphuff.c, jdapimin.c).
// Differences from libjpeg, all on input libjpeg warns about or Pillow refuses; each is an ImageDecodeException:
// - where libjpeg warns and substitutes data: a corrupt Huffman code, a segment ending inside an MCU (zero bits),
//   a wrong or missing restart marker, a truncated file or one without EOI (Pillow: "image file is truncated"), an
//   AC-refinement symbol of size other than 1; also a scan whose blocks cannot fit in the bytes left (checked before
//   allocating), and FF FF … 00 inside the data of a sequential scan without restarts (see JpegBitReader.FillIsData);
// - what Pillow's header parser refuses before libjpeg runs: a file not starting FF D8 FF, component counts other
//   than 1, 3 and 4, a TEM marker before the first scan;
// - arithmetic coding (SOF9/SOF10, which libjpeg-turbo decodes), and more than 1000 scans (a work bound).
// Warnings that leave the result defined (extraneous bytes before a marker, Ss/Se/Ah/Al of a sequential scan,
// progression-order warnings with their coef_bits bookkeeping) decode as libjpeg does.
using System.Runtime.CompilerServices;

namespace AotVit.Runtime.Imaging.Jpeg;

/// <summary>Receives the coefficients of a streamed single-scan decode, one MCU row at a time. The
/// <see cref="JpegCoefficients"/> instance and its arrays are reused for the next row: consume them before
/// returning.</summary>
internal interface IJpegMcuRowSink
{
    void OnMcuRows(JpegCoefficients rows);
}

/// <summary>Lends the entropy decoder the buffers for each MCU row of a single-scan file and learns when the row is
/// decoded. Rows are acquired and published in order, each acquired row published before the next is acquired; a
/// buffer set stays the decoder's from Acquire to Publish.</summary>
internal interface IJpegMcuRowTarget
{
    /// <summary>The buffers (one per component, layout of <see cref="JpegReader.AllocateMcuRow"/>) to decode MCU row
    /// <paramref name="row"/> into; may wait until one is free.</summary>
    short[][] Acquire(int row);

    /// <summary>MCU row <paramref name="row"/> is decoded into the buffers Acquire returned.</summary>
    void Publish(int row);
}

/// <summary>One restart interval of a scan: MCUs [FirstMcu, FirstMcu + McuCount) (in scan order) are coded in the
/// bytes [Offset, Offset + Length) of the file, the RST marker that ends it excluded.</summary>
internal readonly record struct JpegRestartSegment(int FirstMcu, int McuCount, int Offset, int Length);

/// <summary>
/// Reads a JPEG up to its first scan (<see cref="ReadHeader"/>), then decodes its scans: either streamed MCU row by
/// MCU row (<see cref="DecodeRows"/>, files with a single sequential scan holding all components) or into one
/// whole-image coefficient buffer (<see cref="DecodeAll"/>, any file). The same bytes must be passed to every call.
/// A reader decodes once.
/// </summary>
internal sealed partial class JpegReader
{
    private const int MaxDimension = 65500; // libjpeg JPEG_MAX_DIMENSION
    private const int MaxBlocksInMcu = 10;  // libjpeg D_MAX_BLOCKS_IN_MCU
    private const int MaxScans = 1000;      // no encoder writes more; bounds the work of hostile progressive files

    private readonly ImageLimits _limits;
    private readonly JpegHuffmanSpec?[] _dcSpecs = new JpegHuffmanSpec?[4];
    private readonly JpegHuffmanSpec?[] _acSpecs = new JpegHuffmanSpec?[4];
    private readonly ushort[]?[] _quant = new ushort[]?[4];
    private int _restartInterval;
    private int _pos;
    private bool _sawSof, _sawSos, _decoded;
    private bool _hasMultipleScans;
    private int _scanNumber;

    // The current scan (SOS): its components in scan order and table selectors, Ss/Se/Ah/Al.
    private int _compsInScan;
    private readonly JpegComponent[] _scanComps = new JpegComponent[4];
    private readonly int[] _scanDcTable = new int[4];
    private readonly int[] _scanAcTable = new int[4];
    private int _ss, _se, _ah, _al;

    public JpegFrame Frame { get; } = new();

    /// <summary>True when the file is one sequential scan holding every component (libjpeg's has_multiple_scans is
    /// false): <see cref="DecodeRows"/> may stream it.</summary>
    public bool IsSingleScan => !_hasMultipleScans;

    /// <summary>Restart interval in MCUs (0 = none) from the last DRI read: before decoding, the first scan's.</summary>
    public int RestartInterval => _restartInterval;

    private JpegReader(ImageLimits limits) => _limits = limits;

    /// <summary>Parses markers up to and including the first SOS; sizes, tables and colour space are then known.</summary>
    public static JpegReader ReadHeader(ReadOnlySpan<byte> data, ImageLimits? limits = null)
    {
        // Pillow identifies a JPEG by FF D8 FF (JpegImagePlugin._accept); libjpeg requires SOI first.
        if (data.Length < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF)
            throw new ImageDecodeException("Not a JPEG file: it does not start with FF D8 FF.");
        var reader = new JpegReader(limits ?? ImageLimits.Default) { _pos = 2 };
        reader.ReadMarkers(data);
        reader.InitialSetup();
        return reader;
    }

    /// <summary>Decodes the whole file (all scans, through EOI) into one coefficient buffer.</summary>
    public static JpegCoefficients DecodeCoefficients(ReadOnlySpan<byte> data, ImageLimits? limits = null) =>
        ReadHeader(data, limits).DecodeAll(data);

    // ---- markers ----

    /// <summary>Reads markers from <see cref="_pos"/> until an SOS (parsed; returns true) or EOI (returns false).</summary>
    private bool ReadMarkers(ReadOnlySpan<byte> data)
    {
        while (true)
        {
            int marker = NextMarker(data, ref _pos);
            switch (marker)
            {
                case 0xD8:
                    throw new ImageDecodeException("Corrupt JPEG: a second SOI marker.");
                case 0xC0:
                case 0xC1:
                    ReadSof(data, marker, progressive: false);
                    break;
                case 0xC2:
                    ReadSof(data, marker, progressive: true);
                    break;
                case 0xC9:
                case 0xCA:
                case 0xCB:
                case 0xCD:
                case 0xCE:
                case 0xCF:
                    throw new ImageDecodeException(
                        $"Arithmetic-coded JPEG (SOF{marker - 0xC0}) is not supported.");
                case 0xC3:
                    throw new ImageDecodeException("Lossless JPEG (SOF3) is not supported.");
                case 0xC5:
                case 0xC6:
                case 0xC7:
                    throw new ImageDecodeException(
                        $"Hierarchical (differential) JPEG (SOF{marker - 0xC0}) is not supported.");
                case 0xC8:
                    throw new ImageDecodeException("Unsupported JPEG process: reserved JPG marker (FF C8).");
                case 0xDA:
                    ReadSos(data);
                    return true;
                case 0xD9:
                    if (!_sawSos)
                    {
                        throw new ImageDecodeException(_sawSof
                            ? "Corrupt JPEG: end of image before the first scan."
                            : "Corrupt JPEG: no image (end of image before the frame header).");
                    }
                    return false;
                case 0xCC:
                    ReadDac(data);
                    break;
                case 0xC4:
                    ReadDht(data);
                    break;
                case 0xDB:
                    ReadDqt(data);
                    break;
                case 0xDD:
                    ReadDri(data);
                    break;
                case >= 0xE0 and <= 0xEF:
                    ReadApp(data, marker);
                    break;
                case 0xFE:
                case 0xDC: // DNL: ignored by libjpeg (a zero height is refused at SOF)
                    SkipSegment(data);
                    break;
                case >= 0xD0 and <= 0xD7:
                    break; // parameterless; libjpeg ignores stray RSTn between segments
                case 0x01:
                    // TEM: libjpeg ignores it, but Pillow's header parser refuses it before the first scan.
                    if (!_sawSos)
                        throw new ImageDecodeException("Corrupt JPEG: unexpected TEM marker (FF 01) in the header.");
                    break;
                default:
                    throw new ImageDecodeException($"Corrupt JPEG: unsupported marker 0x{marker:X2}.");
            }
        }
    }

    /// <summary>libjpeg next_marker: skips bytes up to an FF, fill FFs, and stuffed FF 00 pairs (extraneous data, a
    /// warning in libjpeg); returns the marker code with <paramref name="pos"/> just past it.</summary>
    private static int NextMarker(ReadOnlySpan<byte> data, ref int pos)
    {
        int p = pos;
        while (true)
        {
            if (p >= data.Length)
                throw Truncated();
            if (data[p] != 0xFF)
            {
                int i = data.Slice(p).IndexOf((byte)0xFF);
                if (i < 0)
                    throw Truncated();
                p += i;
            }
            do
            {
                p++;
                if (p >= data.Length)
                    throw Truncated();
            }
            while (data[p] == 0xFF);
            int c = data[p++];
            if (c != 0)
            {
                pos = p;
                return c;
            }
        }
    }

    private static ImageDecodeException Truncated() =>
        new("JPEG image file is truncated: the data ends before the end-of-image marker.");

    /// <summary>Reads a marker segment's 16-bit length at <see cref="_pos"/>, checks that the segment is inside the
    /// data, and returns its body (after the length field); <see cref="_pos"/> moves past the segment.
    /// A length below 2 yields an empty body with <see cref="_pos"/> just past the length field.</summary>
    private ReadOnlySpan<byte> Segment(ReadOnlySpan<byte> data, out int length)
    {
        if (_pos + 2 > data.Length)
            throw Truncated();
        length = (data[_pos] << 8) | data[_pos + 1];
        int body = Math.Max(length - 2, 0);
        if (_pos + 2 + body > data.Length)
            throw Truncated();
        ReadOnlySpan<byte> s = data.Slice(_pos + 2, body);
        _pos += 2 + body;
        return s;
    }

    private void SkipSegment(ReadOnlySpan<byte> data) => Segment(data, out _);

    private static ImageDecodeException BadLength(string marker) =>
        new($"Corrupt JPEG: bogus {marker} marker length.");

    private void ReadApp(ReadOnlySpan<byte> data, int marker)
    {
        ReadOnlySpan<byte> s = Segment(data, out _);
        if (_sawSos)
            return; // libjpeg decides the colour space at the first SOS
        if (marker == 0xE0 && s.Length >= 14 && s[0] == 'J' && s[1] == 'F' && s[2] == 'I' && s[3] == 'F' && s[4] == 0)
        {
            Frame.HasJfif = true;
        }
        else if (marker == 0xEE && s.Length >= 12 && s[0] == 'A' && s[1] == 'd' && s[2] == 'o' && s[3] == 'b' && s[4] == 'e')
        {
            Frame.AdobeTransform = s[11];
        }
    }

    private void ReadDqt(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> s = Segment(data, out int length);
        if (length < 2)
            throw BadLength("DQT");
        ref byte nat = ref JpegZigzag.NaturalOrderRef();
        int p = 0;
        while (p < s.Length)
        {
            int pq = s[p] >> 4, tq = s[p] & 15;
            p++;
            if (tq >= 4)
                throw new ImageDecodeException($"Corrupt JPEG: quantisation table index {tq} out of range.");
            int size = pq != 0 ? 128 : 64;
            if (s.Length - p < size)
                throw BadLength("DQT");
            var table = new ushort[64];
            for (int i = 0; i < 64; i++)
            {
                table[Unsafe.Add(ref nat, i)] = pq != 0 ? (ushort)((s[p + 2 * i] << 8) | s[p + 2 * i + 1]) : s[p + i];
            }
            p += size;
            _quant[tq] = table;
        }
    }

    private void ReadDht(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> s = Segment(data, out int length);
        if (length < 2)
            throw BadLength("DHT");
        int p = 0;
        while (s.Length - p > 16)
        {
            int index = s[p++];
            var spec = new JpegHuffmanSpec();
            int count = 0;
            for (int i = 1; i <= 16; i++)
            {
                spec.Bits[i] = s[p++];
                count += spec.Bits[i];
            }
            if (count > 256 || count > s.Length - p)
                throw new ImageDecodeException("Corrupt JPEG: bogus Huffman table definition.");
            s.Slice(p, count).CopyTo(spec.Values);
            p += count;
            bool ac = (index & 0x10) != 0;
            int slot = index & ~0x10;
            if (slot >= 4)
                throw new ImageDecodeException($"Corrupt JPEG: Huffman table index {slot} out of range.");
            (ac ? _acSpecs : _dcSpecs)[slot] = spec;
        }
        if (p != s.Length)
            throw BadLength("DHT");
    }

    private void ReadDac(ReadOnlySpan<byte> data)
    {
        // Arithmetic-coding conditioning (only meaningful with SOF9–SOF11, which are refused): validated as libjpeg's
        // get_dac does, otherwise ignored.
        ReadOnlySpan<byte> s = Segment(data, out int length);
        if (length < 2 || (s.Length & 1) != 0)
            throw BadLength("DAC");
        for (int p = 0; p < s.Length; p += 2)
        {
            int index = s[p], val = s[p + 1];
            if (index >= 32)
                throw new ImageDecodeException($"Corrupt JPEG: arithmetic table index {index} out of range.");
            if (index < 16 && (val & 15) > (val >> 4))
                throw new ImageDecodeException("Corrupt JPEG: bogus arithmetic conditioning value.");
        }
    }

    private void ReadDri(ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<byte> s = Segment(data, out int length);
        if (length != 4)
            throw BadLength("DRI");
        _restartInterval = (s[0] << 8) | s[1];
    }

    private void ReadSof(ReadOnlySpan<byte> data, int marker, bool progressive)
    {
        if (_sawSof)
            throw new ImageDecodeException("Corrupt JPEG: a second frame header (SOF marker).");
        ReadOnlySpan<byte> s = Segment(data, out int length);
        if (length < 8)
            throw BadLength("SOF");
        int precision = s[0];
        int height = (s[1] << 8) | s[2];
        int width = (s[3] << 8) | s[4];
        int n = s[5];
        if (height == 0 || width == 0 || n == 0)
            throw new ImageDecodeException($"Corrupt JPEG: empty image ({width}x{height}, {n} components).");
        if (length - 8 != 3 * n)
            throw BadLength("SOF");
        if (precision != 8)
            throw new ImageDecodeException($"{precision}-bit JPEG is not supported (only 8-bit samples).");
        if (n != 1 && n != 3 && n != 4)
            throw new ImageDecodeException($"JPEG with {n} components is not supported (Pillow reads 1, 3 or 4).");
        if (width > MaxDimension || height > MaxDimension)
            throw new ImageDecodeException($"JPEG image is too big ({width}x{height}; libjpeg's limit is {MaxDimension}).");
        long pixels = (long)width * height;
        if (pixels > _limits.MaxPixels)
        {
            throw new ImageDecodeException(
                $"JPEG image is {width}x{height} = {pixels} pixels, over the limit of {_limits.MaxPixels}.");
        }

        JpegFrame f = Frame;
        f.Width = width;
        f.Height = height;
        f.Precision = precision;
        f.SofMarker = marker;
        f.Progressive = progressive;
        f.Components = new JpegComponent[n];
        f.MaxH = f.MaxV = 1;
        for (int i = 0; i < n; i++)
        {
            int hv = s[7 + 3 * i];
            var c = new JpegComponent
            {
                Index = i,
                Id = s[6 + 3 * i],
                H = hv >> 4,
                V = hv & 15,
                QuantTableIndex = s[8 + 3 * i],
            };
            if (c.H < 1 || c.H > 4 || c.V < 1 || c.V > 4)
                throw new ImageDecodeException($"Corrupt JPEG: bogus sampling factors {c.H}x{c.V}.");
            f.MaxH = Math.Max(f.MaxH, c.H);
            f.MaxV = Math.Max(f.MaxV, c.V);
            f.Components[i] = c;
        }
        f.McusWide = DivUp(width, 8 * f.MaxH);
        f.McusHigh = DivUp(height, 8 * f.MaxV);
        foreach (JpegComponent c in f.Components)
        {
            c.WidthInBlocks = DivUp(width * c.H, f.MaxH * 8);
            c.HeightInBlocks = DivUp(height * c.V, f.MaxV * 8);
            c.DownsampledWidth = DivUp(width * c.H, f.MaxH);
            c.DownsampledHeight = DivUp(height * c.V, f.MaxV);
            c.BlocksPerLine = f.McusWide * c.H;
            c.BlockLines = f.McusHigh * c.V;
            if (progressive)
                c.CoefBits.AsSpan().Fill(-1);
        }
        _sawSof = true;
    }

    private static int DivUp(int a, int b) => (int)(((long)a + b - 1) / b);

    private void ReadSos(ReadOnlySpan<byte> data)
    {
        if (!_sawSof)
            throw new ImageDecodeException("Corrupt JPEG: scan (SOS) before the frame header (SOF).");
        ReadOnlySpan<byte> s = Segment(data, out int length);
        int n = s.Length > 0 ? s[0] : 0;
        if (length != n * 2 + 6 || n < 1 || n > 4)
            throw BadLength("SOS");
        JpegComponent[] comps = Frame.Components;
        int searchEnd = Math.Min(comps.Length, 4);
        for (int i = 0; i < n; i++)
        {
            int id = s[1 + 2 * i], tables = s[2 + 2 * i];
            // libjpeg's get_sos search: the i-th scan component matches the first frame component with that id whose
            // index is at least i; a component may appear once per scan.
            JpegComponent? found = null;
            for (int ci = i; ci < searchEnd; ci++)
            {
                if (comps[ci].Id == id)
                {
                    found = comps[ci];
                    break;
                }
            }
            if (found is null)
                throw new ImageDecodeException($"Corrupt JPEG: scan names component id {id}, which the frame does not have (or out of order).");
            for (int pi = 0; pi < i; pi++)
            {
                if (_scanComps[pi] == found)
                    throw new ImageDecodeException($"Corrupt JPEG: scan names component id {id} twice.");
            }
            _scanComps[i] = found;
            _scanDcTable[i] = tables >> 4;
            _scanAcTable[i] = tables & 15;
        }
        _compsInScan = n;
        _ss = s[1 + 2 * n];
        _se = s[2 + 2 * n];
        _ah = s[3 + 2 * n] >> 4;
        _al = s[3 + 2 * n] & 15;
        _scanNumber++;
        _sawSos = true;
    }

    /// <summary>libjpeg jdinput.c initial_setup and jdapimin.c default_decompress_parms, at the first SOS.</summary>
    private void InitialSetup()
    {
        JpegFrame f = Frame;
        _hasMultipleScans = f.Progressive || _compsInScan < f.Components.Length;
        f.ColorSpace = f.Components.Length switch
        {
            1 => JpegColorSpace.Grayscale,
            3 when f.HasJfif => JpegColorSpace.YCbCr,
            3 when f.AdobeTransform >= 0 => f.AdobeTransform == 0 ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr,
            3 => f.Components[0].Id == 82 && f.Components[1].Id == 71 && f.Components[2].Id == 66
                ? JpegColorSpace.Rgb
                : JpegColorSpace.YCbCr,
            4 when f.AdobeTransform >= 0 => f.AdobeTransform == 0 ? JpegColorSpace.Cmyk : JpegColorSpace.Ycck,
            4 => JpegColorSpace.Cmyk,
            _ => JpegColorSpace.Unknown,
        };
        if (!f.Progressive)
        {
            // jinit_huff_decoder's std_huff_tables: empty slots 0 and 1 get the Annex K tables.
            for (int slot = 0; slot < 2; slot++)
            {
                _dcSpecs[slot] ??= JpegHuffmanSpec.Standard(true, slot);
                _acSpecs[slot] ??= JpegHuffmanSpec.Standard(false, slot);
            }
        }
    }

    // ---- decoding entry points ----

    /// <summary>Streams a single-scan file (<see cref="IsSingleScan"/>): each MCU row's coefficients are handed to
    /// <paramref name="sink"/> in one reused <see cref="JpegCoefficients"/> (McuRows = 1), then the markers up to EOI
    /// are read. No whole-image buffer is allocated.</summary>
    public void DecodeRows(ReadOnlySpan<byte> data, IJpegMcuRowSink sink) => DecodeRows(data, new OneRowTarget(this, sink));

    /// <summary>Streams a single-scan file (<see cref="IsSingleScan"/>) MCU row by MCU row into the buffers
    /// <paramref name="target"/> lends (each cleared here before it is decoded into), then reads the markers up to
    /// EOI.</summary>
    public void DecodeRows(ReadOnlySpan<byte> data, IJpegMcuRowTarget target)
    {
        if (_hasMultipleScans)
            throw new InvalidOperationException("DecodeRows needs a single-scan sequential JPEG; use DecodeAll.");
        BeginDecode();
        StartScan(data.Length);
        var br = new JpegBitReader(data, _pos, FillIsData);
        for (int row = 0; row < Frame.McusHigh; row++)
        {
            short[][] blocks = target.Acquire(row);
            foreach (short[] b in blocks)
                Array.Clear(b);
            DecodeSequential(ref br, _st, blocks, row, row, row + 1);
            target.Publish(row);
        }
        _pos = br.Pos;
        if (ReadMarkers(data))
            throw new ImageDecodeException("Corrupt JPEG: a second scan after a single scan holding all components (end of image expected).");
    }

    /// <summary>Coefficient buffers for one MCU row, one per component, in the layout <see cref="DecodeRows(ReadOnlySpan{byte}, IJpegMcuRowTarget)"/>
    /// decodes into (component c: BlocksPerLine × V blocks of 64 coefficients).</summary>
    public short[][] AllocateMcuRow() => Allocate(mcuRows: 1).Blocks;

    // The IJpegMcuRowSink form: one buffer set, reused for every row. Decoding writes through unchecked references,
    // so it goes to arrays kept here; the view handed to the sink is restored to them before every call, whatever the
    // sink did to it.
    private sealed class OneRowTarget(JpegReader reader, IJpegMcuRowSink sink) : IJpegMcuRowTarget
    {
        private readonly short[][] _own = reader.AllocateMcuRow();
        private readonly JpegCoefficients _view = new() { Frame = reader.Frame, Blocks = [] };
        private short[][]? _viewBlocks;

        public short[][] Acquire(int row) => _own;

        public void Publish(int row)
        {
            _viewBlocks ??= new short[_own.Length][];
            _own.CopyTo(_viewBlocks, 0);
            _view.Blocks = _viewBlocks;
            _view.Frame = reader.Frame;
            _view.FirstMcuRow = row;
            _view.McuRows = 1;
            sink.OnMcuRows(_view);
        }
    }

    /// <summary>Decodes every scan through EOI into one whole-image coefficient buffer (FirstMcuRow 0, McuRows =
    /// McusHigh).</summary>
    public JpegCoefficients DecodeAll(ReadOnlySpan<byte> data)
    {
        BeginDecode();
        // A component's buffer is allocated at its first scan, once that scan's length is known to be plausible.
        var all = new JpegCoefficients
        {
            Frame = Frame,
            Blocks = new short[Frame.Components.Length][],
            FirstMcuRow = 0,
            McuRows = Frame.McusHigh,
        };
        while (true)
        {
            if (_scanNumber > MaxScans)
                throw new ImageDecodeException($"JPEG has more than {MaxScans} scans; refused to bound the work.");
            StartScan(data.Length);
            for (int i = 0; i < _compsInScan; i++)
                all.Blocks[_scanComps[i].Index] ??= AllocateComponent(_scanComps[i], Frame.McusHigh);
            var br = new JpegBitReader(data, _pos, FillIsData);
            if (!Frame.Progressive)
                DecodeSequential(ref br, _st, all.Blocks, 0, 0, Frame.McusHigh);
            else
                DecodeProgressiveScan(ref br, all.Blocks);
            _pos = br.Pos;
            if (!ReadMarkers(data))
                break;
            if (!_hasMultipleScans)
                throw new ImageDecodeException("Corrupt JPEG: a second scan after a single scan holding all components (end of image expected).");
        }
        // Components no scan mentioned stay zero (libjpeg leaves their coefficients and quantisation table unset).
        foreach (JpegComponent c in Frame.Components)
            all.Blocks[c.Index] ??= AllocateComponent(c, Frame.McusHigh);
        return all;
    }

    private void BeginDecode()
    {
        if (_decoded)
            throw new InvalidOperationException("A JpegReader decodes once.");
        _decoded = true;
    }

    private JpegCoefficients Allocate(int mcuRows)
    {
        var blocks = new short[Frame.Components.Length][];
        for (int c = 0; c < blocks.Length; c++)
            blocks[c] = AllocateComponent(Frame.Components[c], mcuRows);
        return new JpegCoefficients { Frame = Frame, Blocks = blocks, FirstMcuRow = 0, McuRows = mcuRows };
    }

    private static short[] AllocateComponent(JpegComponent comp, int mcuRows)
    {
        long n = (long)comp.BlocksPerLine * comp.V * mcuRows * 64;
        if (n > Array.MaxLength)
            throw new ImageDecodeException("JPEG image is too large to hold its coefficients in memory.");
        return new short[n];
    }
}

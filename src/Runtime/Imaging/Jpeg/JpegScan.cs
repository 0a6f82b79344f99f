// Scan setup (libjpeg jdinput.c per_scan_setup / latch_quant_tables, jdhuff.c and jdphuff.c start_pass), restart
// markers, and sequential (baseline / extended) Huffman decoding (jdhuff.c decode_mcu).
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Imaging.Jpeg;

internal sealed partial class JpegReader
{
    // Tables of the current scan (read-only while it is decoded).
    private readonly JpegHuffmanTable[] _dcTables = new JpegHuffmanTable[4];
    private readonly JpegHuffmanTable[] _acTables = new JpegHuffmanTable[4];
    private int _scanRestartInterval;

    /// <summary>The mutable state of one entropy decoder inside a scan: DC predictors, EOB run, restart counting.
    /// Bands decoded in parallel each have their own.</summary>
    private sealed class EntropyState
    {
        public readonly int[] LastDc = new int[4];
        public int Eobrun;
        public int RestartsToGo;
        public int NextRestart;

        public void Reset(int restartInterval, int nextRestart)
        {
            Array.Clear(LastDc);
            Eobrun = 0;
            RestartsToGo = restartInterval;
            NextRestart = nextRestart;
        }
    }

    private readonly EntropyState _st = new();

    /// <summary>Whether libjpeg reads the current scan only through its slow bit reader (see
    /// <see cref="JpegBitReader.FillIsData"/>): progressive scans, and sequential scans with a restart interval.</summary>
    private bool FillIsData => Frame.Progressive || _scanRestartInterval != 0;

    // MCU composition of an interleaved scan: for block b of an MCU, its scan component and its offset in blocks
    // from the MCU's top-left block of that component (v·BlocksPerLine + h).
    private int _blocksInMcu;
    private readonly int[] _mcuComp = new int[MaxBlocksInMcu];
    private readonly int[] _mcuBlockOffset = new int[MaxBlocksInMcu];

    /// <summary>libjpeg start_input_pass for the scan just read by <see cref="ReadSos"/>; also refuses a scan whose
    /// blocks cannot fit in the rest of the file (every code is at least one bit: a sequential block takes at least
    /// two, a DC block of a progressive scan at least one), before any buffer for it is allocated.</summary>
    private void StartScan(int dataLength)
    {
        JpegFrame f = Frame;
        if (_compsInScan > 1)
        {
            _blocksInMcu = 0;
            for (int i = 0; i < _compsInScan; i++)
            {
                JpegComponent c = _scanComps[i];
                if (_blocksInMcu + c.H * c.V > MaxBlocksInMcu)
                    throw new ImageDecodeException("Corrupt JPEG: an MCU of this scan has more than 10 blocks.");
                for (int v = 0; v < c.V; v++)
                {
                    for (int h = 0; h < c.H; h++)
                    {
                        _mcuComp[_blocksInMcu] = i;
                        _mcuBlockOffset[_blocksInMcu] = v * c.BlocksPerLine + h;
                        _blocksInMcu++;
                    }
                }
            }
        }
        else
        {
            _blocksInMcu = 1;
            _mcuComp[0] = 0;
            _mcuBlockOffset[0] = 0;
        }

        // Quantisation tables are latched at a component's first scan.
        for (int i = 0; i < _compsInScan; i++)
        {
            JpegComponent c = _scanComps[i];
            if (c.Quant is not null)
                continue;
            int q = c.QuantTableIndex;
            if (q >= 4 || _quant[q] is null)
                throw new ImageDecodeException($"Corrupt JPEG: quantisation table {q} is used but not defined.");
            c.Quant = (ushort[])_quant[q]!.Clone();
        }

        if (!f.Progressive)
        {
            // Ss/Se/Ah/Al of a sequential scan are only a warning in libjpeg; they are ignored.
            for (int i = 0; i < _compsInScan; i++)
            {
                _dcTables[i] = Table(true, _scanDcTable[i]);
                _acTables[i] = Table(false, _scanAcTable[i]);
            }
        }
        else
        {
            StartProgressiveScan();
        }

        long blocks = _compsInScan > 1
            ? (long)f.McusWide * f.McusHigh * _blocksInMcu
            : (long)_scanComps[0].WidthInBlocks * _scanComps[0].HeightInBlocks;
        long minBits = !f.Progressive ? 2 * blocks : _ss == 0 ? blocks : 0;
        if (minBits > 8L * (dataLength - _pos))
        {
            throw new ImageDecodeException(
                $"JPEG image file is truncated: {dataLength - _pos} bytes cannot hold the {blocks} blocks of scan {_scanNumber}.");
        }

        _scanRestartInterval = _restartInterval;
        _st.Reset(_restartInterval, 0);
    }

    private JpegHuffmanTable Table(bool isDc, int slot)
    {
        JpegHuffmanSpec? spec = slot < 4 ? (isDc ? _dcSpecs : _acSpecs)[slot] : null;
        if (spec is null)
            throw new ImageDecodeException($"Corrupt JPEG: Huffman table {(isDc ? "DC" : "AC")} {slot} is used but not defined.");
        return spec.Derived(isDc);
    }

    /// <summary>At an MCU boundary where a restart interval ends: finds the next marker after the segment (skipping
    /// extraneous bytes as libjpeg does), requires it to be the expected RSTn, and resets the decoder state.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ProcessRestart(ref JpegBitReader br, EntropyState st)
    {
        int p = br.Pos;
        int marker;
        try
        {
            marker = NextMarker(br.Data, ref p);
        }
        catch (ImageDecodeException)
        {
            throw new ImageDecodeException("JPEG image file is truncated: the data ends inside a scan.");
        }
        if (marker != 0xD0 + st.NextRestart)
        {
            throw new ImageDecodeException(
                $"Corrupt JPEG data: expected restart marker RST{st.NextRestart}, found marker 0x{marker:X2}.");
        }
        br.Reset(p);
        st.Reset(_scanRestartInterval, (st.NextRestart + 1) & 7);
    }

    /// <summary>Counts one MCU against the restart interval, reading the restart marker first when the previous
    /// interval is complete.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RestartCheck(ref JpegBitReader br, EntropyState st)
    {
        if (_scanRestartInterval != 0)
        {
            if (st.RestartsToGo == 0)
                ProcessRestart(ref br, st);
            st.RestartsToGo--;
        }
    }

    /// <summary>Decodes MCU rows [rowBegin, rowEnd) of the current sequential scan into <paramref name="dest"/>, whose
    /// first block row is MCU row <paramref name="destFirstRow"/>. Blocks receive their DC and nonzero ACs only
    /// (libjpeg's decode_mcu; a component coded again in a later scan keeps the ACs that scan does not set).</summary>
    private void DecodeSequential(ref JpegBitReader br, EntropyState st, short[][] dest, int destFirstRow, int rowBegin, int rowEnd)
    {
        if (_compsInScan == 1)
        {
            // Non-interleaved: one block per MCU, only the component's width_in_blocks × height_in_blocks blocks.
            JpegComponent c = _scanComps[0];
            ref short baseRef = ref MemoryMarshal.GetArrayDataReference(dest[c.Index]);
            JpegHuffmanTable dc = _dcTables[0], ac = _acTables[0];
            int byEnd = Math.Min(rowEnd * c.V, c.HeightInBlocks);
            for (int by = rowBegin * c.V; by < byEnd; by++)
            {
                int rowOffset = (by - destFirstRow * c.V) * c.BlocksPerLine * 64;
                for (int bx = 0; bx < c.WidthInBlocks; bx++)
                {
                    RestartCheck(ref br, st);
                    DecodeBlock(ref br, ref Unsafe.Add(ref baseRef, rowOffset + bx * 64), dc, ac, ref st.LastDc[0]);
                    if (br.Overrun)
                        br.ThrowOverrun();
                }
            }
            return;
        }

        int n = _compsInScan;
        Span<int> rowBase = stackalloc int[4];
        Span<int> mcuStep = stackalloc int[4];
        int mcusWide = Frame.McusWide;
        for (int my = rowBegin; my < rowEnd; my++)
        {
            for (int i = 0; i < n; i++)
            {
                JpegComponent c = _scanComps[i];
                rowBase[i] = (my - destFirstRow) * c.V * c.BlocksPerLine * 64;
                mcuStep[i] = c.H * 64;
            }
            for (int mx = 0; mx < mcusWide; mx++)
            {
                RestartCheck(ref br, st);
                for (int b = 0; b < _blocksInMcu; b++)
                {
                    int i = _mcuComp[b];
                    ref short blk = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dest[_scanComps[i].Index]),
                        rowBase[i] + mx * mcuStep[i] + _mcuBlockOffset[b] * 64);
                    DecodeBlock(ref br, ref blk, _dcTables[i], _acTables[i], ref st.LastDc[i]);
                }
                if (br.Overrun)
                    br.ThrowOverrun();
            }
        }
    }

    /// <summary>One block of a sequential scan (T.81 F.2.2): DC difference added to the component's predictor, then
    /// run/size-coded ACs in zigzag order written at their natural positions. At most 31 bits are taken between
    /// refills (a 16-bit code and 15 value bits), so 32 buffered bits always suffice.</summary>
    private static void DecodeBlock(ref JpegBitReader br, ref short block, JpegHuffmanTable dc, JpegHuffmanTable ac, ref int lastDc)
    {
        ulong buf = br.Buf;
        int count = br.Count;
        if (count < 32)
        {
            br.Refill();
            buf = br.Buf;
            count = br.Count;
        }
        int e = dc.Fast[(int)(buf >> (64 - JpegHuffmanTable.LookupBits))];
        if (e == 0)
        {
            e = dc.DecodeLong(buf);
            if (e < 0)
                JpegBitReader.ThrowBadCode();
        }
        int len = e >> 8;
        int s = e & 0xFF; // ≤ 15: DC tables are validated
        buf <<= len;
        count -= len;
        int diff = 0;
        if (s != 0)
        {
            diff = JpegHuffmanTable.Extend((int)(buf >> (64 - s)), s);
            buf <<= s;
            count -= s;
        }
        int dcValue = lastDc + diff;
        lastDc = dcValue;
        block = (short)dcValue;

        ref ushort fast = ref MemoryMarshal.GetArrayDataReference(ac.Fast);
        ref int fastAc = ref MemoryMarshal.GetArrayDataReference(ac.FastAc);
        ref byte nat = ref JpegZigzag.NaturalOrderRef();
        for (int k = 1; k < 64; k++)
        {
            if (count < 32)
                br.RefillLocal(ref buf, ref count);
            int look = (int)(buf >> (64 - JpegHuffmanTable.LookupBits));
            int f = Unsafe.Add(ref fastAc, look);
            if (f != 0)
            {
                k += (f >> 8) & 0xFF;
                int total = f & 0xFF;
                buf <<= total;
                count -= total;
                Unsafe.Add(ref block, Unsafe.Add(ref nat, k)) = (short)(f >> 16);
                continue;
            }
            e = Unsafe.Add(ref fast, look);
            if (e == 0)
            {
                e = ac.DecodeLong(buf);
                if (e < 0)
                    JpegBitReader.ThrowBadCode();
            }
            len = e >> 8;
            buf <<= len;
            count -= len;
            int r = (e >> 4) & 15;
            s = e & 15;
            if (s != 0)
            {
                k += r;
                int v = JpegHuffmanTable.Extend((int)(buf >> (64 - s)), s);
                buf <<= s;
                count -= s;
                Unsafe.Add(ref block, Unsafe.Add(ref nat, k)) = (short)v;
            }
            else
            {
                if (r != 15)
                    break;
                k += 15;
            }
        }
        br.Buf = buf;
        br.Count = count;
    }

    [DoesNotReturn]
    private static void ThrowCorrupt(string what) => throw new ImageDecodeException("Corrupt JPEG data: " + what);
}

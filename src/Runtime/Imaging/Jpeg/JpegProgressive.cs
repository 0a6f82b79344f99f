// Progressive Huffman scans (libjpeg-turbo 2.1.5 jdphuff.c): DC first / refine, AC first (with EOB runs) and AC
// refine (correction bits), with libjpeg's coef_bits bookkeeping.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Imaging.Jpeg;

internal sealed partial class JpegReader
{
    /// <summary>jdphuff.c start_pass_phuff_decoder: validates Ss/Se/Ah/Al (errors), updates coef_bits (the order
    /// checks are warnings in libjpeg: the scan is decoded anyway), builds the scan's tables.</summary>
    private void StartProgressiveScan()
    {
        bool isDc = _ss == 0;
        bool bad = false;
        if (isDc)
        {
            if (_se != 0)
                bad = true;
        }
        else
        {
            if (_ss > _se || _se >= 64)
                bad = true;
            if (_compsInScan != 1)
                bad = true;
        }
        if (_ah != 0 && _al != _ah - 1)
            bad = true;
        if (_al > 13)
            bad = true;
        if (bad)
        {
            throw new ImageDecodeException(
                $"Corrupt JPEG: invalid progressive scan parameters Ss={_ss} Se={_se} Ah={_ah} Al={_al}.");
        }

        for (int i = 0; i < _compsInScan; i++)
        {
            int[] coefBits = _scanComps[i].CoefBits;
            for (int k = _ss; k <= _se; k++)
                coefBits[k] = _al;
        }

        for (int i = 0; i < _compsInScan; i++)
        {
            if (isDc)
            {
                if (_ah == 0)
                    _dcTables[i] = Table(true, _scanDcTable[i]);
            }
            else
            {
                _acTables[i] = Table(false, _scanAcTable[i]);
            }
        }
    }

    private void DecodeProgressiveScan(ref JpegBitReader br, short[][] dest)
    {
        if (_ss == 0)
        {
            if (_compsInScan == 1)
            {
                JpegComponent c = _scanComps[0];
                ref short baseRef = ref MemoryMarshal.GetArrayDataReference(dest[c.Index]);
                for (int by = 0; by < c.HeightInBlocks; by++)
                {
                    for (int bx = 0; bx < c.WidthInBlocks; bx++)
                    {
                        RestartCheck(ref br, _st);
                        ref short blk = ref Unsafe.Add(ref baseRef, (by * c.BlocksPerLine + bx) * 64);
                        if (_ah == 0)
                            DecodeDcFirst(ref br, ref blk, 0);
                        else
                            DecodeDcRefine(ref br, ref blk);
                        if (br.Overrun)
                            br.ThrowOverrun();
                    }
                }
                return;
            }

            for (int my = 0; my < Frame.McusHigh; my++)
            {
                for (int mx = 0; mx < Frame.McusWide; mx++)
                {
                    RestartCheck(ref br, _st);
                    for (int b = 0; b < _blocksInMcu; b++)
                    {
                        int i = _mcuComp[b];
                        JpegComponent c = _scanComps[i];
                        int offset = ((my * c.V * c.BlocksPerLine) + mx * c.H + _mcuBlockOffset[b]) * 64;
                        ref short blk = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dest[c.Index]), offset);
                        if (_ah == 0)
                            DecodeDcFirst(ref br, ref blk, i);
                        else
                            DecodeDcRefine(ref br, ref blk);
                    }
                    if (br.Overrun)
                        br.ThrowOverrun();
                }
            }
            return;
        }

        {
            JpegComponent c = _scanComps[0];
            JpegHuffmanTable table = _acTables[0];
            ref short baseRef = ref MemoryMarshal.GetArrayDataReference(dest[c.Index]);
            _nonzero ??= new ulong[Frame.Components.Length][];
            ulong[] nonzero = _nonzero[c.Index] ??= new ulong[(long)c.BlocksPerLine * c.BlockLines];
            ref ulong maskRef = ref MemoryMarshal.GetArrayDataReference(nonzero);
            for (int by = 0; by < c.HeightInBlocks; by++)
            {
                for (int bx = 0; bx < c.WidthInBlocks; bx++)
                {
                    RestartCheck(ref br, _st);
                    int index = by * c.BlocksPerLine + bx;
                    ref short blk = ref Unsafe.Add(ref baseRef, index * 64);
                    ref ulong mask = ref Unsafe.Add(ref maskRef, index);
                    if (_ah == 0)
                    {
                        if (_st.Eobrun > 0)
                            _st.Eobrun--;
                        else
                            _st.Eobrun = DecodeAcFirstBlock(ref br, ref blk, ref mask, table, _ss, _se, _al);
                    }
                    else
                    {
                        _st.Eobrun = DecodeAcRefineBlock(ref br, ref blk, ref mask, table, _ss, _se, _al, _st.Eobrun);
                    }
                    if (br.Overrun)
                        br.ThrowOverrun();
                }
            }
        }
    }

    private void DecodeDcFirst(ref JpegBitReader br, ref short block, int scanComp)
    {
        int s = br.Decode(_dcTables[scanComp]);
        int diff = s != 0 ? JpegHuffmanTable.Extend(br.Bits(s), s) : 0;
        long sum = (long)_st.LastDc[scanComp] + diff;
        if (sum > int.MaxValue || sum < int.MinValue)
            ThrowCorrupt("DC coefficient out of range.");
        _st.LastDc[scanComp] = (int)sum;
        block = (short)(int)((uint)sum << _al);
    }

    private void DecodeDcRefine(ref JpegBitReader br, ref short block)
    {
        if (br.Bit() != 0)
            block |= (short)(1 << _al);
    }

    /// <summary>Per component and block of a progressive file: bit z (1–63) set iff the AC coefficient at zigzag position z
    /// is nonzero. Every AC write (AC first and refine scans, the only writers of AC coefficients) keeps it exact, so
    /// refinement passes visit nonzero coefficients and count zero ones with bit operations.</summary>
    private ulong[]?[]? _nonzero;

    /// <summary>Decodes one block's band [ss, se] of an AC first scan (jdphuff.c decode_mcu_AC_first) outside an EOB
    /// run; returns the EOB run left after this block. At most 31 bits are taken between refills (a 16-bit code and
    /// 15 value or 14 run bits).</summary>
    private static int DecodeAcFirstBlock(ref JpegBitReader br, ref short block, ref ulong mask, JpegHuffmanTable table, int ss, int se, int al)
    {
        ulong nz = mask;
        ulong buf = br.Buf;
        int count = br.Count;
        ref ushort fast = ref MemoryMarshal.GetArrayDataReference(table.Fast);
        ref int fastAc = ref MemoryMarshal.GetArrayDataReference(table.FastAc);
        ref byte nat = ref JpegZigzag.NaturalOrderRef();
        int eobrun = 0;
        for (int k = ss; k <= se; k++)
        {
            if (count < 32)
            {
                br.Buf = buf;
                br.Count = count;
                br.Refill();
                buf = br.Buf;
                count = br.Count;
            }
            int look = (int)(buf >> (64 - JpegHuffmanTable.LookupBits));
            int f = Unsafe.Add(ref fastAc, look);
            if (f != 0)
            {
                k += (f >> 8) & 0xFF;
                int total = f & 0xFF;
                buf <<= total;
                count -= total;
                short value = (short)(int)((uint)(f >> 16) << al);
                Unsafe.Add(ref block, Unsafe.Add(ref nat, k)) = value;
                nz = SetNonzero(nz, k, value);
                continue;
            }
            int e = Unsafe.Add(ref fast, look);
            if (e == 0)
            {
                e = table.DecodeLong(buf);
                if (e < 0)
                    JpegBitReader.ThrowBadCode();
            }
            int len = e >> 8;
            buf <<= len;
            count -= len;
            int r = (e >> 4) & 15, s = e & 15;
            if (s != 0)
            {
                k += r;
                int v = JpegHuffmanTable.Extend((int)(buf >> (64 - s)), s);
                buf <<= s;
                count -= s;
                short value = (short)(int)((uint)v << al);
                Unsafe.Add(ref block, Unsafe.Add(ref nat, k)) = value;
                nz = SetNonzero(nz, k, value);
            }
            else if (r == 15)
            {
                k += 15;
            }
            else
            {
                eobrun = 1 << r;
                if (r != 0)
                {
                    eobrun += (int)(buf >> (64 - r));
                    buf <<= r;
                    count -= r;
                }
                eobrun--;
                break;
            }
        }
        br.Buf = buf;
        br.Count = count;
        mask = nz;
        return eobrun;
    }

    /// <summary>The mask after writing <paramref name="value"/> at zigzag position <paramref name="k"/> (positions past 63
    /// land on 63, as the extended natural order does; a shifted value can wrap to 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong SetNonzero(ulong nz, int k, short value)
    {
        ulong bit = 1UL << Math.Min(k, 63);
        return value != 0 ? nz | bit : nz & ~bit;
    }

    /// <summary>Applies a correction bit to a nonzero coefficient: a 1 raises its magnitude by 2^Al unless that bit is
    /// already set (jdphuff.c: coef += p1 or m1 by sign). Branch-free, since the bits are unpredictable.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Refine(ref short coef, int bit, int p1, int m1)
    {
        int c = coef;
        int apply = bit & ((c & p1) == 0 ? 1 : 0);
        int step = c >= 0 ? p1 : m1;
        coef = (short)(c + (step & -apply));
    }

    /// <summary>Bits lo..hi (0 ≤ lo ≤ hi ≤ 63).</summary>
    /// <summary>One correction bit, in zigzag order, for each position set in <paramref name="positions"/> (nonzero
    /// coefficients passed over in a refinement scan), read from the caller's local bit buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RefineAll(ref JpegBitReader br, ref ulong buf, ref int count, ulong positions, ref short block, ref byte nat, int p1, int m1)
    {
        while (positions != 0)
        {
            int z = BitOperations.TrailingZeroCount(positions);
            positions &= positions - 1;
            if (count < 1)
            {
                br.Buf = buf;
                br.Count = count;
                br.Refill();
                buf = br.Buf;
                count = br.Count;
            }
            int bit = (int)(buf >> 63);
            buf <<= 1;
            count--;
            Refine(ref Unsafe.Add(ref block, Unsafe.Add(ref nat, z)), bit, p1, m1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong BandMask(int lo, int hi) => (ulong.MaxValue >> (63 - hi)) & (ulong.MaxValue << lo);

    /// <summary>AC refinement scan, one block (jdphuff.c decode_mcu_AC_refine): each symbol places a newly nonzero
    /// coefficient (±1 at bit Al) at the (r+1)-th zero-history position from k, appending a correction bit to every
    /// nonzero coefficient passed over; inside an EOB run only correction bits. libjpeg walks the positions one by
    /// one; here the nonzero mask gives the same positions in the same order. Returns the EOB run left after this
    /// block.</summary>
    private static int DecodeAcRefineBlock(ref JpegBitReader br, ref short block, ref ulong mask, JpegHuffmanTable table, int ss, int se, int al, int eobrun)
    {
        ulong buf = br.Buf;
        int count = br.Count;
        ulong nz = mask;
        ref ushort fast = ref MemoryMarshal.GetArrayDataReference(table.Fast);
        ref byte nat = ref JpegZigzag.NaturalOrderRef();
        int p1 = 1 << al;
        int m1 = -1 << al;
        int k = ss;
        if (eobrun == 0)
        {
            for (; k <= se; k++)
            {
                if (count < 32)
                {
                    br.Buf = buf;
                    br.Count = count;
                    br.Refill();
                    buf = br.Buf;
                    count = br.Count;
                }
                int e = Unsafe.Add(ref fast, (int)(buf >> (64 - JpegHuffmanTable.LookupBits)));
                if (e == 0)
                {
                    e = table.DecodeLong(buf);
                    if (e < 0)
                        JpegBitReader.ThrowBadCode();
                }
                int len = e >> 8;
                buf <<= len;
                count -= len;
                int r = (e >> 4) & 15, s = e & 15;
                if (s != 0)
                {
                    if (s != 1)
                        JpegBitReader.ThrowBadCode(); // libjpeg warns and goes on; a new coefficient is always ±1
                    s = (long)buf < 0 ? p1 : m1;
                    buf <<= 1;
                    count--;
                }
                else if (r != 15)
                {
                    eobrun = 1 << r;
                    if (r != 0)
                    {
                        eobrun += (int)(buf >> (64 - r));
                        buf <<= r;
                        count -= r;
                    }
                    break;
                }
                // The stop position t: the (r+1)-th zero coefficient in [k, se], or se + 1 when there are fewer.
                ulong band = BandMask(k, se);
                ulong zeros = ~nz & band;
                for (int i = 0; i < r && zeros != 0; i++)
                    zeros &= zeros - 1;
                int t = zeros != 0 ? BitOperations.TrailingZeroCount(zeros) : se + 1;
                RefineAll(ref br, ref buf, ref count, nz & band & (t >= 64 ? ulong.MaxValue : (1UL << t) - 1), ref block, ref nat, p1, m1);
                k = t;
                if (s != 0)
                {
                    Unsafe.Add(ref block, Unsafe.Add(ref nat, k)) = (short)s;
                    nz |= 1UL << Math.Min(k, 63);
                }
            }
        }
        if (eobrun > 0)
        {
            // The rest of the band lies in an EOB run: correction bits for its nonzero coefficients only.
            if (k <= se)
            {
                RefineAll(ref br, ref buf, ref count, nz & BandMask(k, se), ref block, ref nat, p1, m1);
            }
            eobrun--;
        }
        br.Buf = buf;
        br.Count = count;
        mask = nz;
        return eobrun;
    }
}

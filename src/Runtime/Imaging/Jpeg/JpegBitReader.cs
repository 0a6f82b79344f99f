// JpegBitReader: the bit source of the entropy decoder over one entropy-coded segment.
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AotVit.Runtime.Imaging.Jpeg;

/// <summary>
/// MSB-first bit reader over entropy-coded data, with byte stuffing (FF 00 → FF) removed.
/// Invariants: the top <see cref="Count"/> bits of <see cref="Buf"/> are the next bits, all lower bits are 0;
/// bytes before <see cref="Pos"/> are in the buffer or consumed. Reading stops at the first marker (FF followed by a
/// nonzero byte, <see cref="Pos"/> left on its FF) or at the end of the data; from then on the buffer is padded with
/// zero bits, counted in <see cref="FakeBits"/>, so Count − FakeBits is the number of real bits left, negative once the
/// decoder has consumed bits the data does not have (libjpeg then warns and fills zeros; the caller refuses).
/// </summary>
internal ref struct JpegBitReader
{
    public ReadOnlySpan<byte> Data;
    public int Pos;
    public ulong Buf;
    public int Count;
    public int FakeBits;
    public bool AtEnd;

    /// <summary>
    /// FF FF … 00 (fill bytes inside entropy-coded data, not allowed by T.81) is one FF data byte when true, else the end
    /// of the data. libjpeg-turbo's bit reader (jpeg_fill_bit_buffer) reads it as data, and that is what it decodes in
    /// progressive scans and in sequential scans with a restart interval (it then never takes its fast path). In other
    /// sequential scans its fast path, taken whenever enough bytes are buffered, sees a marker there, decodes zero bits
    /// into the MCU before backing out, and leaves those coefficients behind: the result depends on its buffering, so
    /// needing bits past such bytes is refused (<see cref="ThrowOverrun"/>).
    /// </summary>
    public bool FillIsData;

    public JpegBitReader(ReadOnlySpan<byte> data, int pos, bool fillIsData)
    {
        Data = data;
        Pos = pos;
        FillIsData = fillIsData;
    }

    /// <summary>Starts a new entropy-coded segment at <paramref name="pos"/> (after a restart marker): buffered
    /// bits are dropped.</summary>
    public void Reset(int pos)
    {
        Pos = pos;
        Buf = 0;
        Count = 0;
        FakeBits = 0;
        AtEnd = false;
    }

    public readonly bool Overrun => Count < FakeBits;

    /// <summary>Fills the buffer to at least 57 bits (padding with zeros past the segment's end).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Refill()
    {
        if (!AtEnd && Pos + 8 <= Data.Length)
        {
            ulong x = BinaryPrimitives.ReadUInt64BigEndian(Data.Slice(Pos, 8));
            ulong y = ~x;
            if (((y - 0x0101010101010101UL) & ~y & 0x8080808080808080UL) == 0)
            {
                // No FF byte among the next 8: take as many whole bytes as fit.
                int n = (64 - Count) >> 3;
                int newCount = Count + n * 8;
                ulong add = x >> Count;
                if (newCount < 64)
                    add &= ~(ulong.MaxValue >> newCount);
                Buf |= add;
                Count = newCount;
                Pos += n;
                return;
            }
        }
        RefillSlow();
    }

    private void RefillSlow()
    {
        ReadOnlySpan<byte> data = Data;
        while (Count <= 56)
        {
            if (AtEnd)
            {
                FakeBits += 64 - Count;
                Count = 64;
                return;
            }
            if (Pos >= data.Length)
            {
                AtEnd = true;
                continue;
            }
            int b = data[Pos];
            if (b == 0xFF)
            {
                // FF 00 is an FF data byte; FF followed by anything else ends the data, except FF FF … 00 when
                // FillIsData (see there).
                int q = Pos + 1;
                if (FillIsData)
                {
                    while (q < data.Length && data[q] == 0xFF)
                        q++;
                }
                if (q < data.Length && data[q] == 0)
                {
                    Pos = q + 1;
                }
                else
                {
                    AtEnd = true;
                    continue;
                }
            }
            else
            {
                Pos++;
            }
            Buf |= (ulong)b << (56 - Count);
            Count += 8;
        }
    }

    /// <summary>Refill for callers that keep the buffer in locals: the common case (8 bytes left, none of them FF)
    /// inline (whole bytes up to 56–63 bits, so no shift reaches 64), everything else through <see cref="Refill"/>.
    /// Leaves at least 56 bits in <paramref name="buf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void RefillLocal(ref ulong buf, ref int count)
    {
        int pos = Pos;
        if (pos <= Data.Length - 8 && !AtEnd)
        {
            ulong x = BinaryPrimitives.ReadUInt64BigEndian(Data.Slice(pos, 8));
            ulong y = ~x;
            if (((y - 0x0101010101010101UL) & ~y & 0x8080808080808080UL) == 0)
            {
                int n = (63 - count) >> 3;
                int newCount = count + n * 8;
                buf |= (x >> count) & ~(ulong.MaxValue >> newCount);
                count = newCount;
                Pos = pos + n;
                return;
            }
        }
        Buf = buf;
        Count = count;
        Refill();
        buf = Buf;
        count = Count;
    }

    /// <summary>Makes at least <paramref name="n"/> (≤ 57) bits available.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Ensure(int n)
    {
        if (Count < n)
            Refill();
    }

    /// <summary>Reads <paramref name="n"/> bits (1–16) as an unsigned value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Bits(int n)
    {
        if (Count < n)
            Refill();
        int v = (int)(Buf >> (64 - n));
        Buf <<= n;
        Count -= n;
        return v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Bit()
    {
        if (Count < 1)
            Refill();
        int v = (int)(Buf >> 63);
        Buf <<= 1;
        Count--;
        return v;
    }

    /// <summary>Decodes one Huffman symbol (refilling first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Decode(JpegHuffmanTable table)
    {
        if (Count < 32)
            Refill();
        int e = table.Fast[(int)(Buf >> (64 - JpegHuffmanTable.LookupBits))];
        if (e == 0)
        {
            e = table.DecodeLong(Buf);
            if (e < 0)
                ThrowBadCode();
        }
        int len = e >> 8;
        Buf <<= len;
        Count -= len;
        return e & 0xFF;
    }

    [DoesNotReturn]
    public static void ThrowBadCode() =>
        throw new ImageDecodeException("Corrupt JPEG data: bad Huffman code.");

    /// <summary>The error for a decoder that consumed bits past the end of its segment.</summary>
    [DoesNotReturn]
    public readonly void ThrowOverrun()
    {
        int q = Pos + 1;
        while (q < Data.Length && Data[q] == 0xFF)
            q++;
        if (q >= Data.Length)
            throw new ImageDecodeException("JPEG image file is truncated: the data ends inside a scan.");
        if (Data[q] == 0)
            throw new ImageDecodeException("Corrupt JPEG data: fill bytes (FF FF) inside entropy-coded data.");
        throw new ImageDecodeException(
            $"Corrupt JPEG data: premature end of data segment (marker 0x{Data[q]:X2} inside a scan).");
    }
}

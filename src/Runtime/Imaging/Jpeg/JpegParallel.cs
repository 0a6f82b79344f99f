// Restart-interval structure of a single-scan sequential JPEG, and decoding of MCU-row bands that start at restart
// boundaries independently of each other (in parallel).
using System.Runtime.InteropServices;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Imaging.Jpeg;

internal sealed partial class JpegReader
{
    private JpegRestartSegment[]? _bandSegments;
    private int[]? _bandRows;

    /// <summary>
    /// The restart intervals of the first scan, found by scanning its entropy-coded data for markers (as libjpeg's
    /// next_marker does: stuffed FF 00 and fill FFs are data or padding, not boundaries). Interval i must end with RST(i
    /// mod 8); the last one ends at the marker after the scan. Returns null when the file has no restart interval or its
    /// markers are not where the scan header puts them (decoding then reports the error). Call before decoding.
    /// </summary>
    public JpegRestartSegment[]? FindRestartSegments(ReadOnlySpan<byte> data)
    {
        if (_decoded || _restartInterval == 0)
            return null;
        int total = ScanMcuCount();
        int interval = _restartInterval;
        int n = (int)(((long)total + interval - 1) / interval);
        if (n - 1 > (data.Length - _pos) / 2)
            return null; // not enough bytes for the RST markers
        var segments = new JpegRestartSegment[n];
        int p = _pos;
        for (int s = 0; s < n; s++)
        {
            int begin = p, end, code;
            while (true)
            {
                int i = data.Slice(p).IndexOf((byte)0xFF);
                if (i < 0)
                    return null;
                int q = p + i, r = q + 1;
                while (r < data.Length && data[r] == 0xFF)
                    r++;
                if (r >= data.Length)
                    return null;
                p = r + 1;
                if (data[r] != 0)
                {
                    end = q;
                    code = data[r];
                    break;
                }
            }
            segments[s] = new JpegRestartSegment(s * interval, Math.Min(interval, total - s * interval), begin, end - begin);
            if (s < n - 1 && code != 0xD0 + (s & 7))
                return null;
        }
        return segments;
    }

    /// <summary>MCUs in the current scan: MCU rows × MCUs per row (interleaved), or the component's blocks.</summary>
    private int ScanMcuCount()
    {
        if (_compsInScan > 1)
            return Frame.McusWide * Frame.McusHigh;
        JpegComponent c = _scanComps[0];
        return c.WidthInBlocks * c.HeightInBlocks;
    }

    /// <summary>Index in scan order of the first MCU of MCU row <paramref name="row"/>.</summary>
    private long McuIndexAtRow(int row)
    {
        if (_compsInScan > 1)
            return (long)row * Frame.McusWide;
        JpegComponent c = _scanComps[0];
        return (long)Math.Min(row * c.V, c.HeightInBlocks) * c.WidthInBlocks;
    }

    /// <summary>
    /// Prepares a single-scan file with restart intervals for band decoding. Returns the MCU rows where an independent
    /// band may start (ascending, first 0, last = McusHigh as an end sentinel): the rows whose first MCU begins a restart
    /// interval. Null when band decoding is not possible (several scans, no restart interval, inconsistent markers, or
    /// no boundary falls on a row start); then use <see cref="DecodeRows"/> or <see cref="DecodeAll"/>. After this,
    /// decode each band [starts[i], starts[j]) with <see cref="DecodeBand"/> (any order, any threads), then call
    /// <see cref="FinishBands"/>.
    /// </summary>
    public int[]? PrepareBands(ReadOnlySpan<byte> data)
    {
        if (_hasMultipleScans || _decoded || _restartInterval == 0)
            return null;
        JpegRestartSegment[]? segments = FindRestartSegments(data);
        if (segments is null)
            return null;
        var rows = new List<int>();
        for (int r = 0; r < Frame.McusHigh; r++)
        {
            if (McuIndexAtRow(r) % _restartInterval == 0)
                rows.Add(r);
        }
        if (rows.Count < 2)
            return null;
        rows.Add(Frame.McusHigh);
        BeginDecode();
        StartScan(data.Length);
        _bandSegments = segments;
        _bandRows = rows.ToArray();
        return _bandRows;
    }

    /// <summary>Decodes MCU rows [rowBegin, rowEnd) into <paramref name="dest"/> (whose first block row is MCU row
    /// dest.FirstMcuRow ≤ rowBegin and which must hold rowEnd), after <see cref="PrepareBands"/>. rowBegin must be one
    /// of the band starts. Safe to call concurrently for disjoint bands; blocks are written, not cleared (pass zeroed
    /// buffers).</summary>
    public void DecodeBand(ReadOnlySpan<byte> data, int rowBegin, int rowEnd, JpegCoefficients dest)
    {
        JpegRestartSegment[] segments = _bandSegments
            ?? throw new InvalidOperationException("Call PrepareBands first.");
        long mcu = McuIndexAtRow(rowBegin);
        if (mcu % _scanRestartInterval != 0 || rowEnd > Frame.McusHigh || rowBegin >= rowEnd
            || dest.FirstMcuRow > rowBegin || dest.FirstMcuRow + dest.McuRows < rowEnd)
        {
            throw new ArgumentException($"Rows [{rowBegin}, {rowEnd}) are not a band of this image or do not fit the destination.");
        }
        // The decoder writes through unchecked references: every array must hold the rows up to rowEnd.
        if (dest.Frame != Frame || dest.Blocks.Length != Frame.Components.Length)
            throw new ArgumentException("The destination belongs to another frame.");
        for (int c = 0; c < Frame.Components.Length; c++)
        {
            JpegComponent comp = Frame.Components[c];
            long needed = (long)comp.BlocksPerLine * comp.V * (rowEnd - dest.FirstMcuRow) * 64;
            if (dest.Blocks[c] is null || dest.Blocks[c].Length < needed)
                throw new ArgumentException($"The destination's component {c} array holds fewer than the {needed} coefficients of rows up to {rowEnd}.");
        }
        int segment = (int)(mcu / _scanRestartInterval);
        var st = new EntropyState();
        st.Reset(_scanRestartInterval, segment & 7);
        var br = new JpegBitReader(data, segments[segment].Offset, FillIsData);
        DecodeSequential(ref br, st, dest.Blocks, dest.FirstMcuRow, rowBegin, rowEnd);
    }

    /// <summary>After every band is decoded: reads the markers after the scan through EOI (a second scan is an
    /// error, as in <see cref="DecodeRows"/>).</summary>
    public void FinishBands(ReadOnlySpan<byte> data)
    {
        JpegRestartSegment last = (_bandSegments ?? throw new InvalidOperationException("Call PrepareBands first."))[^1];
        _pos = last.Offset + last.Length;
        if (ReadMarkers(data))
            throw new ImageDecodeException("Corrupt JPEG: a second scan after a single scan holding all components (end of image expected).");
    }

    /// <summary>Whole-image decode using the threads of <paramref name="pool"/> across restart intervals when the file
    /// allows it (single scan, restart intervals starting MCU rows); otherwise the same as <see cref="DecodeAll"/>.
    /// The result equals <see cref="DecodeAll"/>'s.</summary>
    public unsafe JpegCoefficients DecodeAllParallel(ReadOnlySpan<byte> data, WorkerPool pool)
    {
        int[]? rows = pool.ThreadCount > 1 ? PrepareBands(data) : null;
        if (rows is null)
            return DecodeAll(data);

        // Bands of about equal row counts, a few per thread, each a run of consecutive band starts.
        int target = Math.Max(1, Frame.McusHigh / (4 * pool.ThreadCount));
        var starts = new List<int> { 0 };
        foreach (int r in rows)
        {
            if (r - starts[^1] >= target || r == Frame.McusHigh)
                starts.Add(r);
        }
        if (starts[^1] != Frame.McusHigh)
            starts.Add(Frame.McusHigh);

        JpegCoefficients all = Allocate(Frame.McusHigh);
        fixed (byte* p = data)
        {
            var job = new BandJob(this, p, data.Length, starts.ToArray(), all);
            GCHandle handle = GCHandle.Alloc(job);
            try
            {
                pool.For(starts.Count - 1, &DecodeBands, (void*)GCHandle.ToIntPtr(handle), 1);
            }
            finally
            {
                handle.Free();
            }
        }
        FinishBands(data);
        return all;
    }

    private sealed unsafe class BandJob(JpegReader reader, byte* data, int length, int[] starts, JpegCoefficients dest)
    {
        public readonly JpegReader Reader = reader;
        public readonly byte* Data = data;
        public readonly int Length = length;
        public readonly int[] Starts = starts;
        public readonly JpegCoefficients Dest = dest;
    }

    private static unsafe void DecodeBands(void* context, int begin, int end)
    {
        var job = (BandJob)GCHandle.FromIntPtr((IntPtr)context).Target!;
        var data = new ReadOnlySpan<byte>(job.Data, job.Length);
        for (int b = begin; b < end; b++)
            job.Reader.DecodeBand(data, job.Starts[b], job.Starts[b + 1], job.Dest);
    }
}

// ResampleAxis: Pillow's 8-bit coefficients for one axis of a BILINEAR or BICUBIC resize (libImaging/Resample.c
// precompute_coeffs and normalize_coeffs_8bpc), and the two passes that use them. One table type for both filters, so
// both share every loop (ResampleKernels). Shared by PillowResize (whole images) and StreamingPreprocessor (rows as they
// are decoded), so both compute the same sums:
//   scale = in/out, filterscale = max(scale, 1), support = filter support · filterscale   (bilinear 1, bicubic 2)
//   center = (i + 0.5)·scale; taps first = trunc(center − support + 0.5) ≥ 0 .. end = trunc(center + support + 0.5) ≤ in
//   w(x) = k((x − center + 0.5) · (1/filterscale)); w /= Σw (unless Σw = 0)                 (all in double)
//     bilinear_filter k(t) = max(0, 1 − |t|)
//     bicubic_filter  k(t) = ((a + 2)|t| − (a + 3))|t|² + 1 for |t| < 1, (((|t| − 5)|t| + 8)|t| − 4)·a for |t| < 2, else 0;
//                     a = −0.5
//   coefficient = trunc(w · 2²² − 0.5) if w < 0, else trunc(w · 2²² + 0.5)   (22-bit fixed point, rounded half away from 0)
//   pixel = clip8((2²¹ + Σ in · coefficient) >> 22), each channel independently
// Pillow multiplies by 1/filterscale rather than dividing by filterscale; so do we: the two can differ in the last bit
// of the double and so, rarely, in a fixed-point coefficient. The cubic is evaluated in the same operation order as
// Pillow's C (no fused multiply-add: .NET never contracts, and x86-64 Pillow builds have no FMA).
// Bicubic coefficients are negative at the window's ends, so sums may be negative or above 255·2²²: clip8 clamps both
// (Pillow indexes a table over [−640, 640) with the shifted sum; bicubic sums stay within [−35, 290]). Every sum fits an
// int32: over all sizes the positive coefficients of one output add up to at most 1.14, so |sum| < 0.6·2³¹.
namespace AotVit.Runtime.Imaging;

/// <summary>Coefficient arrays come from ArrayPool (whole-image resizes allocate nothing in steady state): dispose it.</summary>
internal sealed unsafe class ResampleAxis : IDisposable
{
    private int* _interleaved;   // ResampleKernels' coefficient layout for ResampleKernels.Lanes (native memory)

    public const int PrecisionBits = 22;              // Pillow's PRECISION_BITS for 8-bit images
    public const int Half = 1 << (PrecisionBits - 1);

    public ResampleAxis(int inSize, int outSize, ResampleFilter filter)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outSize);
        ResampleFilters.ThrowIfUndefined(filter, nameof(filter));
        InSize = inSize;
        OutSize = outSize;
        Filter = filter;
        bool bicubic = filter == ResampleFilter.Bicubic;
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = (bicubic ? 2.0 : 1.0) * filterScale;
        KernelSize = (int)Math.Ceiling(support) * 2 + 1;
        First = System.Buffers.ArrayPool<int>.Shared.Rent(outSize);
        Count = System.Buffers.ArrayPool<int>.Shared.Rent(outSize);
        Weights = System.Buffers.ArrayPool<int>.Shared.Rent(checked(outSize * KernelSize));
        // A plain array, not ArrayPool<double>.Shared: the pool's only double user, it cost ~3 KB of NativeAOT code
        // (one SharedArrayPool instantiation) to save one small allocation per resize plan.
        double[] weights = new double[KernelSize];
        double inverseFilterScale = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++)
        {
            double center = (i + 0.5) * scale;
            // (int) in C truncates toward zero; the clamps make negative/oversized bounds harmless.
            int first = Math.Max(0, (int)(center - support + 0.5));
            int end = Math.Min(inSize, (int)(center + support + 0.5));
            int count = end - first;
            double sum = 0.0;
            for (int t = 0; t < count; t++)
            {
                double x = (t + first - center + 0.5) * inverseFilterScale;
                double w = bicubic ? Cubic(x) : Triangle(x);
                weights[t] = w;
                sum += w;
            }
            Span<int> fixedPoint = Weights.AsSpan(i * KernelSize, KernelSize);
            fixedPoint.Clear();
            for (int t = 0; t < count; t++)
            {
                double w = sum != 0.0 ? weights[t] / sum : weights[t];
                fixedPoint[t] = w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));
            }
            First[i] = first;
            Count[i] = count;
        }
    }

    /// <summary>Groups of ⌊lanes/3⌋ taps that hold the longest window (KernelSize taps).</summary>
    public int GroupsPerOutput(int lanes) => (KernelSize + lanes / 3 - 1) / (lanes / 3);

    /// <summary>
    /// The coefficients laid out for ResampleKernels with <paramref name="lanes"/> int32 lanes: for output j and group g,
    /// lanes[l] = tap (g·T + ⌊l/3⌋)'s coefficient for l &lt; 3T (T = ⌊lanes/3⌋), 0 for the rest and past Count[j].
    /// Built on first use; valid until Dispose.
    /// </summary>
    public int* InterleavedWeights(int lanes)
    {
        if (_interleaved != null) return _interleaved;
        int tapsPerGroup = lanes / 3, groups = GroupsPerOutput(lanes);
        long length = (long)OutSize * groups * lanes;
        int* table = (int*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(length * sizeof(int)));
        for (int j = 0; j < OutSize; j++)
        {
            int* row = table + (long)j * groups * lanes;
            for (int t = 0; t < Count[j]; t++)
            {
                int w = Weights[j * KernelSize + t];
                int* lane = row + (t / tapsPerGroup) * lanes + (t % tapsPerGroup) * 3;
                lane[0] = lane[1] = lane[2] = w;
            }
        }
        _interleaved = table;
        return table;
    }

    public void Dispose()
    {
        if (_interleaved != null)
        {
            System.Runtime.InteropServices.NativeMemory.Free(_interleaved);
            _interleaved = null;
        }
        System.Buffers.ArrayPool<int>.Shared.Return(First);
        System.Buffers.ArrayPool<int>.Shared.Return(Count);
        System.Buffers.ArrayPool<int>.Shared.Return(Weights);
        First = Count = Weights = [];
    }

    public int InSize { get; }

    public ResampleFilter Filter { get; }

    public int OutSize { get; }

    public int KernelSize { get; }

    /// <summary>First input index of output i's taps (i &lt; OutSize; the array may be longer).</summary>
    public int[] First { get; private set; }

    /// <summary>Number of taps of output i.</summary>
    public int[] Count { get; private set; }

    /// <summary>Fixed-point taps of output i at [i·KernelSize, i·KernelSize + Count[i]); the rest of each row is 0.</summary>
    public int[] Weights { get; private set; }

    /// <summary>Pillow's bilinear ("triangle") kernel: k(t) = max(0, 1 − |t|) (Resample.c bilinear_filter).</summary>
    private static double Triangle(double t)
    {
        if (t < 0.0) t = -t;
        return t < 1.0 ? 1.0 - t : 0.0;
    }

    /// <summary>Pillow's bicubic kernel with a = −0.5 (Resample.c bicubic_filter), in its operation order:
    /// ((a + 2)·t − (a + 3))·t·t + 1 for t &lt; 1 and (((t − 5)·t + 8)·t − 4)·a for t &lt; 2, t = |x|.</summary>
    private static double Cubic(double t)
    {
        const double a = -0.5;
        if (t < 0.0) t = -t;
        if (t < 1.0) return ((a + 2.0) * t - (a + 3.0)) * t * t + 1;
        if (t < 2.0) return (((t - 5) * t + 8) * t - 4) * a;
        return 0.0;
    }

    /// <summary>Pillow's clip8: the sum shifted right (arithmetically) by 22, clamped to [0, 255].</summary>
    public static byte Clip8(int accumulator)
    {
        int value = accumulator >> PrecisionBits;
        return (byte)(value < 0 ? 0 : value > 255 ? 255 : value);
    }

    /// <summary>The input range [from, to) that outputs [j0, j1) read (empty for an empty output range).</summary>
    public (int From, int To) Window(int j0, int j1)
    {
        if (j0 >= j1) return (0, 0);
        int from = int.MaxValue, to = 0;
        for (int j = j0; j < j1; j++)
        {
            from = Math.Min(from, First[j]);
            to = Math.Max(to, First[j] + Count[j]);
        }
        return (from, to);
    }

    /// <summary>The smallest output whose taps may include input <paramref name="x"/> (First is non-decreasing).</summary>
    public int FirstOutputReading(int x)
    {
        int lo = 0, hi = OutSize;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (First[mid] + Count[mid] <= x) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>
    /// First pass over one RGB row: outputs [j0, j1) into output[(j − j0)·3 ..]. With <paramref name="reversed"/> the
    /// row is read right to left (input index x is row pixel InSize − 1 − x: an image mirrored in x).
    /// </summary>
    public void ResampleRow(ReadOnlySpan<byte> row, bool reversed, int j0, int j1, Span<byte> output)
    {
        if (j0 >= j1) return;
        if (row.Length < InSize * 3 || output.Length < (j1 - j0) * 3) throw new ArgumentException("row or output too short");
        if (!reversed)
        {
            fixed (byte* r = row, o = output) ResampleKernels.HorizontalRgb(this, r, InSize * 3, j0, j1, o);
            return;
        }
        // Mirrored: the pixels these outputs read, reversed into scratch, then the forward pass.
        var (from, to) = Window(j0, j1);
        byte[] scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(InSize * 3);
        try
        {
            for (int x = from; x < to; x++)
            {
                int s = (InSize - 1 - x) * 3;
                scratch[x * 3] = row[s];
                scratch[x * 3 + 1] = row[s + 1];
                scratch[x * 3 + 2] = row[s + 2];
            }
            fixed (byte* r = scratch, o = output) ResampleKernels.HorizontalRgb(this, r, to * 3, j0, j1, o);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Second pass: output rows [i0, i1) of length rowLength into destination (row i at (i − i0)·rowLength) from source
    /// rows that start at input row <paramref name="sourceFirstRow"/> (source row r is input row sourceFirstRow + r).
    /// Rows are accumulated whole (tap-major) so every read is sequential; the sums are the same as Pillow's.
    /// </summary>
    public void ResampleRows(ReadOnlySpan<byte> source, int rowLength, int sourceFirstRow, Span<byte> destination, int i0, int i1)
    {
        int[] accumulator = System.Buffers.ArrayPool<int>.Shared.Rent(Math.Max(1, rowLength));
        try
        {
            Span<int> sums = accumulator.AsSpan(0, rowLength);
            for (int i = i0; i < i1; i++)
            {
                ReadOnlySpan<int> k = Weights.AsSpan(i * KernelSize, Count[i]);
                int firstRow = First[i] - sourceFirstRow;
                sums.Fill(Half);
                for (int t = 0; t < k.Length; t++)
                {
                    ReadOnlySpan<byte> inRow = source.Slice((firstRow + t) * rowLength, rowLength);
                    fixed (int* sum = sums)
                    fixed (byte* pixels = inRow)
                    {
                        ResampleKernels.AccumulateRow(sum, pixels, rowLength, k[t]);
                    }
                }
                Span<byte> outRow = destination.Slice((i - i0) * rowLength, rowLength);
                for (int x = 0; x < outRow.Length; x++)
                {
                    outRow[x] = Clip8(sums[x]);
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(accumulator);
        }
    }
}

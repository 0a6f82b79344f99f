// StreamingPreprocessor: Hugging Face's slow image processor (EXIF transpose → Pillow BILINEAR or BICUBIC resize →
// rescale / normalise → centre crop → channel flip → CHW) computed from decoded rows as they arrive, top to bottom in
// the stored (pre-orientation) image, without ever holding the full-resolution image.
//
// Why it is bit-identical to transposing the whole image and running Preprocessor.Run on it:
// * Pillow resizes in two separable passes through a uint8 intermediate: first along the image's x (each output
//   column j = clip8((2^21 + Σ_t in[first_j + t] · k_j[t]) >> 22)), then along its y from that intermediate. Every
//   output value is an integer sum of products (exact in int32, bicubic's negative coefficients included), so the
//   order in which the terms arrive does not matter.
// * For orientations 1–4 the oriented image's rows are stored rows (perhaps reversed in order or in x): each stored row
//   is one first-pass row, computed when it arrives. For 5–8 the oriented image's x runs along stored y: a first-pass
//   output column j accumulates one term from each stored row in its window and is finished (rounded, clipped) when
//   the window's last row has arrived, so only the few windows overlapping the current row are held.
// * Only what the output reads is computed: the centre crop keeps output columns [cx0, cx1) and rows [cy0, cy1) of the
//   resized image, each of which depends on a known window of oriented (and so stored) pixels — StoredRegion — which a
//   decoder may use to skip work outside it. Pixels outside StoredRegion are never read.
// * The second pass and the value mapping are Preprocessor's (same coefficient tables, same 256-entry value tables).
using System.Buffers;

namespace AotVit.Runtime.Imaging;

/// <summary>Consumes stored RGB rows in order and produces a plan's float32 CHW pixel values.</summary>
public sealed class StreamingPreprocessor : IDisposable, Jpeg.IRgbRowSink
{
    private readonly PreprocessPlan _plan;
    private readonly int _storedWidth, _storedHeight;
    private readonly bool _transpose, _flipX, _flipY;
    private readonly int _orientedWidth, _orientedHeight;
    private readonly int _resizedWidth, _resizedHeight;
    private readonly int _cx0, _cx1, _cy0, _cy1;   // resized-image window the output reads
    private readonly int _ox0, _ox1, _oy0, _oy1;   // oriented-image window the first pass reads / the second pass needs
    private readonly ResampleAxis? _horizontal;     // oriented x → resized x (null: same width)
    private readonly ResampleAxis? _vertical;       // oriented y → resized y (null: same height)
    private readonly byte[] _middle;                // first-pass output: oriented rows [oy0, oy1) × resized columns [cx0, cx1) × RGB
    private readonly int _middleStride;
    // Orientations 5–8 with a first pass: per resized column j in [cx0, cx1), the running sums of its window (one
    // int per oriented row and channel) and how many window rows are still to come.
    private readonly int[]?[]? _columnSums;
    private readonly int[]? _columnRemaining;
    private readonly Stack<int[]> _freeSums = new();  // finished windows' sums, for reuse
    private byte[]? _reversed;                      // orientations 7 and 8: the current stored row's run, mirrored
    private int _nextRow;
    private bool _disposed;

    /// <param name="orientation">EXIF orientation of the stored image, applied as ImageOps.exif_transpose does
    /// (<see cref="ImageOrientation"/>; TopLeft = as stored).</param>
    /// <exception cref="LimitExceededException">The resized image would exceed <see cref="Preprocessor.MaxResizedPixels"/>.</exception>
    public StreamingPreprocessor(PreprocessPlan plan, int storedWidth, int storedHeight, ImageOrientation orientation = ImageOrientation.TopLeft)
        : this(plan, storedWidth, storedHeight, (int)orientation)
    {
    }

    /// <summary>As above with the orientation as its EXIF value 1–8.</summary>
    public StreamingPreprocessor(PreprocessPlan plan, int storedWidth, int storedHeight, int orientation)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(storedWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(storedHeight);
        ArgumentOutOfRangeException.ThrowIfLessThan(orientation, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(orientation, 8);
        _plan = plan;
        _storedWidth = storedWidth;
        _storedHeight = storedHeight;
        _transpose = orientation >= 5;
        _flipX = orientation is 2 or 3 or 7 or 8;
        _flipY = orientation is 3 or 4 or 6 or 7;
        (_orientedWidth, _orientedHeight) = _transpose ? (storedHeight, storedWidth) : (storedWidth, storedHeight);
        (_resizedHeight, _resizedWidth) = Preprocessor.ResizedSize(plan, _orientedWidth, _orientedHeight);
        if ((long)_resizedWidth * _resizedHeight > Preprocessor.MaxResizedPixels)
        {
            throw Preprocessor.TooLarge(_orientedWidth, _orientedHeight, _resizedWidth, _resizedHeight);
        }
        (OutputHeight, OutputWidth) = plan.CenterCrop is { } crop ? (crop.Height, crop.Width) : (_resizedHeight, _resizedWidth);
        (Top, Left) = plan.CenterCrop is { } c ? ((_resizedHeight - c.Height) >> 1, (_resizedWidth - c.Width) >> 1) : (0, 0);
        _cx0 = Math.Clamp(Left, 0, _resizedWidth);
        _cx1 = Math.Clamp(Left + OutputWidth, _cx0, _resizedWidth);
        _cy0 = Math.Clamp(Top, 0, _resizedHeight);
        _cy1 = Math.Clamp(Top + OutputHeight, _cy0, _resizedHeight);

        ResampleFilter filter = plan.Resize?.Filter ?? ResampleFilter.Bilinear;   // no resize: sizes equal, no axis
        if (_resizedWidth != _orientedWidth) _horizontal = new ResampleAxis(_orientedWidth, _resizedWidth, filter);
        if (_resizedHeight != _orientedHeight) _vertical = new ResampleAxis(_orientedHeight, _resizedHeight, filter);
        (_ox0, _ox1) = _horizontal is null ? (_cx0, _cx1) : _horizontal.Window(_cx0, _cx1);
        (_oy0, _oy1) = _vertical is null ? (_cy0, _cy1) : _vertical.Window(_cy0, _cy1);

        _middleStride = (_cx1 - _cx0) * 3;
        _middle = new byte[checked((_oy1 - _oy0) * _middleStride)];
        if (_transpose && _horizontal is not null && _cx1 > _cx0)
        {
            _columnSums = new int[]?[_cx1 - _cx0];
            _columnRemaining = new int[_cx1 - _cx0];
            for (int j = _cx0; j < _cx1; j++) _columnRemaining[j - _cx0] = _horizontal.Count[j];
        }
        StoredRegion = ToStored(_ox0, _ox1, _oy0, _oy1);
    }

    /// <summary>Output height and width (the crop size, or the resized size without a crop).</summary>
    public int OutputHeight { get; }

    public int OutputWidth { get; }

    private int Top { get; }

    private int Left { get; }

    /// <summary>The stored pixels the output depends on: columns [X0, X1), rows [Y0, Y1) (empty when the crop misses
    /// the image). Rows outside it may be skipped or passed; their pixels are never read.</summary>
    public (int X0, int X1, int Y0, int Y1) StoredRegion { get; }

    /// <summary>True once every stored row the output depends on has been given.</summary>
    public bool HasAllRows => _nextRow >= StoredRegion.Y1 || StoredRegion.Y0 >= StoredRegion.Y1;

    /// <summary>
    /// Takes stored rows [y, y + count) in order (each call continues where the last ended; rows before StoredRegion.Y0
    /// may be skipped by starting later). <paramref name="rgb"/>: row r at rgb[r · strideBytes ..], 3 bytes per stored
    /// pixel from column 0; only columns in StoredRegion are read (a decoder may leave the others undefined).
    /// </summary>
    public void OnRows(int y, int count, ReadOnlySpan<byte> rgb, int strideBytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (y < _nextRow || count < 0 || y > _storedHeight - count)
        {
            throw new ArgumentOutOfRangeException(nameof(y), $"rows [{y}, {y + count}) do not continue the stored image at row {_nextRow} of {_storedHeight}");
        }
        if (count > 0 && (strideBytes < 3 * _storedWidth || rgb.Length < (long)(count - 1) * strideBytes + 3L * _storedWidth))
        {
            throw new ArgumentException($"{count} rows of {_storedWidth} RGB pixels need a stride of at least {3 * _storedWidth} and {(long)(count - 1) * strideBytes + 3L * _storedWidth} bytes", nameof(rgb));
        }
        for (int r = 0; r < count; r++)
        {
            int storedY = y + r;
            if (storedY < StoredRegion.Y0 || storedY >= StoredRegion.Y1) continue;
            ReadOnlySpan<byte> row = rgb.Slice(r * strideBytes, 3 * _storedWidth);
            if (_transpose) StoredRowAsColumn(storedY, row);
            else StoredRowAsRow(storedY, row);
        }
        _nextRow = y + count;
    }

    /// <summary>Runs the second pass and writes [3, OutputHeight, OutputWidth] float32 into destination.</summary>
    /// <exception cref="InvalidOperationException">Rows the output depends on have not all been given.</exception>
    public void Finish(Span<float> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!HasAllRows)
        {
            throw new InvalidOperationException($"the output depends on stored rows up to {StoredRegion.Y1}; only {_nextRow} were given");
        }
        long planeLength = (long)OutputHeight * OutputWidth;
        if (destination.Length < 3 * planeLength)
        {
            throw new ArgumentException($"Destination holds {destination.Length} floats, [3, {OutputHeight}, {OutputWidth}] needs {3 * planeLength}.", nameof(destination));
        }
        int windowWidth = _cx1 - _cx0, windowHeight = _cy1 - _cy0;
        byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(1, windowHeight * _middleStride));
        try
        {
            Span<byte> window = rented.AsSpan(0, windowHeight * _middleStride);   // resized rows [cy0, cy1) × columns [cx0, cx1)
            if (_vertical is null)
            {
                _middle.AsSpan(0, window.Length).CopyTo(window);
            }
            else
            {
                _vertical.ResampleRows(_middle, _middleStride, _oy0, window, _cy0, _cy1);
            }
            Preprocessor.WriteWindowChw(window, windowWidth, windowHeight, _cx0 - Left, _cy0 - Top, _plan, destination, OutputWidth, OutputHeight);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _horizontal?.Dispose();
        _vertical?.Dispose();
    }

    /// <summary>Orientations 1–4: stored row storedY is oriented row y' = storedY (or reversed), read left to right
    /// (or right to left).</summary>
    private void StoredRowAsRow(int storedY, ReadOnlySpan<byte> row)
    {
        int orientedY = _flipY ? _storedHeight - 1 - storedY : storedY;
        if (orientedY < _oy0 || orientedY >= _oy1) return;
        Span<byte> output = _middle.AsSpan((orientedY - _oy0) * _middleStride, _middleStride);
        if (_horizontal is null)
        {
            for (int j = _cx0; j < _cx1; j++)
            {
                int sx = _flipX ? _storedWidth - 1 - j : j;
                output[(j - _cx0) * 3] = row[sx * 3];
                output[(j - _cx0) * 3 + 1] = row[sx * 3 + 1];
                output[(j - _cx0) * 3 + 2] = row[sx * 3 + 2];
            }
            return;
        }
        _horizontal.ResampleRow(row, _flipX, _cx0, _cx1, output);
    }

    /// <summary>Orientations 5–8: stored row storedY is oriented column x' (= storedY or reversed); its pixels are the
    /// oriented rows y' (stored column y', or reversed).</summary>
    private unsafe void StoredRowAsColumn(int storedY, ReadOnlySpan<byte> row)
    {
        int orientedX = _flipY ? _storedHeight - 1 - storedY : storedY;
        if (orientedX < _ox0 || orientedX >= _ox1) return;
        int rows = _oy1 - _oy0;
        if (_horizontal is null)
        {
            // No first pass: column x' of the intermediate is this stored row, in oriented-row order.
            int j = orientedX;
            if (j < _cx0 || j >= _cx1) return;
            for (int yy = _oy0; yy < _oy1; yy++)
            {
                int sx = _flipX ? _storedWidth - 1 - yy : yy;
                int at = (yy - _oy0) * _middleStride + (j - _cx0) * 3;
                _middle[at] = row[sx * 3];
                _middle[at + 1] = row[sx * 3 + 1];
                _middle[at + 2] = row[sx * 3 + 2];
            }
            return;
        }
        // Each resized column j whose window holds x' takes one term; the windows are contiguous, so scan outward
        // from the first j that can hold it. The term for oriented rows [oy0, oy1) is one contiguous run of pixels:
        // stored columns [oy0, oy1), or, mirrored (orientations 7, 8), stored columns W − 1 − y' reversed once here.
        ResampleAxis h = _horizontal;
        ReadOnlySpan<byte> run = row.Slice(_oy0 * 3, rows * 3);
        if (_flipX)
        {
            _reversed ??= new byte[rows * 3];
            for (int yy = _oy0; yy < _oy1; yy++)
            {
                int sx = (_storedWidth - 1 - yy) * 3, at = (yy - _oy0) * 3;
                _reversed[at] = row[sx];
                _reversed[at + 1] = row[sx + 1];
                _reversed[at + 2] = row[sx + 2];
            }
            run = _reversed;
        }
        for (int j = Math.Max(_cx0, h.FirstOutputReading(orientedX)); j < _cx1 && h.First[j] <= orientedX; j++)
        {
            int t = orientedX - h.First[j];
            if (t >= h.Count[j]) continue;
            int[] sums = _columnSums![j - _cx0] ??= NewSums();
            fixed (int* sum = sums)
            fixed (byte* pixels = run)
            {
                ResampleKernels.AccumulateRow(sum, pixels, rows * 3, h.Weights[j * h.KernelSize + t]);
            }
            if (--_columnRemaining![j - _cx0] == 0)
            {
                for (int yy = 0; yy < rows; yy++)
                {
                    int at = yy * _middleStride + (j - _cx0) * 3;
                    _middle[at] = ResampleAxis.Clip8(sums[yy * 3]);
                    _middle[at + 1] = ResampleAxis.Clip8(sums[yy * 3 + 1]);
                    _middle[at + 2] = ResampleAxis.Clip8(sums[yy * 3 + 2]);
                }
                _columnSums[j - _cx0] = null;
                _freeSums.Push(sums);
            }
        }
    }

    /// <summary>A window's running sums, each starting at Pillow's rounding term; arrays are reused once a window is done
    /// (only the few windows overlapping one row are ever open).</summary>
    private int[] NewSums()
    {
        int[] sums = _freeSums.Count > 0 ? _freeSums.Pop() : new int[(_oy1 - _oy0) * 3];
        sums.AsSpan().Fill(ResampleAxis.Half);
        return sums;
    }

    /// <summary>Oriented window → stored window (see the orientation mapping in the constructor's remarks).</summary>
    private (int X0, int X1, int Y0, int Y1) ToStored(int ox0, int ox1, int oy0, int oy1)
    {
        if (ox0 >= ox1 || oy0 >= oy1) return (0, 0, 0, 0);
        // Non-transposed: sx from x', sy from y'. Transposed: sx from y', sy from x'.
        var (xs0, xs1, ys0, ys1) = _transpose ? (oy0, oy1, ox0, ox1) : (ox0, ox1, oy0, oy1);
        if (_flipX) (xs0, xs1) = (_storedWidth - xs1, _storedWidth - xs0);
        if (_flipY) (ys0, ys1) = (_storedHeight - ys1, _storedHeight - ys0);
        return (xs0, xs1, ys0, ys1);
    }
}

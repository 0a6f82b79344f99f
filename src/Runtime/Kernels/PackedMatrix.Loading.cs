// Load-time packing of torch-layout weights straight from (memory-mapped) checkpoint spans, part by part and
// with an optional per-row scale, so fused weights (q|k|v) and BatchNorm-folded 1x1 convolutions need no
// intermediate copy. Uses the same panel layout as FromOutIn: [panel][k][PanelWidth], N tail zero.
namespace AotVit.Runtime.Kernels;

public sealed unsafe partial class PackedMatrix
{
    /// <summary>A zeroed packed matrix for B = Wᵀ with W [n, k], to be filled by <see cref="PackOutInRows"/>.</summary>
    public static PackedMatrix AllocateOutIn(int n, int k) => new(k, n);

    /// <summary>
    /// Packs rows firstRow .. firstRow+count−1 of W [N, K] (rows = W[firstRow.., :], row-major [count, K]);
    /// each row is multiplied by rowScale[row] (in double, rounded once) when rowScale is not empty.
    /// </summary>
    public void PackOutInRows(int firstRow, ReadOnlySpan<float> rows, ReadOnlySpan<double> rowScale)
    {
        if (rows.Length % K != 0) throw new ArgumentException($"rows hold {rows.Length} floats, not a multiple of K = {K}", nameof(rows));
        int count = rows.Length / K;
        if (firstRow < 0 || firstRow + count > N) throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows {firstRow}..{firstRow + count - 1} are outside [0, {N})");
        if (!rowScale.IsEmpty && rowScale.Length != count) throw new ArgumentException($"rowScale has {rowScale.Length} entries, expected {count}", nameof(rowScale));
        float* data = Data;
        fixed (float* source = rows)
        {
            for (int r = 0; r < count; r++)
            {
                int column = firstRow + r;
                float* panel = data + (long)(column / PanelWidth) * K * PanelWidth + column % PanelWidth;
                float* row = source + (long)r * K;
                if (rowScale.IsEmpty)
                {
                    for (int k = 0; k < K; k++) panel[(long)k * PanelWidth] = row[k];
                }
                else
                {
                    double scale = rowScale[r];
                    for (int k = 0; k < K; k++) panel[(long)k * PanelWidth] = (float)(row[k] * scale);
                }
            }
        }
    }
}

// How a GEMM-shaped job (M rows × P column panels) is cut into work items, shared by Gemm (float32) and Int8Gemm.
namespace AotVit.Runtime.Kernels.Common;

internal static class WorkSplit
{
    /// <summary>
    /// Cuts M rows × <paramref name="panels"/> panels into items of (row chunk × panel group) for
    /// <paramref name="threads"/> threads. Invariants: <paramref name="chunkRows"/> is a multiple of
    /// <paramref name="rowBlock"/> (the microkernel's rows) and at most ⌈M / rowBlock⌉ · rowBlock; panel groups never
    /// split a panel; with several threads and few items, the item count is made a multiple of the thread count when the
    /// panels or rows allow it, so no thread ends with one item more than another. Returns the number of items.
    /// </summary>
    /// <param name="maxRows">the largest row chunk before rounding up to whole row blocks: rows of A that stay in L2 across a panel</param>
    /// <param name="panelsPerItem">panels per item when there are many: a thread's prefetch of its next panel then lands in
    /// its own L2 rather than in the core that claims that panel</param>
    public static int Plan(int m, int panels, int rowBlock, int maxRows, int threads, int panelsPerItem,
                           out int chunkRows, out int panelGroups)
    {
        int chunks = CeilDiv(m, maxRows);
        panelGroups = 1;
        if (threads > 1 && chunks < 2 * threads)
        {
            if (panels >= 2 * threads)
            {
                panelGroups = panels >= panelsPerItem * 2 * threads ? panels / panelsPerItem : panels;
            }
            else
            {
                // Few columns and few rows: cut the rows finer (down to one row block per item) and split the panels too.
                chunks = Math.Min(2 * threads, CeilDiv(m, rowBlock));
                panelGroups = panels;
            }

            // So few items that one extra item is a large share (MobileViT-S's encoder.layer.4 at batch 1: 64 rows × 5 or
            // 23 panels gave 5 items, 3 for one thread and 2 for the other): more panel groups if there are panels to
            // spare, else more row chunks.
            if (chunks * panelGroups % threads != 0)
            {
                int groups = panelGroups;
                while (groups < panels && chunks * groups % threads != 0) groups++;
                if (chunks * groups % threads == 0)
                {
                    panelGroups = groups;
                }
                else
                {
                    int rowChunks = chunks, maxChunks = CeilDiv(m, rowBlock);
                    while (rowChunks < maxChunks && rowChunks * panelGroups % threads != 0) rowChunks++;
                    chunks = rowChunks;
                }
            }
        }

        chunkRows = CeilDiv(CeilDiv(m, chunks), rowBlock) * rowBlock;
        return CeilDiv(m, chunkRows) * panelGroups;
    }

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}

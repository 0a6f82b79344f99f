// JpegSmoothing: libjpeg-turbo 2.1.5's block smoothing (jdcoefct.c smoothing_ok + decompress_smooth_data) for a
// progressive image decoded whole: where the scans left low-frequency coefficients inexact (coef_bits ≠ 0 for one of
// the first 9 AC coefficients in zigzag order), each block's still-zero coefficients among AC01, AC10, AC20, AC11,
// AC02 (and, when no AC data was sent at all, AC03, AC12, AC21, AC30 and the DC itself) are estimated from the DC
// values of the surrounding 5×5 blocks before the IDCT.
//
// Invariants:
// * Enabled exactly when smoothing_ok is true at the start of the output pass, i.e. after all scans: progressive,
//   every component's quantisers at positions 0,1,8,16,9,2,3,10,17,24 nonzero, every component's coef_bits[0] ≥ 0,
//   and some component has coef_bits[1..9] ≠ 0. The coef_bits read are those latched then, which for a whole file
//   (last_good_iMCU_row = the last iMCU row) are the final ones: JpegComponent.CoefBits.
// * The neighbour rows follow the C code's choices literally, including its quirks: the row two above is only used
//   from iMCU row 2 on (or block row ≥ 2 within the iMCU row), the row two below only while it lies within this
//   iMCU row or the iMCU row after next exists; horizontally the 5 DC registers slide exactly as in the C loop (an image
//   two blocks wide sees its first column again on the right).
// * DC values are read from the unmodified coefficients; estimates go into a copy of the block (int16, truncated as
//   the C code's (JCOEF) cast). Divisions truncate toward zero on non-negative numerators as in C.
namespace AotVit.Runtime.Imaging.Jpeg;

internal static unsafe class JpegSmoothing
{
    // Natural-order positions of the first coefficients in zigzag order 1..9 (Q01_POS .. Q30_POS).
    private const int Q01 = 1, Q10 = 8, Q20 = 16, Q11 = 9, Q02 = 2, Q03 = 3, Q12 = 10, Q21 = 17, Q30 = 24;

    /// <summary>smoothing_ok after all scans of a progressive frame.</summary>
    public static bool IsActive(JpegFrame frame)
    {
        if (!frame.Progressive) return false;
        bool useful = false;
        foreach (JpegComponent c in frame.Components)
        {
            ushort[]? q = c.Quant;
            if (q is null) return false;
            if (q[0] == 0 || q[Q01] == 0 || q[Q10] == 0 || q[Q20] == 0 || q[Q11] == 0 || q[Q02] == 0
                || q[Q03] == 0 || q[Q12] == 0 || q[Q21] == 0 || q[Q30] == 0)
            {
                return false;
            }
            if (c.CoefBits[0] < 0) return false;
            for (int k = 1; k < 10; k++)
            {
                if (c.CoefBits[k] != 0) useful = true;
            }
        }
        return useful;
    }

    /// <summary>
    /// Smooths and inverse-transforms blocks [bx0, bx1) of block row <paramref name="by"/> of component
    /// <paramref name="comp"/> (whole-image coefficients), writing block bx's samples at output + 8·bx, row stride
    /// <paramref name="stride"/>.
    /// </summary>
    public static void TransformRow(JpegFrame frame, JpegComponent comp, short[] blocks, int* dequant, int by, int bx0, int bx1,
                                    byte* output, int stride)
    {
        int v = comp.V;
        int lastImcu = frame.McusHigh - 1;
        int m = by / v, b = by % v;
        int blockRows = v;
        if (m >= lastImcu)
        {
            blockRows = comp.HeightInBlocks % v;
            if (blockRows == 0) blockRows = v;
        }
        int prev = (b > 0 || m > 0) ? by - 1 : by;
        int prevPrev = (b > 1 || m > 1) ? by - 2 : prev;
        int next = (b < blockRows - 1 || m < lastImcu) ? by + 1 : by;
        int nextNext = (b < blockRows - 2 || m + 1 < lastImcu) ? by + 2 : next;

        int[] bits = comp.CoefBits;
        bool changeDc = true;
        for (int k = 1; k < 10; k++) changeDc &= bits[k] == -1;
        ushort[] qt = comp.Quant!;
        long q00 = qt[0], q01 = qt[Q01], q10 = qt[Q10], q20 = qt[Q20], q11 = qt[Q11], q02 = qt[Q02];
        long q03 = qt[Q03], q12 = qt[Q12], q21 = qt[Q21], q30 = qt[Q30];

        int perLine = comp.BlocksPerLine;
        int last = comp.WidthInBlocks - 1;
        fixed (short* all = blocks)
        {
            short* r1 = all + (long)prevPrev * perLine * 64, r2 = all + (long)prev * perLine * 64, r3 = all + (long)by * perLine * 64;
            short* r4 = all + (long)next * perLine * 64, r5 = all + (long)nextNext * perLine * 64;
            int dc01, dc02, dc03, dc04, dc05, dc06, dc07, dc08, dc09, dc10, dc11, dc12, dc13, dc14, dc15;
            int dc16, dc17, dc18, dc19, dc20, dc21, dc22, dc23, dc24, dc25;
            dc01 = dc02 = dc03 = dc04 = dc05 = r1[0];
            dc06 = dc07 = dc08 = dc09 = dc10 = r2[0];
            dc11 = dc12 = dc13 = dc14 = dc15 = r3[0];
            dc16 = dc17 = dc18 = dc19 = dc20 = r4[0];
            dc21 = dc22 = dc23 = dc24 = dc25 = r5[0];
            short* ws = stackalloc short[64];
            for (int n = 0; n <= last; n++)
            {
                if (n == 0 && n < last)
                {
                    dc04 = r1[64]; dc09 = r2[64]; dc14 = r3[64]; dc19 = r4[64]; dc24 = r5[64];
                }
                if (n + 1 < last)
                {
                    int at = (n + 2) * 64;
                    dc05 = r1[at]; dc10 = r2[at]; dc15 = r3[at]; dc20 = r4[at]; dc25 = r5[at];
                }
                if (n >= bx0 && n < bx1)
                {
                    new ReadOnlySpan<short>(r3 + n * 64, 64).CopyTo(new Span<short>(ws, 64));
                    int al;
                    if ((al = bits[1]) != 0 && ws[1] == 0)
                    {
                        long num = q00 * (changeDc
                            ? (-dc01 - dc02 + dc04 + dc05 - 3 * dc06 + 13 * dc07 - 13 * dc09 + 3 * dc10 - 3 * dc11 + 38 * dc12
                               - 38 * dc14 + 3 * dc15 - 3 * dc16 + 13 * dc17 - 13 * dc19 + 3 * dc20 - dc21 - dc22 + dc24 + dc25)
                            : (-7 * dc11 + 50 * dc12 - 50 * dc14 + 7 * dc15));
                        ws[1] = Predict(num, q01, al);
                    }
                    if ((al = bits[2]) != 0 && ws[8] == 0)
                    {
                        long num = q00 * (changeDc
                            ? (-dc01 - 3 * dc02 - 3 * dc03 - 3 * dc04 - dc05 - dc06 + 13 * dc07 + 38 * dc08 + 13 * dc09 - dc10
                               + dc16 - 13 * dc17 - 38 * dc18 - 13 * dc19 + dc20 + dc21 + 3 * dc22 + 3 * dc23 + 3 * dc24 + dc25)
                            : (-7 * dc03 + 50 * dc08 - 50 * dc18 + 7 * dc23));
                        ws[8] = Predict(num, q10, al);
                    }
                    if ((al = bits[3]) != 0 && ws[16] == 0)
                    {
                        long num = q00 * (changeDc
                            ? (dc03 + 2 * dc07 + 7 * dc08 + 2 * dc09 - 5 * dc12 - 14 * dc13 - 5 * dc14 + 2 * dc17 + 7 * dc18
                               + 2 * dc19 + dc23)
                            : (-dc03 + 13 * dc08 - 24 * dc13 + 13 * dc18 - dc23));
                        ws[16] = Predict(num, q20, al);
                    }
                    if ((al = bits[4]) != 0 && ws[9] == 0)
                    {
                        long num = q00 * (changeDc
                            ? (-dc01 + dc05 + 9 * dc07 - 9 * dc09 - 9 * dc17 + 9 * dc19 + dc21 - dc25)
                            : (dc10 + dc16 - 10 * dc17 + 10 * dc19 - dc02 - dc20 + dc22 - dc24 + dc04 - dc06 + 10 * dc07
                               - 10 * dc09));
                        ws[9] = Predict(num, q11, al);
                    }
                    if ((al = bits[5]) != 0 && ws[2] == 0)
                    {
                        long num = q00 * (changeDc
                            ? (2 * dc07 - 5 * dc08 + 2 * dc09 + dc11 + 7 * dc12 - 14 * dc13 + 7 * dc14 + dc15 + 2 * dc17
                               - 5 * dc18 + 2 * dc19)
                            : (-dc11 + 13 * dc12 - 24 * dc13 + 13 * dc14 - dc15));
                        ws[2] = Predict(num, q02, al);
                    }
                    if (changeDc)
                    {
                        if ((al = bits[6]) != 0 && ws[3] == 0)
                        {
                            ws[3] = Predict(q00 * (dc07 - dc09 + 2 * dc12 - 2 * dc14 + dc17 - dc19), q03, al);
                        }
                        if ((al = bits[7]) != 0 && ws[10] == 0)
                        {
                            ws[10] = Predict(q00 * (dc07 - 3 * dc08 + dc09 - dc17 + 3 * dc18 - dc19), q12, al);
                        }
                        if ((al = bits[8]) != 0 && ws[17] == 0)
                        {
                            ws[17] = Predict(q00 * (dc07 - dc09 - 3 * dc12 + 3 * dc14 + dc17 - dc19), q21, al);
                        }
                        if ((al = bits[9]) != 0 && ws[24] == 0)
                        {
                            ws[24] = Predict(q00 * (dc07 + 2 * dc08 + dc09 - dc17 - 2 * dc18 - dc19), q30, al);
                        }
                        long num = q00 * (-2 * dc01 - 6 * dc02 - 8 * dc03 - 6 * dc04 - 2 * dc05 - 6 * dc06 + 6 * dc07
                                          + 42 * dc08 + 6 * dc09 - 6 * dc10 - 8 * dc11 + 42 * dc12 + 152 * dc13 + 42 * dc14
                                          - 8 * dc15 - 6 * dc16 + 6 * dc17 + 42 * dc18 + 6 * dc19 - 6 * dc20 - 2 * dc21
                                          - 6 * dc22 - 8 * dc23 - 6 * dc24 - 2 * dc25);
                        ws[0] = Predict(num, q00, 0);
                    }
                    JpegIdct.Transform(ws, dequant, output + 8 * n, stride);
                }
                dc01 = dc02; dc02 = dc03; dc03 = dc04; dc04 = dc05;
                dc06 = dc07; dc07 = dc08; dc08 = dc09; dc09 = dc10;
                dc11 = dc12; dc12 = dc13; dc13 = dc14; dc14 = dc15;
                dc16 = dc17; dc17 = dc18; dc18 = dc19; dc19 = dc20;
                dc21 = dc22; dc22 = dc23; dc23 = dc24; dc24 = dc25;
            }
        }
    }

    // pred = round(|num| / (q·256)), capped at 2^Al − 1 when Al > 0, with num's sign; stored as JCOEF.
    private static short Predict(long num, long q, int al)
    {
        int pred;
        if (num >= 0)
        {
            pred = (int)(((q << 7) + num) / (q << 8));
            if (al > 0 && pred >= (1 << al)) pred = (1 << al) - 1;
        }
        else
        {
            pred = (int)(((q << 7) - num) / (q << 8));
            if (al > 0 && pred >= (1 << al)) pred = (1 << al) - 1;
            pred = -pred;
        }
        return (short)pred;
    }
}

// Conv2d: NHWC (channels-last) convolutions. Full k×k convolutions run on the packed GEMM with an implicit im2col:
// the GEMM driver asks GatherRows for one chunk of im2col rows at a time, so the im2col matrix is never materialised.
// Depthwise 3x3 is a direct kernel vectorised over channels. Padding is always (k − 1)/2, no dilation.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using AotVit.Runtime.Kernels.Common;
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels;

/// <summary>NHWC (channels last) convolutions; padding (k−1)/2; no dilation.</summary>
/// <remarks>Infrastructure for the generated model code (AotVit.Models.*), public because that code lives in another
/// assembly; not part of the supported API (use VisionModel, ImageClassifier, FeatureExtractor).</remarks>
[System.ComponentModel.EditorBrowsable(System.ComponentModel.EditorBrowsableState.Never)]
public static unsafe partial class Conv2d
{
    /// <summary>
    /// output[b, oy, ox, co] = act(Σ_{ky,kx,ci} x[b, oy·s − p + ky, ox·s − p + kx, ci]·weight[(ky·k + kx)·Cin + ci, co] + bias[co])
    /// where x is the channel concatenation [in0, in1] (Cin = c0 + c1) and out-of-image pixels read 0.
    /// </summary>
    /// <param name="in0">[batch, h, w, c0]</param>
    /// <param name="in1">[batch, h, w, c1], or null with c1 = 0</param>
    /// <param name="weight">[kernel·kernel·(c0 + c1), Cout] packed, (ky, kx, cin) order</param>
    /// <param name="bias">[Cout] or null</param>
    /// <param name="output">[batch, hOut, wOut, Cout], hOut = (h + 2p − k)/stride + 1</param>
    public static void Run(WorkerPool? pool, int batch, int h, int w, float* in0, int c0, float* in1, int c1,
                           int kernel, int stride, PackedMatrix weight, float* bias, Activation act, float* output)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (kernel < 1 || kernel % 2 == 0 || stride < 1)
        {
            throw new ArgumentException($"kernel {kernel} must be odd and stride {stride} positive.");
        }

        if (weight.K != kernel * kernel * (c0 + c1))
        {
            throw new ArgumentException($"weight K = {weight.K}, expected {kernel}·{kernel}·({c0} + {c1}).", nameof(weight));
        }

        int pad = (kernel - 1) / 2;
        int hOut = (h + 2 * pad - kernel) / stride + 1, wOut = (w + 2 * pad - kernel) / stride + 1;
        Geometry geometry = new()
        {
            H = h, W = w, In0 = in0, C0 = c0, In1 = in1, C1 = c1, Kernel = kernel, Stride = stride, Pad = pad,
            HOut = hOut, WOut = wOut,
        };
        bool direct = kernel == 1 && stride == 1 && c1 == 0;
        Gemm.Job job = new()
        {
            M = batch * geometry.HOut * geometry.WOut, K = weight.K, N = weight.N, Panels = weight.Panels, B = weight.Data,
            A = in0, Lda = c0, Bias = bias, Act = act, C = output, Ldc = weight.N, Gather = direct ? null : &geometry,
        };
        Gemm.Execute(pool, &job);
    }

    /// <summary>
    /// Same contract as <see cref="Run"/> without the second input, for exactly 16 output channels from at most 4 input
    /// channels (MobileViT's stem, 3 → 16, 3×3 stride 2): direct variant, vectorised over the 16 output channels (one
    /// zmm, two ymm or four xmm/NEON q registers per output pixel, 4 pixels at a time). As an im2col GEMM that
    /// convolution spends half of each 32-column panel on nothing and most of its time gathering 27-float rows. The
    /// generator names this variant from the op's static shape (ConvOp.ChooseVariant); without SIMD it runs
    /// <see cref="Run"/>.
    /// </summary>
    /// <param name="input">[batch, h, w, c], c ≤ 4</param>
    /// <param name="weight">[kernel·kernel·c, 16] packed, (ky, kx, cin) order</param>
    /// <param name="bias">[16] or null</param>
    /// <param name="output">[batch, hOut, wOut, 16]</param>
    public static void RunDirect16(WorkerPool? pool, int batch, int h, int w, float* input, int c,
                                   int kernel, int stride, PackedMatrix weight, float* bias, Activation act, float* output)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.N != DirectChannels || c < 1 || c > DirectMaxInputChannels || kernel < 1 || kernel % 2 == 0 || stride < 1
            || weight.K != kernel * kernel * c)
        {
            ThrowDirectShape(c, weight, kernel, stride);
        }

        if (!Vector128.IsHardwareAccelerated)
        {
            Run(pool, batch, h, w, input, c, null, 0, kernel, stride, weight, bias, act, output);
            return;
        }

        int pad = (kernel - 1) / 2;
        DirectJob job = new()
        {
            H = h, W = w, C = c, Kernel = kernel, Stride = stride, Pad = pad,
            HOut = (h + 2 * pad - kernel) / stride + 1, WOut = (w + 2 * pad - kernel) / stride + 1,
            Input = input, Weight = weight.Data, Bias = bias, Act = act, Output = output,
        };
        delegate*<void*, int, int, void> body = Vector512.IsHardwareAccelerated ? &Direct16Rows<Vector512Ops, Vector512<float>>
            : Vector256.IsHardwareAccelerated ? &Direct16Rows<Vector256Ops, Vector256<float>>
            : &Direct16Rows<Vector128Ops, Vector128<float>>;
        int rows = batch * job.HOut;
        if (pool == null)
        {
            body(&job, 0, rows);
        }
        else
        {
            pool.For(rows, body, &job);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDirectShape(int c, PackedMatrix weight, int kernel, int stride) =>
        throw new ArgumentException($"RunDirect16 takes an odd kernel, a positive stride and {DirectChannels} output channels from 1..{DirectMaxInputChannels} inputs " +
                                    $"(weight K = kernel·kernel·c): kernel {kernel}, stride {stride}, {c} → {weight.N} channels, K = {weight.K}.");

    /// <summary>
    /// Depthwise 3x3: output[b, oy, ox, ch] = act(Σ_{ky,kx} x[b, oy·s − 1 + ky, ox·s − 1 + kx, ch]·weight[ky·3 + kx, ch] + bias[ch]).
    /// </summary>
    /// <param name="input">[batch, h, w, c]</param>
    /// <param name="weight">[9, c] tap-major (ky·3 + kx)</param>
    /// <param name="bias">[c] or null</param>
    /// <param name="output">[batch, hOut, wOut, c], hOut = (h − 1)/stride + 1</param>
    public static void Depthwise3x3(WorkerPool? pool, int batch, int h, int w, int c, float* input,
                                    int stride, float* weight, float* bias, Activation act, float* output)
    {
        DepthwiseJob job = new()
        {
            H = h, W = w, C = c, Input = input, Stride = stride, Weight = weight, Bias = bias, Act = act, Output = output,
            HOut = (h - 1) / stride + 1, WOut = (w - 1) / stride + 1,
        };
        int rows = batch * job.HOut;
        if (pool == null)
        {
            DepthwiseRows(&job, 0, rows);
        }
        else
        {
            pool.For(rows, &DepthwiseRows, &job);
        }
    }

    /// <summary>
    /// Scalar oracle, grouped NHWC convolution in double: output[b, oy, ox, co] = act(Σ weight[ky, kx, ci', co]·x[.., g·Cin/groups + ci'] + bias[co]),
    /// g = co / (Cout/groups), padding (kernel − 1)/2. groups = 1 is <see cref="Run"/>, groups = Cin = Cout with kernel 3 is <see cref="Depthwise3x3"/>.
    /// </summary>
    /// <param name="input">[batch, h, w, cin]</param>
    /// <param name="weight">[kernel, kernel, cin/groups, cout]</param>
    /// <param name="bias">[cout] or null</param>
    /// <param name="output">[batch, hOut, wOut, cout]</param>
    public static void Reference(int batch, int h, int w, int cin, float* input, int cout, int kernel, int stride, int groups,
                                 float* weight, float* bias, Activation act, float* output)
    {
        int pad = (kernel - 1) / 2;
        int hOut = (h + 2 * pad - kernel) / stride + 1;
        int wOut = (w + 2 * pad - kernel) / stride + 1;
        int groupIn = cin / groups;
        int groupOut = cout / groups;
        for (int b = 0; b < batch; b++)
        {
            for (int oy = 0; oy < hOut; oy++)
            {
                for (int ox = 0; ox < wOut; ox++)
                {
                    for (int co = 0; co < cout; co++)
                    {
                        int group = co / groupOut;
                        double sum = bias != null ? bias[co] : 0;
                        for (int ky = 0; ky < kernel; ky++)
                        {
                            int iy = oy * stride - pad + ky;
                            if (iy < 0 || iy >= h)
                            {
                                continue;
                            }

                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int ix = ox * stride - pad + kx;
                                if (ix < 0 || ix >= w)
                                {
                                    continue;
                                }

                                for (int ci = 0; ci < groupIn; ci++)
                                {
                                    double x = input[(((long)b * h + iy) * w + ix) * cin + group * groupIn + ci];
                                    sum += x * weight[(((long)ky * kernel + kx) * groupIn + ci) * cout + co];
                                }
                            }
                        }

                        output[(((long)b * hOut + oy) * wOut + ox) * cout + co] = (float)Elementwise.Reference(act, sum);
                    }
                }
            }
        }
    }

    /// <summary>Shape of a full convolution, for the GEMM driver's implicit im2col.</summary>
    internal struct Geometry
    {
        public int H, W, C0, C1, Kernel, Stride, Pad, HOut, WOut;
        public float* In0;   // [batch, H, W, C0]
        public float* In1;   // [batch, H, W, C1] or null
    }

    /// <summary>Writes im2col rows [row0, row0 + rows) (row = (b·HOut + oy)·WOut + ox) in (ky, kx, cin) order.</summary>
    /// <param name="rowsOut">[rows, Kernel·Kernel·(C0 + C1)]</param>
    internal static void GatherRows(Geometry* g, int row0, int rows, float* rowsOut)
    {
        int channels = g->C0 + g->C1;
        int pixelsOut = g->HOut * g->WOut;
        int kernel = g->Kernel;
        for (int r = 0; r < rows; r++)
        {
            int row = row0 + r;
            int b = row / pixelsOut;
            int oy = row % pixelsOut / g->WOut;
            int ox = row % g->WOut;
            float* destination = rowsOut + (long)r * kernel * kernel * channels;
            int ix0 = ox * g->Stride - g->Pad;
            // without a second input, the kernel's taps of one image row are one contiguous run of kernel·C0 floats
            bool contiguous = g->C1 == 0 && ix0 >= 0 && ix0 + kernel <= g->W;
            for (int ky = 0; ky < kernel; ky++)
            {
                int iy = oy * g->Stride - g->Pad + ky;
                if (contiguous && (uint)iy < (uint)g->H)
                {
                    CopyFloats(g->In0 + (((long)b * g->H + iy) * g->W + ix0) * g->C0, destination, kernel * channels);
                    destination += kernel * channels;
                    continue;
                }

                for (int kx = 0; kx < kernel; kx++, destination += channels)
                {
                    int ix = ix0 + kx;
                    if ((uint)iy >= (uint)g->H || (uint)ix >= (uint)g->W)
                    {
                        new Span<float>(destination, channels).Clear();
                        continue;
                    }

                    long pixel = ((long)b * g->H + iy) * g->W + ix;
                    CopyFloats(g->In0 + pixel * g->C0, destination, g->C0);
                    if (g->C1 > 0)
                    {
                        CopyFloats(g->In1 + pixel * g->C1, destination + g->C0, g->C1);
                    }
                }
            }
        }
    }

    /// <summary>destination[i] = source[i], i &lt; count; short runs (the stem's 3-channel pixels) inline, no call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyFloats(float* source, float* destination, int count)
    {
        if (count >= 64)
        {
            NativeMemory.Copy(source, destination, (nuint)count * sizeof(float));
            return;
        }

        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= count - 8; i += 8)
            {
                Vector256.Load(source + i).Store(destination + i);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= count - 4; i += 4)
            {
                Vector128.Load(source + i).Store(destination + i);
            }
        }

        for (; i < count; i++)
        {
            destination[i] = source[i];
        }
    }

    private const int DirectChannels = 16;
    private const int DirectMaxInputChannels = 4;

    private struct DirectJob
    {
        public int H, W, C, Kernel, Stride, Pad, HOut, WOut;
        public float* Input;    // [batch, H, W, C]
        public float* Weight;   // packed [K = kernel·kernel·C][32], columns 0..15 used
        public float* Bias;     // [16] or null
        public Activation Act;
        public float* Output;   // [batch, HOut, WOut, 16]
    }

    // Output rows [begin, end), row = b·HOut + oy, of the direct 16-channel convolution; 16 / TOps.Count vectors per
    // output pixel (V = 1, 2 or 4). Interior pixels go 4 at a time (each weight vector loaded once for 4 FMAs; 4·V
    // accumulators: 16 with Vector128, which NEON's 32 registers hold with the 4 weight vectors and the broadcasts);
    // pixels whose window crosses the left or right edge go one at a time with the column check. The sums run in the
    // same order at every width (bias, then the taps in (ky, kx, ci) order), so the widths agree bit for bit.
    private static void Direct16Rows<TOps, TVec>(void* context, int begin, int end)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        DirectJob* job = (DirectJob*)context;
        int kernel = job->Kernel, stride = job->Stride, pad = job->Pad, c = job->C, w = job->W, wOut = job->WOut;
        int n = TOps.Count;               // 16, 8 or 4 channels per vector
        int taps = kernel * c;            // (kx, ci) of one kernel row, in the order of the packed K rows and the NHWC pixels
        long step = (long)stride * c;     // floats between the windows of neighbouring output pixels
        float* biasPointer = job->Bias;
        TVec bias0 = biasPointer != null ? TOps.Load(biasPointer) : TOps.Zero;
        TVec bias1 = n < 16 && biasPointer != null ? TOps.Load(biasPointer + n) : TOps.Zero;
        TVec bias2 = n < 8 && biasPointer != null ? TOps.Load(biasPointer + 2 * n) : TOps.Zero;
        TVec bias3 = n < 8 && biasPointer != null ? TOps.Load(biasPointer + 3 * n) : TOps.Zero;
        Activation act = job->Act;
        // interior: ox·stride − pad ≥ 0 and ox·stride − pad + kernel ≤ w
        int firstInterior = Math.Min(wOut, (pad + stride - 1) / stride);
        int endInterior = Math.Max(firstInterior, Math.Min(wOut, (w - kernel + pad) / stride + 1));
        for (int row = begin; row < end; row++)
        {
            int b = row / job->HOut, oy = row % job->HOut;
            float* image = job->Input + (long)b * job->H * w * c;
            float* destination = job->Output + (long)row * wOut * DirectChannels;
            int ky0 = Math.Max(0, pad - oy * stride), ky1 = Math.Min(kernel, job->H + pad - oy * stride);
            int ox = 0;
            for (; ox < firstInterior; ox++)
            {
                Direct16Edge<TOps, TVec>(job, image, oy, ox, ky0, ky1, destination);
            }

            for (; ox + 4 <= endInterior; ox += 4)
            {
                // a: channels 0..n−1 of pixels ox..ox+3; b, c, d: the next n channels (only for n < 16, resp. n = 4)
                TVec a0 = bias0, a1 = bias0, a2 = bias0, a3 = bias0;
                TVec b0 = bias1, b1 = bias1, b2 = bias1, b3 = bias1;
                TVec c0 = bias2, c1 = bias2, c2 = bias2, c3 = bias2;
                TVec d0 = bias3, d1 = bias3, d2 = bias3, d3 = bias3;
                for (int ky = ky0; ky < ky1; ky++)
                {
                    // pixels ox..ox+3 of this tap row start stride·c floats apart
                    float* x0 = image + ((long)(oy * stride - pad + ky) * w + ox * stride - pad) * c;
                    float* weights = job->Weight + (long)ky * taps * PackedMatrix.PanelWidth;
                    for (int t = 0; t < taps; t++)
                    {
                        float* weightRow = weights + t * PackedMatrix.PanelWidth;
                        TVec p0 = TOps.Create(x0[t]), p1 = TOps.Create(x0[step + t]);
                        TVec p2 = TOps.Create(x0[2 * step + t]), p3 = TOps.Create(x0[3 * step + t]);
                        TVec wa = TOps.Load(weightRow);
                        a0 = TOps.MultiplyAdd(p0, wa, a0); a1 = TOps.MultiplyAdd(p1, wa, a1);
                        a2 = TOps.MultiplyAdd(p2, wa, a2); a3 = TOps.MultiplyAdd(p3, wa, a3);
                        if (n < 16)
                        {
                            TVec wb = TOps.Load(weightRow + n);
                            b0 = TOps.MultiplyAdd(p0, wb, b0); b1 = TOps.MultiplyAdd(p1, wb, b1);
                            b2 = TOps.MultiplyAdd(p2, wb, b2); b3 = TOps.MultiplyAdd(p3, wb, b3);
                        }

                        if (n < 8)
                        {
                            TVec wc = TOps.Load(weightRow + 2 * n), wd = TOps.Load(weightRow + 3 * n);
                            c0 = TOps.MultiplyAdd(p0, wc, c0); c1 = TOps.MultiplyAdd(p1, wc, c1);
                            c2 = TOps.MultiplyAdd(p2, wc, c2); c3 = TOps.MultiplyAdd(p3, wc, c3);
                            d0 = TOps.MultiplyAdd(p0, wd, d0); d1 = TOps.MultiplyAdd(p1, wd, d1);
                            d2 = TOps.MultiplyAdd(p2, wd, d2); d3 = TOps.MultiplyAdd(p3, wd, d3);
                        }
                    }
                }

                // raw sums first, then the activation over the 4 pixels in place (one activation site instead of 4·V)
                float* o = destination + ox * DirectChannels;
                TOps.Store(a0, o); TOps.Store(a1, o + DirectChannels); TOps.Store(a2, o + 2 * DirectChannels); TOps.Store(a3, o + 3 * DirectChannels);
                if (n < 16)
                {
                    TOps.Store(b0, o + n); TOps.Store(b1, o + DirectChannels + n);
                    TOps.Store(b2, o + 2 * DirectChannels + n); TOps.Store(b3, o + 3 * DirectChannels + n);
                }

                if (n < 8)
                {
                    TOps.Store(c0, o + 2 * n); TOps.Store(c1, o + DirectChannels + 2 * n);
                    TOps.Store(c2, o + 2 * DirectChannels + 2 * n); TOps.Store(c3, o + 3 * DirectChannels + 2 * n);
                    TOps.Store(d0, o + 3 * n); TOps.Store(d1, o + DirectChannels + 3 * n);
                    TOps.Store(d2, o + 2 * DirectChannels + 3 * n); TOps.Store(d3, o + 3 * DirectChannels + 3 * n);
                }

                if (act != Activation.None)
                {
                    Elementwise.Apply(act, 4 * DirectChannels, o, o);
                }
            }

            for (; ox < wOut; ox++)
            {
                Direct16Edge<TOps, TVec>(job, image, oy, ox, ky0, ky1, destination);
            }
        }
    }

    // One output pixel with the column bounds checked (taps outside the image read 0), 16 channels as 16 / TOps.Count vectors.
    private static void Direct16Edge<TOps, TVec>(DirectJob* job, float* image, int oy, int ox, int ky0, int ky1, float* destination)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        int kernel = job->Kernel, c = job->C, w = job->W, n = TOps.Count;
        float* o = destination + ox * DirectChannels;
        for (int v = 0; v < DirectChannels; v += n)
        {
            TVec sum = job->Bias != null ? TOps.Load(job->Bias + v) : TOps.Zero;
            for (int ky = ky0; ky < ky1; ky++)
            {
                int iy = oy * job->Stride - job->Pad + ky;
                for (int kx = 0; kx < kernel; kx++)
                {
                    int ix = ox * job->Stride - job->Pad + kx;
                    if ((uint)ix >= (uint)w)
                    {
                        continue;
                    }

                    float* pixel = image + ((long)iy * w + ix) * c;
                    float* weights = job->Weight + (long)((ky * kernel + kx) * c) * PackedMatrix.PanelWidth + v;
                    for (int ci = 0; ci < c; ci++)
                    {
                        sum = TOps.MultiplyAdd(TOps.Create(pixel[ci]), TOps.Load(weights + ci * PackedMatrix.PanelWidth), sum);
                    }
                }
            }

            TOps.Store(sum, o + v);
        }

        if (job->Act != Activation.None)
        {
            Elementwise.Apply(job->Act, DirectChannels, o, o);
        }
    }

    internal struct DepthwiseJob
    {
        public int H, W, C, Stride, HOut, WOut;
        public float* Input;    // [batch, H, W, C] (DepthwiseRows only)
        public float* Weight;   // [9, C]
        public float* Bias;     // [C] or null
        public Activation Act;
        public float* Output;   // [batch, HOut, WOut, C] (DepthwiseRows only)
    }

    // Output rows [begin, end) of all images (row = b·HOut + oy).
    private static void DepthwiseRows(void* context, int begin, int end)
    {
        DepthwiseJob* job = (DepthwiseJob*)context;
        long imageFloats = (long)job->H * job->W * job->C, rowFloats = (long)job->W * job->C;
        for (int row = begin; row < end; row++)
        {
            int b = row / job->HOut;
            int iy = row % job->HOut * job->Stride - 1;
            bool top = iy >= 0, bottom = iy + 2 < job->H;
            float* middle = job->Input + b * imageFloats + (iy + 1) * rowFloats;   // always inside the image
            DepthwiseRow(job, top ? middle - rowFloats : null, middle, bottom ? middle + rowFloats : null,
                         job->Output + (long)row * job->WOut * job->C);
        }
    }

    /// <summary>
    /// One output row of a depthwise 3x3 from the three input rows it reads: <paramref name="middle"/> is input row
    /// oy·s; <paramref name="above"/> (oy·s − 1) and <paramref name="below"/> (oy·s + 1) are null where they lie outside
    /// the image (zero padding). Uses job's W, C, Stride, WOut, Weight, Bias and Act. The rows need not be adjacent in
    /// memory (InvertedResidual passes rows of a ring buffer).
    /// </summary>
    /// <param name="output">[WOut, C]</param>
    internal static void DepthwiseRow(DepthwiseJob* job, float* above, float* middle, float* below, float* output)
    {
        if (job->Act is not (Activation.Silu or Activation.None))
        {
            // other activations (no model uses them here): the sums first, then the activation over the row
            DepthwiseJob sums = *job;
            sums.Act = Activation.None;
            DepthwiseRow(&sums, above, middle, below, output);
            Elementwise.Apply(job->Act, job->WOut * job->C, output, output);
            return;
        }

        int ch = job->Act == Activation.Silu
            ? DepthwiseRowVectors<VectorActivation.Silu>(job, above, middle, below, output)
            : DepthwiseRowVectors<VectorActivation.None>(job, above, middle, below, output);
        if (ch < job->C)
        {
            DepthwiseRowScalar(job, above, middle, below, output, ch);
        }
    }

    // Whole vectors of one output row, widest accelerated width first; returns the first channel not done.
    private static int DepthwiseRowVectors<TAct>(DepthwiseJob* job, float* above, float* middle, float* below, float* output)
        where TAct : struct, IVectorActivation
    {
        int ch = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            ch = DepthwiseRow<Vector512Ops, Vector512<float>, TAct>(job, above, middle, below, output, ch);
        }

        if (Vector256.IsHardwareAccelerated)
        {
            ch = DepthwiseRow<Vector256Ops, Vector256<float>, TAct>(job, above, middle, below, output, ch);
        }

        if (Vector128.IsHardwareAccelerated)
        {
            ch = DepthwiseRow<Vector128Ops, Vector128<float>, TAct>(job, above, middle, below, output, ch);
        }

        return ch;
    }

    // One interior output vector before the activation: bias + the nine taps, summed row by row (the same order as the
    // loops at the borders, so every column of a row is computed alike).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Taps<TOps, TVec>(float* r0, float* r1, float* r2, long c, TVec w0, TVec w1, TVec w2, TVec w3, TVec w4,
                                         TVec w5, TVec w6, TVec w7, TVec w8, TVec bias)
        where TOps : struct, IVectorOps<TVec> where TVec : struct
    {
        TVec s0 = TOps.MultiplyAdd(TOps.Load(r0), w0, bias);
        TVec s1 = TOps.Multiply(TOps.Load(r1), w3);
        TVec s2 = TOps.Multiply(TOps.Load(r2), w6);
        s0 = TOps.MultiplyAdd(TOps.Load(r0 + c), w1, s0);
        s1 = TOps.MultiplyAdd(TOps.Load(r1 + c), w4, s1);
        s2 = TOps.MultiplyAdd(TOps.Load(r2 + c), w7, s2);
        s0 = TOps.MultiplyAdd(TOps.Load(r0 + 2 * c), w2, s0);
        s1 = TOps.MultiplyAdd(TOps.Load(r1 + 2 * c), w5, s1);
        s2 = TOps.MultiplyAdd(TOps.Load(r2 + 2 * c), w8, s2);
        return TOps.Add(TOps.Add(s0, s1), s2);
    }

    // Channels [ch0, C) of one output row, one channel at a time, with bounds checks.
    private static void DepthwiseRowScalar(DepthwiseJob* job, float* above, float* middle, float* below, float* output, int ch0)
    {
        int c = job->C;
        for (int ox = 0; ox < job->WOut; ox++)
        {
            for (int ch = ch0; ch < c; ch++)
            {
                float sum = job->Bias != null ? job->Bias[ch] : 0f;
                for (int ky = 0; ky < 3; ky++)
                {
                    float* input = ky == 0 ? above : ky == 1 ? middle : below;
                    if (input == null)
                    {
                        continue;
                    }

                    for (int kx = 0; kx < 3; kx++)
                    {
                        int ix = ox * job->Stride - 1 + kx;
                        if ((uint)ix < (uint)job->W)
                        {
                            sum += input[(long)ix * c + ch] * job->Weight[(ky * 3 + kx) * c + ch];
                        }
                    }
                }

                output[(long)ox * c + ch] = ActivationMath.Apply(job->Act, sum);
            }
        }
    }

    // Channels [ch, ..) of one output row in whole vectors; returns the first channel not done. Per block of channels
    // the 9 tap vectors and the bias stay in registers; a row outside the image gets zero taps (and reads the middle
    // row instead), so only the first and last output columns need bounds checks.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int DepthwiseRow<TOps, TVec, TAct>(DepthwiseJob* job, float* above, float* middle, float* below, float* output, int ch)
        where TOps : struct, IVectorOps<TVec> where TVec : struct where TAct : struct, IVectorActivation
    {
        int c = job->C, w = job->W, stride = job->Stride, wOut = job->WOut;
        bool top = above != null, bottom = below != null;
        if (!top)
        {
            above = middle;
        }

        if (!bottom)
        {
            below = middle;
        }

        // interior columns: ox·s − 1 ≥ 0 and ox·s + 1 ≤ w − 1
        int interiorEnd = Math.Min(wOut, (w - 2) / stride + 1);
        long step = (long)stride * c;
        for (; ch <= c - TOps.Count; ch += TOps.Count)
        {
            float* weight = job->Weight + ch;
            TVec w0 = top ? TOps.Load(weight) : TOps.Zero;
            TVec w1 = top ? TOps.Load(weight + c) : TOps.Zero;
            TVec w2 = top ? TOps.Load(weight + 2 * c) : TOps.Zero;
            TVec w3 = TOps.Load(weight + 3 * c);
            TVec w4 = TOps.Load(weight + 4 * c);
            TVec w5 = TOps.Load(weight + 5 * c);
            TVec w6 = bottom ? TOps.Load(weight + 6 * c) : TOps.Zero;
            TVec w7 = bottom ? TOps.Load(weight + 7 * c) : TOps.Zero;
            TVec w8 = bottom ? TOps.Load(weight + 8 * c) : TOps.Zero;
            TVec bias = job->Bias != null ? TOps.Load(job->Bias + ch) : TOps.Zero;

            // ox = 0: the left tap column is outside the image
            {
                float* r0 = above + ch, r1 = middle + ch, r2 = below + ch;
                TVec s0 = TOps.MultiplyAdd(TOps.Load(r0), w1, bias);
                TVec s1 = TOps.Multiply(TOps.Load(r1), w4);
                TVec s2 = TOps.Multiply(TOps.Load(r2), w7);
                if (w > 1)
                {
                    s0 = TOps.MultiplyAdd(TOps.Load(r0 + c), w2, s0);
                    s1 = TOps.MultiplyAdd(TOps.Load(r1 + c), w5, s1);
                    s2 = TOps.MultiplyAdd(TOps.Load(r2 + c), w8, s2);
                }

                TOps.Store(TAct.Apply<TOps, TVec>(TOps.Add(TOps.Add(s0, s1), s2)), output + ch);
            }

            // interior: all nine taps inside the image
            {
                float* r0 = above + ch + step - c, r1 = middle + ch + step - c, r2 = below + ch + step - c;
                float* o = output + ch + c;
                int ox = 1;
                // four output pixels per iteration: four independent activation chains in flight, so that one chain's
                // latency (SiLU is ~15 dependent instructions) does not leave the FMA pipes idle
                for (; ox + 3 < interiorEnd; ox += 4, r0 += 4 * step, r1 += 4 * step, r2 += 4 * step, o += 4 * c)
                {
                    TVec x0 = Taps<TOps, TVec>(r0, r1, r2, c, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias);
                    TVec x1 = Taps<TOps, TVec>(r0 + step, r1 + step, r2 + step, c, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias);
                    TVec x2 = Taps<TOps, TVec>(r0 + 2 * step, r1 + 2 * step, r2 + 2 * step, c, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias);
                    TVec x3 = Taps<TOps, TVec>(r0 + 3 * step, r1 + 3 * step, r2 + 3 * step, c, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias);
                    TOps.Store(TAct.Apply<TOps, TVec>(x0), o);
                    TOps.Store(TAct.Apply<TOps, TVec>(x1), o + c);
                    TOps.Store(TAct.Apply<TOps, TVec>(x2), o + 2 * c);
                    TOps.Store(TAct.Apply<TOps, TVec>(x3), o + 3 * c);
                }

                for (; ox < interiorEnd; ox++, r0 += step, r1 += step, r2 += step, o += c)
                {
                    TOps.Store(TAct.Apply<TOps, TVec>(Taps<TOps, TVec>(r0, r1, r2, c, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias)), o);
                }
            }

            // right border: the right tap column is outside the image
            for (int ox = Math.Max(1, interiorEnd); ox < wOut; ox++)
            {
                long x0 = (long)(ox * stride - 1) * c + ch;
                TVec s0 = TOps.MultiplyAdd(TOps.Load(above + x0), w0, bias);
                TVec s1 = TOps.Multiply(TOps.Load(middle + x0), w3);
                TVec s2 = TOps.Multiply(TOps.Load(below + x0), w6);
                if (ox * stride < w)
                {
                    s0 = TOps.MultiplyAdd(TOps.Load(above + x0 + c), w1, s0);
                    s1 = TOps.MultiplyAdd(TOps.Load(middle + x0 + c), w4, s1);
                    s2 = TOps.MultiplyAdd(TOps.Load(below + x0 + c), w7, s2);
                }

                TOps.Store(TAct.Apply<TOps, TVec>(TOps.Add(TOps.Add(s0, s1), s2)), output + (long)ox * c + ch);
            }
        }

        return ch;
    }
}

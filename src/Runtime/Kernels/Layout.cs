// Layout: pure data movement between the layouts the models use (NCHW pixels, NHWC feature maps, ViT patch rows,
// MobileViT 2x2-unfolded token sequences). No arithmetic.
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Kernels;

/// <summary>Layout conversions.</summary>
public static unsafe class Layout
{
    /// <summary>output[b, y, x, ch] = input[b, ch, y, x]</summary>
    /// <param name="input">[batch, c, h, w]</param>
    /// <param name="output">[batch, h, w, c]</param>
    public static void NchwToNhwc(int batch, int c, int h, int w, float* input, float* output)
    {
        long plane = (long)h * w;
        for (int b = 0; b < batch; b++)
        {
            float* source = input + b * plane * c;       // [c, h·w]
            float* destination = output + b * plane * c; // [h·w, c]
            for (long pixel = 0; pixel < plane; pixel++)
            {
                for (int ch = 0; ch < c; ch++)
                {
                    destination[pixel * c + ch] = source[ch * plane + pixel];
                }
            }
        }
    }

    /// <summary>
    /// im2col of non-overlapping p×p patches: output[(b·(H/p) + py)·(W/p) + px, (ch·p + ky)·p + kx] = input[b, ch, py·p + ky, px·p + kx].
    /// </summary>
    /// <param name="input">[batch, c, h, w]</param>
    /// <param name="output">[batch·(h/p)·(w/p), c·p·p]</param>
    public static void Patches(int batch, int c, int h, int w, int patch, float* input, float* output)
    {
        int rowsOfPatches = h / patch, columnsOfPatches = w / patch;
        long rowLength = (long)c * patch * patch;
        for (int b = 0; b < batch; b++)
        {
            for (int py = 0; py < rowsOfPatches; py++)
            {
                for (int px = 0; px < columnsOfPatches; px++)
                {
                    float* destination = output + (((long)b * rowsOfPatches + py) * columnsOfPatches + px) * rowLength;
                    for (int ch = 0; ch < c; ch++)
                    {
                        for (int ky = 0; ky < patch; ky++, destination += patch)
                        {
                            float* source = input + (((long)b * c + ch) * h + py * patch + ky) * w + px * patch;
                            NativeMemory.Copy(source, destination, (nuint)patch * sizeof(float));
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// tokens[b·4 + ph·2 + pw, ih·(w/2) + iw, :] = nhwc[b, 2ih + ph, 2iw + pw, :]
    /// </summary>
    /// <param name="nhwc">[batch, h, w, d]</param>
    /// <param name="tokens">[batch·4, (h/2)·(w/2), d]</param>
    public static void Unfold2x2(int batch, int h, int w, int d, float* nhwc, float* tokens) =>
        Move2x2(batch, h, w, d, nhwc, tokens, toTokens: true);

    /// <summary>nhwc[b, 2ih + ph, 2iw + pw, :] = tokens[b·4 + ph·2 + pw, ih·(w/2) + iw, :] (inverse of <see cref="Unfold2x2"/>).</summary>
    /// <param name="tokens">[batch·4, (h/2)·(w/2), d]</param>
    /// <param name="nhwc">[batch, h, w, d]</param>
    public static void Fold2x2(int batch, int h, int w, int d, float* tokens, float* nhwc) =>
        Move2x2(batch, h, w, d, nhwc, tokens, toTokens: false);

    private static void Move2x2(int batch, int h, int w, int d, float* nhwc, float* tokens, bool toTokens)
    {
        int halfH = h / 2, halfW = w / 2;
        nuint bytes = (nuint)d * sizeof(float);
        for (int b = 0; b < batch; b++)
        {
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    long sequence = (long)b * 4 + (y % 2) * 2 + x % 2;
                    long token = (long)(y / 2) * halfW + x / 2;
                    float* pixel = nhwc + (((long)b * h + y) * w + x) * d;
                    float* row = tokens + (sequence * halfH * halfW + token) * d;
                    if (toTokens)
                    {
                        NativeMemory.Copy(pixel, row, bytes);
                    }
                    else
                    {
                        NativeMemory.Copy(row, pixel, bytes);
                    }
                }
            }
        }
    }
}

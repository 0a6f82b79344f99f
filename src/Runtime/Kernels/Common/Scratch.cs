// Scratch: thread-static native buffers that kernels reuse between calls (grown once, never shrunk).
// Each kernel family owns its own slot so that nested use (Conv2d gathering A while Gemm uses a tile) cannot collide.
using AotVit.Runtime.Threading;

namespace AotVit.Runtime.Kernels.Common;

internal static unsafe class Scratch
{
    [ThreadStatic] private static NativeBuffer? s_gemmTile;
    [ThreadStatic] private static NativeBuffer? s_convRows;
    [ThreadStatic] private static NativeBuffer? s_attention;
    [ThreadStatic] private static NativeBuffer? s_invertedResidual;
    [ThreadStatic] private static NativeBuffer? s_int8Rows;
    [ThreadStatic] private static NativeBuffer? s_winograd;

    /// <summary>GEMM accumulator tile, at least <paramref name="floats"/> floats.</summary>
    public static float* GemmTile(long floats) => Get(ref s_gemmTile, floats);

    /// <summary>Conv2d im2col rows, at least <paramref name="floats"/> floats.</summary>
    public static float* ConvRows(long floats) => Get(ref s_convRows, floats);

    /// <summary>Attention per-head buffers, at least <paramref name="floats"/> floats.</summary>
    public static float* Attention(long floats) => Get(ref s_attention, floats);

    /// <summary>InvertedResidual's ring of expanded rows and its depthwise band, at least <paramref name="floats"/> floats.</summary>
    public static float* InvertedResidual(long floats) => Get(ref s_invertedResidual, floats);

    /// <summary>Conv2d.RunWinograd's transformed tiles V, GEMM products M and a zero pixel, at least <paramref name="floats"/>.</summary>
    public static float* Winograd(long floats) => Get(ref s_winograd, floats);

    /// <summary>Int8Gemm's per-call quantized rows of A with their scales and zero points, at least <paramref name="floats"/>·4 bytes.</summary>
    public static float* Int8Rows(long floats) => Get(ref s_int8Rows, floats);

    private static float* Get(ref NativeBuffer? slot, long floats)
    {
        if (slot == null || slot.Length < floats)
        {
            slot?.Dispose();
            slot = new NativeBuffer(Math.Max(floats, 4096));
        }

        return slot.Pointer;
    }
}

// JpegFrame / JpegComponent / JpegCoefficients: the contract between the JPEG decoder's two halves.
//   entropy side (markers, Huffman, baseline and progressive scans)  →  quantized DCT coefficients
//   pixel side   (dequantisation + ISLOW IDCT, fancy upsampling, colour conversion)  →  RGB rows as Pillow gives them
// Everything here follows libjpeg-turbo 2.1.5's definitions (jpeglib.h / jdinput.c), so that each half can be checked
// against libjpeg itself (tools/jpeg/coefdump.c dumps what jpeg_read_coefficients returns in this layout).
namespace AotVit.Runtime.Imaging.Jpeg;

/// <summary>libjpeg's J_COLOR_SPACE of the stored components, as jdapimin.c default_decompress_parms decides it from
/// the component count, the JFIF and Adobe markers and the component ids.</summary>
internal enum JpegColorSpace { Unknown, Grayscale, YCbCr, Rgb, Cmyk, Ycck }

/// <summary>One component of the frame (SOF), with libjpeg's derived sizes.</summary>
internal sealed class JpegComponent
{
    /// <summary>Component identifier Ci from SOF.</summary>
    public int Id;

    /// <summary>Position in SOF (0-based).</summary>
    public int Index;

    /// <summary>Sampling factors (1–4).</summary>
    public int H, V;

    /// <summary>Quantisation table selector Tq (0–3).</summary>
    public int QuantTableIndex;

    /// <summary>The 64 quantisation values in natural (row-major) order, latched when the component's first scan
    /// starts (libjpeg jdinput.c latch_quant_tables); null until then.</summary>
    public ushort[]? Quant;

    /// <summary>libjpeg downsampled_width / downsampled_height: ceil(W·H / Hmax), ceil(Hgt·V / Vmax).</summary>
    public int DownsampledWidth, DownsampledHeight;

    /// <summary>libjpeg width_in_blocks / height_in_blocks: ceil(DownsampledWidth / 8), ceil(DownsampledHeight / 8).
    /// Only these blocks reach the output.</summary>
    public int WidthInBlocks, HeightInBlocks;

    /// <summary>Storage: McusWide·H blocks per block row and McusHigh·V block rows (interleaved scans decode the
    /// padding blocks of the right and bottom MCUs too).</summary>
    public int BlocksPerLine, BlockLines;

    /// <summary>Progressive: libjpeg's coef_bits after the scans read so far: -1 = coefficient k never sent, else the
    /// Al (point transform) of its latest scan; 0 = known exactly. Baseline: all 0.</summary>
    public readonly int[] CoefBits = new int[64];
}

/// <summary>A parsed frame header and everything before the first scan that the pixel side needs.</summary>
internal sealed class JpegFrame
{
    public int Width, Height;

    /// <summary>Sample precision P (8; 12-bit files are refused with a clear error).</summary>
    public int Precision;

    /// <summary>The SOF marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive; others refused).</summary>
    public int SofMarker;

    public bool Progressive;

    public JpegComponent[] Components = [];

    public int MaxH, MaxV;

    /// <summary>MCUs per row / MCU rows of an interleaved scan: ceil(W / (8·MaxH)), ceil(Hgt / (8·MaxV)).</summary>
    public int McusWide, McusHigh;

    /// <summary>APP14 "Adobe" transform flag (0, 1, 2), or -1 when there is no Adobe marker.</summary>
    public int AdobeTransform = -1;

    /// <summary>An APP0 "JFIF" marker was seen.</summary>
    public bool HasJfif;

    public JpegColorSpace ColorSpace;
}

/// <summary>
/// Quantized coefficients (not dequantized) of MCU rows [FirstMcuRow, FirstMcuRow + McuRows): for component c, block
/// (bx, by) with by counted from FirstMcuRow·V is at Blocks[c][(by·BlocksPerLine + bx)·64 ..], 64 shorts in natural
/// (row-major, de-zigzagged) order. A whole image has FirstMcuRow 0 and McuRows = Frame.McusHigh; a streaming baseline
/// decode hands the pixel side one MCU row at a time in a reused buffer.
/// </summary>
internal sealed class JpegCoefficients
{
    public required JpegFrame Frame;
    public required short[][] Blocks;
    public int FirstMcuRow;
    public int McuRows;
}

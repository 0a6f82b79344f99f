// Npy: NumPy's .npy format, version 1.0, written without NumPy: the magic "\x93NUMPY", version bytes 1 0, a little-
// endian uint16 header length, and an ASCII Python dict {'descr': ..., 'fortran_order': False, 'shape': (...), }
// padded with spaces and ending in '\n' so the data starts on a 64-byte boundary; then the C-order data.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime.Interop;

namespace AotVit.Cli;

internal static class Npy
{
    /// <summary>The header for an array of dtype <paramref name="descr"/> ("|u1", "&lt;f4") and this shape.</summary>
    public static byte[] Header(string descr, ReadOnlySpan<long> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        string dims = shape.Length == 1 ? parts[0] + "," : string.Join(", ", parts);   // Python's tuple syntax: (5,), (2, 3)
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + dict.Length + 1;
        int total = (unpadded + 63) / 64 * 64;
        var header = new byte[total];
        header[0] = 0x93;
        "NUMPY"u8.CopyTo(header.AsSpan(1));
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)(total - 10));
        Encoding.ASCII.GetBytes(dict, header.AsSpan(10));
        header.AsSpan(10 + dict.Length, total - 11 - dict.Length).Fill((byte)' ');
        header[^1] = (byte)'\n';
        return header;
    }

    public static void Write(string path, ReadOnlySpan<byte> data, ReadOnlySpan<long> shape) => Write(path, "|u1", data, shape);

    public static void Write(string path, ReadOnlySpan<float> data, ReadOnlySpan<long> shape) =>
        Write(path, "<f4", MemoryMarshal.AsBytes(data), shape);

    private static void Write(string path, string descr, ReadOnlySpan<byte> data, ReadOnlySpan<long> shape)
    {
        using FileStream stream = UserFiles.Create(path, ".npy file");
        stream.Write(Header(descr, shape));
        stream.Write(data);
    }
}

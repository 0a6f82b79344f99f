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
    /// <summary>The header for an array of dtype <paramref name="descr"/> ("|u1", "&lt;f4") and this shape, padded to
    /// <paramref name="length"/> bytes when that is given (a multiple of 64 at least as long as the unpadded header).</summary>
    public static byte[] Header(string descr, ReadOnlySpan<long> shape, int length = 0)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        string dims = shape.Length == 1 ? parts[0] + "," : string.Join(", ", parts);   // Python's tuple syntax: (5,), (2, 3)
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = 10 + dict.Length + 1;
        int total = Math.Max(length, (unpadded + 63) / 64 * 64);
        if (length > 0 && total != length) throw new InvalidOperationException($"the .npy header needs {total} bytes, more than the {length} reserved");
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

/// <summary>
/// A float32 .npy array [rows, ...] written a row at a time: the header is reserved for <c>maxRows</c> rows (a shorter
/// count never needs more header bytes) and rewritten with the rows appended so far at every <see cref="Flush"/> and
/// at <see cref="Dispose"/>. So after each flush the file is a valid array of exactly the rows written, whatever ends
/// the process next (a signal, a crash, a kill), and no row is held in memory.
/// </summary>
internal sealed class NpyRowWriter : IDisposable
{
    private readonly FileStream _stream;
    private readonly long[] _rowShape;
    private readonly int _headerLength;
    private long _rows;

    public NpyRowWriter(string path, long[] rowShape, long maxRows)
    {
        _rowShape = rowShape;
        _stream = UserFiles.Create(path, ".npy file");
        byte[] header = Npy.Header("<f4", Shape(maxRows));
        _headerLength = header.Length;
        _stream.Write(header);
    }

    public string Path => _stream.Name;

    private long[] Shape(long rows)
    {
        var shape = new long[_rowShape.Length + 1];
        shape[0] = rows;
        _rowShape.CopyTo(shape, 1);
        return shape;
    }

    /// <summary>Appends one row (its length must be the product of the row shape).</summary>
    public void Append(ReadOnlySpan<float> row)
    {
        _stream.Write(MemoryMarshal.AsBytes(row));
        _rows++;
    }

    /// <summary>Writes the header with the rows appended so far, then pushes everything to the file.</summary>
    public void Flush()
    {
        long end = _stream.Position;
        _stream.Position = 0;
        _stream.Write(Npy.Header("<f4", Shape(_rows), _headerLength));
        _stream.Position = end;
        _stream.Flush();
    }

    public void Dispose()
    {
        try
        {
            Flush();
        }
        finally
        {
            _stream.Dispose();
        }
    }
}

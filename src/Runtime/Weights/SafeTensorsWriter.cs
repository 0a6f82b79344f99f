// Writes safetensors files the way the reference implementation lays them out: an 8-byte little-endian header
// length, a JSON header padded with spaces so the data buffer starts 8-byte aligned, then the tensors back to back.
// Output is deterministic: tensors sorted by name (ordinal), offsets assigned in that order, metadata keys sorted.
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using AotVit.Runtime.Interop;

namespace AotVit.Runtime.Weights;

public static class SafeTensorsWriter
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes a complete safetensors file. <paramref name="tensors"/> data is little-endian element bytes.</summary>
    public static void Write(Stream destination, IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)> tensors,
                             IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(tensors);
        Write(destination, AsTensorData(tensors), metadata);
    }

    /// <summary>Writes a complete safetensors file.</summary>
    public static void Write(Stream destination, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(tensors);
        var given = new List<TensorData>(tensors);
        // Sorted through an index array: stable, and no delegate over a tuple type (a delegate's Invoke is always
        // reflectable in NativeAOT, and one over tuples of references kept the run-time type loader in the executables).
        var order = new int[given.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) => string.CompareOrdinal(given[a].Name, given[b].Name) is var c && c != 0 ? c : a.CompareTo(b));
        var sorted = new TensorData[order.Length];
        var layout = new List<HeaderEntry>(order.Length);
        for (int i = 0; i < order.Length; i++)
        {
            sorted[i] = given[order[i]];
            layout.Add(new HeaderEntry(sorted[i].Name, sorted[i].DType, sorted[i].Shape));
        }
        byte[] header = BuildHeader(layout, metadata);
        for (int i = 0; i < sorted.Length; i++)
        {
            if (sorted[i].Data.LongLength != layout[i].ByteLength)
            {
                throw new ArgumentException(
                    $"tensor '{sorted[i].Name}': {sorted[i].Data.LongLength} data bytes, but shape {ShapeFormat.Format(sorted[i].Shape)} " +
                    $"of {sorted[i].DType.ToSafeTensorsName()} needs {layout[i].ByteLength}", nameof(tensors));
            }
        }
        destination.Write(header);
        foreach (var tensor in sorted) destination.Write(tensor.Data);
    }

    /// <summary>Writes to <paramref name="path"/> through a temporary file in the same directory, then renames it into place.</summary>
    public static void Write(string path, IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)> tensors,
                             IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteAtomically(path, stream => Write(stream, tensors, metadata));

    /// <summary>Writes to <paramref name="path"/> through a temporary file in the same directory, then renames it into place.</summary>
    public static void Write(string path, IEnumerable<TensorData> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        WriteAtomically(path, stream => Write(stream, tensors, metadata));

    private static IEnumerable<TensorData> AsTensorData(IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)> tensors)
    {
        foreach (var t in tensors) yield return new TensorData(t.Name, t.DType, t.Shape, t.Data);
    }

    internal static void WriteAtomically(string path, Action<Stream> write)
    {
        string temporary = path + ".tmp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        try
        {
            using (FileStream stream = UserFiles.CreateAs(temporary, path, "safetensors file", 1 << 20))
            {
                write(stream);
            }
            UserFiles.Replace(temporary, path);
        }
        finally
        {
            UserFiles.DeleteIfExists(temporary);
        }
    }

    /// <summary>A tensor's name, dtype and shape; its byte length follows from them.</summary>
    /// <remarks>Not a record struct: nothing compares or prints it, and a record's generated equality and text of a
    /// DType keep the runtime's enum formatting in the NativeAOT binaries.</remarks>
    internal readonly struct HeaderEntry(string name, DType dtype, long[] shape)
    {
        public string Name { get; } = name;
        public DType DType { get; } = dtype;
        public long[] Shape { get; } = shape;

        public long ByteLength
        {
            get
            {
                long count = ShapeFormat.ElementCount(Shape)
                    ?? throw new ArgumentException($"tensor '{Name}': shape {ShapeFormat.Format(Shape)} has a negative dimension or overflows");
                return checked(count * DType.SizeInBytes());
            }
        }
    }

    /// <summary>
    /// Length prefix + JSON header + space padding, for entries already in file order (offsets are assigned
    /// back to back in list order). Validates names and shapes.
    /// </summary>
    internal static byte[] BuildHeader(IReadOnlyList<HeaderEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder("{");
        bool first = true;
        if (metadata is { Count: > 0 })
        {
            json.Append("\"__metadata__\":{");
            bool firstKey = true;
            var keys = new List<string>(metadata.Count);
            foreach (var pair in metadata) keys.Add(pair.Key);
            keys.Sort(string.CompareOrdinal); // keys are unique: the order is total
            foreach (string key in keys)
            {
                if (!firstKey) json.Append(',');
                firstKey = false;
                AppendString(json, key).Append(':');
                AppendString(json, metadata[key] ?? throw new ArgumentException($"metadata value for '{key}' is null"));
            }
            json.Append('}');
            first = false;
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (HeaderEntry entry in entries)
        {
            ArgumentNullException.ThrowIfNull(entry.Name);
            ArgumentNullException.ThrowIfNull(entry.Shape);
            if (entry.Name == "__metadata__") throw new ArgumentException("'__metadata__' cannot be a tensor name");
            if (!names.Add(entry.Name)) throw new ArgumentException($"duplicate tensor name '{entry.Name}'");
            long end = checked(offset + entry.ByteLength);
            if (!first) json.Append(',');
            first = false;
            AppendString(json, entry.Name);
            json.Append(":{\"dtype\":\"").Append(entry.DType.ToSafeTensorsName()).Append("\",\"shape\":[");
            for (int i = 0; i < entry.Shape.Length; i++)
            {
                if (i > 0) json.Append(',');
                json.Append(entry.Shape[i].ToString(CultureInfo.InvariantCulture));
            }
            json.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',')
                .Append(end.ToString(CultureInfo.InvariantCulture)).Append("]}");
            offset = end;
        }
        json.Append('}');

        byte[] text;
        try
        {
            text = StrictUtf8.GetBytes(json.ToString());
        }
        catch (EncoderFallbackException exception)
        {
            throw new ArgumentException("a tensor name or metadata string is not valid UTF-16 (lone surrogate)", exception);
        }
        int padded = (text.Length + 7) & ~7;
        var header = new byte[8 + padded];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)padded);
        text.CopyTo(header, 8);
        header.AsSpan(8 + text.Length).Fill((byte)' ');
        return header;
    }

    private static StringBuilder AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                default:
                    if (c < 0x20) json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else json.Append(c);
                    break;
            }
        }
        return json.Append('"');
    }
}

/// <summary>
/// One tensor for <see cref="SafeTensorsWriter"/>: name, dtype, shape and little-endian element bytes. (A class, not a
/// tuple: generic instantiations over a tuple holding an enum make NativeAOT keep enum reflection metadata.)
/// </summary>
public sealed class TensorData(string name, DType dtype, long[] shape, byte[] data)
{
    public string Name { get; } = name;
    public DType DType { get; } = dtype;
    public long[] Shape { get; } = shape;
    public byte[] Data { get; } = data;
}

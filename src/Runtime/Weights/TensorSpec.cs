// What a model expects of one checkpoint tensor: the one description of a tensor by name and shape (a checkpoint's
// own entries, with their dtype and place in the file, are TensorInfo).
using System.Collections.Immutable;

namespace AotVit.Runtime.Weights;

/// <summary>
/// One tensor a model expects: its state-dict name, shape, and the dtype it has in our synthetic checkpoints
/// (F32 for parameters, I64 for BatchNorm <c>num_batches_tracked</c>). The binder accepts any float dtype in a real checkpoint.
/// </summary>
public sealed record TensorSpec(string Name, ImmutableArray<long> Shape, DType DType = DType.F32)
{
    /// <summary>Product of the shape (1 for a scalar, shape []).</summary>
    public long ElementCount => ShapeFormat.ElementCount(Shape.AsSpan())
        ?? throw new InvalidOperationException($"tensor spec '{Name}': invalid shape {ShapeText}");

    public string ShapeText => ShapeFormat.Format(Shape.AsSpan());

    public bool Equals(TensorSpec? other) =>
        other is not null && Name == other.Name && DType == other.DType && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan());

    // (int)DType: the same hash; HashCode.Combine over the enum itself boxes it (keeping enum formatting in the binary).
    public override int GetHashCode() => HashCode.Combine(Name, (int)DType, Shape.Length);

    // The compiler's text (ToString: "TensorSpec { Name = …, Shape = …, DType = F32, … }"), with the dtype named by
    // DType.Name(): formatting an enum value keeps the runtime's enum formatting in the NativeAOT binaries.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name);
        builder.Append(", Shape = ").Append(Shape.ToString());
        builder.Append(", DType = ").Append(DType.Name());
        builder.Append(", ElementCount = ").Append(ElementCount.ToString());
        builder.Append(", ShapeText = ").Append(ShapeText);
        return true;
    }

    /// <summary>
    /// Parses the two tables generated models list their tensors in (all F32): <paramref name="names"/>, one tensor name per line,
    /// and <paramref name="shapes"/>, line for line the same tensors' shapes as "[d0, d1, ...]" ("[]" for a scalar).
    /// Names and shapes are apart so that models of one architecture at different sizes carry the same names literal,
    /// which the compiler stores once.
    /// </summary>
    /// <exception cref="FormatException">A line is not of that form, or the two tables have different line counts.</exception>
    public static TensorSpec[] ParseTables(ReadOnlySpan<byte> names, ReadOnlySpan<byte> shapes)
    {
        if (names.IsEmpty && shapes.IsEmpty) return [];
        var result = new List<TensorSpec>();
        var nameLines = names.Split((byte)'\n');
        var shapeLines = shapes.Split((byte)'\n');
        while (true)
        {
            bool moreNames = nameLines.MoveNext(), moreShapes = shapeLines.MoveNext();
            if (!moreNames && !moreShapes) break;
            if (moreNames != moreShapes)
                throw new FormatException($"tensor tables: {(moreNames ? "more names" : "more shapes")} than {(moreNames ? "shapes" : "names")} ({result.Count} pairs read)");
            ReadOnlySpan<byte> name = names[nameLines.Current];
            ReadOnlySpan<byte> line = shapes[shapeLines.Current];
            int number = result.Count + 1;
            if (name.IsEmpty || name.IndexOfAny((byte)' ', (byte)'[') >= 0)
                throw new FormatException($"tensor table line {number}: '{Text(name)}' is not a tensor name");
            if (line.Length < 2 || line[0] != (byte)'[' || line[^1] != (byte)']')
                throw new FormatException($"tensor table line {number}: '{Text(line)}' is not '[d0, d1, ...]'");
            ReadOnlySpan<byte> dims = line[1..^1].Trim((byte)' ');
            var shape = new List<long>();
            foreach (Range dimRange in dims.Split((byte)','))
            {
                if (dims.IsEmpty) break; // "[]": a scalar
                ReadOnlySpan<byte> dim = dims[dimRange].Trim((byte)' ');
                if (!System.Buffers.Text.Utf8Parser.TryParse(dim, out long value, out int used) || used != dim.Length || value < 0)
                    throw new FormatException($"tensor table line {number}: '{Text(line)}' has a bad dimension");
                shape.Add(value);
            }
            result.Add(new TensorSpec(Text(name), [.. shape]));
        }
        return [.. result];
    }

    private static string Text(ReadOnlySpan<byte> utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}

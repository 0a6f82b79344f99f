// One entry of a safetensors header, after validation.
using System.Collections.Immutable;

namespace AotVit.Runtime.Weights;

/// <summary>
/// A validated tensor entry. <paramref name="Offset"/> is where its bytes start: in a safetensors file, relative to the
/// start of the data buffer (the byte after the JSON header), exactly as <c>data_offsets[0]</c>; in a torch zip, the
/// absolute position in the file (several tensors may share bytes there, as views of one storage).
/// <paramref name="ByteLength"/> = product(<paramref name="Shape"/>) · element size.
/// </summary>
public sealed record TensorInfo(string Name, DType DType, ImmutableArray<long> Shape, long Offset, long ByteLength)
{
    /// <summary>Number of elements: product of the shape (1 for a scalar, shape []).</summary>
    public long ElementCount => ByteLength / DType.SizeInBytes();

    /// <summary>Shape formatted as in error messages: <c>[768, 3072]</c>.</summary>
    public string ShapeText => ShapeFormat.Format(Shape.AsSpan());

    /// <summary>Value equality, including the shape elements (ImmutableArray alone compares by reference).</summary>
    public bool Equals(TensorInfo? other) =>
        other is not null && Name == other.Name && DType == other.DType && Offset == other.Offset &&
        ByteLength == other.ByteLength && Shape.AsSpan().SequenceEqual(other.Shape.AsSpan());

    // (int)DType: the same hash; HashCode.Combine over the enum itself boxes it (keeping enum formatting in the binary).
    public override int GetHashCode() => HashCode.Combine(Name, (int)DType, Offset, ByteLength, Shape.Length);

    // The compiler's text, with the dtype named by DType.Name(): formatting an enum value keeps the runtime's enum
    // formatting in the NativeAOT binaries.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Name = ").Append(Name);
        builder.Append(", DType = ").Append(DType.Name());
        builder.Append(", Shape = ").Append(Shape.ToString());
        builder.Append(", Offset = ").Append(Offset.ToString());
        builder.Append(", ByteLength = ").Append(ByteLength.ToString());
        builder.Append(", ElementCount = ").Append(ElementCount.ToString());
        builder.Append(", ShapeText = ").Append(ShapeText);
        return true;
    }
}

internal static class ShapeFormat
{
    public static string Format(ReadOnlySpan<long> shape)
    {
        var text = new System.Text.StringBuilder("[");
        for (int i = 0; i < shape.Length; i++)
        {
            if (i > 0) text.Append(", ");
            text.Append(shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return text.Append(']').ToString();
    }

    /// <summary>Product of the dimensions with overflow checks; null when it overflows a long or a dimension is negative.</summary>
    public static long? ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (long dimension in shape)
        {
            if (dimension < 0) return null;
            try { count = checked(count * dimension); }
            catch (OverflowException) { return null; }
        }
        return count;
    }
}

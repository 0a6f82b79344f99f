// Builders for safetensors images used by the weights tests: valid files through the writer, hand-made ones from raw JSON.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

internal static class SafeTensorsTestFiles
{
    /// <summary>8-byte length prefix (the JSON's own length unless overridden) + JSON + data.</summary>
    public static byte[] Raw(string json, byte[]? data = null, ulong? headerLength = null)
    {
        byte[] text = Encoding.UTF8.GetBytes(json);
        data ??= [];
        var file = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength ?? (ulong)text.Length);
        text.CopyTo(file, 8);
        data.CopyTo(file, 8 + text.Length);
        return file;
    }

    public static byte[] Write(IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)> tensors,
                               IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        SafeTensorsWriter.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    public static byte[] Bytes(params float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>A small valid file with a few dtypes, a scalar, an empty tensor and metadata: the seed for mutation tests.</summary>
    public static byte[] Sample() => Write(
        [
            ("a.weight", DType.F32, [2, 3], Bytes(1, 2, 3, 4, 5, 6)),
            ("b.half", DType.F16, [3], [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x7C]),
            ("c.bf16", DType.BF16, [2], [0x80, 0x3F, 0x00, 0x40]),
            ("d.count", DType.I64, [], new byte[8]),
            ("e.empty", DType.F32, [0, 4], []),
            ("f.f64", DType.F64, [1], BitConverter.GetBytes(0.5)),
        ],
        new Dictionary<string, string> { ["format"] = "pt" });

    public static CheckpointException Rejects(byte[] file, CheckpointLimits? limits = null) =>
        Assert.Throws<CheckpointException>(() => SafeTensorsFile.FromMemory(file, limits, "test.safetensors").Dispose());
}

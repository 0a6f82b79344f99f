// Reader and writer: round trips for every dtype, and one test per kind of malformed input, each checking that the
// CheckpointException message says what is wrong and where.
using System.Buffers.Binary;
using System.Text;
using AotVit.Runtime.Weights;
using Xunit;
using static AotVit.Tests.Weights.SafeTensorsTestFiles;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class SafeTensorsFileTests
{
    public static TheoryData<DType> AllDTypes => [.. Enum.GetValues<DType>()];

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void RoundTripsEveryDType(DType dtype)
    {
        long[] shape = [2, 3];
        var data = new byte[6 * dtype.SizeInBytes()];
        for (int i = 0; i < data.Length; i++) data[i] = (byte)(i * 37 + 1);
        byte[] file = Write([("x", dtype, shape, data), ("scalar", dtype, [], data[..dtype.SizeInBytes()])],
                            new Dictionary<string, string> { ["k"] = "v \"quoted\" \u00e9" });

        using var reader = SafeTensorsFile.FromMemory(file);
        Assert.Equal(2, reader.Tensors.Count);
        TensorInfo info = reader.GetInfo("x");
        Assert.Equal(dtype, info.DType);
        Assert.Equal(shape, info.Shape.ToArray());
        Assert.Equal(data, reader.GetBytes(info).ToArray());
        var read = new byte[data.Length];
        reader.ReadBytes(info, read);
        Assert.Equal(data, read);
        Assert.Throws<ArgumentException>(() => reader.ReadBytes(info, new byte[data.Length + 1]));
        string path = Path.Combine(Path.GetTempPath(), $"aotvit-readbytes-{Environment.ProcessId}-{dtype}.safetensors");
        File.WriteAllBytes(path, file);
        try
        {
            using var onDisk = SafeTensorsFile.Open(path);
            var fromFile = new byte[data.Length];
            onDisk.ReadBytes(onDisk.GetInfo("x"), fromFile);
            Assert.Equal(data, fromFile);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Empty(reader.GetInfo("scalar").Shape);
        Assert.Equal(1, reader.GetInfo("scalar").ElementCount);
        Assert.Equal("v \"quoted\" \u00e9", reader.Metadata["k"]);
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public void WriterLayoutIsSortedPaddedAndDeterministic()
    {
        var tensors = new List<(string, DType, long[], byte[])>
        {
            ("zeta", DType.U8, [3], [1, 2, 3]),
            ("alpha", DType.F32, [1], Bytes(7f)),
        };
        byte[] first = Write(tensors);
        tensors.Reverse();
        Assert.Equal(first, Write(tensors));

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(first);
        Assert.Equal(0UL, (8 + headerLength) % 8);
        string json = Encoding.UTF8.GetString(first, 8, (int)headerLength);
        Assert.EndsWith("}", json.TrimEnd(' '));
        Assert.True(json.IndexOf("\"alpha\"", StringComparison.Ordinal) < json.IndexOf("\"zeta\"", StringComparison.Ordinal));

        using var reader = SafeTensorsFile.FromMemory(first);
        Assert.Equal(0, reader.GetInfo("alpha").Offset);
        Assert.Equal(4, reader.GetInfo("zeta").Offset);
        Assert.Equal(["alpha", "zeta"], reader.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void WriterRejectsInconsistentInput()
    {
        Assert.Throws<ArgumentException>(() => Write([("x", DType.F32, [2], Bytes(1f))]));
        Assert.Throws<ArgumentException>(() => Write([("x", DType.F32, [1], Bytes(1f)), ("x", DType.F32, [1], Bytes(1f))]));
        Assert.Throws<ArgumentException>(() => Write([("__metadata__", DType.U8, [1], [0])]));
        Assert.Throws<ArgumentException>(() => Write([("x", DType.U8, [-1], [])]));
        Assert.Throws<ArgumentException>(() => Write([("bad\ud800", DType.U8, [1], [0])]));
    }

    [Fact]
    public void GetFloatsCopiesF32AndConvertsTheRest()
    {
        using var reader = SafeTensorsFile.FromMemory(Sample());
        float[] a = reader.GetFloats("a.weight");
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], a);
        Assert.False(a.AsSpan().Overlaps(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(reader.GetBytes("a.weight"))));
        Assert.Equal([1f, -2f, float.PositiveInfinity], reader.GetFloats("b.half").ToArray());
        Assert.Equal([1f, 2f], reader.GetFloats("c.bf16").ToArray());
        Assert.Equal([0.5f], reader.GetFloats("f.f64").ToArray());
        Assert.Equal(0, reader.GetFloats("e.empty").Length);
        var error = Assert.Throws<CheckpointException>(() => reader.GetFloats("d.count"));
        Assert.Contains("I64 is not a floating-point type", error.Message);
        Assert.Equal("d.count", error.TensorName);
    }

    [Fact]
    public void UnalignedF32IsCopied()
    {
        // Header of odd length puts the data buffer at an odd offset.
        string json = "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        if ((json.Length + 8) % 4 == 0) json += " ";
        using var reader = SafeTensorsFile.FromMemory(Raw(json, Bytes(1.5f, -2.5f)));
        Assert.Equal([1.5f, -2.5f], reader.GetFloats("x").ToArray());
        Assert.Contains(reader.Warnings, w => w.Contains("not 4-byte aligned"));
    }

    [Fact]
    public void OpenReadsARealFileAndDisposeClosesIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotvit-weights-{Guid.NewGuid():N}.safetensors");
        try
        {
            SafeTensorsWriter.Write(path, [("w", DType.F32, [3], Bytes(1f, 2f, 3f)), ("h", DType.F16, [1], [0x00, 0x3C])]);
            var reader = SafeTensorsFile.Open(path);
            Assert.Equal(path, reader.FileName);
            Assert.Equal([1f, 2f, 3f], reader.GetFloats("w").ToArray());
            Assert.Equal([1f], reader.GetFloats("h").ToArray());
            reader.Dispose();
            reader.Dispose(); // idempotent
            Assert.Throws<ObjectDisposedException>(() => reader.GetFloats("w"));
            Assert.Throws<ObjectDisposedException>(() => reader.TryGetInfo("w", out _));
            File.Delete(path);
        }
        finally
        {
            if (File.Exists(path)) File.Delete(path);
        }
    }

    [Fact]
    public void ReadFloatsFillsACallerBufferOfExactlyTheTensorsSize()
    {
        using var reader = SafeTensorsFile.FromMemory(Sample());
        var a = new float[6];
        reader.ReadFloats(reader.GetInfo("a.weight"), a);
        Assert.Equal([1f, 2f, 3f, 4f, 5f, 6f], a);
        var b = new float[3];
        reader.ReadFloats(reader.GetInfo("b.half"), b);
        Assert.Equal([1f, -2f, float.PositiveInfinity], b);
        Assert.Throws<ArgumentException>(() => reader.ReadFloats(reader.GetInfo("a.weight"), new float[5]));
        Assert.Throws<ArgumentException>(() => reader.ReadFloats(reader.GetInfo("a.weight"), new float[7]));
    }

    [Fact]
    public void OpenRejectsEmptyAndTruncatedFiles()
    {
        string path = Path.Combine(Path.GetTempPath(), $"aotvit-weights-{Guid.NewGuid():N}.safetensors");
        try
        {
            File.WriteAllBytes(path, []);
            var error = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open(path));
            Assert.Contains("shorter than the 8-byte header length prefix", error.Message);
            Assert.Contains(path, error.Message);

            byte[] sample = Sample();
            File.WriteAllBytes(path, sample[..^3]);
            error = Assert.Throws<CheckpointException>(() => SafeTensorsFile.Open(path));
            Assert.Contains("end beyond the data buffer", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ForeignTensorInfoIsRejected()
    {
        using var reader = SafeTensorsFile.FromMemory(Sample());
        TensorInfo forged = reader.GetInfo("a.weight") with { Offset = 1 << 20 };
        Assert.Throws<ArgumentException>(() => reader.GetBytes(forged));
        Assert.Equal(24, reader.GetBytes(reader.GetInfo("a.weight") with { }).Length); // an equal copy is fine
    }

    [Fact]
    public void GapsAndTrailingBytesAreAllowedButNoted()
    {
        string json = "{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[4,5]}}";
        using var reader = SafeTensorsFile.FromMemory(Raw(json, [1, 2, 0, 0, 3, 0, 0]));
        Assert.Equal([3], reader.GetBytes("b").ToArray());
        Assert.Contains(reader.Warnings, w => w.Contains("gap of 2 unused bytes before tensor 'b'"));
        Assert.Contains(reader.Warnings, w => w.Contains("2 unused bytes at the end"));
    }

    [Fact]
    public void UnknownFieldsAndNullMetadataAreTolerated()
    {
        string json = "{\"__metadata__\":null,\"a\":{\"extra\":{\"x\":[1,2,{}]},\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        using var reader = SafeTensorsFile.FromMemory(Raw(json, [9]));
        Assert.Empty(reader.Metadata);
        Assert.Equal([9], reader.GetBytes("a").ToArray());
    }

    // ---- malformed input: one case per rule ----------------------------------------------------------------------

    private static string Entry(string name, string dtype = "\"F32\"", string shape = "[1]", string offsets = "[0,4]") =>
        $"\"{name}\":{{\"dtype\":{dtype},\"shape\":{shape},\"data_offsets\":{offsets}}}";

    private static void AssertRejected(string json, byte[] data, string expectedMessagePart, string? tensor = null)
    {
        CheckpointException error = Rejects(Raw(json, data));
        Assert.Contains(expectedMessagePart, error.Message);
        Assert.Contains("test.safetensors", error.Message);
        if (tensor is not null)
        {
            Assert.Equal(tensor, error.TensorName);
            Assert.Contains($"tensor '{tensor}'", error.Message);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void RejectsFilesShorterThanTheLengthPrefix(int length)
    {
        Assert.Contains("shorter than the 8-byte header length prefix", Rejects(new byte[length]).Message);
    }

    [Fact]
    public void RejectsHeaderLengthZero() =>
        Assert.Contains("header length is 0", Rejects(Raw("", headerLength: 0)).Message);

    [Fact]
    public void RejectsHugeHeaderLength()
    {
        Assert.Contains("exceeds the limit", Rejects(Raw("{}", headerLength: ulong.MaxValue)).Message);
        Assert.Contains("exceeds the limit", Rejects(Raw("{}", headerLength: 100_000_001)).Message);
        Assert.Contains("exceeds the limit", Rejects(Raw("{}  ", new byte[64]), new CheckpointLimits { MaxHeaderBytes = 2 }).Message);
    }

    [Fact]
    public void RejectsHeaderBeyondTheFile() =>
        Assert.Contains("extends beyond the end of the file", Rejects(Raw("{}", headerLength: 3)).Message);

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("{} {}", "not valid JSON")]
    [InlineData("{} x", "not valid JSON")]
    [InlineData("{,}", "not valid JSON")]
    [InlineData("{/*c*/}", "not valid JSON")]
    [InlineData("   ", "not valid JSON")]
    [InlineData("[]", "header must be a JSON object, found an array")]
    [InlineData("42", "header must be a JSON object, found a number")]
    [InlineData("{\"a\\ud800\":{}}", "not valid JSON")]
    public void RejectsHeadersThatAreNotAJsonObject(string json, string expected) =>
        AssertRejected(json, [], expected);

    [Fact]
    public void RejectsInvalidUtf8()
    {
        byte[] file = Raw("{\"ab\":1}");
        file[10] = 0xFF;
        Assert.Contains("not valid UTF-8", Rejects(file).Message);
    }

    [Fact]
    public void RejectsDeeplyNestedJsonQuickly()
    {
        string deep = new string('[', 1_000_000) + new string(']', 1_000_000);
        AssertRejected(deep, [], "header must be a JSON object, found an array");
        string deepInEntry = "{\"a\":{\"x\":" + new string('[', 100_000) + new string(']', 100_000) + "}}";
        AssertRejected(deepInEntry, [], "maximum configured depth of 16", "a");
        string deepObjects = string.Concat(Enumerable.Repeat("{\"a\":", 100_000)) + "1" + new string('}', 100_000);
        AssertRejected(deepObjects, [], "not valid JSON");
    }

    [Fact]
    public void RejectsMissingOrMistypedFields()
    {
        AssertRejected("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "entry has no 'dtype'", "a");
        AssertRejected("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4], "entry has no 'shape'", "a");
        AssertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4], "entry has no 'data_offsets'", "a");
        AssertRejected("{\"a\":[1]}", [], "entry must be an object", "a");
        AssertRejected("{" + Entry("a", dtype: "32") + "}", new byte[4], "'dtype' must be a string, found a number", "a");
        AssertRejected("{" + Entry("a", shape: "\"1\"") + "}", new byte[4], "'shape' must be an array of integers, found a string", "a");
        AssertRejected("{" + Entry("a", shape: "[\"1\"]") + "}", new byte[4], "'shape' must be an array of integers, found a string in it", "a");
        AssertRejected("{" + Entry("a", shape: "[1.0]") + "}", new byte[4], "'shape' value 1.0 is not an integer", "a");
        AssertRejected("{" + Entry("a", shape: "[1e0]") + "}", new byte[4], "'shape' value 1e0 is not an integer", "a");
        AssertRejected("{" + Entry("a", offsets: "[0]") + "}", new byte[4], "exactly 2 integers", "a");
        AssertRejected("{" + Entry("a", offsets: "[0,4,8]") + "}", new byte[8], "more than 2 values", "a");
        AssertRejected("{" + Entry("a", offsets: "{}") + "}", new byte[4], "'data_offsets' must be an array", "a");
    }

    [Fact]
    public void RejectsNegativeDimensionsAndOffsets()
    {
        AssertRejected("{" + Entry("a", shape: "[-1]") + "}", new byte[4], "'shape' value -1 is negative", "a");
        AssertRejected("{" + Entry("a", offsets: "[-4,0]") + "}", new byte[4], "'data_offsets' value -4 is negative", "a");
    }

    [Fact]
    public void RejectsOverflowingDimensions()
    {
        AssertRejected("{" + Entry("a", shape: "[99999999999999999999]") + "}", new byte[4], "not an integer in the 64-bit range", "a");
        AssertRejected("{" + Entry("a", shape: "[4294967296,4294967296]") + "}", new byte[4], "overflows a 64-bit integer", "a");
        AssertRejected("{" + Entry("a", shape: "[2305843009213693952]") + "}", new byte[4], "overflows a 64-bit integer", "a");
        AssertRejected("{" + Entry("a", offsets: "[0,18446744073709551615]") + "}", new byte[4], "not an integer in the 64-bit range", "a");
    }

    [Fact]
    public void RejectsRankAboveTheLimit() =>
        AssertRejected("{" + Entry("a", shape: "[1,1,1,1,1,1,1,1,1]") + "}", new byte[4], "rank above the limit of 8", "a");

    [Fact]
    public void RejectsTooManyTensors()
    {
        string json = "{" + Entry("a", "\"U8\"", "[0]", "[0,0]") + "," + Entry("b", "\"U8\"", "[0]", "[0,0]") + "}";
        CheckpointException error = Rejects(Raw(json), new CheckpointLimits { MaxTensors = 1 });
        Assert.Contains("more than 1 tensors", error.Message);
    }

    [Theory]
    [InlineData("\"F8_E4M3\"", "unsupported dtype 'F8_E4M3'")]
    [InlineData("\"U32\"", "unsupported dtype 'U32'")]
    [InlineData("\"f32\"", "unknown dtype 'f32'")]
    [InlineData("\"FLOAT\"", "unknown dtype 'FLOAT'")]
    public void RejectsUnknownDTypes(string dtype, string expected) =>
        AssertRejected("{" + Entry("a", dtype: dtype) + "}", new byte[4], expected, "a");

    [Fact]
    public void RejectsReversedOffsets() =>
        AssertRejected("{" + Entry("a", offsets: "[4,0]") + "}", new byte[4], "data_offsets [4, 0] are reversed", "a");

    [Fact]
    public void RejectsDataBeyondTheBuffer() =>
        AssertRejected("{" + Entry("a", offsets: "[4,8]") + "}", new byte[7], "end beyond the data buffer (7 bytes", "a");

    [Fact]
    public void RejectsByteLengthThatDoesNotMatchTheShape()
    {
        AssertRejected("{" + Entry("a", shape: "[2]") + "}", new byte[8], "hold 4 bytes, but shape [2] of F32 needs 2 x 4 = 8 bytes", "a");
        AssertRejected("{" + Entry("a", dtype: "\"F16\"") + "}", new byte[4], "shape [1] of F16 needs 1 x 2 = 2 bytes", "a");
    }

    [Fact]
    public void RejectsOverlappingTensors()
    {
        string json = "{" + Entry("a", shape: "[2]", offsets: "[0,8]") + "," + Entry("b", shape: "[2]", offsets: "[4,12]") + "}";
        AssertRejected(json, new byte[12], "overlap tensor 'a' [0, 8]", "b");
        string same = "{" + Entry("a") + "," + Entry("b") + "}";
        AssertRejected(same, new byte[4], "overlap tensor 'a'", "b");
    }

    [Fact]
    public void RejectsDuplicates()
    {
        AssertRejected("{" + Entry("a") + "," + Entry("a", offsets: "[4,8]") + "}", new byte[8], "duplicate tensor name", "a");
        AssertRejected("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "duplicate 'dtype' field", "a");
        AssertRejected("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4], "duplicate 'shape' field", "a");
        AssertRejected("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", [], "duplicate metadata key 'k'");
        AssertRejected("{\"__metadata__\":{},\"__metadata__\":{}}", [], "duplicate '__metadata__' key");
    }

    [Fact]
    public void RejectsNonStringMetadata()
    {
        AssertRejected("{\"__metadata__\":{\"k\":1}}", [], "metadata value for key 'k' must be a string, found a number");
        AssertRejected("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", [], "metadata value for key 'k' must be a string, found an object");
        AssertRejected("{\"__metadata__\":[\"x\"]}", [], "'__metadata__' must be an object of strings, found an array");
    }
}

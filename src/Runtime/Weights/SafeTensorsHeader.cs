// Validating parser for the safetensors header: 8-byte little-endian length, then a UTF-8 JSON object.
// It trusts nothing: every size is checked against the file and the limits before it is used, numbers
// are parsed as exact integers with checked arithmetic, and JSON nesting is capped (JsonTokenizer is
// iterative, so a hostile "[[[[..." header costs nothing but an early error).
// It deliberately does not touch tensor data; SafeTensorsFile does that.
using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;

namespace AotVit.Runtime.Weights;

/// <summary>A validated header: tensors in data-offset order, by name, metadata and non-fatal notes.</summary>
internal sealed class SafeTensorsHeader
{
    public required IReadOnlyList<TensorInfo> Tensors { get; init; }
    public required IReadOnlyDictionary<string, TensorInfo> ByName { get; init; }
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>Offset of the data buffer in the file: 8 + header length.</summary>
    public required long DataStart { get; init; }
    public required long DataLength { get; init; }

    /// <param name="file">The file's first min(fileLength, 2^31 − 1) bytes.</param>
    /// <param name="fileLength">The whole file's length.</param>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> file, long fileLength, string fileName, CheckpointLimits limits)
    {
        if (fileLength < 8)
        {
            throw new CheckpointException(
                $"file is {fileLength} bytes, shorter than the 8-byte header length prefix (truncated or not a safetensors file)", fileName);
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (headerLength == 0)
        {
            throw new CheckpointException("header length is 0; a safetensors header is at least '{}'", fileName);
        }
        if (headerLength > (ulong)Math.Max(0, limits.MaxHeaderBytes))
        {
            throw new CheckpointException(
                $"header length {headerLength} bytes exceeds the limit of {limits.MaxHeaderBytes} bytes (corrupt length prefix or not a safetensors file)", fileName);
        }
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw new CheckpointException(
                $"header length {headerLength} bytes extends beyond the end of the file ({fileLength} bytes; truncated file?)", fileName);
        }
        if (headerLength > (ulong)(file.Length - 8))
        {
            throw new CheckpointException($"header length {headerLength} bytes is too large to parse (2 GB limit)", fileName);
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        ReadOnlySpan<byte> json = file.Slice(8, (int)headerLength);
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new CheckpointException("header is not valid UTF-8", fileName);
        }

        var parser = new Parser(fileName, limits, dataLength);
        try
        {
            parser.ParseRoot(json);
        }
        catch (JsonSyntaxException exception)
        {
            // Malformed JSON, including undecodable strings (invalid UTF-8, an escaped lone surrogate "\ud800").
            throw new CheckpointException($"header is not valid JSON: {exception.Message}", fileName, parser.CurrentTensor, exception);
        }

        var tensors = parser.Tensors;
        tensors.Sort(static (a, b) =>
        {
            int byOffset = a.Offset.CompareTo(b.Offset);
            if (byOffset != 0) return byOffset;
            int byLength = a.ByteLength.CompareTo(b.ByteLength);
            return byLength != 0 ? byLength : string.CompareOrdinal(a.Name, b.Name);
        });

        var warnings = new List<string>();
        CheckLayout(tensors, fileName, dataLength, warnings);
        if (tensors.Exists(t => t.DType == DType.F32 && (dataStart + t.Offset) % 4 != 0))
        {
            warnings.Add("some F32 tensors are not 4-byte aligned in the file; they are read through a staging copy");
        }

        return new SafeTensorsHeader
        {
            Tensors = tensors,
            ByName = parser.ByName,
            Metadata = parser.Metadata,
            Warnings = warnings,
            DataStart = dataStart,
            DataLength = dataLength,
        };
    }

    /// <summary>Rejects overlapping tensors; notes gaps and unused trailing bytes (both harmless).</summary>
    private static void CheckLayout(List<TensorInfo> tensors, string fileName, long dataLength, List<string> warnings)
    {
        TensorInfo? previous = null;
        long previousEnd = 0;
        foreach (TensorInfo tensor in tensors)
        {
            if (tensor.ByteLength == 0) continue; // an empty tensor occupies no bytes and cannot overlap anything
            if (tensor.Offset < previousEnd)
            {
                throw new CheckpointException(
                    $"data_offsets [{tensor.Offset}, {tensor.Offset + tensor.ByteLength}] overlap tensor '{previous!.Name}' " +
                    $"[{previous.Offset}, {previous.Offset + previous.ByteLength}]", fileName, tensor.Name);
            }
            if (tensor.Offset > previousEnd)
            {
                warnings.Add($"gap of {tensor.Offset - previousEnd} unused bytes before tensor '{tensor.Name}' (data offset {previousEnd})");
            }
            previous = tensor;
            previousEnd = tensor.Offset + tensor.ByteLength;
        }
        if (previousEnd < dataLength)
        {
            warnings.Add($"{dataLength - previousEnd} unused bytes at the end of the data buffer");
        }
    }

    /// <summary>The JSON walk. One instance per parse; holds what has been read so far.</summary>
    private sealed class Parser(string fileName, CheckpointLimits limits, long dataLength)
    {
        public readonly List<TensorInfo> Tensors = [];
        public readonly Dictionary<string, TensorInfo> ByName = new(StringComparer.Ordinal);
        public readonly Dictionary<string, string> Metadata = new(StringComparer.Ordinal);
        /// <summary>The tensor being parsed, for error messages.</summary>
        public string? CurrentTensor;
        private bool _sawMetadata;

        public void ParseRoot(ReadOnlySpan<byte> json)
        {
            var reader = new JsonTokenizer(json, limits.MaxJsonDepth);
            if (!reader.Read())
            {
                throw Error("header is not valid JSON: it is empty (only whitespace)");
            }
            if (reader.TokenType != JsonToken.StartObject)
            {
                throw Error($"header must be a JSON object, found {Describe(reader.TokenType)}");
            }
            while (Next(ref reader) != JsonToken.EndObject)
            {
                string key = reader.GetString();
                if (key == "__metadata__")
                {
                    if (_sawMetadata) throw Error("duplicate '__metadata__' key");
                    _sawMetadata = true;
                    ParseMetadata(ref reader);
                    continue;
                }
                CurrentTensor = key;
                if (ByName.ContainsKey(key)) throw Error("duplicate tensor name in the header", key);
                if (ByName.Count >= limits.MaxTensors)
                {
                    throw Error($"header lists more than {limits.MaxTensors} tensors (limit)");
                }
                TensorInfo tensor = ParseTensor(ref reader, key);
                ByName.Add(key, tensor);
                Tensors.Add(tensor);
                CurrentTensor = null;
            }
            if (reader.Read())
            {
                throw Error($"unexpected {Describe(reader.TokenType)} after the header object");
            }
        }

        private void ParseMetadata(ref JsonTokenizer reader)
        {
            JsonToken token = Next(ref reader);
            if (token == JsonToken.Null) return;
            if (token != JsonToken.StartObject)
            {
                throw Error($"'__metadata__' must be an object of strings, found {Describe(token)}");
            }
            while (Next(ref reader) != JsonToken.EndObject)
            {
                string key = reader.GetString();
                JsonToken valueToken = Next(ref reader);
                if (valueToken != JsonToken.String)
                {
                    throw Error($"metadata value for key '{key}' must be a string, found {Describe(valueToken)}");
                }
                if (!Metadata.TryAdd(key, reader.GetString()))
                {
                    throw Error($"duplicate metadata key '{key}'");
                }
            }
        }

        private TensorInfo ParseTensor(ref JsonTokenizer reader, string name)
        {
            JsonToken token = Next(ref reader);
            if (token != JsonToken.StartObject)
            {
                throw Error($"entry must be an object with dtype, shape and data_offsets, found {Describe(token)}", name);
            }

            string? dtypeName = null;
            List<long>? shape = null;
            long[]? offsets = null;
            while (Next(ref reader) != JsonToken.EndObject)
            {
                string field = reader.GetString();
                if (field == "dtype")
                {
                    if (dtypeName is not null) throw Error("duplicate 'dtype' field", name);
                    JsonToken valueToken = Next(ref reader);
                    if (valueToken != JsonToken.String) throw Error($"'dtype' must be a string, found {Describe(valueToken)}", name);
                    dtypeName = reader.GetString();
                }
                else if (field == "shape")
                {
                    if (shape is not null) throw Error("duplicate 'shape' field", name);
                    shape = ReadIntegerArray(ref reader, name, "shape", limits.MaxRank);
                }
                else if (field == "data_offsets")
                {
                    if (offsets is not null) throw Error("duplicate 'data_offsets' field", name);
                    List<long> values = ReadIntegerArray(ref reader, name, "data_offsets", 2);
                    if (values.Count != 2) throw Error($"'data_offsets' must hold exactly 2 integers [begin, end], found {values.Count}", name);
                    offsets = [values[0], values[1]];
                }
                else
                {
                    // Unknown fields are tolerated (as the reference implementation does) and skipped; depth is still capped.
                    reader.Skip();
                }
            }

            if (dtypeName is null) throw Error("entry has no 'dtype'", name);
            if (shape is null) throw Error("entry has no 'shape'", name);
            if (offsets is null) throw Error("entry has no 'data_offsets'", name);

            if (!DTypeExtensions.TryParseSafeTensorsName(dtypeName, out DType dtype))
            {
                string kind = DTypeExtensions.IsKnownUnsupportedName(dtypeName) ? "unsupported" : "unknown";
                throw Error($"{kind} dtype '{Truncate(dtypeName)}' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)", name);
            }

            string shapeText = ShapeFormat.Format(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(shape));
            long elementCount = 1;
            long byteLength;
            try
            {
                foreach (long dimension in shape) elementCount = checked(elementCount * dimension);
                byteLength = checked(elementCount * dtype.SizeInBytes());
            }
            catch (OverflowException)
            {
                throw Error($"shape {shapeText} has too many elements (the byte size overflows a 64-bit integer)", name);
            }

            long begin = offsets[0], end = offsets[1];
            if (begin > end)
            {
                throw Error($"data_offsets [{begin}, {end}] are reversed (begin must be <= end)", name);
            }
            if (end > dataLength)
            {
                throw Error($"data_offsets [{begin}, {end}] end beyond the data buffer ({dataLength} bytes; truncated file?)", name);
            }
            if (end - begin != byteLength)
            {
                throw Error(
                    $"data_offsets [{begin}, {end}] hold {end - begin} bytes, but shape {shapeText} of {dtype.ToSafeTensorsName()} " +
                    $"needs {elementCount} x {dtype.SizeInBytes()} = {byteLength} bytes", name);
            }

            return new TensorInfo(name, dtype, [.. shape], begin, byteLength);
        }

        /// <summary>Reads an array of non-negative 64-bit integers, stopping early at <paramref name="maxCount"/>+1 items.</summary>
        private List<long> ReadIntegerArray(ref JsonTokenizer reader, string name, string field, int maxCount)
        {
            JsonToken token = Next(ref reader);
            if (token != JsonToken.StartArray)
            {
                throw Error($"'{field}' must be an array of integers, found {Describe(token)}", name);
            }
            var values = new List<long>();
            while ((token = Next(ref reader)) != JsonToken.EndArray)
            {
                if (token != JsonToken.Number)
                {
                    throw Error($"'{field}' must be an array of integers, found {Describe(token)} in it", name);
                }
                // TryGetInt64 accepts only plain integers: "1.0", "1e3" and values outside the int64 range fail.
                if (!reader.TryGetInt64(out long value))
                {
                    throw Error($"'{field}' value {RawText(ref reader)} is not an integer in the 64-bit range", name);
                }
                if (value < 0)
                {
                    throw Error($"'{field}' value {value} is negative", name);
                }
                values.Add(value);
                if (values.Count > maxCount)
                {
                    string what = field == "shape" ? $"rank above the limit of {maxCount}" : $"more than {maxCount} values";
                    throw Error($"'{field}' has {what}", name);
                }
            }
            return values;
        }

        private JsonToken Next(ref JsonTokenizer reader)
        {
            if (!reader.Read()) throw Error("header JSON ends unexpectedly");
            return reader.TokenType;
        }

        private CheckpointException Error(string message, string? tensor = null) =>
            new(message, fileName, tensor ?? CurrentTensor);

        private static string RawText(ref JsonTokenizer reader) =>
            Truncate(Encoding.UTF8.GetString(reader.ValueSpan));

        private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "...";

        private static string Describe(JsonToken token) => token switch
        {
            JsonToken.StartObject => "an object",
            JsonToken.StartArray => "an array",
            JsonToken.String => "a string",
            JsonToken.Number => "a number",
            JsonToken.True or JsonToken.False => "a boolean",
            JsonToken.Null => "null",
            _ => "a closing bracket",   // unreachable where a value is expected
        };
    }
}

// `json`: the runtime's JSON tokenizer (JsonTokenizer: safetensors headers, *.index.json shard maps, config.json).
// * Inputs: generated JSON values (objects and arrays of the field names the three readers look for, numbers at the
//   int64 / uint64 / double edges, strings with every escape, surrogate pairs and lone surrogates, deep nesting),
//   the repository's JSON files (src/Graphs configs, test data), each then optionally edited: JSON-significant
//   snippets spliced in (quotes, backslashes, \u escapes, lone surrogates, commas before a closing bracket, NaN, a BOM,
//   invalid UTF-8, control characters), truncation, generic byte mutations.
// * Invariant (differential): at depth limits 1, 2, 16 and 64 the tokenizer accepts exactly what System.Text.Json's
//   Utf8JsonReader accepts when every string is decoded (GetString), with the same tokens, strings, number texts and
//   TryGetInt64 / TryGetUInt64 / TryGetDouble results; any difference is a crash.
// * Then the text goes through the two readers that take a file: ConfigCheck.Differences (as config.json, against the
//   compiled ViT-B/32) and ShardedCheckpoint (as model.safetensors.index.json): CheckpointException only.
using System.Text;
using System.Text.Json;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;

namespace AotVit.Fuzzing;

public sealed class JsonTarget : FuzzTarget
{
    private readonly List<byte[]> _seeds = [];
    private readonly ModelDescriptor _model = ModelCatalog.Find("vit-base-patch32-224-in21k").Descriptor;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"aotvit-fuzz-json-{Environment.ProcessId}-{Guid.NewGuid():N}");
    private static readonly int[] Depths = [1, 2, 16, 64];

    public JsonTarget(string repoRoot)
    {
        foreach (string root in new[] { Path.Combine(repoRoot, "src/Graphs"), Path.Combine(repoRoot, "tests/AotVit.Tests/data") })
        {
            if (!Directory.Exists(root)) continue;
            foreach (string file in Directory.EnumerateFiles(root, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (new FileInfo(file).Length <= 64 << 10) _seeds.Add(File.ReadAllBytes(file));
            }
        }
        Directory.CreateDirectory(_dir);
    }

    public override string Name => "json";

    public override string? ExpectedError(Exception exception) => exception is CheckpointException ? Bucket(exception) : null;

    public override void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        base.Dispose();
    }

    public override FuzzCase Next(Random random, long index)
    {
        string kind;
        byte[] json;
        if (_seeds.Count > 0 && random.Next(4) == 0)
        {
            json = random.Pick(_seeds);
            kind = "file";
        }
        else
        {
            var text = new StringBuilder();
            Value(random, text, 0);
            json = Encoding.UTF8.GetBytes(text.ToString());
            kind = "generated";
        }
        switch (random.Next(6))
        {
            case 0:
            case 1:
                json = Splice(random, json, 1 + random.Next(3));
                kind += " + snippets";
                break;
            case 2:
                json = Mutator.Mutate(random, json, maxMutations: 3);
                kind += " + bytes";
                break;
            case 3:
                json = Mutator.Truncate(random, json);
                kind += " truncated";
                break;
        }
        byte[] input = json;
        return new FuzzCase(kind, input, ".json", () => Run(input, index));
    }

    private FuzzResult Run(byte[] json, long index)
    {
        string verdict = "";
        foreach (int depth in Depths)
        {
            string ours = Ours(json, depth), reference = Reference(json, depth);
            if (ours != reference)
            {
                throw new FuzzInvariantException($"depth {depth}: JsonTokenizer gives\n{Short(ours)}\nUtf8JsonReader gives\n{Short(reference)}");
            }
            verdict = ours == "refused" ? "refused" : "accepted";
        }
        string folder = Path.Combine(_dir, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(folder);
        try
        {
            string config = Path.Combine(folder, "config.json");
            File.WriteAllBytes(config, json);
            CheckpointException? configError = null;
            try
            {
                ConfigCheck.Differences(_model, config);
            }
            catch (CheckpointException e)
            {
                configError = e;
            }
            if (configError is not null && verdict == "accepted" && configError.Message.Contains("not valid JSON", StringComparison.Ordinal))
            {
                throw new FuzzInvariantException($"ConfigCheck calls valid JSON invalid: {configError.Message}");
            }
            string index_ = Path.Combine(folder, "model.safetensors.index.json");
            File.WriteAllBytes(index_, json);
            try
            {
                ShardedCheckpoint.Open(index_).Dispose();
            }
            catch (CheckpointException e)
            {
                // Almost every index fails (its shards do not exist): the bucket says whether the JSON was valid.
                return FuzzResult.Error($"JSON {verdict}; index: {Bucket(e)}");
            }
            return FuzzResult.Ok($"JSON {verdict}, index opened");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Short(string text) => text.Length <= 2000 ? text : text[..2000] + "...";

    // ---- the differential oracle (also used by JsonTokenizerTests) ----

    /// <summary>Utf8JsonReader's reading: tokens with values, or "refused". A string GetString cannot decode is refused.</summary>
    public static string Reference(byte[] json, int maxDepth)
    {
        var text = new StringBuilder();
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = maxDepth });
            while (reader.Read())
            {
                bool number = reader.TokenType == JsonTokenType.Number;
                Describe(text, reader.TokenType.ToString(), reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName ? reader.GetString() : null,
                         number ? reader.ValueSpan.ToArray() : null, number && reader.TryGetInt64(out long l) ? l : null,
                         number && reader.TryGetUInt64(out ulong u) ? u : null, number && reader.TryGetDouble(out double d) ? d : null);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return "refused";
        }
        return text.ToString();
    }

    /// <summary>JsonTokenizer's reading, in the form of <see cref="Reference"/>.</summary>
    public static string Ours(byte[] json, int maxDepth)
    {
        var text = new StringBuilder();
        try
        {
            var reader = new JsonTokenizer(json, maxDepth);
            while (reader.Read())
            {
                Describe(text, reader.TokenType.ToString(), reader.TokenType is JsonToken.String or JsonToken.PropertyName ? reader.GetString() : null,
                         reader.TokenType == JsonToken.Number ? reader.ValueSpan.ToArray() : null, reader.TryGetInt64(out long l) ? l : null,
                         reader.TryGetUInt64(out ulong u) ? u : null, reader.TryGetDouble(out double d) ? d : null);
            }
        }
        catch (JsonSyntaxException)
        {
            return "refused";
        }
        return text.ToString();
    }

    private static void Describe(StringBuilder text, string type, string? value, byte[]? number, long? l, ulong? u, double? d)
    {
        text.Append(type);
        if (value is not null) text.Append(" s=").Append(Convert.ToHexString(Encoding.Unicode.GetBytes(value)));
        if (number is not null) text.Append(" n=").Append(Encoding.ASCII.GetString(number));
        if (l is not null) text.Append(" l=").Append(l.Value);
        if (u is not null) text.Append(" u=").Append(u.Value);
        if (d is not null) text.Append(" d=").Append(BitConverter.DoubleToInt64Bits(d.Value));
        text.Append('\n');
    }

    // ---- generation ----

    private static readonly string[] Numbers =
    [
        "0", "-0", "1", "-1", "16", "768", "1e-12", "1e-05", "0.1", "1.5", "-2.5E+3", "1E2", "1e0", "3.0",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "123456789012345678901234567890", "1e400", "-1e400", "1e-400",
        "2.2250738585072011e-308", "4.9e-324", "1.7976931348623157e308", "9007199254740993", "0.30000000000000004",
    ];

    private static readonly string[] Strings =
    [
        "\"\"", "\"a\"", "\"vit\"", "\"gelu\"", "\"silu\"", "\"swish\"", "\"F32\"", "\"model-00001-of-00002.safetensors\"", "\"\\u00e9\"",
        "\"\\ud83d\\ude00\"", "\"\\uD83D\\uDE00x\"", "\"é😀\"", "\"\\n\\t\\\"\\\\\\/\\b\\f\\r\"", "\"\\u0000\"", "\"\\u0041\\u20ac\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800\\ud800\"", "\"\u007f\"", "\"../x\"", "\"model.safetensors.index.json\"", "\"config.json\"",
    ];

    private static readonly string[] Keys =
    [
        "dtype", "shape", "data_offsets", "__metadata__", "weight_map", "metadata", "total_size", "model_type", "hidden_size",
        "num_hidden_layers", "layer_norm_eps", "hidden_act", "qkv_bias", "patch_size", "image_size", "neck_hidden_sizes",
        "a", "", "\\u0064type", "\\ud800", "é",
    ];

    private static void Value(Random random, StringBuilder text, int depth)
    {
        switch (random.Next(depth >= 5 ? 4 : 8))
        {
            case 0:
                text.Append(random.Next(3) == 0 ? random.NextInt64(long.MinValue, long.MaxValue).ToString(System.Globalization.CultureInfo.InvariantCulture)
                                                : random.Pick(Numbers));
                break;
            case 1:
                text.Append(random.Pick(Strings));
                break;
            case 2:
                text.Append(random.Pick(["true", "false", "null"]));
                break;
            case 3:
                int levels = random.Next(1, 70);
                text.Append('[', levels).Append(random.Pick(Numbers)).Append(']', levels);
                break;
            case 4:
            case 5:
            {
                text.Append('{');
                int members = random.Next(6);
                for (int i = 0; i < members; i++)
                {
                    if (i > 0) text.Append(',');
                    text.Append(random.Next(4) == 0 ? " \n" : "").Append('"').Append(random.Pick(Keys)).Append("\":");
                    Value(random, text, depth + 1);
                }
                text.Append('}');
                break;
            }
            default:
            {
                text.Append('[');
                int items = random.Next(6);
                for (int i = 0; i < items; i++)
                {
                    if (i > 0) text.Append(random.Next(8) == 0 ? " , " : ",");
                    Value(random, text, depth + 1);
                }
                text.Append(']');
                break;
            }
        }
    }

    private static readonly byte[][] Snippets =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "\\u"u8.ToArray(), "\\ud800"u8.ToArray(), "\\udc00"u8.ToArray(), ","u8.ToArray(), ",]"u8.ToArray(),
        ",}"u8.ToArray(), "}"u8.ToArray(), "]"u8.ToArray(), "{"u8.ToArray(), "["u8.ToArray(), ":"u8.ToArray(), "NaN"u8.ToArray(),
        "Infinity"u8.ToArray(), "-"u8.ToArray(), "."u8.ToArray(), "e"u8.ToArray(), "0"u8.ToArray(), "00"u8.ToArray(), " "u8.ToArray(),
        "/*c*/"u8.ToArray(), "\uFEFF"u8.ToArray(), [0x01], [0x00], [0x0B], [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
        [0xE2, 0x82], "tru"u8.ToArray(), "1e999"u8.ToArray(), "99999999999999999999"u8.ToArray(),
    ];

    private static byte[] Splice(Random random, byte[] json, int count)
    {
        var bytes = new List<byte>(json);
        for (int i = 0; i < count; i++)
        {
            byte[] snippet = random.Pick(Snippets);
            int at = random.Next(bytes.Count + 1);
            if (random.Next(3) == 0 && at < bytes.Count) bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(4)));
            bytes.InsertRange(Math.Min(at, bytes.Count), snippet);
        }
        return bytes.ToArray();
    }
}

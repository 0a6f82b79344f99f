// ConfigCheck: a checkpoint folder's config.json against the config the model was compiled from. Shapes alone do not
// prove a checkpoint belongs to a model (a LayerNorm epsilon, an activation or a head count changes the answers
// without changing a single tensor shape), so every architectural field the generator read is compared, with HF's
// default standing in for a field the folder's config omits, as transformers reads it.
using System.Globalization;
using System.Text;
using AotVit.Runtime.Weights;

namespace AotVit.Runtime.Model;

public static class ConfigCheck
{
    /// <summary>Names transformers' ACT2FN maps to the same function.</summary>
    private static readonly string[][] ActivationAliases = [["silu", "swish"]];

    /// <summary>Each field of <paramref name="configPath"/> that differs from the compiled model, in words; empty when
    /// they agree.</summary>
    /// <exception cref="CheckpointException">The file is not a JSON object or cannot be read.</exception>
    public static IReadOnlyList<string> Differences(ModelDescriptor model, string configPath)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(configPath);
        byte[] bytes = Interop.UserFiles.ReadAtMost(configPath, "config.json", 64 << 20)
            ?? throw new CheckpointException("config.json is larger than 64 MiB", configPath);
        Dictionary<string, string?> fields = TopLevelFields(bytes, configPath, model.ConfigFields);
        var differences = new List<string>();
        foreach (ConfigField field in model.ConfigFields)
        {
            if (!fields.TryGetValue(field.Key, out string? text))
            {
                if (!Same(field.Kind, field.Default, field.Value))
                {
                    differences.Add($"{field.Key} is absent there (HF's default {field.Default}), {field.Value} in the compiled model");
                }
            }
            else if (text is null || text.StartsWith('\u0001'))
            {
                differences.Add($"{field.Key} is {(text is null ? "null" : text[1..])} there, not {KindName(field.Kind)}; the compiled model has {field.Value}");
            }
            else if (!Same(field.Kind, text, field.Value))
            {
                differences.Add($"{field.Key} is {text} there, {field.Value} in the compiled model");
            }
        }
        return differences;
    }

    /// <summary>
    /// The wanted top-level members of the JSON object in <paramref name="json"/>, each as canonical text for its kind;
    /// a value of another kind as "\u0001" + its JSON text, null for JSON null. Other members are skipped unread.
    /// </summary>
    private static Dictionary<string, string?> TopLevelFields(byte[] json, string path, IReadOnlyList<ConfigField> wanted)
    {
        // Fields, not their kinds: a Dictionary<string, ConfigFieldKind> makes the enum reflectable (its interfaces'
        // metadata), which keeps the runtime's enum formatting in the NativeAOT binaries.
        var byKey = new Dictionary<string, ConfigField>(StringComparer.Ordinal);
        foreach (ConfigField f in wanted) byKey.TryAdd(f.Key, f);
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        try
        {
            var reader = new JsonTokenizer(json, 64);
            if (!reader.Read() || reader.TokenType != JsonToken.StartObject)
            {
                throw new CheckpointException("config.json is not a JSON object", path);
            }
            while (reader.Read() && reader.TokenType == JsonToken.PropertyName)
            {
                string key = reader.GetString();
                reader.Read();
                if (!byKey.TryGetValue(key, out ConfigField? field))
                {
                    reader.Skip();
                    continue;
                }
                int start = reader.TokenStart;
                string? text = Canonical(field.Kind, ref reader);
                if (text is null && reader.TokenType != JsonToken.Null)
                {
                    reader.Skip();
                    string raw = Encoding.UTF8.GetString(json, start, reader.BytesConsumed - start).Trim();
                    text = "\u0001" + (raw.Length > 40 ? raw[..40] + "…" : raw);
                }
                result[key] = text;   // the last occurrence wins, as in Python's json.load
            }
            reader.Read();   // at the end of the object: nothing but whitespace may follow it (anything else throws)
        }
        catch (JsonSyntaxException e)
        {
            throw new CheckpointException($"config.json is not valid JSON: {e.Message}", path, inner: e);
        }
        return result;
    }

    /// <summary>Throws unless <paramref name="configPath"/> agrees with the compiled model on every architectural field.</summary>
    /// <exception cref="CheckpointException">Names each differing field with both values.</exception>
    public static void Require(ModelDescriptor model, string configPath)
    {
        IReadOnlyList<string> differences = Differences(model, configPath);
        if (differences.Count == 0) return;
        var message = new StringBuilder($"the config.json beside this checkpoint describes another model than {model.Name}: ");
        message.AppendJoin("; ", differences);
        message.Append(". A different configuration is a different model: give it its own folder under src/Graphs and rebuild");
        throw new CheckpointException(message.ToString(), configPath);
    }

    /// <summary>The value at the reader as canonical text of <paramref name="kind"/>, or null when it is of another kind
    /// (the reader is then still at the value's first token, or at the end of an array with a non-integer element).</summary>
    private static string? Canonical(ConfigFieldKind kind, ref JsonTokenizer reader)
    {
        switch (kind)
        {
            case ConfigFieldKind.Integer:
                return reader.TokenType == JsonToken.Number && reader.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 1e15
                    ? ((long)d).ToString(CultureInfo.InvariantCulture) : null;
            case ConfigFieldKind.Number:
                return reader.TokenType == JsonToken.Number && reader.TryGetDouble(out double n) ? n.ToString("R", CultureInfo.InvariantCulture) : null;
            case ConfigFieldKind.Bool:
                return reader.TokenType switch { JsonToken.True => "true", JsonToken.False => "false", _ => null };
            case ConfigFieldKind.String:
                return reader.TokenType == JsonToken.String ? reader.GetString() : null;
            case ConfigFieldKind.IntegerArray:
            {
                if (reader.TokenType != JsonToken.StartArray) return null;
                int depth = reader.Depth;   // the array's own
                var items = new List<string>();
                while (reader.Read() && reader.TokenType != JsonToken.EndArray)
                {
                    if (Canonical(ConfigFieldKind.Integer, ref reader) is not { } i)
                    {
                        while (reader.Depth >= depth) reader.Read();   // to the array's end: the caller reports it whole
                        return null;
                    }
                    items.Add(i);
                }
                return "[" + string.Join(", ", items) + "]";
            }
            default:
                return null;
        }
    }

    private static bool Same(ConfigFieldKind kind, string a, string b)
    {
        if (a == b) return true;
        if (kind == ConfigFieldKind.Number)
        {
            return double.TryParse(a, NumberStyles.Float, CultureInfo.InvariantCulture, out double x)
                && double.TryParse(b, NumberStyles.Float, CultureInfo.InvariantCulture, out double y) && x == y;
        }
        return kind == ConfigFieldKind.String && Array.Exists(ActivationAliases, set => Array.IndexOf(set, a) >= 0 && Array.IndexOf(set, b) >= 0);
    }

    private static string KindName(ConfigFieldKind kind) => kind switch
    {
        ConfigFieldKind.Integer => "an integer",
        ConfigFieldKind.Number => "a number",
        ConfigFieldKind.Bool => "true or false",
        ConfigFieldKind.String => "a string",
        _ => "an array of integers",
    };
}

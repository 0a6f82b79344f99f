// ConfigCheck: a checkpoint folder's config.json against the config the model was compiled from. Shapes alone do not
// prove a checkpoint belongs to a model (a LayerNorm epsilon, an activation or a head count changes the answers
// without changing a single tensor shape), so every architectural field the generator read is compared, with HF's
// default standing in for a field the folder's config omits, as transformers reads it.
using System.Globalization;
using System.Text;
using System.Text.Json;
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
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"config.json is not valid JSON: {e.Message}", configPath, inner: e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointException("config.json is not a JSON object", configPath);
            }
            var differences = new List<string>();
            foreach (ConfigField field in model.ConfigFields)
            {
                if (!document.RootElement.TryGetProperty(field.Key, out JsonElement value))
                {
                    if (!Same(field.Kind, field.Default, field.Value))
                    {
                        differences.Add($"{field.Key} is absent there (HF's default {field.Default}), {field.Value} in the compiled model");
                    }
                    continue;
                }
                string? text = Canonical(field.Kind, value);
                if (text is null)
                {
                    differences.Add($"{field.Key} is {Shown(value)} there, not {KindName(field.Kind)}; the compiled model has {field.Value}");
                }
                else if (!Same(field.Kind, text, field.Value))
                {
                    differences.Add($"{field.Key} is {text} there, {field.Value} in the compiled model");
                }
            }
            return differences;
        }
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

    private static string? Canonical(ConfigFieldKind kind, JsonElement value)
    {
        switch (kind)
        {
            case ConfigFieldKind.Integer:
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 1e15
                    ? ((long)d).ToString(CultureInfo.InvariantCulture) : null;
            case ConfigFieldKind.Number:
                return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double n) ? n.ToString("R", CultureInfo.InvariantCulture) : null;
            case ConfigFieldKind.Bool:
                return value.ValueKind switch { JsonValueKind.True => "true", JsonValueKind.False => "false", _ => null };
            case ConfigFieldKind.String:
                return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            case ConfigFieldKind.IntegerArray:
                if (value.ValueKind != JsonValueKind.Array) return null;
                var items = new List<string>();
                foreach (JsonElement item in value.EnumerateArray())
                {
                    if (Canonical(ConfigFieldKind.Integer, item) is not { } i) return null;
                    items.Add(i);
                }
                return "[" + string.Join(", ", items) + "]";
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
        return kind == ConfigFieldKind.String && ActivationAliases.Any(set => set.Contains(a) && set.Contains(b));
    }

    private static string KindName(ConfigFieldKind kind) => kind switch
    {
        ConfigFieldKind.Integer => "an integer",
        ConfigFieldKind.Number => "a number",
        ConfigFieldKind.Bool => "true or false",
        ConfigFieldKind.String => "a string",
        _ => "an array of integers",
    };

    private static string Shown(JsonElement value)
    {
        string raw = value.GetRawText();
        return raw.Length > 40 ? raw[..40] + "…" : raw;
    }
}

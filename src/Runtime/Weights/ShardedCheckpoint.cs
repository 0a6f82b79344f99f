// ShardedCheckpoint: a checkpoint split into several files by an index (`model.safetensors.index.json`,
// `pytorch_model.bin.index.json`, as transformers' save_pretrained writes above its shard size). The index maps every
// tensor name to a shard file in the same folder; each shard is opened by content (safetensors or torch zip) and must
// hold exactly the tensors the index gives it, so a stale or mixed-up folder is an error rather than a silent mix.
using System.Text;

namespace AotVit.Runtime.Weights;

public sealed class ShardedCheckpoint : Checkpoint
{
    private ShardedCheckpoint(string indexPath, int shardCount, List<Located> tensors, IReadOnlyDictionary<string, string> metadata,
                              List<string> warnings, List<ByteSource> owned)
        : base(indexPath, $"sharded checkpoint ({shardCount} files)", tensors, metadata, warnings, owned)
    {
    }

    /// <summary>Opens the index at <paramref name="indexPath"/> and every shard it names.</summary>
    /// <exception cref="CheckpointException">The index is malformed, names a shard outside its folder or one that is
    /// missing, or a shard does not hold what the index says.</exception>
    public static ShardedCheckpoint Open(string indexPath, CheckpointLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(indexPath);
        limits ??= CheckpointLimits.Default;
        byte[] json = Interop.UserFiles.ReadAtMost(indexPath, "checkpoint index", limits.MaxHeaderBytes)
            ?? throw new CheckpointException($"the index is larger than {limits.MaxHeaderBytes} bytes (CheckpointLimits.MaxHeaderBytes)", indexPath);
        var (weightMap, metadata) = ParseIndex(json, indexPath, limits);
        string folder = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;

        var byShard = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (tensor, shard) in weightMap)
        {
            if (shard.Length == 0 || shard != Path.GetFileName(shard) || shard is "." or "..")
            {
                throw new CheckpointException($"the index maps tensor '{tensor}' to '{shard}', which is not a file name in the index's folder", indexPath);
            }
            if (!byShard.TryGetValue(shard, out var names)) byShard.Add(shard, names = []);
            names.Add(tensor);
        }

        var owned = new List<Checkpoint>();
        var sources = new List<ByteSource>();
        try
        {
            var located = new List<Located>(weightMap.Count);
            var warnings = new List<string>();
            foreach (var (shard, names) in byShard)
            {
                string shardPath = Path.Combine(folder, shard);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointException($"shard '{shard}' named by the index is missing (expected at {shardPath})", indexPath);
                }
                // CheckpointFile.Open reads a *.json file as an index: an index naming itself (or one naming it back)
                // would open indexes without end, so a shard is never a .json file.
                if (shard.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    throw new CheckpointException($"shard '{shard}' is a .json file; an index names safetensors or torch files, not another index", indexPath);
                }
                Checkpoint part = CheckpointFile.Open(shardPath, limits);
                owned.Add(part);
                if (part is ShardedCheckpoint) throw new CheckpointException($"shard '{shard}' is itself an index", indexPath);
                var expected = new HashSet<string>(names, StringComparer.Ordinal);
                foreach (TensorInfo t in part.Tensors)
                {
                    if (!expected.Remove(t.Name))
                    {
                        warnings.Add($"shard '{shard}' holds tensor '{t.Name}', which the index does not map to it; ignored");
                        continue;
                    }
                    located.Add(part.Locate(t));
                }
                if (expected.Count > 0)
                {
                    throw new CheckpointException(
                        $"shard '{shard}' lacks {expected.Count} tensor(s) the index maps to it, e.g. '{FirstOrdinal(expected)}' (an incomplete download, or shards from another revision?)", indexPath);
                }
                foreach (string w in part.Warnings) warnings.Add($"{shard}: {w}");
            }
            foreach (Checkpoint part in owned) sources.AddRange(part.DetachSources());
            return new ShardedCheckpoint(indexPath, byShard.Count, located, metadata, warnings, sources);
        }
        catch
        {
            foreach (Checkpoint part in owned) part.Dispose();
            foreach (ByteSource source in sources) source.Dispose();
            throw;
        }
    }

    /// <summary>Reads <c>{"metadata": {...}, "weight_map": {"tensor": "shard file", ...}}</c>; other members are ignored.</summary>
    private static (List<(string Tensor, string Shard)>, Dictionary<string, string>) ParseIndex(byte[] json, string path, CheckpointLimits limits)
    {
        var map = new List<(string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        bool sawMap = false;
        try
        {
            var reader = new JsonTokenizer(json, limits.MaxJsonDepth);
            Expect(ref reader, JsonToken.StartObject, "the index is not a JSON object", path);
            while (Next(ref reader) == JsonToken.PropertyName)
            {
                string member = reader.GetString();
                if (member is "weight_map" or "metadata")
                {
                    bool isMap = member == "weight_map";
                    sawMap |= isMap;
                    Expect(ref reader, JsonToken.StartObject, $"'{member}' is not an object", path);
                    while (Next(ref reader) == JsonToken.PropertyName)
                    {
                        string key = reader.GetString();
                        Next(ref reader);
                        if (isMap)
                        {
                            if (reader.TokenType != JsonToken.String) throw new CheckpointException($"weight_map entry '{key}' is not a file name string", path);
                            if (!seen.Add(key)) throw new CheckpointException($"weight_map lists tensor '{key}' twice", path);
                            if (map.Count >= limits.MaxTensors) throw new CheckpointException($"weight_map has more than {limits.MaxTensors} tensors (CheckpointLimits.MaxTensors)", path);
                            map.Add((key, reader.GetString()));
                        }
                        else if (reader.TokenType is JsonToken.String)
                        {
                            metadata[key] = reader.GetString();
                        }
                        else if (reader.TokenType is JsonToken.Number)
                        {
                            metadata[key] = Encoding.UTF8.GetString(reader.ValueSpan);
                        }
                        else
                        {
                            reader.Skip();
                        }
                    }
                }
                else
                {
                    reader.Skip();
                }
            }
            reader.Read();   // nothing but whitespace may follow the object: anything else throws
        }
        catch (JsonSyntaxException e)
        {
            throw new CheckpointException($"the index is not valid JSON: {e.Message}", path, inner: e);
        }
        if (!sawMap) throw new CheckpointException("the index has no 'weight_map'", path);
        if (map.Count == 0) throw new CheckpointException("the index's weight_map is empty", path);
        return (map, metadata);
    }

    /// <summary>The next token; the tokenizer throws when the text ends before the root object does.</summary>
    private static JsonToken Next(ref JsonTokenizer reader)
    {
        reader.Read();
        return reader.TokenType;
    }

    private static void Expect(ref JsonTokenizer reader, JsonToken type, string message, string path)
    {
        if (Next(ref reader) != type) throw new CheckpointException(message, path);
    }

    private static string FirstOrdinal(HashSet<string> names)
    {
        string? first = null;
        foreach (string n in names) if (first is null || string.CompareOrdinal(n, first) < 0) first = n;
        return first ?? "";
    }
}


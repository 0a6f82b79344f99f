// CheckpointLocator and CheckpointFile: weights named as users name them (a file recognised by content, a folder, a hub
// repo id in a Hugging Face cache laid out as huggingface_hub lays it out: blobs, relative symlinks in snapshots,
// refs/main, refs/refs/pr/N, .no_exist), the config.json check, shard indexes, and the formats refused by name.
using System.Text;
using AotVit.Runtime.Model;
using AotVit.Runtime.Weights;
using Xunit;
using static AotVit.Tests.Weights.SafeTensorsTestFiles;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class CheckpointLocatorTests : IDisposable
{
    private const string MainCommit = "1111111111111111111111111111111111111111";
    private const string PrCommit = "2222222222222222222222222222222222222222";
    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-locator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    private static byte[] TinyCheckpoint(float value) => Write([("w", DType.F32, [2], Bytes(value, value))]);

    /// <summary>A cached repo as huggingface_hub writes it: each file a blob named by its hash, linked from the snapshot
    /// with a relative symlink; refs/main (and refs/refs/pr/N) hold commit hashes.</summary>
    private static string CacheRepo(string root, string repoId, string commit, string? refName, params (string Name, byte[] Bytes)[] files)
    {
        string repo = Path.Combine(root, "models--" + repoId.Replace("/", "--"));
        string blobs = Directory.CreateDirectory(Path.Combine(repo, "blobs")).FullName;
        string snapshot = Directory.CreateDirectory(Path.Combine(repo, "snapshots", commit)).FullName;
        foreach (var (name, bytes) in files)
        {
            string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            File.WriteAllBytes(Path.Combine(blobs, hash), bytes);
            File.CreateSymbolicLink(Path.Combine(snapshot, name), Path.Combine("..", "..", "blobs", hash));
        }
        if (refName is not null)
        {
            string refFile = Path.Combine(repo, "refs", refName.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(refFile)!);
            File.WriteAllText(refFile, commit);   // huggingface_hub writes the hash without a newline
        }
        return snapshot;
    }

    [Fact]
    public void A_file_is_opened_by_content_whatever_its_name()
    {
        string path = Path.Combine(_dir, "weights.bin.renamed");
        File.WriteAllBytes(path, TinyCheckpoint(1.5f));
        ResolvedCheckpoint r = CheckpointLocator.Resolve(path, Env());
        Assert.Equal(path, r.Path);
        Assert.Equal("file", r.Source);
        Assert.Null(r.ConfigPath);
        using Checkpoint c = CheckpointFile.Open(r.Path);
        Assert.Equal("safetensors", c.Format);
        Assert.Equal([1.5f, 1.5f], c.GetFloats("w"));
    }

    [Fact]
    public void A_folder_whose_name_is_not_utf8_is_resolved_and_read_by_its_bytes()
    {
        byte[] raw = [.. Encoding.UTF8.GetBytes(_dir + "/w"), 0xE9];
        Assert.Equal(0, AotVit.Fuzzing.RawFiles.MakeDirectory(raw));
        string folder = AotVit.Runtime.Interop.UserFiles.PathFromBytes(raw);
        try
        {
            using (var config = AotVit.Runtime.Interop.UserFiles.Create(folder + "/config.json", "config")) config.Write("{}"u8);
            using (var weights = AotVit.Runtime.Interop.UserFiles.Create(folder + "/model.safetensors", "checkpoint")) weights.Write(TinyCheckpoint(1));
            ResolvedCheckpoint r = CheckpointLocator.Resolve(folder, Env());
            Assert.Equal(Path.Combine(folder, "model.safetensors"), r.Path);
            Assert.Equal(Path.Combine(folder, "config.json"), r.ConfigPath);
            using var file = SafeTensorsFile.Open(r.Path);
            Assert.NotEmpty(file.Tensors);
        }
        finally
        {
            AotVit.Runtime.Interop.UserFiles.DeleteIfExists(folder + "/config.json");
            AotVit.Runtime.Interop.UserFiles.DeleteIfExists(folder + "/model.safetensors");
            AotVit.Fuzzing.RawFiles.RemoveDirectory(raw);   // Directory.Delete cannot name it
        }
    }

    [Fact]
    public void A_folder_prefers_safetensors_then_the_index_then_the_bin_and_reports_its_config()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        File.WriteAllBytes(Path.Combine(folder, "pytorch_model.bin"), [(byte)'P', (byte)'K', 3, 4]);
        Assert.EndsWith("pytorch_model.bin", CheckpointLocator.Resolve(folder, Env()).Path);
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), "{}");
        Assert.EndsWith("model.safetensors.index.json", CheckpointLocator.Resolve(folder, Env()).Path);
        File.WriteAllBytes(Path.Combine(folder, "model.safetensors"), TinyCheckpoint(1));
        ResolvedCheckpoint r = CheckpointLocator.Resolve(folder, Env());
        Assert.Equal(Path.Combine(folder, "model.safetensors"), r.Path);
        Assert.Equal(Path.Combine(folder, "config.json"), r.ConfigPath);
        Assert.StartsWith("folder ", r.Source);
    }

    [Fact]
    public void A_folder_without_weights_lists_what_it_holds()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "tf-only")).FullName;
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        File.WriteAllBytes(Path.Combine(folder, "tf_model.h5"), []);
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Resolve(folder, Env()));
        Assert.Contains("no weights in this folder: expected one of model.safetensors, model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json; it holds config.json, tf_model.h5", e.Message);
    }

    [Fact]
    public void The_cache_root_follows_huggingface_hub_precedence()
    {
        Assert.Equal(("/a/hub", "$HF_HUB_CACHE"), CheckpointLocator.HubCacheRoot(Env(("HF_HUB_CACHE", "/a/hub"), ("HF_HOME", "/b"), ("XDG_CACHE_HOME", "/c"))));
        Assert.Equal(("/old", "$HUGGINGFACE_HUB_CACHE"), CheckpointLocator.HubCacheRoot(Env(("HUGGINGFACE_HUB_CACHE", "/old"), ("HF_HOME", "/b"))));
        Assert.Equal(("/b/hub", "$HF_HOME/hub"), CheckpointLocator.HubCacheRoot(Env(("HF_HOME", "/b"), ("XDG_CACHE_HOME", "/c"))));
        Assert.Equal(("/c/huggingface/hub", "$XDG_CACHE_HOME/huggingface/hub"), CheckpointLocator.HubCacheRoot(Env(("XDG_CACHE_HOME", "/c"), ("HOME", "/h"))));
        Assert.Equal(("/h/.cache/huggingface/hub", "~/.cache/huggingface/hub"), CheckpointLocator.HubCacheRoot(Env(("HOME", "/h"))));
        // expanduser and expandvars, as huggingface_hub applies them; an empty variable counts as unset.
        Assert.Equal("/h/x/hub", CheckpointLocator.HubCacheRoot(Env(("HF_HUB_CACHE", "~/x/hub"), ("HOME", "/h"))).Root);
        Assert.Equal("/data/hf/hub", CheckpointLocator.HubCacheRoot(Env(("HF_HOME", "$BASE/hf"), ("BASE", "/data"))).Root);
        Assert.Equal("/c/huggingface/hub", CheckpointLocator.HubCacheRoot(Env(("HF_HUB_CACHE", ""), ("XDG_CACHE_HOME", "/c"))).Root);
    }

    [Theory]
    [InlineData("HF_HUB_CACHE", "")]
    [InlineData("HUGGINGFACE_HUB_CACHE", "")]
    [InlineData("HF_HOME", "hub")]
    [InlineData("XDG_CACHE_HOME", "huggingface/hub")]
    [InlineData("HOME", ".cache/huggingface/hub")]
    public void A_repo_id_resolves_in_the_cache_under_each_environment_variable(string variable, string below)
    {
        string setting = Path.Combine(_dir, "env-" + variable);
        string root = Path.Combine(setting, below);
        string snapshot = CacheRepo(root, "google/vit-base-patch32-224-in21k", MainCommit, "main",
            ("config.json", Encoding.UTF8.GetBytes("{}")), ("model.safetensors", TinyCheckpoint(2)));
        ResolvedCheckpoint r = CheckpointLocator.Resolve("google/vit-base-patch32-224-in21k", Env((variable, setting)));
        Assert.Equal(Path.Combine(snapshot, "model.safetensors"), r.Path);
        Assert.Equal(Path.Combine(snapshot, "config.json"), r.ConfigPath);
        Assert.Equal($"Hugging Face cache: google/vit-base-patch32-224-in21k at main (commit {MainCommit})", r.Source);
        Assert.Empty(r.Notes);
        using Checkpoint c = CheckpointFile.Open(r.Path);   // through the relative symlink into blobs/
        Assert.Equal([2f, 2f], c.GetFloats("w"));
    }

    [Fact]
    public void Where_main_has_no_safetensors_the_cached_pull_request_conversion_is_used_and_said()
    {
        string root = Path.Combine(_dir, "hub");
        string main = CacheRepo(root, "apple/mobilevit-small", MainCommit, "main",
            ("config.json", Encoding.UTF8.GetBytes("{}")), ("pytorch_model.bin", [(byte)'P', (byte)'K', 3, 4]));
        string repo = Path.Combine(root, "models--apple--mobilevit-small");
        Directory.CreateDirectory(Path.Combine(repo, ".no_exist", MainCommit));
        File.WriteAllBytes(Path.Combine(repo, ".no_exist", MainCommit, "model.safetensors"), []);

        // Without the PR snapshot: main's pytorch_model.bin.
        ResolvedCheckpoint r = CheckpointLocator.Resolve("apple/mobilevit-small", Env(("HF_HUB_CACHE", root)));
        Assert.Equal(Path.Combine(main, "pytorch_model.bin"), r.Path);
        Assert.Empty(r.Notes);

        // refs/pr/2 is stored as refs/refs/pr/2 (huggingface_hub joins "refs" and the revision name).
        string pr = CacheRepo(root, "apple/mobilevit-small", PrCommit, "refs/pr/2", ("model.safetensors", TinyCheckpoint(3)));
        r = CheckpointLocator.Resolve("apple/mobilevit-small", Env(("HF_HUB_CACHE", root)));
        Assert.Equal(Path.Combine(pr, "model.safetensors"), r.Path);
        Assert.Equal(Path.Combine(main, "config.json"), r.ConfigPath);   // the PR snapshot has none: main's
        Assert.Contains("no safetensors weights at main; using the ones at refs/pr/2 (commit " + PrCommit + ")", Assert.Single(r.Notes));
        Assert.Equal($"Hugging Face cache: apple/mobilevit-small at refs/pr/2 (commit {PrCommit})", r.Source);

        // An explicit revision is taken as given.
        Assert.Equal(Path.Combine(main, "pytorch_model.bin"), CheckpointLocator.Resolve("apple/mobilevit-small@main", Env(("HF_HUB_CACHE", root))).Path);
        Assert.Equal(Path.Combine(pr, "model.safetensors"), CheckpointLocator.Resolve("apple/mobilevit-small@refs/pr/2", Env(("HF_HUB_CACHE", root))).Path);
        Assert.Equal(Path.Combine(pr, "model.safetensors"), CheckpointLocator.Resolve($"apple/mobilevit-small@{PrCommit}", Env(("HF_HUB_CACHE", root))).Path);
    }

    [Fact]
    public void A_missing_repo_names_every_place_looked_at_and_the_download_command()
    {
        string root = Path.Combine(_dir, "empty-hub");
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Resolve("apple/mobilevit-small", Env(("HF_HOME", Path.Combine(_dir, "empty")))));
        Assert.Contains("checkpoint not found: 'apple/mobilevit-small' is not a file or folder here, and the Hugging Face cache has no copy of it", e.Message);
        Assert.Contains($"looked for {Path.Combine(_dir, "empty", "hub", "models--apple--mobilevit-small")}", e.Message);
        Assert.Contains("from $HF_HOME/hub", e.Message);
        Assert.EndsWith("Download it with: huggingface-cli download apple/mobilevit-small", e.Message);

        CacheRepo(root, "apple/mobilevit-small", MainCommit, "main", ("config.json", Encoding.UTF8.GetBytes("{}")));
        var missingRevision = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Resolve("apple/mobilevit-small@v2", Env(("HF_HUB_CACHE", root))));
        Assert.Contains("has apple/mobilevit-small but not its revision 'v2'", missingRevision.Message);
        Assert.EndsWith("huggingface-cli download apple/mobilevit-small --revision v2", missingRevision.Message);

        var noWeights = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Resolve("apple/mobilevit-small", Env(("HF_HUB_CACHE", root))));
        Assert.Contains("holds no weights", noWeights.Message);
        Assert.Contains("it holds config.json", noWeights.Message);
    }

    [Fact]
    public void A_snapshot_link_to_a_missing_blob_is_an_interrupted_download()
    {
        string root = Path.Combine(_dir, "hub");
        string snapshot = CacheRepo(root, "org/model", MainCommit, "main", ("model.safetensors", TinyCheckpoint(1)));
        foreach (string blob in Directory.GetFiles(Path.Combine(root, "models--org--model", "blobs"))) File.Delete(blob);
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLocator.Resolve("org/model", Env(("HF_HUB_CACHE", root))));
        Assert.Contains("links to a blob that does not exist (an interrupted download?)", e.Message);
    }

    [Fact]
    public void Paths_that_are_not_repo_ids_stay_paths()
    {
        Assert.True(CheckpointLocator.LooksLikeRepoId("apple/mobilevit-small", out string id, out string? rev));
        Assert.Equal(("apple/mobilevit-small", (string?)null), (id, rev));
        Assert.True(CheckpointLocator.LooksLikeRepoId("apple/mobilevit-small@refs/pr/2", out id, out rev));
        Assert.Equal(("apple/mobilevit-small", "refs/pr/2"), (id, rev));
        foreach (string path in new[] { "./a/b", "/abs/file", "a/b/c", "a--b/c", "a/../b", "model.safetensors", "../x/y" })
            Assert.False(CheckpointLocator.LooksLikeRepoId(path, out _, out _), path);
        Assert.Equal("file", CheckpointLocator.Resolve("/no/such/file.safetensors", Env()).Source);   // open reports "not found"
    }

    [Fact]
    public void Config_beside_a_checkpoint_must_match_the_compiled_model_field_by_field()
    {
        ModelDescriptor mobilevit = AotVit.ModelCatalog.Find("mobilevit-small").Descriptor;
        string real = TestPaths.Repo("src", "Graphs", "mobilevit-small", "config.json");
        Assert.Empty(ConfigCheck.Differences(mobilevit, real));

        string edited = Path.Combine(_dir, "config.json");
        File.WriteAllText(edited, File.ReadAllText(real)
            .Replace("\"hidden_sizes\": [\n    144,\n    192,\n    240\n  ]", "\"hidden_sizes\": [96, 120, 144]")
            .Replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"swish\""));
        var e = Assert.Throws<CheckpointException>(() => ConfigCheck.Require(mobilevit, edited));
        Assert.Contains("describes another model than mobilevit-small: hidden_sizes is [96, 120, 144] there, [144, 192, 240] in the compiled model", e.Message);
        Assert.DoesNotContain("hidden_act", e.Message);   // swish and silu are one function in transformers

        // A field the config omits means HF's default; a default that differs from the compiled value is a difference.
        File.WriteAllText(edited, "{\"model_type\": \"mobilevit\", \"layer_norm_eps\": 1e-05, \"neck_hidden_sizes\": [16, 32, 64, 96, 128, 160, 640]}");
        Assert.Empty(ConfigCheck.Differences(mobilevit, edited));
        File.WriteAllText(edited, "{\"model_type\": \"vit\", \"qkv_bias\": 1}");
        var both = ConfigCheck.Differences(mobilevit, edited);
        Assert.Contains("model_type is vit there, mobilevit in the compiled model", both);
        Assert.Contains("qkv_bias is 1 there, not true or false; the compiled model has true", both);

        ModelDescriptor vit = AotVit.ModelCatalog.Find("vit-base-patch32-224-in21k").Descriptor;
        Assert.Empty(ConfigCheck.Differences(vit, TestPaths.Repo("src", "Graphs", "vit-base-patch32-224-in21k", "config.json")));
        File.WriteAllText(edited, "{\"model_type\": \"vit\", \"patch_size\": 16, \"layer_norm_eps\": 1e-6}");
        var vitDiffs = ConfigCheck.Differences(vit, edited);
        Assert.Contains("patch_size is 16 there, 32 in the compiled model", vitDiffs);
        Assert.Contains("layer_norm_eps is 1E-06 there, 1E-12 in the compiled model", vitDiffs);

        File.WriteAllText(edited, "[1, 2]");
        Assert.Contains("not a JSON object", Assert.Throws<CheckpointException>(() => ConfigCheck.Differences(vit, edited)).Message);
        File.WriteAllText(edited, "{\"a\": ");
        Assert.Contains("not valid JSON", Assert.Throws<CheckpointException>(() => ConfigCheck.Differences(vit, edited)).Message);
        // Strict JSON: content after the object, and strings that cannot be decoded, are refused as invalid JSON (the
        // lone surrogate was an InvalidOperationException from Utf8JsonReader.GetString before JsonTokenizer).
        File.WriteAllText(edited, "{\"model_type\": \"vit\"} x");
        Assert.Contains("not valid JSON: unexpected 'x' after the end of the JSON value at line 1, column 23 (byte 22)",
                        Assert.Throws<CheckpointException>(() => ConfigCheck.Differences(vit, edited)).Message);
        File.WriteAllText(edited, "{\"model_type\": \"\\ud800\"}");
        Assert.Contains("not valid JSON: unpaired surrogate escape \\uD800", Assert.Throws<CheckpointException>(() => ConfigCheck.Differences(vit, edited)).Message);
        // A non-integer inside an integer array: the array is reported whole and the next member is still read.
        File.WriteAllText(edited, "{\"neck_hidden_sizes\": [16, {\"a\": [2]}, 64], \"model_type\": \"vit\"}");
        var arrayDiffs = ConfigCheck.Differences(mobilevit, edited);
        Assert.Contains(arrayDiffs, d => d.StartsWith("neck_hidden_sizes is [16, {\"a\": [2]}, 64] there, not an array of integers", StringComparison.Ordinal));
        Assert.Contains("model_type is vit there, mobilevit in the compiled model", arrayDiffs);
    }

    [Fact]
    public void Shards_named_by_an_index_read_as_one_checkpoint_and_must_agree_with_it()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_dir, "sharded")).FullName;
        File.WriteAllBytes(Path.Combine(folder, "model-00001-of-00002.safetensors"), Write([("a", DType.F32, [2], Bytes(1f, 2f)), ("b", DType.F16, [1], [0x00, 0x3C])]));
        File.WriteAllBytes(Path.Combine(folder, "model-00002-of-00002.safetensors"), Write([("c", DType.F32, [1], Bytes(3f))]));
        string index = Path.Combine(folder, "model.safetensors.index.json");
        File.WriteAllText(index, """{"metadata": {"total_size": 14}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""");

        Assert.Equal(index, CheckpointLocator.Resolve(folder, Env()).Path);
        using (Checkpoint c = CheckpointFile.Open(index))
        {
            Assert.Equal("sharded checkpoint (2 files)", c.Format);
            Assert.Equal([1f, 2f], c.GetFloats("a"));
            Assert.Equal([1f], c.GetFloats("b"));
            Assert.Equal([3f], c.GetFloats("c"));
            Assert.Equal("14", c.Metadata["total_size"]);
            Assert.Empty(c.Warnings);
        }

        void Refused(string json, string expected)
        {
            File.WriteAllText(index, json);
            var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Open(index).Dispose());
            Assert.Contains(expected, e.Message);
        }
        Refused("""{"weight_map": {"a": "model-00001-of-00002.safetensors", "z": "model-00001-of-00002.safetensors"}}""", "shard 'model-00001-of-00002.safetensors' lacks 1 tensor(s) the index maps to it, e.g. 'z'");
        Refused("""{"weight_map": {"a": "../model-00001-of-00002.safetensors"}}""", "which is not a file name in the index's folder");
        Refused("""{"weight_map": {"a": "model-00003-of-00003.safetensors"}}""", "shard 'model-00003-of-00003.safetensors' named by the index is missing");
        Refused("""{"weight_map": {"a": "x", "a": "y"}}""", "weight_map lists tensor 'a' twice");
        Refused("""{"metadata": {}}""", "the index has no 'weight_map'");
        Refused("""{"weight_map": {"a": 1}}""", "weight_map entry 'a' is not a file name string");
        Refused("""{"weight_map": """, "the index is not valid JSON");
        Refused("""{"weight_map": {"a": "model-00001-of-00002.safetensors"}} {}""", "the index is not valid JSON: unexpected '{' after the end of the JSON value");
        // An index that names itself (or any .json file) as a shard once opened indexes without end (stack overflow).
        Refused("""{"weight_map": {"a": "model.safetensors.index.json"}}""", "shard 'model.safetensors.index.json' is a .json file");

        // Extra tensors in a shard are ignored with a warning; the same tensor in two shards is an error.
        File.WriteAllText(index, """{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors"}}""");
        using (Checkpoint c = CheckpointFile.Open(index)) Assert.Empty(c.Warnings);
        File.WriteAllText(index, """{"weight_map": {"a": "model-00001-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}}""");
        using (Checkpoint c = CheckpointFile.Open(index))
            Assert.Contains("shard 'model-00001-of-00002.safetensors' holds tensor 'b', which the index does not map to it; ignored", c.Warnings);
    }

    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "this is an HDF5 file (TensorFlow/Keras weights, tf_model.h5)")]
    [InlineData(new byte[] { (byte)'G', (byte)'G', (byte)'U', (byte)'F', 3, 0, 0, 0 }, "this is a GGUF file")]
    [InlineData(new byte[] { 0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E }, "torch's legacy (pre-1.6) format")]
    public void Weights_in_formats_not_read_are_named(byte[] head, string expected)
    {
        string path = Path.Combine(_dir, "weights");
        File.WriteAllBytes(path, head);
        var e = Assert.Throws<CheckpointException>(() => CheckpointFile.Open(path).Dispose());
        Assert.Contains(expected, e.Message);
    }
}

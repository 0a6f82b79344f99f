// CheckpointLocator: turns what a user names as weights into the file to open. Three forms, tried in this order:
//   a file           opened by content (safetensors, torch zip, shard index), whatever its name;
//   a folder         model.safetensors, else model.safetensors.index.json, else pytorch_model.bin, else
//                    pytorch_model.bin.index.json (transformers' own preference); its config.json, if any, is reported
//                    so the caller can compare it with the compiled model;
//   a hub repo id    "org/name" or "org/name@revision", looked up offline in the Hugging Face cache exactly as
//                    huggingface_hub lays it out (see HubCacheRoot), never over the network.
// Every failure names every place that was looked at.
using AotVit.Runtime.Interop;

namespace AotVit.Runtime.Weights;

/// <summary>The checkpoint a user's name resolved to.</summary>
/// <param name="Path">The file to open with <see cref="CheckpointFile.Open"/> (a weights file or a shard index).</param>
/// <param name="Source">How it was found, in words ("file", "folder /x", "Hugging Face cache: apple/mobilevit-small at main (commit 1a2b…)").</param>
/// <param name="Notes">What the user should know about the choice (a fallback taken).</param>
/// <param name="ConfigPath">The config.json that came with it (folder and cache forms), or null.</param>
public sealed record ResolvedCheckpoint(string Path, string Source, IReadOnlyList<string> Notes, string? ConfigPath);

public static class CheckpointLocator
{
    /// <summary>The weight files a folder or hub snapshot may hold, in the order transformers prefers them.</summary>
    public static IReadOnlyList<string> WeightFileNames { get; } =
        ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"];

    /// <summary>Resolves <paramref name="weights"/> (a file, a folder or a hub repo id).</summary>
    /// <param name="environment">Reads environment variables (tests pass their own); default Environment.GetEnvironmentVariable.</param>
    /// <exception cref="FileNotFoundException">Nothing found (also a folder or cached snapshot without weights, or a link
    /// to a missing blob); the message lists every place looked at and how to download.</exception>
    /// <exception cref="CheckpointException">A cache ref file that does not hold a commit hash.</exception>
    public static ResolvedCheckpoint Resolve(string weights, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        environment ??= Environment.GetEnvironmentVariable;
        if (weights.Length == 0)
        {
            throw new FileNotFoundException("checkpoint path is empty", weights);
        }
        if (UserFiles.IsDirectory(weights))
        {
            return ResolveFolder(weights, $"folder {Path.GetFullPath(weights)}", []);
        }
        if (UserFiles.IsFile(weights) || !LooksLikeRepoId(weights, out _, out _))
        {
            // A file, or a path that is not one: opening it gives the plain "not found" / "permission denied" message.
            return new ResolvedCheckpoint(weights, "file", [], null);
        }
        LooksLikeRepoId(weights, out string repoId, out string? revision);
        return ResolveHub(repoId, revision, environment);
    }

    /// <summary>"org/name" or "org/name@revision", as the hub spells repo ids: org and name of letters, digits, '-', '_'
    /// and '.' (org starting with a letter or digit, at most 96 characters each, no "--" or ".."); a revision of those
    /// characters and '/' (a branch, a tag, refs/pr/N or a commit hash).</summary>
    public static bool LooksLikeRepoId(string text, out string repoId, out string? revision)
    {
        ArgumentNullException.ThrowIfNull(text);
        repoId = "";
        revision = null;
        int at = text.IndexOf('@');
        string id = at < 0 ? text : text[..at];
        string? rev = at < 0 ? null : text[(at + 1)..];
        int slash = id.IndexOf('/');
        if (slash <= 0 || slash > 96 || id.Length - slash - 1 is < 1 or > 96 || id.IndexOf('/', slash + 1) >= 0) return false;
        if (!char.IsAsciiLetterOrDigit(id[0]) || !AllRepoChars(id)) return false;
        if (id.Contains("--", StringComparison.Ordinal) || id.Contains("..", StringComparison.Ordinal)) return false;
        if (rev is not null && (rev.Length is < 1 or > 200 || !AllRepoChars(rev))) return false;
        repoId = id;
        revision = rev;
        return true;
    }

    private static bool AllRepoChars(string text)
    {
        foreach (char c in text) if (c != '/' && !IsRepoChar(c)) return false;
        return true;
    }

    private static bool IsRepoChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.';

    private static bool IsCommitHash(string text) => text.Length == 40 && !text.AsSpan().ContainsAnyExcept("0123456789abcdef");

    /// <summary>
    /// The hub cache root and the setting it came from, as huggingface_hub's constants.py computes it: $HF_HUB_CACHE,
    /// else $HUGGINGFACE_HUB_CACHE (its older name), else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub, else
    /// ~/.cache/huggingface/hub ("~" and $VARS expanded, as expanduser / expandvars do).
    /// </summary>
    public static (string Root, string From) HubCacheRoot(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        string? Get(string name) => environment(name) is { Length: > 0 } v ? Expand(v, environment) : null;
        if (Get("HF_HUB_CACHE") is { } hub) return (hub, "$HF_HUB_CACHE");
        if (Get("HUGGINGFACE_HUB_CACHE") is { } legacy) return (legacy, "$HUGGINGFACE_HUB_CACHE");
        if (Get("HF_HOME") is { } home) return (Path.Combine(home, "hub"), "$HF_HOME/hub");
        if (Get("XDG_CACHE_HOME") is { } xdg) return (Path.Combine(xdg, "huggingface", "hub"), "$XDG_CACHE_HOME/huggingface/hub");
        return (Path.Combine(HomeDirectory(environment), ".cache", "huggingface", "hub"), "~/.cache/huggingface/hub");
    }

    private static string HomeDirectory(Func<string, string?> environment) =>
        environment("HOME") is { Length: > 0 } home ? home : Interop.TextFiles.UserProfile();

    /// <summary>os.path.expanduser then os.path.expandvars: a leading "~" is the home folder; $NAME and ${NAME} of set
    /// variables are replaced, unset ones left as they are.</summary>
    private static string Expand(string path, Func<string, string?> environment)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal)) path = HomeDirectory(environment) + path[1..];
        var result = new System.Text.StringBuilder(path.Length);
        for (int i = 0; i < path.Length; i++)
        {
            if (path[i] != '$' || i + 1 >= path.Length)
            {
                result.Append(path[i]);
                continue;
            }
            int start = i + 1, end;
            string name;
            if (path[start] == '{')
            {
                end = path.IndexOf('}', start);
                if (end < 0) { result.Append(path[i]); continue; }
                name = path[(start + 1)..end];
                end++;
            }
            else
            {
                end = start;
                while (end < path.Length && (char.IsAsciiLetterOrDigit(path[end]) || path[end] == '_')) end++;
                if (end == start) { result.Append(path[i]); continue; }
                name = path[start..end];
            }
            result.Append(environment(name) ?? path[i..end]);
            i = end - 1;
        }
        return result.ToString();
    }

    private static ResolvedCheckpoint ResolveFolder(string folder, string source, List<string> notes)
    {
        string? config = Path.Combine(folder, "config.json");
        if (!UserFiles.IsFile(config)) config = null;
        foreach (string name in WeightFileNames)
        {
            string candidate = Path.Combine(folder, name);
            if (IsDanglingLink(candidate))
            {
                throw new FileNotFoundException($"checkpoint '{candidate}' is a link to a file that does not exist (an interrupted download?); download it again", candidate);
            }
            if (UserFiles.IsFile(candidate)) return new ResolvedCheckpoint(candidate, source, notes, config);
        }
        throw new FileNotFoundException(
            $"checkpoint '{folder}': no weights in this folder: expected one of {string.Join(", ", WeightFileNames)}; it holds {Listing(folder)}", folder);
    }

    private static ResolvedCheckpoint ResolveHub(string repoId, string? revision, Func<string, string?> environment)
    {
        var (root, from) = HubCacheRoot(environment);
        string repoFolder = Path.Combine(root, "models--" + repoId.Replace("/", "--", StringComparison.Ordinal));
        string download = $"huggingface-cli download {repoId}{(revision is null ? "" : " --revision " + revision)}";
        if (!Directory.Exists(repoFolder))
        {
            throw new FileNotFoundException(
                $"checkpoint not found: '{repoId}' is not a file or folder here, and the Hugging Face cache has no copy of it " +
                $"(looked for {repoFolder}; cache root {root}, from {from}). Download it with: {download}", repoId);
        }

        string wanted = revision ?? "main";
        string commit = CommitOf(repoFolder, wanted, out string refFile)
            ?? throw new FileNotFoundException(
                $"the Hugging Face cache has {repoId} but not its revision '{wanted}' (looked for {refFile} and {Path.Combine(repoFolder, "snapshots", wanted)}). Download it with: {download}", repoId);
        string snapshot = Path.Combine(repoFolder, "snapshots", commit);
        string source = $"Hugging Face cache: {repoId} at {wanted}{(wanted == commit ? "" : $" (commit {commit})")}";
        if (!Directory.Exists(snapshot))
        {
            throw new FileNotFoundException(
                $"the Hugging Face cache names commit {commit} for {repoId} at '{wanted}', but {snapshot} does not exist. Download it with: {download}", repoId);
        }
        string? config = File.Exists(Path.Combine(snapshot, "config.json")) ? Path.Combine(snapshot, "config.json") : null;

        // transformers loads safetensors first; where main has none, it uses the safetensors conversion the hub's
        // bot opened as a pull request (refs/pr/N), which a download of that revision leaves in the cache.
        string? found = FirstWeights(snapshot, safetensorsOnly: true);
        var notes = new List<string>();
        if (found is null && revision is null)
        {
            foreach (var (prRef, prCommit) in PullRequestRefs(repoFolder))
            {
                string prSnapshot = Path.Combine(repoFolder, "snapshots", prCommit);
                if (FirstWeights(prSnapshot, safetensorsOnly: true) is { } prWeights)
                {
                    notes.Add($"{repoId} has no safetensors weights at main; using the ones at {prRef} (commit {prCommit}), the conversion transformers also falls back to");
                    return new ResolvedCheckpoint(prWeights, $"Hugging Face cache: {repoId} at {prRef} (commit {prCommit})", notes,
                                                  config ?? (File.Exists(Path.Combine(prSnapshot, "config.json")) ? Path.Combine(prSnapshot, "config.json") : null));
                }
            }
        }
        found ??= FirstWeights(snapshot, safetensorsOnly: false);
        if (found is not null) return new ResolvedCheckpoint(found, source, notes, config);

        var missing = new List<string>();
        foreach (string n in WeightFileNames) if (File.Exists(Path.Combine(repoFolder, ".no_exist", commit, n))) missing.Add(n);
        string known = missing.Count == 0 ? "" : $"; the cache records that the hub has no {string.Join(" / ", missing)} at this commit";
        throw new FileNotFoundException(
            $"checkpoint not found: the cached snapshot of {repoId} at {wanted} ({snapshot}) holds no weights (expected one of {string.Join(", ", WeightFileNames)}; it holds {Listing(snapshot)}{known}). " +
            $"Download them with: {download}", snapshot);
    }

    /// <summary>The commit a revision names: refs/&lt;revision&gt; holds it for branches, tags and refs/pr/N; a commit
    /// hash names itself when its snapshot exists.</summary>
    private static string? CommitOf(string repoFolder, string revision, out string refFile)
    {
        refFile = Path.Combine(repoFolder, "refs", revision.Replace('/', Path.DirectorySeparatorChar));
        if (!revision.Contains("..", StringComparison.Ordinal) && File.Exists(refFile))
        {
            string commit = Interop.TextFiles.ReadAllText(refFile).Trim();
            if (IsCommitHash(commit)) return commit;
            throw new CheckpointException($"the cache's ref file holds '{(commit.Length > 60 ? commit[..60] + "…" : commit)}', not a commit hash", refFile);
        }
        return IsCommitHash(revision) && Directory.Exists(Path.Combine(repoFolder, "snapshots", revision)) ? revision : null;
    }

    /// <summary>refs/refs/pr/N files (huggingface_hub stores the ref "refs/pr/N" under refs/), newest PR first.</summary>
    private static IEnumerable<(string Ref, string Commit)> PullRequestRefs(string repoFolder)
    {
        string folder = Path.Combine(repoFolder, "refs", "refs", "pr");
        if (!Directory.Exists(folder)) yield break;
        var numbered = new List<(int, string)>();
        foreach (string file in Directory.EnumerateFiles(folder))
        {
            if (int.TryParse(Path.GetFileName(file), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)) numbered.Add((n, file));
        }
        numbered.Sort((x, y) => y.Item1.CompareTo(x.Item1));   // newest PR first
        foreach (var (n, _) in numbered)
        {
            string prRef = $"refs/pr/{n}";
            if (CommitOf(repoFolder, prRef, out _) is { } commit) yield return (prRef, commit);
        }
    }

    private static string? FirstWeights(string folder, bool safetensorsOnly)
    {
        foreach (string name in WeightFileNames)
        {
            if (safetensorsOnly && !name.StartsWith("model.safetensors", StringComparison.Ordinal)) continue;
            string candidate = Path.Combine(folder, name);
            if (IsDanglingLink(candidate))
            {
                throw new FileNotFoundException($"checkpoint '{candidate}' in the Hugging Face cache links to a blob that does not exist (an interrupted download?); download it again", candidate);
            }
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsDanglingLink(string path)
    {
        try
        {
            // .NET reports a link whose target is missing as an existing file (it falls back to lstat), so the target
            // itself is checked.
            var info = new FileInfo(path);
            if (info.LinkTarget is null) return false;
            FileSystemInfo? target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is null || !target.Exists;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static string Listing(string folder)
    {
        try
        {
            var names = new List<string>();
            foreach (string entry in Directory.EnumerateFileSystemEntries(folder)) names.Add(Path.GetFileName(entry));
            names.Sort(StringComparer.Ordinal);
            if (names.Count == 0) return "nothing";
            string text = string.Join(", ", names.GetRange(0, Math.Min(12, names.Count)));
            return names.Count > 12 ? text + ", …" : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "entries that cannot be listed";
        }
    }
}

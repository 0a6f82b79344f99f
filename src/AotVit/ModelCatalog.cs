using AotVit.Runtime;
using AotVit.Models;
using AotVit.Runtime.Model;
using AotVit.Runtime.Threading;

namespace AotVit;

/// <summary>
/// The models this build was generated for: one entry per folder under src/Graphs, emitted by the generator
/// (AotVit.Models.GeneratedCatalog). A model is named by its folder name ("mobilevit-small") or, where its folder has a
/// hub.json, by its hub repo id ("apple/mobilevit-small"), case-insensitively.
/// </summary>
public static class ModelCatalog
{
    public sealed record Entry(ModelDescriptor Descriptor, Func<ITensorSource, WorkerPool?, IGeneratedModel> Create)
    {
        /// <summary>The folder name under src/Graphs.</summary>
        public string Name => Descriptor.Name;

        /// <summary>The hub repository id, or null when the folder has no hub.json.</summary>
        public string? RepoId => Descriptor.RepoId;

        public ModelKind Kind => Descriptor.Kind;

        /// <summary>The model's image processor (preprocessor_config.json) as a preprocessing plan.</summary>
        public Runtime.Imaging.PreprocessPlan Plan => Descriptor.Preprocess;

        /// <summary>True for <paramref name="name"/> equal to the folder name or the repo id, ignoring case.</summary>
        public bool IsNamed(string name) =>
            Descriptor.Name.Equals(name, StringComparison.OrdinalIgnoreCase)
            || (Descriptor.RepoId is { } repo && repo.Equals(name, StringComparison.OrdinalIgnoreCase));

        // The compiler's text, with the kind named by ModelKind.Name(): formatting an enum value keeps the runtime's enum
        // formatting in the NativeAOT binaries.
        private bool PrintMembers(System.Text.StringBuilder builder)
        {
            builder.Append("Descriptor = ").Append((object)Descriptor);
            builder.Append(", Create = ").Append((object)Create);
            builder.Append(", Name = ").Append(Name);
            builder.Append(", RepoId = ").Append(RepoId);
            builder.Append(", Kind = ").Append(Kind.Name());
            builder.Append(", Plan = ").Append((object)Plan);
            return true;
        }
    }

    /// <summary>Every compiled model, sorted by name.</summary>
    public static IReadOnlyList<Entry> All { get; } = SortedByName(GeneratedCatalog.Entries());

    private static Entry[] SortedByName(IEnumerable<Entry> entries)
    {
        var list = new List<Entry>(entries);
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list.ToArray();
    }

    /// <summary>The model named <paramref name="name"/> (folder name or repo id), or null.</summary>
    public static Entry? TryFind(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var e in All)
        {
            if (e.IsNamed(name)) return e;
        }
        return null;
    }

    /// <summary>The model named <paramref name="name"/>.</summary>
    /// <exception cref="InputException">No compiled model has that name; the message lists them.</exception>
    public static Entry Find(string name) =>
        TryFind(name) ?? throw new InputException($"unknown model '{name}'; compiled models: {Names()}");

    /// <summary>The compiled models as "name (org/repo, task)", comma-separated: for messages.</summary>
    public static string Names()
    {
        var names = new string[All.Count];
        for (int i = 0; i < names.Length; i++) names[i] = All[i].RepoId is null ? All[i].Name : $"{All[i].Name} ({All[i].RepoId})";
        return string.Join(", ", names);
    }
}

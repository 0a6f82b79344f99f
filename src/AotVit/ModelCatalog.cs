using AotVit.Models;
using AotVit.Runtime.Model;
using AotVit.Runtime.Threading;

namespace AotVit;

/// <summary>The models this build was generated for (one per folder under src/Graphs).</summary>
public static class ModelCatalog
{
    public sealed record Entry(ModelDescriptor Descriptor, Func<ITensorSource, WorkerPool?, IGeneratedModel> Create);

    public static Entry ViTBasePatch32 { get; } = new(VitBasePatch32224In21k.Descriptor, (w, p) => new VitBasePatch32224In21k(w, p));

    public static Entry MobileViTSmall { get; } = new(MobilevitSmall.Descriptor, (w, p) => new MobilevitSmall(w, p));

    public static IReadOnlyList<Entry> All { get; } = [ViTBasePatch32, MobileViTSmall];

    public static Entry Find(string name)
    {
        var names = new List<string>();
        foreach (var e in All)
        {
            if (e.Descriptor.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) return e;
            names.Add(e.Descriptor.Name);
        }
        throw new ArgumentException($"unknown model '{name}'; available: {string.Join(", ", names)}", nameof(name));
    }
}

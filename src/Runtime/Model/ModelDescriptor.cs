// What generated models tell the rest of the program about themselves, without being loaded:
// input and output shapes, the checkpoint tensors they read, labels, preprocessing and cost.
// Written by the generator as constants (see AotVit.Models.*.Descriptor).
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;

namespace AotVit.Runtime.Model;

public enum ModelKind { FeatureExtractor, Classifier }

public static class ModelKindExtensions
{
    /// <summary>The member name, as <c>kind.ToString()</c> gives it (the number for an undefined value), spelled out:
    /// formatting an enum value keeps the runtime's enum formatting in the NativeAOT binaries.</summary>
    public static string Name(this ModelKind kind) => kind switch
    {
        ModelKind.FeatureExtractor => nameof(ModelKind.FeatureExtractor),
        ModelKind.Classifier => nameof(ModelKind.Classifier),
        _ => ((int)kind).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}


/// <summary>One output tensor: its name (as in HF's ModelOutput) and its shape per image.</summary>
public sealed record OutputDescriptor(string Name, int[] Shape)
{
    public int FloatsPerImage
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}

public enum ConfigFieldKind { Integer, Number, Bool, String, IntegerArray }

/// <summary>
/// A config.json field the model's architecture was generated from: the value it had (or HF's default, when the
/// config omitted it) and HF's default. Invariant text: integers in decimal, numbers round-trippable, bools
/// "true"/"false", integer arrays "[a, b, c]".
/// </summary>
public sealed record ConfigField(string Key, ConfigFieldKind Kind, string Value, string Default)
{
    // Equality, hash and text as the compiler writes them, with the kind compared as a value and named by hand:
    // EqualityComparer<ConfigFieldKind> and formatting an enum value keep the runtime's enum formatting in the binary.
    public bool Equals(ConfigField? other) =>
        ReferenceEquals(this, other) || (other is not null && Key == other.Key && Kind == other.Kind &&
                                         Value == other.Value && Default == other.Default);

    public override int GetHashCode() => HashCode.Combine(Key, (int)Kind, Value, Default);

    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("Key = ").Append(Key);
        builder.Append(", Kind = ").Append(Kind switch
        {
            ConfigFieldKind.Integer => nameof(ConfigFieldKind.Integer),
            ConfigFieldKind.Number => nameof(ConfigFieldKind.Number),
            ConfigFieldKind.Bool => nameof(ConfigFieldKind.Bool),
            ConfigFieldKind.String => nameof(ConfigFieldKind.String),
            ConfigFieldKind.IntegerArray => nameof(ConfigFieldKind.IntegerArray),
            _ => ((int)Kind).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        builder.Append(", Value = ").Append(Value);
        builder.Append(", Default = ").Append(Default);
        return true;
    }
}

public sealed class ModelDescriptor
{
    public ModelDescriptor(string name, ModelKind kind, int[] inputShape, OutputDescriptor[] outputs, TensorSpec[] tensors,
                           string[] optionalPrefixes, string[]? labels, PreprocessPlan preprocess,
                           long macsPerImage, long arenaFloatsPerImage, long constantFloats, ConfigField[]? configFields = null,
                           string? repoId = null, string architecture = "", int[]? int8Tensors = null)
    {
        var int8 = new string[int8Tensors?.Length ?? 0];
        for (int i = 0; i < int8.Length; i++) int8[i] = tensors[int8Tensors![i]].Name;
        Int8Tensors = int8;
        ConfigFields = configFields ?? [];
        RepoId = repoId;
        Architecture = architecture;
        Name = name; Kind = kind; InputShape = inputShape; Outputs = outputs; Tensors = tensors; OptionalPrefixes = optionalPrefixes;
        Labels = labels; Preprocess = preprocess; MacsPerImage = macsPerImage; ArenaFloatsPerImage = arenaFloatsPerImage; ConstantFloats = constantFloats;
    }

    /// <summary>
    /// As above, with the tensors as the two UTF-8 <see cref="TensorSpec.ParseTables"/> tables. Generated models use this
    /// form: UTF-8 literals (static data) instead of an array initialiser (~500 TensorSpec objects as code were ~50 KB of
    /// machine code in the NativeAOT executable, run once).
    /// </summary>
    public ModelDescriptor(string name, ModelKind kind, int[] inputShape, OutputDescriptor[] outputs,
                           ReadOnlySpan<byte> tensorNames, ReadOnlySpan<byte> tensorShapes,
                           string[] optionalPrefixes, string[]? labels, PreprocessPlan preprocess,
                           long macsPerImage, long arenaFloatsPerImage, long constantFloats, ConfigField[]? configFields = null,
                           string? repoId = null, string architecture = "", int[]? int8Tensors = null)
        : this(name, kind, inputShape, outputs, TensorSpec.ParseTables(tensorNames, tensorShapes), optionalPrefixes, labels, preprocess,
               macsPerImage, arenaFloatsPerImage, constantFloats, configFields, repoId, architecture, int8Tensors)
    {
    }

    /// <summary>The model's folder under src/Graphs, e.g. "vit-base-patch32-224-in21k".</summary>
    public string Name { get; }
    public ModelKind Kind { get; }
    /// <summary>[channels, height, width] of pixel_values for one image.</summary>
    public int[] InputShape { get; }
    public int InputFloatsPerImage => InputShape[0] * InputShape[1] * InputShape[2];
    public IReadOnlyList<OutputDescriptor> Outputs { get; }
    public IReadOnlyList<TensorSpec> Tensors { get; }
    /// <summary>Prefixes a checkpoint may put before every tensor name (e.g. "vit." for fine-tuned ViT checkpoints).</summary>
    public IReadOnlyList<string> OptionalPrefixes { get; }
    public IReadOnlyList<string>? Labels { get; }
    /// <summary>The HF image processor (slow, PIL path) of the model's preprocessor_config.json.</summary>
    public PreprocessPlan Preprocess { get; }
    /// <summary>Multiply-adds of the model per image as PyTorch computes it (every row, direct convolutions): the generator's
    /// count before the passes that skip work (RowNarrowing, Winograd), so one number serves every engine's GFLOP/s
    /// (2 × this × batch / time) and aot-vit's are effective figures.</summary>
    public long MacsPerImage { get; }
    public long ArenaFloatsPerImage { get; }
    public long ConstantFloats { get; }
    /// <summary>The architectural config.json fields, in the order the generator read them.</summary>
    public IReadOnlyList<ConfigField> ConfigFields { get; }
    /// <summary>The hub repository the folder's files came from (its hub.json), e.g. "apple/mobilevit-small", or null.</summary>
    public string? RepoId { get; }
    /// <summary>The HF class the model implements (config.json architectures[0]), e.g. "ViTForImageClassification".</summary>
    public string Architecture { get; }
    /// <summary>
    /// The weights int8 mode quantizes (per output channel, symmetric): those of the nn.Linear layers, all run by
    /// Gemm.Run. An int8 checkpoint stores each as I8 with a "_scale" F32 companion of one value per output row.
    /// </summary>
    public IReadOnlyList<string> Int8Tensors { get; }
    /// <summary>The name of the per-row scale tensor of an int8 weight in an int8 checkpoint.</summary>
    public static string Int8ScaleName(string weightName) => weightName + "_scale";
}

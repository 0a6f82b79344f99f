// What generated models tell the rest of the program about themselves, without being loaded:
// input and output shapes, the checkpoint tensors they read, labels, preprocessing and cost.
// Written by the generator as constants (see AotVit.Models.*.Descriptor).
namespace AotVit.Runtime.Model;

public enum ModelKind { FeatureExtractor, Classifier }

public enum ResizeKind { Exact, ShortestEdge }


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

/// <summary>A checkpoint tensor the model reads and its exact shape.</summary>
public sealed record TensorShape(string Name, long[] Shape)
{
    /// <summary>
    /// Parses the two tables generated models list their tensors in: <paramref name="names"/>, one tensor name per line,
    /// and <paramref name="shapes"/>, line for line the same tensors' shapes as "[d0, d1, ...]" ("[]" for a scalar).
    /// Names and shapes are apart so that models of one architecture at different sizes carry the same names literal,
    /// which the compiler stores once.
    /// </summary>
    /// <exception cref="FormatException">A line is not of that form, or the two tables have different line counts.</exception>
    public static TensorShape[] ParseTables(ReadOnlySpan<byte> names, ReadOnlySpan<byte> shapes)
    {
        if (names.IsEmpty && shapes.IsEmpty) return [];
        var result = new List<TensorShape>();
        var nameLines = names.Split((byte)'\n');
        var shapeLines = shapes.Split((byte)'\n');
        while (true)
        {
            bool moreNames = nameLines.MoveNext(), moreShapes = shapeLines.MoveNext();
            if (!moreNames && !moreShapes) break;
            if (moreNames != moreShapes)
                throw new FormatException($"tensor tables: {(moreNames ? "more names" : "more shapes")} than {(moreNames ? "shapes" : "names")} ({result.Count} pairs read)");
            ReadOnlySpan<byte> name = names[nameLines.Current];
            ReadOnlySpan<byte> line = shapes[shapeLines.Current];
            int number = result.Count + 1;
            if (name.IsEmpty || name.IndexOfAny((byte)' ', (byte)'[') >= 0)
                throw new FormatException($"tensor table line {number}: '{Text(name)}' is not a tensor name");
            if (line.Length < 2 || line[0] != (byte)'[' || line[^1] != (byte)']')
                throw new FormatException($"tensor table line {number}: '{Text(line)}' is not '[d0, d1, ...]'");
            ReadOnlySpan<byte> dims = line[1..^1].Trim((byte)' ');
            var shape = new List<long>();
            foreach (Range dimRange in dims.Split((byte)','))
            {
                if (dims.IsEmpty) break; // "[]": a scalar
                ReadOnlySpan<byte> dim = dims[dimRange].Trim((byte)' ');
                if (!System.Buffers.Text.Utf8Parser.TryParse(dim, out long value, out int used) || used != dim.Length || value < 0)
                    throw new FormatException($"tensor table line {number}: '{Text(line)}' has a bad dimension");
                shape.Add(value);
            }
            result.Add(new TensorShape(Text(name), [.. shape]));
        }
        return [.. result];
    }

    private static string Text(ReadOnlySpan<byte> utf8) => System.Text.Encoding.UTF8.GetString(utf8);
}

public enum ConfigFieldKind { Integer, Number, Bool, String, IntegerArray }

/// <summary>
/// A config.json field the model's architecture was generated from: the value it had (or HF's default, when the
/// config omitted it) and HF's default. Invariant text: integers in decimal, numbers round-trippable, bools
/// "true"/"false", integer arrays "[a, b, c]".
/// </summary>
public sealed record ConfigField(string Key, ConfigFieldKind Kind, string Value, string Default);

/// <summary>HF image-processor settings (slow, PIL path), from preprocessor_config.json.</summary>
public sealed record PreprocessSettings(
    ResizeKind Resize, int ResizeHeight, int ResizeWidth, int ShortestEdge,
    bool CenterCrop, int CropHeight, int CropWidth,
    bool Rescale, double RescaleFactor,
    bool Normalize, double[] Mean, double[] Std,
    bool FlipChannelOrder, AotVit.Runtime.Imaging.ResampleFilter Resample = AotVit.Runtime.Imaging.ResampleFilter.Bilinear);

public sealed class ModelDescriptor
{
    public ModelDescriptor(string name, ModelKind kind, int[] inputShape, OutputDescriptor[] outputs, TensorShape[] tensors,
                           string[] optionalPrefixes, string[]? labels, PreprocessSettings preprocess,
                           long macsPerImage, long arenaFloatsPerImage, long constantFloats, ConfigField[]? configFields = null,
                           string? repoId = null, string architecture = "")
    {
        ConfigFields = configFields ?? [];
        RepoId = repoId;
        Architecture = architecture;
        Name = name; Kind = kind; InputShape = inputShape; Outputs = outputs; Tensors = tensors; OptionalPrefixes = optionalPrefixes;
        Labels = labels; Preprocess = preprocess; MacsPerImage = macsPerImage; ArenaFloatsPerImage = arenaFloatsPerImage; ConstantFloats = constantFloats;
    }

    /// <summary>
    /// As above, with the tensors as the two UTF-8 <see cref="TensorShape.ParseTables"/> tables. Generated models use this
    /// form: UTF-8 literals (static data) instead of an array initialiser (~500 TensorShape objects as code were ~50 KB of
    /// machine code in the NativeAOT executable, run once).
    /// </summary>
    public ModelDescriptor(string name, ModelKind kind, int[] inputShape, OutputDescriptor[] outputs,
                           ReadOnlySpan<byte> tensorNames, ReadOnlySpan<byte> tensorShapes,
                           string[] optionalPrefixes, string[]? labels, PreprocessSettings preprocess,
                           long macsPerImage, long arenaFloatsPerImage, long constantFloats, ConfigField[]? configFields = null,
                           string? repoId = null, string architecture = "")
        : this(name, kind, inputShape, outputs, TensorShape.ParseTables(tensorNames, tensorShapes), optionalPrefixes, labels, preprocess,
               macsPerImage, arenaFloatsPerImage, constantFloats, configFields, repoId, architecture)
    {
    }

    /// <summary>The model's folder under src/Graphs, e.g. "vit-base-patch32-224-in21k".</summary>
    public string Name { get; }
    public ModelKind Kind { get; }
    /// <summary>[channels, height, width] of pixel_values for one image.</summary>
    public int[] InputShape { get; }
    public int InputFloatsPerImage => InputShape[0] * InputShape[1] * InputShape[2];
    public IReadOnlyList<OutputDescriptor> Outputs { get; }
    public IReadOnlyList<TensorShape> Tensors { get; }
    /// <summary>Prefixes a checkpoint may put before every tensor name (e.g. "vit." for fine-tuned ViT checkpoints).</summary>
    public IReadOnlyList<string> OptionalPrefixes { get; }
    public IReadOnlyList<string>? Labels { get; }
    public PreprocessSettings Preprocess { get; }
    public long MacsPerImage { get; }
    public long ArenaFloatsPerImage { get; }
    public long ConstantFloats { get; }
    /// <summary>The architectural config.json fields, in the order the generator read them.</summary>
    public IReadOnlyList<ConfigField> ConfigFields { get; }
    /// <summary>The hub repository the folder's files came from (its hub.json), e.g. "apple/mobilevit-small", or null.</summary>
    public string? RepoId { get; }
    /// <summary>The HF class the model implements (config.json architectures[0]), e.g. "ViTForImageClassification".</summary>
    public string Architecture { get; }
}

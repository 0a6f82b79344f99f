// The generator's parsed model descriptions.
//
// Every type here is a sealed record holding only equatable data (strings, numbers, EquatableArray):
// incremental generator outputs are cached by value equality, so a model must never hold an
// AdditionalText, a Location or a JSON tree. When adding a member, keep it equatable, or caching breaks.
using AotVit.Generator.Helpers;

namespace AotVit.Generator.Model
{
    /// <summary>The two HF files of one model folder under src/Graphs, as text.</summary>
    internal sealed record ModelInput(string Folder, string ConfigPath, string? ConfigText, string PreprocessorPath, string? PreprocessorText);

    internal enum ResizeMode { Exact, ShortestEdge }

    /// <summary>HF image processor settings (slow, PIL path) from preprocessor_config.json.</summary>
    internal sealed record PreprocessSpec(
        ResizeMode Resize, int ResizeHeight, int ResizeWidth, int ShortestEdge,
        bool CenterCrop, int CropHeight, int CropWidth,
        bool Rescale, double RescaleFactor,
        bool Normalize, EquatableArray<double> Mean, EquatableArray<double> Std,
        bool FlipChannelOrder);

    internal enum ConfigFieldKind { Integer, Number, Bool, String, IntegerArray }

    /// <summary>
    /// One config.json field the model's architecture was built from: its value as the parser resolved it, and HF's
    /// default (the value transformers uses when a config omits the field). Values are invariant text: integers in
    /// decimal, numbers round-trippable ("R"), bools "true"/"false", arrays "[a, b, c]".
    /// </summary>
    internal sealed record ConfigField(string Key, ConfigFieldKind Kind, string Value, string Default);

    /// <summary>What every model has: its folder name, the C# class name and the preprocessing.</summary>
    internal abstract record ModelSpec(string Folder, string ClassName, string ConfigPath, PreprocessSpec Preprocess)
    {
        /// <summary>The architectural config.json fields, in the order they were read (a checkpoint folder's config.json
        /// is compared with them at load time).</summary>
        public EquatableArray<ConfigField> Architecture { get; init; } = EquatableArray<ConfigField>.Empty;
    }

    /// <summary>HF ViTConfig, as a ViTModel with pooler (architectures: ViTModel).</summary>
    internal sealed record ViTSpec(
        string Folder, string ClassName, string ConfigPath, PreprocessSpec Preprocess,
        int HiddenSize, int Layers, int Heads, int IntermediateSize,
        int ImageSize, int PatchSize, int Channels, double LayerNormEps, bool QkvBias, bool Pooler)
        : ModelSpec(Folder, ClassName, ConfigPath, Preprocess)
    {
        public int PatchesPerSide => ImageSize / PatchSize;
        public int Tokens => PatchesPerSide * PatchesPerSide + 1;
        public int HeadDim => HiddenSize / Heads;
    }

    /// <summary>HF MobileViTConfig, as MobileViTForImageClassification.</summary>
    internal sealed record MobileViTSpec(
        string Folder, string ClassName, string ConfigPath, PreprocessSpec Preprocess,
        int Channels, int ImageSize, int PatchSize, EquatableArray<int> HiddenSizes, EquatableArray<int> NeckHiddenSizes,
        int Heads, double MlpRatio, double ExpandRatio, int ConvKernelSize, double LayerNormEps, bool QkvBias,
        EquatableArray<string> Labels)
        : ModelSpec(Folder, ClassName, ConfigPath, Preprocess);

    /// <summary>A parse result and the diagnostics found on the way; both cacheable.</summary>
    internal sealed record Result<T>(T? Value, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;
}

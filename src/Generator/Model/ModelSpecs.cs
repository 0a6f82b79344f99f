// The generator's parsed model descriptions.
//
// Every type here is a sealed record holding only equatable data (strings, numbers, EquatableArray):
// incremental generator outputs are cached by value equality, so a model must never hold an
// AdditionalText, a Location or a JSON tree. When adding a member, keep it equatable, or caching breaks.
using AotVit.Generator.Helpers;

namespace AotVit.Generator.Model
{
    /// <summary>The files of one model folder under src/Graphs, as text: the two HF files, and the optional hub.json that
    /// names the hub repository the folder was downloaded from.</summary>
    internal sealed record ModelInput(string Folder, string ConfigPath, string? ConfigText, string PreprocessorPath, string? PreprocessorText,
                                      string? HubPath = null, string? HubText = null);

    internal enum ResizeMode { Exact, ShortestEdge }

    /// <summary>HF image processor settings (slow, PIL path) from preprocessor_config.json.</summary>
    internal sealed record PreprocessSpec(
        ResizeMode Resize, int ResizeHeight, int ResizeWidth, int ShortestEdge,
        bool CenterCrop, int CropHeight, int CropWidth,
        bool Rescale, double RescaleFactor,
        bool Normalize, EquatableArray<double> Mean, EquatableArray<double> Std,
        bool FlipChannelOrder, int Resample = 2);

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
        /// <summary>The HF class the folder's config names (architectures[0]), e.g. "ViTForImageClassification".</summary>
        public string Architecture { get; init; } = "";

        /// <summary>The hub repository id from hub.json ("google/vit-base-patch16-224"), or null.</summary>
        public string? RepoId { get; init; }

        /// <summary>FNV-1a 64 (hex) of the folder's JSON files as read; see ConfigParser.SourceHash.</summary>
        public string SourceHash { get; init; } = "";

        /// <summary>True for image classifiers (logits over Labels), false for feature extractors.</summary>
        public abstract bool IsClassifier { get; }

        /// <summary>The architectural config.json fields, in the order they were read (a checkpoint folder's config.json
        /// is compared with them at load time).</summary>
        public EquatableArray<ConfigField> ConfigFields { get; init; } = EquatableArray<ConfigField>.Empty;
    }

    /// <summary>What sits on top of a ViT/DeiT encoder.</summary>
    internal enum ViTHead
    {
        /// <summary>ViTModel / DeiTModel: last_hidden_state and pooler_output = tanh(dense(token 0)).</summary>
        Pooler,
        /// <summary>ViTForImageClassification / DeiTForImageClassification: logits = classifier(token 0).</summary>
        Classifier,
        /// <summary>DeiTForImageClassificationWithTeacher: logits = (cls_classifier(token 0) + distillation_classifier(token 1)) / 2.</summary>
        DistilledClassifier,
    }

    /// <summary>HF ViTConfig / DeiTConfig: the encoder, its tokens (CLS, and DeiT's distillation token), and its head.</summary>
    internal sealed record ViTSpec(
        string Folder, string ClassName, string ConfigPath, PreprocessSpec Preprocess,
        int HiddenSize, int Layers, int Heads, int IntermediateSize,
        int ImageSize, int PatchSize, int Channels, double LayerNormEps, bool QkvBias,
        ViTHead Head, bool DistillationToken, string Prefix, EquatableArray<string> Labels)
        : ModelSpec(Folder, ClassName, ConfigPath, Preprocess)
    {
        public int PatchesPerSide => ImageSize / PatchSize;
        /// <summary>Tokens before the patches: CLS, and the distillation token for DeiT.</summary>
        public int PrefixTokens => DistillationToken ? 2 : 1;
        public int Tokens => PatchesPerSide * PatchesPerSide + PrefixTokens;
        public int HeadDim => HiddenSize / Heads;
        public override bool IsClassifier => Head != ViTHead.Pooler;
    }

    /// <summary>HF MobileViTConfig, as MobileViTForImageClassification.</summary>
    internal sealed record MobileViTSpec(
        string Folder, string ClassName, string ConfigPath, PreprocessSpec Preprocess,
        int Channels, int ImageSize, int PatchSize, EquatableArray<int> HiddenSizes, EquatableArray<int> NeckHiddenSizes,
        int Heads, double MlpRatio, double ExpandRatio, int ConvKernelSize, double LayerNormEps, bool QkvBias,
        EquatableArray<string> Labels)
        : ModelSpec(Folder, ClassName, ConfigPath, Preprocess)
    {
        public override bool IsClassifier => true;
    }

    /// <summary>A parse result and the diagnostics found on the way; both cacheable.</summary>
    internal sealed record Result<T>(T? Value, EquatableArray<DiagnosticInfo> Diagnostics) where T : class;
}

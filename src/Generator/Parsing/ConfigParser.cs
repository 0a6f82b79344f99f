// Parse stage: HF config.json + preprocessor_config.json -> ModelSpec.
// Every problem becomes a DiagnosticInfo naming the file, the field and where it is; the parser never
// throws to its caller. Defaults are HF's own (ViTConfig / MobileViTConfig / the image processors'
// class defaults), so a config that omits a field means what it means to transformers.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using AotVit.Generator.Helpers;
using AotVit.Generator.Json;
using AotVit.Generator.Model;

namespace AotVit.Generator.Parsing
{
    internal sealed class ConfigParser
    {
        // Bounds that keep generated code and build time sane (every layer is an emitted method): far above any
        // HF ViT / MobileViT checkpoint (ViT-H has 32 layers, width 1280), far below what would hang a build.
        internal const int MaxLayers = 256, MaxWidth = 16384, MaxImageSize = 4096, MaxTokens = 16385;

        private readonly List<DiagnosticInfo> _diagnostics = new List<DiagnosticInfo>();
        private readonly List<ConfigField> _architecture = new List<ConfigField>();
        private JsonValue? _configRoot;   // fields read from this object are architectural and recorded
        private string _path = "";

        public static Result<ModelSpec> Parse(ModelInput input)
        {
            var p = new ConfigParser();
            ModelSpec? spec = null;
            try
            {
                spec = p.ParseModel(input);
                if (spec is not null) spec = spec with { SourceHash = SourceHash(input) };
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                p.Report(DiagnosticDescriptors.InternalError, input.ConfigPath, 1, 1, input.Folder, e.GetType().Name + ": " + e.Message);
            }
            return new Result<ModelSpec>(p._diagnostics.Count(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error) == 0 ? spec : null,
                                         p._diagnostics.ToEquatableArray());
        }

        private void Report(Microsoft.CodeAnalysis.DiagnosticDescriptor descriptor, string path, int line, int column, params string[] args) =>
            _diagnostics.Add(new DiagnosticInfo(descriptor, path, line, column, args.ToEquatableArray()));

        /// <summary>FNV-1a 64, in hex, of the folder's JSON files (config, preprocessor config, hub.json) in a canonical
        /// form: members sorted by key, no insignificant whitespace, numbers as written. The generated file names it, so a
        /// stale copy is recognisable, while reformatting or reordering a file leaves it (and the cached source) unchanged.</summary>
        internal static string SourceHash(ModelInput input)
        {
            ulong h = 0xcbf29ce484222325UL;
            foreach (var text in new[] { input.ConfigText, input.PreprocessorText, input.HubText })
            {
                var sb = new System.Text.StringBuilder();
                if (text is not null)
                {
                    try { Canonical(MiniJson.Parse(text), sb); }
                    catch (JsonParseException) { sb.Clear().Append(text); }
                }
                sb.Append('\0');
                foreach (byte b in System.Text.Encoding.UTF8.GetBytes(sb.ToString())) { h ^= b; h *= 0x100000001b3UL; }
            }
            return h.ToString("x16", CultureInfo.InvariantCulture);
        }

        private static void Canonical(JsonValue v, System.Text.StringBuilder sb)
        {
            switch (v.Kind)
            {
                case JsonKind.Object:
                    sb.Append('{');
                    bool first = true;
                    foreach (var m in v.Members.OrderBy(m => m.Key, StringComparer.Ordinal))
                    {
                        if (!first) sb.Append(',');
                        first = false;
                        sb.Append(Emit.ModelEmitter.Quote(m.Key)).Append(':');
                        Canonical(m.Value, sb);
                    }
                    sb.Append('}');
                    break;
                case JsonKind.Array:
                    sb.Append('[');
                    for (int i = 0; i < v.Items.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        Canonical(v.Items[i], sb);
                    }
                    sb.Append(']');
                    break;
                case JsonKind.String: sb.Append(Emit.ModelEmitter.Quote(v.Text ?? "")); break;
                case JsonKind.Number: sb.Append(v.Text); break;
                case JsonKind.Bool: sb.Append(v.Bool ? "true" : "false"); break;
                default: sb.Append("null"); break;
            }
        }

        private bool HasErrors => _diagnostics.Any(d => d.Descriptor.DefaultSeverity == Microsoft.CodeAnalysis.DiagnosticSeverity.Error);

        private JsonValue? ParseFile(string path, string? text, string folder)
        {
            _path = path;
            if (text is null)
            {
                Report(DiagnosticDescriptors.MissingCompanion, path, 1, 1, folder, $"'{System.IO.Path.GetFileName(path)}' is missing or unreadable; each model folder needs config.json and preprocessor_config.json");
                return null;
            }
            try
            {
                var root = MiniJson.Parse(text);
                if (root.Kind != JsonKind.Object)
                {
                    Report(DiagnosticDescriptors.WrongType, path, root.Line, root.Column, path, "(root)", "an object", root.KindName);
                    return null;
                }
                return root;
            }
            catch (JsonParseException e)
            {
                Report(DiagnosticDescriptors.InvalidJson, path, e.Line, e.Column, path, $"{e.Message} (line {e.Line}, column {e.Column})");
                return null;
            }
        }

        private ModelSpec? ParseModel(ModelInput input)
        {
            var config = ParseFile(input.ConfigPath, input.ConfigText, input.Folder);
            var pre = ParseFile(input.PreprocessorPath, input.PreprocessorText, input.Folder);
            if (config is null || pre is null) return null;

            _path = input.ConfigPath;
            _configRoot = config;
            string modelType = String(config, "model_type", null) ?? "";
            string className = ToClassName(input.Folder);
            string architecture = FirstArchitecture(config);
            PreprocessSpec? preprocess;

            switch (modelType)
            {
                case "vit":
                case "deit":
                {
                    bool deit = modelType == "deit";
                    // HF class → head, the prefix of the backbone's tensor names, and DeiT's distillation token.
                    (ViTHead Head, string Prefix)? shape = (deit, architecture) switch
                    {
                        (false, "ViTModel") => (ViTHead.Pooler, ""),
                        (false, "ViTForImageClassification") => (ViTHead.Classifier, "vit."),
                        (true, "DeiTModel") => (ViTHead.Pooler, ""),
                        (true, "DeiTForImageClassification") => (ViTHead.Classifier, "deit."),
                        (true, "DeiTForImageClassificationWithTeacher") => (ViTHead.DistilledClassifier, "deit."),
                        _ => null,
                    };
                    if (shape is null)
                    {
                        string supported = deit ? "DeiTModel, DeiTForImageClassification, DeiTForImageClassificationWithTeacher" : "ViTModel (with pooler), ViTForImageClassification";
                        Report(DiagnosticDescriptors.UnsupportedModel, input.ConfigPath, config.Get("architectures")?.Line ?? 1, config.Get("architectures")?.Column ?? 1,
                            input.ConfigPath, $"architecture '{architecture}' is not supported for model_type '{modelType}' (supported: {supported})");
                        return null;
                    }
                    var vit = ParseViT(config, input, className, shape.Value.Head, deit, shape.Value.Prefix);
                    _configRoot = null;
                    _path = input.PreprocessorPath;
                    // ViTImageProcessor: 224x224 BILINEAR, mean = std = 0.5. DeiTImageProcessor: 256x256 BICUBIC, then a 224 crop.
                    preprocess = deit
                        ? ParsePreprocess(pre, defaultShortestEdge: false, defaultSize: 256, defaultNormalize: true, defaultCrop: true, defaultFlip: false, defaultResample: 3, defaultCropSize: 224)
                        : ParsePreprocess(pre, defaultShortestEdge: false, defaultSize: 224, defaultNormalize: true, defaultCrop: false, defaultFlip: false, defaultResample: 2, defaultCropSize: 224);
                    if (vit is null || preprocess is null || HasErrors) return null;
                    return vit with { Preprocess = preprocess, Architecture = architecture, RepoId = ParseHub(input), ConfigFields = _architecture.ToEquatableArray() };
                }
                case "mobilevit":
                {
                    if (architecture != "MobileViTForImageClassification")
                    {
                        Report(DiagnosticDescriptors.UnsupportedModel, input.ConfigPath, config.Get("architectures")?.Line ?? 1, config.Get("architectures")?.Column ?? 1,
                            input.ConfigPath, $"architecture '{architecture}' is not supported for model_type 'mobilevit' (supported: MobileViTForImageClassification)");
                        return null;
                    }
                    var mv = ParseMobileViT(config, input, className);
                    _configRoot = null;
                    _path = input.PreprocessorPath;
                    preprocess = ParsePreprocess(pre, defaultShortestEdge: true, defaultSize: 224, defaultNormalize: false, defaultCrop: true, defaultFlip: true, defaultResample: 2, defaultCropSize: 256);
                    if (mv is null || preprocess is null || HasErrors) return null;
                    return mv with { Preprocess = preprocess, Architecture = architecture, RepoId = ParseHub(input), ConfigFields = _architecture.ToEquatableArray() };
                }
                default:
                {
                    var field = config.Get("model_type");
                    Report(DiagnosticDescriptors.UnsupportedModel, input.ConfigPath, field?.Line ?? 1, field?.Column ?? 1, input.ConfigPath,
                        field is null ? "field 'model_type' is missing; supported model types are 'vit', 'deit' and 'mobilevit'"
                                      : $"model_type '{modelType}' is not supported; supported model types are 'vit', 'deit' and 'mobilevit'");
                    return null;
                }
            }
        }

        /// <summary>
        /// hub.json, optional: {"repo_id": "org/name"} names the hub repository the folder's files came from (the catalog
        /// opens the model by it too). Other members are reported as ignored (AOTVIT007).
        /// </summary>
        private string? ParseHub(ModelInput input)
        {
            if (input.HubPath is null) return null;
            var hub = ParseFile(input.HubPath, input.HubText, input.Folder);
            if (hub is null) return null;
            string? repoId = String(hub, "repo_id", null);
            if (repoId is null)
            {
                Report(DiagnosticDescriptors.MissingField, input.HubPath, hub.Line, hub.Column, input.HubPath, "repo_id");
                return null;
            }
            int slash = repoId.IndexOf('/');
            if (slash <= 0 || slash != repoId.LastIndexOf('/') || slash == repoId.Length - 1 || repoId.Length > 96 * 2
                || repoId.Any(ch => !(char.IsLetterOrDigit(ch) && ch < 128) && ch != '-' && ch != '_' && ch != '.' && ch != '/'))
            {
                ReportValue(hub, "repo_id", $"is '{repoId}'; a hub repo id is 'org/name' (letters, digits, '-', '_', '.')");
                return null;
            }
            foreach (var member in hub.Members)
            {
                if (member.Key != "repo_id")
                    Report(DiagnosticDescriptors.IgnoredSetting, input.HubPath, member.Value.Line, member.Value.Column, input.HubPath, member.Key, "is not used by aot-vit (hub.json holds only repo_id)");
            }
            return repoId;
        }

        private string FirstArchitecture(JsonValue config)
        {
            var arch = config.Get("architectures");
            if (arch is null) return "";
            if (arch.Kind != JsonKind.Array || arch.Items.Count == 0 || arch.Items[0].Kind != JsonKind.String)
            {
                Report(DiagnosticDescriptors.WrongType, _path, arch.Line, arch.Column, _path, "architectures", "a non-empty array of strings", arch.KindName);
                return "";
            }
            return arch.Items[0].Text!;
        }

        private static readonly PreprocessSpec Placeholder = new PreprocessSpec(ResizeMode.Exact, 0, 0, 0, false, 0, 0, false, 0, false,
            EquatableArray<double>.Empty, EquatableArray<double>.Empty, false);

        private ViTSpec? ParseViT(JsonValue c, ModelInput input, string className, ViTHead head, bool deit, string prefix)
        {
            int hidden = Int(c, "hidden_size", 768, min: 1, max: MaxWidth);
            int layers = Int(c, "num_hidden_layers", 12, min: 1, max: MaxLayers);
            int heads = Int(c, "num_attention_heads", 12, min: 1, max: MaxWidth);
            int intermediate = Int(c, "intermediate_size", 3072, min: 1, max: 4 * MaxWidth);
            int image = Int(c, "image_size", 224, min: 1, max: MaxImageSize);
            int patch = Int(c, "patch_size", 16, min: 1, max: MaxImageSize);
            int channels = Int(c, "num_channels", 3, min: 1);
            double eps = Epsilon(c, "layer_norm_eps", 1e-12);
            bool qkvBias = Bool(c, "qkv_bias", true);
            string act = String(c, "hidden_act", "gelu")!;
            if (act != "gelu")
                ReportValue(c, "hidden_act", $"is '{act}'; only \"gelu\" (exact erf GELU, as HF's ACT2FN[\"gelu\"]) is supported");
            if (hidden % heads != 0)
                ReportValue(c, "num_attention_heads", $"({heads}) must divide hidden_size ({hidden})");
            if (image % patch != 0)
                ReportValue(c, "patch_size", $"({patch}) must divide image_size ({image})");
            else if ((long)(image / patch) * (image / patch) + 1 > MaxTokens)
                ReportValue(c, "patch_size", $"({patch}) gives {(long)(image / patch) * (image / patch) + 1} tokens at image_size {image}; at most {MaxTokens} are supported");
            if (channels != 3)
                ReportValue(c, "num_channels", $"is {channels}; only 3-channel (RGB) models are supported");
            var labels = head == ViTHead.Pooler ? EquatableArray<string>.Empty : Labels(c);
            if (HasErrors) return null;
            return new ViTSpec(input.Folder, className, input.ConfigPath, Placeholder, hidden, layers, heads, intermediate,
                               image, patch, channels, eps, qkvBias, head, DistillationToken: deit, prefix, labels);
        }

        private MobileViTSpec? ParseMobileViT(JsonValue c, ModelInput input, string className)
        {
            int channels = Int(c, "num_channels", 3, min: 1);
            int image = Int(c, "image_size", 256, min: 32, max: MaxImageSize);
            int patch = Int(c, "patch_size", 2, min: 1);
            var hidden = IntArray(c, "hidden_sizes", new[] { 144, 192, 240 }, 3);
            var neck = IntArray(c, "neck_hidden_sizes", new[] { 16, 32, 64, 96, 128, 160, 640 }, 7);
            int heads = Int(c, "num_attention_heads", 4, min: 1, max: MaxWidth);
            double mlpRatio = Double(c, "mlp_ratio", 2.0, positive: true);
            double expandRatio = Double(c, "expand_ratio", 4.0, positive: true);
            int kernel = Int(c, "conv_kernel_size", 3, min: 1);
            int outputStride = Int(c, "output_stride", 32, min: 1);
            double eps = Epsilon(c, "layer_norm_eps", 1e-5);
            bool qkvBias = Bool(c, "qkv_bias", true);
            string act = String(c, "hidden_act", "silu")!;
            if (act != "silu" && act != "swish")
                ReportValue(c, "hidden_act", $"is '{act}'; only \"silu\" is supported");
            if (outputStride != 32)
                ReportValue(c, "output_stride", $"is {outputStride}; only 32 (the classifier; no dilation) is supported");
            if (patch != 2)
                ReportValue(c, "patch_size", $"is {patch}; only 2x2 patches are supported");
            if (kernel != 3)
                ReportValue(c, "conv_kernel_size", $"is {kernel}; only 3 is supported");
            if (channels != 3)
                ReportValue(c, "num_channels", $"is {channels}; only 3-channel images are supported");
            if (image % 64 != 0)
                ReportValue(c, "image_size", $"is {image}; it must be a multiple of 64 so that every MobileViT block sees even feature maps (HF would interpolate otherwise)");
            foreach (int h in hidden ?? Array.Empty<int>())
                if (h % heads != 0) { ReportValue(c, "hidden_sizes", $"entry {h} is not a multiple of num_attention_heads ({heads})"); break; }
            var labels = Labels(c);
            if (HasErrors || hidden is null || neck is null) return null;
            return new MobileViTSpec(input.Folder, className, input.ConfigPath, Placeholder, channels, image, patch,
                hidden.ToEquatableArray(), neck.ToEquatableArray(), heads, mlpRatio, expandRatio, kernel, eps, qkvBias, labels);
        }

        private EquatableArray<string> Labels(JsonValue c)
        {
            var field = c.Get("id2label");
            if (field is null)
            {
                Report(DiagnosticDescriptors.MissingField, _path, c.Line, c.Column, _path, "id2label");
                return EquatableArray<string>.Empty;
            }
            if (field.Kind != JsonKind.Object)
            {
                Report(DiagnosticDescriptors.WrongType, _path, field.Line, field.Column, _path, "id2label", "an object", field.KindName);
                return EquatableArray<string>.Empty;
            }
            var names = new string?[field.Members.Count];
            foreach (var m in field.Members)
            {
                if (!int.TryParse(m.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || id < 0 || id >= names.Length)
                {
                    ReportValue(field, $"id2label.{m.Key}", $"is not a class index in 0..{names.Length - 1}", m.Value);
                    return EquatableArray<string>.Empty;
                }
                if (m.Value.Kind != JsonKind.String)
                {
                    Report(DiagnosticDescriptors.WrongType, _path, m.Value.Line, m.Value.Column, _path, $"id2label.{m.Key}", "a string", m.Value.KindName);
                    return EquatableArray<string>.Empty;
                }
                if (m.Value.Text!.IndexOf('\n') >= 0)
                {
                    ReportValue(field, $"id2label.{m.Key}", "contains a line break", m.Value);
                    return EquatableArray<string>.Empty;
                }
                if (names[id] is not null)
                {
                    ReportValue(field, $"id2label.{m.Key}", $"repeats class index {id}", m.Value);
                    return EquatableArray<string>.Empty;
                }
                names[id] = m.Value.Text;
            }
            if (names.Length == 0) ReportValue(c, "id2label", "is empty; a classifier needs at least one label");
            return names.Select(n => n!).ToEquatableArray();
        }

        private PreprocessSpec? ParsePreprocess(JsonValue p, bool defaultShortestEdge, int defaultSize, bool defaultNormalize, bool defaultCrop, bool defaultFlip,
                                                int defaultResample, int defaultCropSize)
        {
            if (!Bool(p, "do_resize", true))
                ReportValue(p, "do_resize", "is false; a fixed-shape model needs its processor to resize");
            int resample = Int(p, "resample", defaultResample, min: 0);
            if (resample != 2 && resample != 3)
                ReportValue(p, "resample", $"is {resample}; only 2 (PIL BILINEAR) and 3 (PIL BICUBIC) are supported");

            var mode = defaultShortestEdge ? ResizeMode.ShortestEdge : ResizeMode.Exact;
            int height = defaultSize, width = defaultSize, shortest = defaultSize;
            var size = p.Get("size");
            if (size is not null)
            {
                if (size.Kind == JsonKind.Number)
                {
                    // Legacy integer size: ViT processors read it as {height: n, width: n}; MobileViT (default_to_square=False) as shortest_edge.
                    int n = Int(p, "size", defaultSize, min: 1);
                    height = width = shortest = n;
                }
                else if (size.Kind == JsonKind.Object)
                {
                    if (size.Get("shortest_edge") is not null) { mode = ResizeMode.ShortestEdge; shortest = Int(size, "shortest_edge", 0, min: 1, prefix: "size."); }
                    else if (size.Get("height") is not null || size.Get("width") is not null)
                    {
                        mode = ResizeMode.Exact;
                        height = Int(size, "height", 0, min: 1, prefix: "size.", required: true);
                        width = Int(size, "width", 0, min: 1, prefix: "size.", required: true);
                    }
                    else ReportValue(p, "size", "must have 'shortest_edge' or 'height' and 'width'", size);
                }
                else Report(DiagnosticDescriptors.WrongType, _path, size.Line, size.Column, _path, "size", "a number or an object", size.KindName);
            }

            bool crop = Bool(p, "do_center_crop", defaultCrop);
            int cropH = defaultCropSize, cropW = defaultCropSize;
            var cropSize = p.Get("crop_size");
            if (cropSize is not null)
            {
                if (cropSize.Kind == JsonKind.Number) cropH = cropW = Int(p, "crop_size", defaultCropSize, min: 1);
                else if (cropSize.Kind == JsonKind.Object)
                {
                    cropH = Int(cropSize, "height", 0, min: 1, prefix: "crop_size.", required: true);
                    cropW = Int(cropSize, "width", 0, min: 1, prefix: "crop_size.", required: true);
                }
                else Report(DiagnosticDescriptors.WrongType, _path, cropSize.Line, cropSize.Column, _path, "crop_size", "a number or an object", cropSize.KindName);
            }

            bool rescale = Bool(p, "do_rescale", true);
            double factor = Double(p, "rescale_factor", 1.0 / 255.0, positive: true);
            bool normalize = Bool(p, "do_normalize", defaultNormalize);
            var mean = DoubleArray(p, "image_mean", new[] { 0.5, 0.5, 0.5 });
            var std = DoubleArray(p, "image_std", new[] { 0.5, 0.5, 0.5 });
            if (std is not null && std.Any(s => s == 0)) ReportValue(p, "image_std", "must not contain 0");
            bool flip = Bool(p, "do_flip_channel_order", defaultFlip);
            if (HasErrors || mean is null || std is null) return null;
            return new PreprocessSpec(mode, height, width, shortest, crop, cropH, cropW, rescale, factor,
                                      normalize, mean.ToEquatableArray(), std.ToEquatableArray(), flip, resample);
        }

        // ---- typed field readers: each reports a diagnostic with file, field and position, then returns the default ----

        private void ReportValue(JsonValue obj, string field, string message, JsonValue? at = null)
        {
            var v = at ?? obj.Get(field) ?? obj;
            Report(DiagnosticDescriptors.InvalidValue, _path, v.Line, v.Column, _path, field, message);
        }

        private void Record(JsonValue obj, string key, ConfigFieldKind kind, string value, string fallback)
        {
            if (ReferenceEquals(obj, _configRoot)) _architecture.Add(new ConfigField(key, kind, value, fallback));
        }

        private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

        private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

        private static string Text(bool value) => value ? "true" : "false";

        private static string Text(int[] values) => "[" + string.Join(", ", values.Select(Text)) + "]";

        private int Int(JsonValue obj, string key, int fallback, int min, string prefix = "", bool required = false, int max = 1_000_000)
        {
            int value = ReadInt(obj, key, fallback, min, prefix, required, max);
            Record(obj, key, ConfigFieldKind.Integer, Text(value), Text(fallback));
            return value;
        }

        private int ReadInt(JsonValue obj, string key, int fallback, int min, string prefix, bool required, int max)
        {
            var v = obj.Get(key);
            if (v is null)
            {
                if (required) Report(DiagnosticDescriptors.MissingField, _path, obj.Line, obj.Column, _path, prefix + key);
                return fallback;
            }
            if (v.Kind != JsonKind.Number || v.Number != Math.Floor(v.Number) || Math.Abs(v.Number) > int.MaxValue)
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, prefix + key, "an integer", v.Kind == JsonKind.Number ? $"{v.Text}" : v.KindName);
                return fallback;
            }
            if (v.Number < min || v.Number > max)
            {
                Report(DiagnosticDescriptors.InvalidValue, _path, v.Line, v.Column, _path, prefix + key, $"is {v.Text}; it must be between {min} and {max}");
                return fallback;
            }
            return (int)v.Number;
        }

        private double Double(JsonValue obj, string key, double fallback, bool positive)
        {
            double value = ReadDouble(obj, key, fallback, positive);
            Record(obj, key, ConfigFieldKind.Number, Text(value), Text(fallback));
            return value;
        }

        private double ReadDouble(JsonValue obj, string key, double fallback, bool positive)
        {
            var v = obj.Get(key);
            if (v is null) return fallback;
            if (v.Kind != JsonKind.Number)
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, key, "a number", v.KindName);
                return fallback;
            }
            if (positive && !(v.Number > 0))
            {
                Report(DiagnosticDescriptors.InvalidValue, _path, v.Line, v.Column, _path, key, $"is {v.Text}; it must be positive");
                return fallback;
            }
            return v.Number;
        }

        /// <summary>A LayerNorm epsilon: positive, at most 1, and not zero once rounded to float32 (the kernels' type).</summary>
        private double Epsilon(JsonValue obj, string key, double fallback)
        {
            double eps = ReadDouble(obj, key, fallback, positive: true);
            if (eps > 1 || (float)eps == 0f)
            {
                ReportValue(obj, key, $"is {obj.Get(key)?.Text}; it must be in (0, 1] and representable as a float32");
                eps = fallback;
            }
            Record(obj, key, ConfigFieldKind.Number, Text(eps), Text(fallback));
            return eps;
        }

        private bool Bool(JsonValue obj, string key, bool fallback)
        {
            bool value = ReadBool(obj, key, fallback);
            Record(obj, key, ConfigFieldKind.Bool, Text(value), Text(fallback));
            return value;
        }

        private bool ReadBool(JsonValue obj, string key, bool fallback)
        {
            var v = obj.Get(key);
            if (v is null || v.Kind == JsonKind.Null) return fallback;
            if (v.Kind != JsonKind.Bool)
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, key, "true or false", v.KindName);
                return fallback;
            }
            return v.Bool;
        }

        private string? String(JsonValue obj, string key, string? fallback)
        {
            string? value = ReadString(obj, key, fallback);
            if (value is not null) Record(obj, key, ConfigFieldKind.String, value, fallback ?? value);
            return value;
        }

        private string? ReadString(JsonValue obj, string key, string? fallback)
        {
            var v = obj.Get(key);
            if (v is null) return fallback;
            if (v.Kind != JsonKind.String)
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, key, "a string", v.KindName);
                return fallback;
            }
            return v.Text;
        }

        private int[]? IntArray(JsonValue obj, string key, int[] fallback, int length)
        {
            int[]? value = ReadIntArray(obj, key, fallback, length);
            if (value is not null) Record(obj, key, ConfigFieldKind.IntegerArray, Text(value), Text(fallback));
            return value;
        }

        private int[]? ReadIntArray(JsonValue obj, string key, int[] fallback, int length)
        {
            var v = obj.Get(key);
            if (v is null) return fallback;
            if (v.Kind != JsonKind.Array || v.Items.Any(i => i.Kind != JsonKind.Number || i.Number != Math.Floor(i.Number) || i.Number < 1 || i.Number > 100_000))
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, key, "an array of positive integers", v.KindName);
                return null;
            }
            if (v.Items.Count != length)
            {
                Report(DiagnosticDescriptors.InvalidValue, _path, v.Line, v.Column, _path, key, $"has {v.Items.Count} entries; it must have {length}");
                return null;
            }
            return v.Items.Select(i => (int)i.Number).ToArray();
        }

        private double[]? DoubleArray(JsonValue obj, string key, double[] fallback)
        {
            var v = obj.Get(key);
            if (v is null) return fallback;
            if (v.Kind == JsonKind.Number) return new[] { v.Number, v.Number, v.Number };
            if (v.Kind != JsonKind.Array || v.Items.Count != 3 || v.Items.Any(i => i.Kind != JsonKind.Number))
            {
                Report(DiagnosticDescriptors.WrongType, _path, v.Line, v.Column, _path, key, "an array of 3 numbers", v.KindName);
                return null;
            }
            return v.Items.Select(i => i.Number).ToArray();
        }

        /// <summary>"vit-base-patch32-224-in21k" -> "VitBasePatch32224In21k".</summary>
        internal static string ToClassName(string folder)
        {
            var parts = folder.Split(new[] { '-', '_', '.', ' ' }, StringSplitOptions.RemoveEmptyEntries);
            var name = string.Concat(parts.Select(p => char.ToUpperInvariant(p[0]) + p.Substring(1)));
            var clean = new string(name.Where(ch => char.IsLetterOrDigit(ch)).ToArray());
            if (clean.Length == 0 || char.IsDigit(clean[0])) clean = "Model" + clean;
            return clean;
        }
    }
}

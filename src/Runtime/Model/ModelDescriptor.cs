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
public sealed record TensorShape(string Name, long[] Shape);

/// <summary>HF image-processor settings (slow, PIL path), from preprocessor_config.json.</summary>
public sealed record PreprocessSettings(
    ResizeKind Resize, int ResizeHeight, int ResizeWidth, int ShortestEdge,
    bool CenterCrop, int CropHeight, int CropWidth,
    bool Rescale, double RescaleFactor,
    bool Normalize, double[] Mean, double[] Std,
    bool FlipChannelOrder);

public sealed class ModelDescriptor
{
    public ModelDescriptor(string name, ModelKind kind, int[] inputShape, OutputDescriptor[] outputs, TensorShape[] tensors,
                           string[] optionalPrefixes, string[]? labels, PreprocessSettings preprocess,
                           long macsPerImage, long arenaFloatsPerImage, long constantFloats)
    {
        Name = name; Kind = kind; InputShape = inputShape; Outputs = outputs; Tensors = tensors; OptionalPrefixes = optionalPrefixes;
        Labels = labels; Preprocess = preprocess; MacsPerImage = macsPerImage; ArenaFloatsPerImage = arenaFloatsPerImage; ConstantFloats = constantFloats;
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
}

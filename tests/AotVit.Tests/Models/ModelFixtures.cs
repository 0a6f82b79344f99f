namespace AotVit.Tests.Models;

/// <summary>Synthetic (seed 0) models shared by a test class: building the 88M-parameter ViT takes seconds.</summary>
public sealed class ViTFixture : IDisposable
{
    public FeatureExtractor Model { get; } = FeatureExtractor.CreateSynthetic("vit-base-patch32-224-in21k", new ModelOptions { Threads = 2 });
    public void Dispose() => Model.Dispose();
}

public sealed class MobileViTFixture : IDisposable
{
    public ImageClassifier Model { get; } = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 2 });
    public void Dispose() => Model.Dispose();
}

internal static class Golden
{
    public static string File(string name) => TestPaths.Data("golden", name);

    public static float MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"lengths differ: {a.Length} vs {b.Length}");
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            float d = MathF.Abs(a[i] - b[i]);
            if (!(d <= max)) max = float.IsNaN(d) ? float.PositiveInfinity : d;
        }
        return max;
    }
}

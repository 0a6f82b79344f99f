// The registry of fuzz targets, by CLI name.
namespace AotVit.Fuzzing;

public static class FuzzTargets
{
    public static IReadOnlyList<string> Names { get; } = ["safetensors", "torch-bin", "image", "jpeg", "preprocess", "generator-json", "json", "api", "native-abi", "filenames"];

    /// <param name="longRun">Long runs use heavier inputs (bigger bombs, more model loads).</param>
    public static FuzzTarget Create(string name, string repoRoot, bool longRun = false) => name switch
    {
        "image" => new ImageTarget([Path.Combine(repoRoot, "tests/AotVit.Tests/data/images"), Path.Combine(repoRoot, "tests/AotVit.Tests/data/imaging/fuzz"), Path.Combine(repoRoot, "tests/AotVit.Tests/data/imaging/formats")],
                                   bombMegabytes: longRun ? 256 : 32),
        "jpeg" => new JpegTarget([Path.Combine(repoRoot, "tests/AotVit.Tests/data/jpeg/corpus"), Path.Combine(repoRoot, "tests/AotVit.Tests/data/images"),
                                  Path.Combine(repoRoot, "tests/AotVit.Tests/data/imaging/fuzz"), Path.Combine(repoRoot, "tests/AotVit.Tests/data/imaging/formats")],
                                 checkDeterminism: Environment.GetEnvironmentVariable("FUZZ_JPEG_SKIP_DETERMINISM") != "1"),
        "safetensors" => new SafeTensorsTarget(repoRoot, loadEvery: longRun ? 20 : 50),
        "torch-bin" => new TorchBinTarget(Path.Combine(repoRoot, "tests/AotVit.Tests/data/torch"), repoRoot, loadEvery: longRun ? 20 : 50),
        "preprocess" => new PreprocessTarget(),
        "generator-json" => new GeneratorJsonTarget(repoRoot, compileEvery: longRun ? 10 : 25),
        "json" => new JsonTarget(repoRoot),
        "api" => new ApiTarget(),
        "filenames" => new FileNameTarget(),
        "native-abi" => new NativeAbiTarget(repoRoot, openEvery: longRun ? 20 : 40, sharedViT: longRun, openViTEvery: longRun ? 200 : 0),
        _ => throw new ArgumentException($"unknown fuzz target '{name}'; available: {string.Join(", ", Names)}", nameof(name)),
    };

    public static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "aot-vit.sln"))) return dir.FullName;
        return null;
    }
}

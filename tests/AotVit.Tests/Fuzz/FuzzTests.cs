// Short, bounded runs of every tools/Fuzz target (same code, compiled from Fuzz/Engine): zero crashes, zero hangs.
// Each run is a fixed number of inputs from a fixed seed, so a failure replays with
// `dotnet run -c Release --project tools/Fuzz -- TARGET --seed 7 --index I`... (CI counts: see Runs below; long runs:
// tools/fuzz.sh, docs/FUZZING.md).
using AotVit.Fuzzing;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Fuzz;

[Trait("Category", "Fuzz")]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 7;

    private void RunClean(FuzzTarget target, long inputs)
    {
        using (target)
        {
            var report = FuzzEngine.Run(target, new FuzzRunOptions
            {
                Seed = Seed, MaxInputs = inputs, Duration = TimeSpan.FromSeconds(40), StopOnFirstCrash = true,
                ArtifactDirectory = TestPaths.Repo("artifacts", "fuzz"),
            });
            output.WriteLine(report.ToString());
            Assert.True(report.Clean, report.ToString());
            Assert.True(report.Inputs >= Math.Min(inputs, 20), $"only {report.Inputs} inputs ran");
        }
    }

    [Fact]
    public void Image_decoder_survives_mutated_seeds_and_bombs() =>
        RunClean(new ImageTarget([TestPaths.Data("images"), TestPaths.Data("imaging", "fuzz"), TestPaths.Data("imaging", "formats")], bombMegabytes: 16), 600);

    [Fact]
    public void Safetensors_reader_and_MobileViT_load_path_survive_mutated_checkpoints() =>
        // A NaN running_var in a mutated checkpoint once surfaced as InvalidDataException from WeightPrep (an unexpected
        // type: counted as a crash); weight-preparation errors are CheckpointException naming the tensor now.
        RunClean(new SafeTensorsTarget(TestPaths.RepoRoot, loadEvery: 150), 450);

    [Fact]
    public void Torch_bin_reader_survives_mutated_zips_and_pickles() =>
        RunClean(new TorchBinTarget(TestPaths.Repo("tests", "AotVit.Tests", "data", "torch"), TestPaths.RepoRoot, loadEvery: 250), 1500);

    [Fact]
    public void Preprocessor_survives_extreme_sizes_and_random_plans() =>
        RunClean(new PreprocessTarget(), 150);

    [Fact]
    public void Generator_reports_diagnostics_for_mutated_configs_and_its_code_compiles() =>
        RunClean(new GeneratorJsonTarget(TestPaths.RepoRoot, compileEvery: 12), 24);

    [Fact]
    public void Json_tokenizer_agrees_with_Utf8JsonReader_and_config_and_index_readers_survive() =>
        RunClean(new JsonTarget(TestPaths.RepoRoot), 1500);

    [Fact]
    public void File_names_round_trip_as_bytes_and_open_from_disk() =>
        RunClean(new FileNameTarget(), 4000);

    [Fact]
    public void Public_api_survives_random_call_sequences_and_dispose_races() =>
        RunClean(new ApiTarget(disposeEvery: 30), 90);
}

/// <summary>The `jpeg` target (JPEG-aware mutations of the corpus), bounded, with the decode-twice invariant.</summary>
[Trait("Category", "Fuzz")]
public sealed class JpegFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Jpeg_decoder_survives_structure_aware_mutations_of_the_corpus()
    {
        using var target = new JpegTarget([TestPaths.Data("jpeg", "corpus"), TestPaths.Data("images"), TestPaths.Data("imaging", "fuzz"),
                                           TestPaths.Data("imaging", "formats")]);
        var report = FuzzEngine.Run(target, new FuzzRunOptions
        {
            Seed = 7, MaxInputs = 800, Duration = TimeSpan.FromSeconds(40), StopOnFirstCrash = true,
            ArtifactDirectory = TestPaths.Repo("artifacts", "fuzz"),
        });
        output.WriteLine(report.ToString());
        Assert.True(report.Clean, report.ToString());
        Assert.True(report.Inputs >= 100, $"only {report.Inputs} inputs ran");
    }
}

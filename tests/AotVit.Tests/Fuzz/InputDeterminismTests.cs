// Every fuzz target's input i must be a pure function of (seed, i), in any process: a finding replays with
// `--seed S --index I`, and a CI failure means the same inputs on the next run. It once was not: FuzzEngine.RandomFor
// seeded each input's Random with HashCode.Combine, which .NET salts with a random seed per process, so every process
// fuzzed a different input set for the same seed (docs/FUZZING.md, "Found late"). The in-process checks could not see
// it (one process, one salt); these tests generate the first inputs of every target in two independent instances
// and in a child process, and compare them byte for byte.
using System.Diagnostics;
using AotVit.Fuzzing;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Fuzz;

/// <summary>Generates inputs (never runs them) of every target as built by <see cref="FuzzTargets.Create"/>.</summary>
public static class InputDeterminism
{
    /// <summary>Enough to reach each target's periodic heavy input: a MobileViT checkpoint (safetensors, index 49), a
    /// dispose race (api, 39), a valid open (native-abi, 0 and 40), a compile sample (generator-json, 0 and 25).</summary>
    public const int Inputs = 60;

    /// <summary>"target index sha256" for inputs 0 … count-1 of every target.</summary>
    public static IEnumerable<string> Digests(string repoRoot, int seed, int count)
    {
        foreach (string name in FuzzTargets.Names)
        {
            using FuzzTarget target = FuzzTargets.Create(name, repoRoot);
            for (long i = 0; i < count; i++) yield return $"{name} {i} {FuzzEngine.InputDigest(target, seed, i)}";
        }
    }
}

[Trait("Category", "Fuzz")]
[Collection("native-abi fuzz")]   // the native-abi target opens handles (see NativeAbiFuzzCollection)
public sealed class InputDeterminismTests(ITestOutputHelper output)
{
    private const int Seed = 7;

    [Fact]
    public void Random_stream_of_an_input_is_a_fixed_function_of_seed_and_index()
    {
        // Pinned: a per-process salt (HashCode, string hashing, Random.Shared) would change these in every process.
        Assert.Equal(Pinned, new[] { (7, 0L), (7, 1L), (1, 0L), (1, 24256L), (-3, long.MaxValue) }
            .Select(p => FuzzEngine.RandomFor(p.Item1, p.Item2).Next()).ToArray());
        Assert.NotEqual(FuzzEngine.RandomFor(7, 0).Next(), FuzzEngine.RandomFor(8, 0).Next());
    }

    private static readonly int[] Pinned = [525838418, 882449287, 1237295787, 418635158, 2000299438];

    [Fact]
    public void Two_instances_of_every_target_generate_identical_inputs()
    {
        foreach (string name in FuzzTargets.Names)
        {
            using FuzzTarget a = FuzzTargets.Create(name, TestPaths.RepoRoot), b = FuzzTargets.Create(name, TestPaths.RepoRoot);
            // Interleaved and in opposite orders, so that no input can lean on state an earlier input left behind.
            var first = new FuzzCase[InputDeterminism.Inputs];
            for (long i = 0; i < first.Length; i++) first[i] = a.Next(FuzzEngine.RandomFor(Seed, i), i);
            for (long i = first.Length - 1; i >= 0; i--)
            {
                FuzzCase x = first[i], y = b.Next(FuzzEngine.RandomFor(Seed, i), i);
                Assert.True(x.Kind == y.Kind && x.ArtifactExtension == y.ArtifactExtension && x.Artifact.AsSpan().SequenceEqual(y.Artifact),
                            $"{name} input {i} differs between two instances: '{x.Kind}' ({x.Artifact.Length} bytes) vs '{y.Kind}' ({y.Artifact.Length} bytes)");
            }
        }
    }

    [Fact]
    public void Every_target_generates_the_same_inputs_in_another_process()
    {
        string[] here = [.. InputDeterminism.Digests(TestPaths.RepoRoot, Seed, InputDeterminism.Inputs)];
        string[] there = ChildDigests(Seed, InputDeterminism.Inputs);
        Assert.Equal(here.Length, there.Length);
        var differing = here.Zip(there).Where(p => p.First != p.Second).Select(p => p.First.Split(' ')[0] + " " + p.First.Split(' ')[1]).ToList();
        output.WriteLine($"{here.Length} inputs compared, {differing.Count} differ");
        Assert.True(differing.Count == 0, $"inputs that differ in a child process: {string.Join(", ", differing.Take(20))}");
    }

    /// <summary>Runs this test assembly's entry point (Program.cs) as a new process: `dotnet exec AotVit.Tests.dll fuzz-digests …`.</summary>
    private string[] ChildDigests(int seed, int count)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { "exec", typeof(InputDeterminism).Assembly.Location, "fuzz-digests", TestPaths.RepoRoot, $"{seed}", $"{count}" })
            start.ArgumentList.Add(arg);
        using var child = Process.Start(start)!;
        var stderr = child.StandardError.ReadToEndAsync();
        string stdout = child.StandardOutput.ReadToEnd();
        if (!child.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail("the child process did not finish in 3 minutes");
        }
        output.WriteLine($"child process {child.Id} exited with {child.ExitCode}");
        Assert.True(child.ExitCode == 0, $"child process failed ({child.ExitCode}): {stderr.Result}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The dotnet host running this test: DOTNET_HOST_PATH (set by the dotnet CLI), this process, or PATH.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (host is not null && File.Exists(host)) return host;
        host = Environment.ProcessPath;
        return host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }
}

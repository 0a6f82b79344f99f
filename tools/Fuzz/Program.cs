// aot-vit fuzz driver: dotnet run -c Release --project tools/Fuzz -- TARGET [--seed N] [--seconds S] [--inputs N] [--index I] [--digest]
// --digest prints one SHA-256 per generated input ("TARGET seed S index I DIGEST") without running any, to compare runs.
// Exit code: 0 clean, 1 crash or hang (inputs saved under artifacts/fuzz/), 2 usage error.
using AotVit.Fuzzing;

string? target = null;
int seed = 1;
double seconds = 30;
long? inputs = null, index = null;
bool inflight = false, digest = false;
string? root = null;
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--seed": seed = int.Parse(Value()); break;
        case "--seconds": seconds = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
        case "--inputs": inputs = long.Parse(Value()); break;
        case "--index": index = long.Parse(Value()); break;
        case "--save-inflight": inflight = true; break;
        case "--digest": digest = true; break;
        case "--repo": root = Value(); break;
        case "-h" or "--help": target = null; i = args.Length; break;
        default: target = args[i]; break;
    }
}
if (target is null || !FuzzTargets.Names.Contains(target) && target != "all")
{
    Console.Error.WriteLine($"usage: fuzz <{string.Join("|", FuzzTargets.Names)}|all> [--seed N] [--seconds S] [--inputs N] [--index I] [--save-inflight] [--digest] [--repo DIR]");
    return 2;
}
root ??= FuzzTargets.FindRepoRoot(AppContext.BaseDirectory) ?? FuzzTargets.FindRepoRoot(Environment.CurrentDirectory)
         ?? throw new InvalidOperationException("aot-vit.sln not found; pass --repo");
string artifacts = Path.Combine(root, "artifacts", "fuzz");
bool clean = true;
foreach (string name in target == "all" ? FuzzTargets.Names : [target])
{
    using FuzzTarget fuzz = FuzzTargets.Create(name, root, longRun: true);
    if (digest)
    {
        long first = index ?? 0, last = index ?? (inputs ?? 100) - 1;
        for (long i = first; i <= last; i++)
            Console.WriteLine($"{name} seed {seed} index {i} {FuzzEngine.InputDigest(fuzz, seed, i)}");
        continue;
    }
    Console.WriteLine($"fuzzing {name}: seed {seed}, " + (index is not null ? $"index {index}" : $"{seconds} s") + (inputs is null ? "" : $", at most {inputs} inputs"));
    var report = FuzzEngine.Run(fuzz, new FuzzRunOptions
    {
        Seed = seed, Duration = TimeSpan.FromSeconds(seconds), MaxInputs = inputs, OnlyIndex = index,
        ArtifactDirectory = artifacts, SaveInFlight = inflight,
    }, Console.Out);
    Console.Write(report);
    if (fuzz is NativeAbiTarget abi) Console.Write(abi.CallSummary());
    clean &= report.Clean;
}
return clean ? 0 : 1;

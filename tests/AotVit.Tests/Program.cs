// The test assembly's entry point (GenerateProgramFile is off in the .csproj). The xunit runner never calls it; the
// cross-process fuzz determinism test (Fuzz/InputDeterminismTests.cs) starts this assembly as a child process:
//   dotnet exec AotVit.Tests.dll fuzz-digests REPO_ROOT SEED COUNT
using System.Globalization;
using AotVit.Tests.Fuzz;

namespace AotVit.Tests;

public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["fuzz-digests", string repo, string seed, string count])
        {
            foreach (string line in InputDeterminism.Digests(repo, int.Parse(seed, CultureInfo.InvariantCulture), int.Parse(count, CultureInfo.InvariantCulture)))
                Console.WriteLine(line);
            return 0;
        }
        Console.Error.WriteLine("usage: dotnet exec AotVit.Tests.dll fuzz-digests REPO_ROOT SEED COUNT (run the tests with dotnet test)");
        return 2;
    }
}

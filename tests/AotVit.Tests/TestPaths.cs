namespace AotVit.Tests;

/// <summary>Locations of the repository's files, found from the test binary's folder.</summary>
internal static class TestPaths
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Data(params string[] parts) => Path.Combine(new[] { AppContext.BaseDirectory, "data" }.Concat(parts).ToArray());

    public static string Repo(params string[] parts) => Path.Combine(new[] { RepoRoot }.Concat(parts).ToArray());

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "aot-vit.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("aot-vit.sln not found above " + AppContext.BaseDirectory);
    }
}

// The C ABI fuzz target (`native-abi`, Fuzz/Engine/NativeAbiTarget.cs) as a bounded CI run, and the bugs it found,
// each pinned by a test named after it (docs/FUZZING.md, "Bugs found", N1-N3).
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Fuzzing;
using AotVit.Native;
using Xunit;
using Xunit.Abstractions;

namespace AotVit.Tests.Fuzz;

/// <summary>Runs alone: the fuzz target opens handles, and NativeApiTests assumes that `its handle + 16` is never issued
/// while it runs (a garbage-handle check), which a concurrent open breaks.</summary>
[CollectionDefinition("native-abi fuzz", DisableParallelization = true)]
public sealed class NativeAbiFuzzCollection;

[Trait("Category", "Fuzz")]
[Collection("native-abi fuzz")]
public sealed unsafe class NativeAbiFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 7;

    [Fact]
    public void C_abi_survives_random_call_sequences_garbage_handles_and_races()
    {
        // Up to two fresh MobileViT opens (inputs 0 and 12) besides the shared handle; no ViT (seconds to build).
        using var target = new NativeAbiTarget(TestPaths.RepoRoot, openEvery: 12);
        var report = FuzzEngine.Run(target, new FuzzRunOptions
        {
            Seed = Seed, MaxInputs = 24, Duration = TimeSpan.FromSeconds(40), StopOnFirstCrash = true,
            ArtifactDirectory = TestPaths.Repo("artifacts", "fuzz"),
        });
        output.WriteLine(report.ToString());
        output.WriteLine(target.CallSummary());
        Assert.True(report.Clean, report.ToString());
        Assert.True(report.Inputs >= 12, $"only {report.Inputs} inputs ran");
        Assert.Contains(target.CallBuckets.Keys, k => k == "run_pixels: AOTVIT_OK");
        Assert.Contains(target.CallBuckets.Keys, k => k == "destroy: AOTVIT_INVALID_ARGUMENT");
    }

    // ---- bugs found by native-abi ----

    private static nint OpenMobileViT()
    {
        nint h;
        fixed (byte* n = Encoding.UTF8.GetBytes("mobilevit-small\0"))
            Assert.Equal(0, NativeApi.ModelOpen(n, null, 1, &h));
        return h;
    }

    private static void ExpectStatus(Status expected, int actual, string messagePart)
    {
        Assert.True((int)expected == actual, $"expected {expected}, got {(Status)actual}: {Errors.LastMessage}");
        Assert.Contains(messagePart, Errors.LastMessage);
    }

    /// <summary>N1: run_pixels with batch 1025 and a correct pixel_values_len returned INVALID_ARGUMENT (the managed
    /// MaxBatchPerCall limit leaking through as ArgumentOutOfRangeException); a size limit is LIMIT_EXCEEDED.</summary>
    [Fact]
    public void Run_pixels_batch_above_1024_is_LIMIT_EXCEEDED_not_INVALID_ARGUMENT()
    {
        nint h = OpenMobileViT();
        try
        {
            const int batch = 1025;
            nuint floats = (nuint)batch * 3 * 256 * 256;
            // 806 MB of address space, never touched: the call must refuse before reading it.
            float* pixels = (float*)NativeMemory.Alloc(floats * sizeof(float));
            var logits = new float[batch * 1000];
            try
            {
                fixed (float* o = logits)
                    ExpectStatus(Status.LimitExceeded, NativeApi.RunPixels(h, batch, pixels, floats, o, (nuint)logits.Length, null, 0), "at most 1024 images");
            }
            finally
            {
                NativeMemory.Free(pixels);
            }
        }
        finally
        {
            NativeApi.ModelDestroy(h);
        }
    }

    /// <summary>N2: a valid 1x300 RGB image through MobileViT (shortest-edge resize to 288x86400, above
    /// Preprocessor.MaxResizedPixels) returned INVALID_ARGUMENT; it is a size limit: LIMIT_EXCEEDED.</summary>
    [Fact]
    public void Extreme_aspect_ratio_image_is_LIMIT_EXCEEDED_not_INVALID_ARGUMENT()
    {
        nint h = OpenMobileViT();
        try
        {
            var rgb = new byte[300 * 3];
            var logits = new float[1000];
            var pixels = new float[3 * 256 * 256];
            fixed (byte* d = rgb)
            fixed (float* o = logits)
            fixed (float* p = pixels)
            {
                ExpectStatus(Status.LimitExceeded, NativeApi.RunRgb8(h, d, (nuint)rgb.Length, 1, 300, o, 1000, null, 0), "aspect ratio is too extreme");
                ExpectStatus(Status.LimitExceeded, NativeApi.RunRgb8(h, d, (nuint)rgb.Length, 300, 1, o, 1000, null, 0), "aspect ratio is too extreme");
                Assert.All(logits, v => Assert.Equal(0f, v));   // nothing written
                // 1x100 (288x28800) is within the limit and runs.
                Assert.Equal(0, NativeApi.RunRgb8(h, d, 300, 1, 100, o, 1000, null, 0));
            }
        }
        finally
        {
            NativeApi.ModelDestroy(h);
        }
    }

    /// <summary>N3: run_image_file / preprocess_image_file read the whole file with File.ReadAllBytes before any limit:
    /// /dev/zero (length 0, endless) allocated and read up to 2 GB before failing, a 300 MiB file was read whole.
    /// Now the read stops at ImageLimits.MaxEncodedBytes + 1 bytes and the call is LIMIT_EXCEEDED.</summary>
    [Fact]
    public void Endless_or_oversized_image_file_is_LIMIT_EXCEEDED_without_reading_it_all()
    {
        nint h = OpenMobileViT();
        string dir = Directory.CreateTempSubdirectory("aotvit-n3-").FullName;
        try
        {
            string sparse = Path.Combine(dir, "big.png");
            using (var s = File.Create(sparse)) s.SetLength(300L << 20);
            var logits = new float[1000];
            var pixels = new float[3 * 256 * 256];
            long before = GC.GetTotalAllocatedBytes(precise: true);
            foreach (string path in new[] { "/dev/zero", sparse })
            {
                fixed (byte* p = Encoding.UTF8.GetBytes(path + "\0"))
                fixed (float* o = logits)
                fixed (float* px = pixels)
                {
                    ExpectStatus(Status.LimitExceeded, NativeApi.RunImageFile(h, p, o, 1000, null, 0), "at most 268435456");
                    ExpectStatus(Status.LimitExceeded, NativeApi.PreprocessImageFile(h, p, px, (nuint)pixels.Length), "at most 268435456");
                }
            }
            // /dev/zero is read up to the limit (256 MiB, growing a buffer) twice; never the 2 GB File.ReadAllBytes took.
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < 1_600L << 20, $"allocated {allocated >> 20} MiB");
        }
        finally
        {
            NativeApi.ModelDestroy(h);
            Directory.Delete(dir, recursive: true);
        }
    }
}

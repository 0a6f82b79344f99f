// The C ABI's logic (src/Native/NativeApi.cs) driven directly, as a C caller would, with raw pointers.
// Focus: misuse never crashes and always comes back as the documented status and a useful message.
// The exported symbols themselves are exercised by samples/c and samples/python (tools/native_check.sh).
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Native;
using Xunit;

namespace AotVit.Tests.Native;

/// <summary>One synthetic MobileViT handle (cheap) shared by the tests of a class; ViT handles are opened where needed.</summary>
public sealed unsafe class NativeMobileViTFixture : IDisposable
{
    public nint Handle { get; }

    public NativeMobileViTFixture()
    {
        nint h;
        byte[] name = Utf8Z("mobilevit-small");
        fixed (byte* n = name)
        {
            int status = NativeApi.ModelOpen(n, null, 2, &h);
            if (status != 0) throw new InvalidOperationException($"open failed: {status} {Errors.LastMessage}");
        }
        Handle = h;
    }

    public void Dispose() => NativeApi.ModelDestroy(Handle);

    internal static byte[] Utf8Z(string s) => Encoding.UTF8.GetBytes(s + "\0");
}

[Trait("Category", "Native")]
public sealed unsafe class NativeApiTests(NativeMobileViTFixture fixture) : IClassFixture<NativeMobileViTFixture>
{
    private static readonly string Chelsea = TestPaths.Data("images", "chelsea.png");
    private const int Classes = 1000;

    private static byte[] Z(string s) => NativeMobileViTFixture.Utf8Z(s);

    private static void Expect(Status expected, int actual, string messagePart)
    {
        Assert.True((int)expected == actual, $"expected {expected}, got {(Status)actual}: {Errors.LastMessage}");
        Assert.Contains(messagePart, Errors.LastMessage);
        Assert.Equal(Errors.LastMessage, Marshal.PtrToStringUTF8((nint)Errors.LastErrorPointer()));
    }

    private static int Open(string name, string? checkpoint, out nint handle)
    {
        nint h;
        int status;
        fixed (byte* n = name is null ? null : Z(name))
        fixed (byte* c = checkpoint is null ? null : Z(checkpoint))
            status = NativeApi.ModelOpen(n, c, 1, &h);
        handle = h;
        return status;
    }

    private int RunFile(nint handle, string path, float[]? out0, nuint out0Length, float[]? out1 = null, nuint out1Length = 0)
    {
        fixed (byte* p = Z(path))
        fixed (float* o0 = out0)
        fixed (float* o1 = out1)
            return NativeApi.RunImageFile(handle, p, o0, out0Length, o1, out1Length);
    }

    [Fact]
    public void Version_and_abi()
    {
        Assert.Equal(1, NativeApi.AbiVersion);
        Assert.StartsWith("0.1.0+x86-64-v", NativeApi.VersionText);
        Assert.Equal(NativeApi.VersionText, Marshal.PtrToStringUTF8((nint)NativeApi.Version()));
    }

    [Fact]
    public void Runs_and_matches_the_managed_api_bit_for_bit()
    {
        var logits = new float[Classes];
        Assert.Equal(0, RunFile(fixture.Handle, Chelsea, logits, Classes));
        Assert.Equal("", Errors.LastMessage);
        using var managed = ImageClassifier.CreateSynthetic("mobilevit-small", new ModelOptions { Threads = 2 });
        var expected = managed.Classify(Chelsea).Logits;
        Assert.Equal(expected, logits);

        // Encoded bytes, raw RGB8 and preprocess + run_pixels give the same bits.
        byte[] png = File.ReadAllBytes(Chelsea);
        var fromBytes = new float[Classes];
        fixed (byte* d = png)
        fixed (float* o = fromBytes)
            Assert.Equal(0, NativeApi.RunImageBytes(fixture.Handle, d, (nuint)png.Length, o, Classes, null, 0));
        Assert.Equal(expected, fromBytes);

        var image = managed.LoadImage(Chelsea);
        var fromRgb = new float[Classes];
        fixed (byte* d = image.Pixels)
        fixed (float* o = fromRgb)
            Assert.Equal(0, NativeApi.RunRgb8(fixture.Handle, d, (nuint)image.Pixels.Length, image.Width, image.Height, o, Classes, null, 0));
        Assert.Equal(expected, fromRgb);

        var pixels = new float[2 * 3 * 256 * 256];
        var batch = new float[2 * Classes];
        fixed (byte* p = Z(Chelsea))
        fixed (float* px = pixels)
        fixed (float* o = batch)
        {
            Assert.Equal(0, NativeApi.PreprocessImageFile(fixture.Handle, p, px, (nuint)pixels.Length));
            pixels.AsSpan(0, 3 * 256 * 256).CopyTo(pixels.AsSpan(3 * 256 * 256));
            Assert.Equal(0, NativeApi.RunPixels(fixture.Handle, 2, px, (nuint)pixels.Length, o, (nuint)batch.Length, null, 0));
        }
        Assert.Equal(expected, batch[..Classes]);
        Assert.Equal(expected, batch[Classes..]);

        // top-k agrees with the managed TopK.
        var indices = new int[5];
        var probabilities = new float[5];
        fixed (float* l = logits)
        fixed (int* i = indices)
        fixed (float* pr = probabilities)
            Assert.Equal(0, NativeApi.ClassifyTopK(fixture.Handle, l, Classes, 5, i, 5, pr, 5));
        var top = managed.TopK(expected, 5);
        Assert.Equal(top.Select(t => t.ClassIndex), indices);
        Assert.Equal(top.Select(t => t.Probability), probabilities);
    }

    [Fact]
    public void Model_info()
    {
        byte* name;
        int kind, c, h, w, outputs, labels, rank;
        var shape = new int[NativeApi.MaxRank];
        nuint floats;
        Assert.Equal(0, NativeApi.ModelName(fixture.Handle, &name));
        Assert.Equal("mobilevit-small", Marshal.PtrToStringUTF8((nint)name));
        Assert.Equal(0, NativeApi.ModelKind(fixture.Handle, &kind));
        Assert.Equal(1, kind);
        Assert.Equal(0, NativeApi.ModelInputShape(fixture.Handle, &c, &h, &w));
        Assert.Equal((3, 256, 256), (c, h, w));
        Assert.Equal(0, NativeApi.ModelOutputCount(fixture.Handle, &outputs));
        Assert.Equal(1, outputs);
        fixed (int* s = shape)
            Assert.Equal(0, NativeApi.ModelOutputInfo(fixture.Handle, 0, &name, s, &rank, &floats));
        Assert.Equal("logits", Marshal.PtrToStringUTF8((nint)name));
        Assert.Equal(1, rank);
        Assert.Equal([1000, 0, 0, 0], shape);
        Assert.Equal((nuint)1000, floats);
        Assert.Equal(0, NativeApi.ModelOutputInfo(fixture.Handle, 0, null, null, null, null)); // every out-pointer optional
        Assert.Equal(0, NativeApi.ModelLabelCount(fixture.Handle, &labels));
        Assert.Equal(1000, labels);
        byte* label;
        Assert.Equal(0, NativeApi.ModelLabel(fixture.Handle, 281, &label));
        Assert.Equal("tabby, tabby cat", Marshal.PtrToStringUTF8((nint)label));

        Expect(Status.InvalidArgument, NativeApi.ModelOutputInfo(fixture.Handle, 1, &name, null, null, null), "has 1 output");
        Expect(Status.InvalidArgument, NativeApi.ModelLabel(fixture.Handle, 1000, &label), "out of range");
        Expect(Status.InvalidArgument, NativeApi.ModelLabel(fixture.Handle, -1, &label), "out of range");
    }

    [Fact]
    public void Null_pointers()
    {
        var logits = new float[Classes];
        nint h;
        Expect(Status.NullPointer, NativeApi.ModelOpen(null, null, 1, &h), "model_name is NULL");
        fixed (byte* n = Z("mobilevit-small"))
            Expect(Status.NullPointer, NativeApi.ModelOpen(n, null, 1, null), "out is NULL");
        Expect(Status.NullPointer, RunFile(0, Chelsea, logits, Classes), "model is NULL");
        fixed (float* o = logits)
        {
            Expect(Status.NullPointer, NativeApi.RunImageFile(fixture.Handle, null, o, Classes, null, 0), "path is NULL");
            Expect(Status.NullPointer, NativeApi.RunImageBytes(fixture.Handle, null, 10, o, Classes, null, 0), "data is NULL");
            Expect(Status.NullPointer, NativeApi.RunRgb8(fixture.Handle, null, 12, 2, 2, o, Classes, null, 0), "rgb is NULL");
            Expect(Status.NullPointer, NativeApi.RunPixels(fixture.Handle, 1, null, 3 * 256 * 256, o, Classes, null, 0), "pixel_values is NULL");
            Expect(Status.NullPointer, NativeApi.ClassifyTopK(fixture.Handle, null, Classes, 5, null, 5, null, 0), "logits is NULL");
            Expect(Status.NullPointer, NativeApi.ClassifyTopK(fixture.Handle, o, Classes, 5, null, 5, null, 0), "indices is NULL");
        }
        Expect(Status.NullPointer, RunFile(fixture.Handle, Chelsea, null, Classes), "out0 (logits) is NULL");
        fixed (byte* p = Z(Chelsea))
            Expect(Status.NullPointer, NativeApi.PreprocessImageFile(fixture.Handle, p, null, 1 << 20), "pixels is NULL");
        // destroy(NULL) is a no-op.
        Assert.Equal(0, NativeApi.ModelDestroy(0));
    }

    [Fact]
    public void Buffers_too_small_name_the_length_needed()
    {
        var logits = new float[Classes];
        Expect(Status.BufferTooSmall, RunFile(fixture.Handle, Chelsea, logits, Classes - 1), "out0_len is 999; logits [1, 1000] needs 1000 floats");
        var pixels = new float[10];
        fixed (byte* p = Z(Chelsea))
        fixed (float* px = pixels)
            Expect(Status.BufferTooSmall, NativeApi.PreprocessImageFile(fixture.Handle, p, px, 10), "needs 196608");
        var batchOut = new float[Classes];
        var input = new float[2 * 3 * 256 * 256];
        fixed (float* px = input)
        fixed (float* o = batchOut)
        {
            Expect(Status.BufferTooSmall, NativeApi.RunPixels(fixture.Handle, 2, px, (nuint)input.Length, o, Classes, null, 0), "needs 2000 floats");
            Expect(Status.InvalidArgument, NativeApi.RunPixels(fixture.Handle, 2, px, 5, o, Classes, null, 0), "needs 393216");
            Expect(Status.InvalidArgument, NativeApi.RunPixels(fixture.Handle, 0, px, 0, o, Classes, null, 0), "batch is 0");
            Expect(Status.LimitExceeded, NativeApi.RunPixels(fixture.Handle, 1 << 20, px, 0, o, Classes, null, 0), "at most");
        }
        var indices = new int[2];
        fixed (float* l = logits)
        fixed (int* i = indices)
        {
            Expect(Status.BufferTooSmall, NativeApi.ClassifyTopK(fixture.Handle, l, Classes, 5, i, 2, null, 0), "needs 5");
            Expect(Status.InvalidArgument, NativeApi.ClassifyTopK(fixture.Handle, l, Classes, 1001, i, 2000, null, 0), "between 0 and 1000");
            Expect(Status.InvalidArgument, NativeApi.ClassifyTopK(fixture.Handle, l, 999, 1, i, 2, null, 0), "has 1000 classes");
        }
        // A one-output model refuses out1.
        var extra = new float[10];
        Expect(Status.InvalidArgument, RunFile(fixture.Handle, Chelsea, logits, Classes, extra, 10), "out1 must be NULL");
    }

    [Fact]
    public void Destroyed_and_garbage_handles_are_rejected_not_dereferenced()
    {
        Assert.Equal(0, Open("mobilevit-small", null, out nint h));
        Assert.Equal(0, NativeApi.ModelDestroy(h));
        var logits = new float[Classes];
        Expect(Status.InvalidArgument, RunFile(h, Chelsea, logits, Classes), "not a live aotvit_model handle");
        Expect(Status.InvalidArgument, NativeApi.ModelDestroy(h), "destroyed twice");
        int count;
        Expect(Status.InvalidArgument, NativeApi.ModelLabelCount(h, &count), "not a live");
        foreach (nint garbage in new nint[] { 1, -1, 0x1000, (nint)0xdeadbeef, fixture.Handle + 8, fixture.Handle + 1 })
        {
            Expect(Status.InvalidArgument, RunFile(garbage, Chelsea, logits, Classes), "not a live");
            Expect(Status.InvalidArgument, NativeApi.ModelKind(garbage, &count), "not a live");
        }
        // The live handle is unaffected.
        Assert.Equal(0, RunFile(fixture.Handle, Chelsea, logits, Classes));
    }

    [Fact]
    public void Wrong_model_kind_unknown_model_and_bad_thread_count()
    {
        // top-k on a feature extractor is refused before the logits are looked at: a ViT handle is needed, and
        // opening one costs seconds (88M synthetic weights), so it is checked through a real checkpoint-less open.
        Assert.Equal(0, Open("vit-base-patch32-224-in21k", null, out nint vit));
        try
        {
            var logits = new float[Classes];
            var indices = new int[5];
            fixed (float* l = logits)
            fixed (int* i = indices)
                Expect(Status.WrongModelKind, NativeApi.ClassifyTopK(vit, l, Classes, 5, i, 5, null, 0), "is a feature extractor");
            int labels;
            Assert.Equal(0, NativeApi.ModelLabelCount(vit, &labels));
            Assert.Equal(0, labels);
            byte* label;
            Expect(Status.InvalidArgument, NativeApi.ModelLabel(vit, 0, &label), "has no labels");

            // Two outputs: pooler_output may be skipped (out1 NULL), and then last_hidden_state is unchanged.
            var hidden = new float[50 * 768];
            var pooled = new float[768];
            var hiddenOnly = new float[50 * 768];
            Assert.Equal(0, RunFile(vit, Chelsea, hidden, (nuint)hidden.Length, pooled, 768));
            Assert.Equal(0, RunFile(vit, Chelsea, hiddenOnly, (nuint)hiddenOnly.Length));
            Assert.Equal(hidden, hiddenOnly);
            Expect(Status.BufferTooSmall, RunFile(vit, Chelsea, hidden, (nuint)hidden.Length, pooled, 767), "out1_len is 767; pooler_output [1, 768] needs 768");
            Expect(Status.NullPointer, RunFile(vit, Chelsea, hidden, (nuint)hidden.Length, null, 768), "out1 is NULL but out1_len is 768");
        }
        finally
        {
            NativeApi.ModelDestroy(vit);
        }

        Expect(Status.InvalidArgument, Open("resnet-50", null, out nint none), "unknown model 'resnet-50'; compiled models: ");
        foreach (var e in AotVit.ModelCatalog.All) Assert.Contains($"{e.Name} ({e.RepoId})", Errors.LastMessage);
        Assert.Equal(0, none);
        fixed (byte* n = Z("mobilevit-small"))
        {
            nint h;
            Expect(Status.InvalidArgument, NativeApi.ModelOpen(n, null, 1000, &h), "at most 256");
        }
    }

    [Fact]
    public void Every_catalog_model_opens_by_name_and_repo_id_as_its_own_task()
    {
        int count = NativeApi.CatalogSize();
        Assert.Equal(AotVit.ModelCatalog.All.Count, count);
        for (int i = 0; i < count; i++)
        {
            byte* name, repo;
            int kind;
            Assert.Equal(0, NativeApi.CatalogEntry(i, &name, &repo, &kind));
            var entry = AotVit.ModelCatalog.All[i];
            Assert.Equal(entry.Name, Marshal.PtrToStringUTF8((nint)name));
            Assert.Equal(entry.RepoId, repo == null ? null : Marshal.PtrToStringUTF8((nint)repo));
            Assert.Equal(entry.Kind == AotVit.Runtime.Model.ModelKind.Classifier ? 1 : 0, kind);
            foreach (string label in new[] { entry.Name, entry.RepoId?.ToUpperInvariant() })
            {
                if (label is null) continue;
                Assert.Equal(0, Open(label, null, out nint h));
                try
                {
                    byte* opened;
                    int openedKind;
                    Assert.Equal(0, NativeApi.ModelName(h, &opened));
                    Assert.Equal(entry.Name, Marshal.PtrToStringUTF8((nint)opened));
                    Assert.Equal(0, NativeApi.ModelKind(h, &openedKind));
                    Assert.Equal(kind, openedKind);
                    if (kind == 0)
                    {
                        // Top-k needs a classifier: WRONG_MODEL_KIND on a feature extractor, whatever its name.
                        var logits = new float[1000];
                        var indices = new int[1];
                        var probabilities = new float[1];
                        fixed (float* l = logits, p = probabilities)
                        fixed (int* ix = indices)
                            Expect(Status.WrongModelKind, NativeApi.ClassifyTopK(h, l, (nuint)logits.Length, 1, ix, 1, p, 1), "is a feature extractor; top-k needs a classifier");
                    }
                }
                finally
                {
                    NativeApi.ModelDestroy(h);
                }
            }
        }
        byte* none;
        Expect(Status.InvalidArgument, NativeApi.CatalogEntry(count, &none, null, null), $"index {count} is outside the catalog's {count} models");
        Expect(Status.InvalidArgument, NativeApi.CatalogEntry(-1, &none, null, null), "is outside the catalog");
    }

    [Theory]
    [InlineData("vit")]
    [InlineData("mobilevit")]
    [InlineData("vit-base-patch16-224-not-compiled")]
    [InlineData("google/vit-base-patch32")]
    [InlineData("")]
    public void A_name_not_in_the_catalog_opens_nothing(string name)
    {
        // Before the catalog, every name other than mobilevit-small opened ViT-B/32.
        Expect(Status.InvalidArgument, Open(name, null, out nint h), $"unknown model '{name}'; compiled models: ");
        Assert.Equal(0, h);
    }

    [Fact]
    public void Missing_and_corrupt_files()
    {
        var logits = new float[Classes];
        string dir = Directory.CreateTempSubdirectory("aotvit-native-").FullName;
        try
        {
            Expect(Status.IoError, Open("mobilevit-small", Path.Combine(dir, "missing.safetensors"), out nint h), "checkpoint not found");
            Assert.Equal(0, h);
            Expect(Status.IoError, Open("mobilevit-small", dir, out _), "no weights in this folder");

            string corrupt = Path.Combine(dir, "corrupt.safetensors");
            File.WriteAllBytes(corrupt, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
            Expect(Status.BadCheckpoint, Open("mobilevit-small", corrupt, out h), "");
            Assert.Equal(0, h);
            string tiny = Path.Combine(dir, "tiny.safetensors");
            File.WriteAllBytes(tiny, [1, 2]);
            Expect(Status.BadCheckpoint, Open("mobilevit-small", tiny, out _), "shorter than the 8-byte header");
            Expect(Status.BadCheckpoint, Open("mobilevit-small", TestPaths.Data("torch", "hostile_os_system.bin"), out h),
                   "pickle global 'posix.system' is not allowed: not a plain state dict");
            Assert.Equal(0, h);

            Expect(Status.IoError, RunFile(fixture.Handle, Path.Combine(dir, "missing.png"), logits, Classes), "file not found");
            Expect(Status.IoError, RunFile(fixture.Handle, dir, logits, Classes), "is a directory");

            byte[] png = File.ReadAllBytes(Chelsea);
            // (A PNG missing only the tail of its IEND chunk still decodes, so the cuts stop at half the file.)
            foreach (int length in new[] { 1, 8, 16, 33, 100, png.Length / 2 })
            {
                fixed (byte* d = png)
                fixed (float* o = logits)
                    Expect(Status.BadImage, NativeApi.RunImageBytes(fixture.Handle, d, (nuint)length, o, Classes, null, 0), "");
            }
            fixed (byte* d = png)
            fixed (float* o = logits)
                Expect(Status.BadImage, NativeApi.RunImageBytes(fixture.Handle, d, 0, o, Classes, null, 0), "empty input");
            string text = Path.Combine(dir, "notes.png");
            File.WriteAllText(text, "this is not an image at all");
            Expect(Status.BadImage, RunFile(fixture.Handle, text, logits, Classes), "");

            var rgb = new byte[12];
            fixed (byte* d = rgb)
            fixed (float* o = logits)
            {
                Expect(Status.InvalidArgument, NativeApi.RunRgb8(fixture.Handle, d, 12, 3, 3, o, Classes, null, 0), "needs 27 bytes");
                Expect(Status.InvalidArgument, NativeApi.RunRgb8(fixture.Handle, d, 12, 0, 4, o, Classes, null, 0), "must be positive");
                Expect(Status.LimitExceeded, NativeApi.RunRgb8(fixture.Handle, d, 12, 100_000, 100_000, o, Classes, null, 0), "the limit is");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Every_exception_type_maps_to_a_status()
    {
        // The caller's mistakes: NativeApi's own checks and the runtime's InputExceptions.
        Assert.Equal(Status.NullPointer, Errors.Classify(new NativeError(Status.NullPointer, "x is NULL")).Item1);
        Assert.Equal(Status.InvalidArgument, Errors.Classify(new AotVit.Runtime.InputException("bad value")).Item1);
        Assert.Equal(Status.LimitExceeded, Errors.Classify(new AotVit.Runtime.LimitExceededException("too big")).Item1);
        Assert.Equal(Status.InvalidArgument, Errors.Classify(new ObjectDisposedException("m")).Item1);
        Assert.Equal(Status.BadCheckpoint, Errors.Classify(new AotVit.Runtime.Weights.CheckpointException("bad")).Item1);
        Assert.Equal(Status.BadImage, Errors.Classify(new AotVit.Runtime.Imaging.ImageDecodeException("bad")).Item1);
        Assert.Equal(Status.IoError, Errors.Classify(new FileNotFoundException("gone", "f")).Item1);
        Assert.Equal(Status.IoError, Errors.Classify(new UnauthorizedAccessException("no")).Item1);
        Assert.Equal(Status.OutOfMemory, Errors.Classify(new OutOfMemoryException()).Item1);
        Assert.Equal(Status.InternalError, Errors.Classify(new InvalidOperationException("bug")).Item1);
        // A kernel precondition or a C# API check that NativeApi should have made first: this library's bug.
        var (status, message) = Errors.Classify(new ArgumentOutOfRangeException("k", "k must be positive"));
        Assert.Equal(Status.InternalError, status);
        Assert.StartsWith("internal error (System.ArgumentOutOfRangeException): ", message);
        Assert.Equal(Status.InternalError, Errors.Classify(new ArgumentNullException("x")).Item1);
        Assert.Equal(Status.InternalError, Errors.Classify(new ArgumentException("rows too short")).Item1);
        Assert.Equal(Status.LimitExceeded, Errors.Classify(new NativeError(Status.LimitExceeded, "big")).Item1);
    }

    [Fact]
    public void Last_error_is_thread_local_and_cleared_by_success()
    {
        var logits = new float[Classes];
        Expect(Status.BufferTooSmall, RunFile(fixture.Handle, Chelsea, logits, 3), "out0_len is 3");
        string? other = null;
        var thread = new Thread(() =>
        {
            RunFile(fixture.Handle, Chelsea, logits, 7);
            other = Errors.LastMessage;
        });
        thread.Start();
        thread.Join();
        Assert.Contains("out0_len is 7", other);
        Assert.Contains("out0_len is 3", Errors.LastMessage);
        Assert.Equal(0, RunFile(fixture.Handle, Chelsea, logits, Classes));
        Assert.Equal("", Marshal.PtrToStringUTF8((nint)Errors.LastErrorPointer()));
    }

    [Fact]
    public void Shared_handle_from_many_threads_gives_identical_results()
    {
        var reference = new float[Classes];
        Assert.Equal(0, RunFile(fixture.Handle, Chelsea, reference, Classes));
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            var mine = new float[Classes];
            for (int i = 0; i < 3; i++)
            {
                int s = RunFile(fixture.Handle, Chelsea, mine, Classes);
                if (s != 0) failures.Add($"{t}: {s} {Errors.LastMessage}");
                else if (!mine.AsSpan().SequenceEqual(reference)) failures.Add($"{t}: different logits");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(failures);
    }
}

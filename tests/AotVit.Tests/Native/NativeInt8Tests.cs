// The int8 part of the C ABI (aotvit_model_open_ex, aotvit_model_precision, aotvit_model_quantization_report,
// aotvit_quantize) driven through NativeApi with raw pointers, as a C caller would. The int8 GEMM on this branch is a
// scalar stand-in, so everything runs on mobilevit-xx-small (the cheapest model) with one thread and few images.
using System.Runtime.InteropServices;
using System.Text;
using AotVit.Native;
using Xunit;

namespace AotVit.Tests.Native;

[Trait("Category", "Native")]
public sealed unsafe class NativeInt8Tests : IDisposable
{
    private const string Small = "mobilevit-xx-small";
    private const int Classes = 1000;
    private static readonly string Chelsea = TestPaths.Data("images", "chelsea.png");
    private static readonly string Coffee = TestPaths.Data("images", "coffee.png");

    private readonly string _dir = Directory.CreateTempSubdirectory("aotvit-native-int8-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    private static void Expect(Status expected, int actual, string messagePart)
    {
        Assert.True((int)expected == actual, $"expected {expected}, got {(Status)actual}: {Errors.LastMessage}");
        Assert.Contains(messagePart, Errors.LastMessage);
    }

    private static NativeApi.OpenOptions Options(int precision = NativeApi.PrecisionInt8, int threads = 1) => new()
    {
        StructSize = (nuint)sizeof(NativeApi.OpenOptions),
        Threads = threads,
        Precision = precision,
    };

    /// <summary>aotvit_model_open_ex with `options` (null: a NULL options pointer) and, when given, calibration paths
    /// (a null entry stays a NULL pointer).</summary>
    private static int OpenEx(string name, string? checkpoint, NativeApi.OpenOptions? options, string?[]? calibration, out nint handle)
    {
        var pins = new List<GCHandle>();
        try
        {
            var pointers = new nint[calibration?.Length ?? 0];
            for (int i = 0; i < pointers.Length; i++)
            {
                if (calibration![i] is not { } path) continue;
                var pin = GCHandle.Alloc(Z(path), GCHandleType.Pinned);
                pins.Add(pin);
                pointers[i] = pin.AddrOfPinnedObject();
            }
            nint h;
            int status;
            fixed (byte* n = Z(name))
            fixed (byte* c = checkpoint is null ? null : Z(checkpoint))
            fixed (nint* list = pointers)
            {
                if (options is { } o)
                {
                    if (calibration is not null)
                    {
                        o.CalibrationImages = (byte**)list;
                        if (o.CalibrationCount == 0) o.CalibrationCount = calibration.Length;
                    }
                    status = NativeApi.ModelOpenEx(n, c, &o, &h);
                }
                else
                {
                    status = NativeApi.ModelOpenEx(n, c, null, &h);
                }
            }
            handle = h;
            return status;
        }
        finally
        {
            foreach (var pin in pins) pin.Free();
        }
    }

    private static int Precision(nint handle)
    {
        int p = -1;
        Assert.Equal(0, NativeApi.ModelPrecisionOf(handle, &p));
        return p;
    }

    private static string Report(nint handle)
    {
        byte* r = null;
        Assert.Equal(0, NativeApi.ModelQuantizationReport(handle, &r));
        return Marshal.PtrToStringUTF8((nint)r)!;
    }

    private static float[] Logits(nint handle, string image)
    {
        var logits = new float[Classes];
        fixed (byte* p = Z(image))
        fixed (float* o = logits)
            Assert.Equal(0, NativeApi.RunImageFile(handle, p, o, Classes, null, 0));
        return logits;
    }

    [Fact]
    public void Open_ex_int8_reports_its_precision_and_deviation_and_float32_reports_nothing()
    {
        Assert.Equal(32, sizeof(NativeApi.OpenOptions)); // the header's comment says 32 on 64-bit targets

        Assert.Equal(0, OpenEx(Small, null, Options(), [Chelsea], out nint int8));
        try
        {
            Assert.Equal(NativeApi.PrecisionInt8, Precision(int8));
            string report = Report(int8);
            using var managed = ImageClassifier.CreateSynthetic(Small, new ModelOptions
            {
                Threads = 1, Precision = ModelPrecision.Int8, CalibrationImages = [Chelsea],
            });
            Assert.Equal(managed.QuantizationReport!.ToString(), report);
            Assert.StartsWith("int8 vs float32 on 1 calibration image (chelsea.png)", report);
            Assert.Contains("logits: cosine min", report);
            Assert.Contains("top-5 agreement", report);
            // The int8 handle runs, and gives the managed int8 model's bits.
            Assert.Equal(managed.Classify(Chelsea).Logits, Logits(int8, Chelsea));
            byte* name;
            Assert.Equal(0, NativeApi.ModelName(int8, &name));
            Assert.Equal(Small, Marshal.PtrToStringUTF8((nint)name));
            // Out-pointers may be NULL.
            Assert.Equal(0, NativeApi.ModelPrecisionOf(int8, null));
            Assert.Equal(0, NativeApi.ModelQuantizationReport(int8, null));
        }
        finally
        {
            NativeApi.ModelDestroy(int8);
        }

        // float32: by open_ex with the defaults, with NULL options, and by the old open: precision 0, report "".
        Assert.Equal(0, OpenEx(Small, null, Options(NativeApi.PrecisionFloat32), null, out nint f32));
        Assert.Equal(0, OpenEx(Small, null, null, null, out nint defaults));
        nint old;
        fixed (byte* n = Z(Small)) Assert.Equal(0, NativeApi.ModelOpen(n, null, 1, &old));
        try
        {
            foreach (nint h in new[] { f32, defaults, old })
            {
                Assert.Equal(NativeApi.PrecisionFloat32, Precision(h));
                Assert.Equal("", Report(h));
            }
            Assert.Equal(Logits(old, Chelsea), Logits(f32, Chelsea));
        }
        finally
        {
            NativeApi.ModelDestroy(f32);
            NativeApi.ModelDestroy(defaults);
            NativeApi.ModelDestroy(old);
        }

        // Both queries on dead and NULL handles.
        byte* text;
        int precision;
        Expect(Status.InvalidArgument, NativeApi.ModelPrecisionOf(f32, &precision), "is not a live aotvit_model handle");
        Expect(Status.InvalidArgument, NativeApi.ModelQuantizationReport(f32, &text), "is not a live aotvit_model handle");
        Expect(Status.NullPointer, NativeApi.ModelPrecisionOf(0, &precision), "model is NULL");
        Expect(Status.NullPointer, NativeApi.ModelQuantizationReport(0, &text), "model is NULL");
    }

    [Fact]
    public void Every_invalid_option_is_refused_before_loading_with_a_message_naming_the_field()
    {
        void Refused(Status status, string part, NativeApi.OpenOptions o, string?[]? calibration = null)
        {
            Expect(status, OpenEx(Small, null, o, calibration, out nint h), part);
            Assert.Equal(0, h);
        }

        // struct_size: 0 (not set), one short, absurd (uninitialised).
        Refused(Status.InvalidArgument, "options->struct_size is 0; this library needs at least 32", Options() with { StructSize = 0 });
        Refused(Status.InvalidArgument, "options->struct_size is 31; this library needs at least 32", Options() with { StructSize = 31 });
        Refused(Status.InvalidArgument, "options->struct_size is 4097, which no version of aotvit_open_options has", Options() with { StructSize = 4097 });
        Refused(Status.InvalidArgument, "which no version", Options() with { StructSize = nuint.MaxValue });
        // precision
        Refused(Status.InvalidArgument, "options->precision is 2; it must be AOTVIT_PRECISION_FLOAT32 (0) or AOTVIT_PRECISION_INT8 (1)", Options(precision: 2));
        Refused(Status.InvalidArgument, "options->precision is -1", Options(precision: -1));
        // threads
        Refused(Status.InvalidArgument, "options->threads is 1000; at most 256", Options(threads: 1000));
        // calibration list
        Refused(Status.InvalidArgument, "options->calibration_count is -1; it must be 0 or more", Options() with { CalibrationCount = -1 });
        Refused(Status.InvalidArgument, "options->calibration_count is 65; at most 64", Options() with { CalibrationCount = 65 });
        Refused(Status.NullPointer, "options->calibration_images is NULL but options->calibration_count is 2", Options() with { CalibrationCount = 2 });
        Refused(Status.NullPointer, "options->calibration_images[1] is NULL", Options(), [Chelsea, null, Coffee]);
        Refused(Status.InvalidArgument, "options->calibration_images[0] is an empty string", Options(), [""]);
        Refused(Status.InvalidArgument, "calibration images are used only with AOTVIT_PRECISION_INT8",
                Options(NativeApi.PrecisionFloat32), [Chelsea]);
        // Calibration images the loader cannot use: the file's own status.
        Refused(Status.IoError, "not found", Options(), [Path.Combine(_dir, "missing.png")]);
        string notAnImage = Path.Combine(_dir, "text.png");
        File.WriteAllText(notAnImage, "not an image");
        Refused(Status.BadImage, "", Options(), [notAnImage]);

        // NULL out and NULL model_name, as aotvit_model_open.
        var options = Options();
        fixed (byte* n = Z(Small))
        {
            Expect(Status.NullPointer, NativeApi.ModelOpenEx(n, null, &options, null), "out is NULL");
            nint h = 1;
            Expect(Status.NullPointer, NativeApi.ModelOpenEx(null, null, &options, &h), "model_name is NULL");
            Assert.Equal(0, h);
        }
        fixed (byte* unknown = Z("resnet-50"))
        {
            nint h;
            Expect(Status.InvalidArgument, NativeApi.ModelOpenEx(unknown, null, &options, &h), "unknown model 'resnet-50'");
        }
    }

    [Fact]
    public void A_larger_struct_from_a_newer_header_is_accepted_only_with_its_unknown_fields_zero()
    {
        // 48 bytes: this version's 32 plus 16 of fields a later header might add.
        byte* block = stackalloc byte[48];
        new Span<byte>(block, 48).Clear();
        var o = (NativeApi.OpenOptions*)block;
        *o = Options(NativeApi.PrecisionFloat32) with { StructSize = 48 };
        nint h;
        fixed (byte* n = Z(Small))
        {
            Assert.Equal(0, NativeApi.ModelOpenEx(n, null, o, &h));
            Assert.Equal(NativeApi.PrecisionFloat32, Precision(h));
            NativeApi.ModelDestroy(h);

            block[40] = 1;
            Expect(Status.InvalidArgument, NativeApi.ModelOpenEx(n, null, o, &h),
                   "options->struct_size is 48 and byte 40 is not zero: the options set a field this library");
            Assert.Equal(0, h);
        }
    }

    [Fact]
    public void Quantize_writes_an_int8_checkpoint_that_open_ex_loads_with_its_report()
    {
        string source = Path.Combine(_dir, "f32.safetensors"), quantized = Path.Combine(_dir, "int8.safetensors");
        SyntheticCheckpoint.Write(Small, source);

        byte* report = null;
        var calibration = new[] { Marshal.StringToCoTaskMemUTF8(Chelsea) };
        try
        {
            fixed (byte* n = Z(Small), i = Z(source), o = Z(quantized))
            fixed (nint* list = calibration)
            {
                // precision left at 0 (FLOAT32): quantize writes int8 regardless, and takes the calibration images.
                var options = Options(NativeApi.PrecisionFloat32) with { CalibrationImages = (byte**)list, CalibrationCount = 1 };
                Assert.Equal(0, NativeApi.Quantize(n, i, o, &options, &report));
            }
        }
        finally
        {
            Marshal.FreeCoTaskMem(calibration[0]);
        }
        string written = Marshal.PtrToStringUTF8((nint)report)!;
        Assert.StartsWith("int8 vs float32 on 1 calibration image (chelsea.png)", written);
        Assert.True(File.Exists(quantized));
        Assert.False(File.Exists(quantized + ".partial"));

        // Opened in int8: the report it carries (measured when written), and the in-place int8 model's outputs.
        Assert.Equal(0, OpenEx(Small, quantized, Options(), null, out nint reloaded));
        Assert.Equal(0, OpenEx(Small, source, Options(), [Chelsea], out nint inPlace));
        try
        {
            Assert.Equal(NativeApi.PrecisionInt8, Precision(reloaded));
            string carried = Report(reloaded);
            Assert.Contains("measured when the int8 checkpoint was written", carried);
            Assert.Equal(written.Replace("):", "), measured when the int8 checkpoint was written:"), carried);
            Assert.Equal(Report(inPlace), written);
            Assert.Equal(Logits(inPlace, Coffee), Logits(reloaded, Coffee));
        }
        finally
        {
            NativeApi.ModelDestroy(reloaded);
            NativeApi.ModelDestroy(inPlace);
        }

        // An int8 checkpoint needs int8: the old open and open_ex in float32 refuse it, saying how to open it.
        fixed (byte* n = Z(Small), c = Z(quantized))
        {
            nint h;
            Expect(Status.InvalidArgument, NativeApi.ModelOpen(n, c, 1, &h), "is an int8 checkpoint");
            var f32 = Options(NativeApi.PrecisionFloat32);
            Expect(Status.InvalidArgument, NativeApi.ModelOpenEx(n, c, &f32, &h), "is an int8 checkpoint");
        }
    }

    [Fact]
    public void Quantize_refuses_bad_arguments_with_the_input_statuses()
    {
        string source = Path.Combine(_dir, "f32.safetensors");
        string target = Path.Combine(_dir, "out.safetensors");
        File.WriteAllBytes(source, [1, 2, 3]);
        var report = new nint[] { 1 };
        int Quantize(string? model, string? input, string? output, NativeApi.OpenOptions? options)
        {
            fixed (byte* n = model is null ? null : Z(model), i = input is null ? null : Z(input), o = output is null ? null : Z(output))
            fixed (nint* r = report)
            {
                if (options is { } value) return NativeApi.Quantize(n, i, o, &value, (byte**)r);
                return NativeApi.Quantize(n, i, o, null, (byte**)r);
            }
        }

        Expect(Status.NullPointer, Quantize(null, source, target, null), "model_name is NULL");
        Assert.Equal("", Marshal.PtrToStringUTF8(report[0])); // "" on failure, never garbage
        Expect(Status.NullPointer, Quantize(Small, null, target, null), "in_path is NULL");
        Expect(Status.NullPointer, Quantize(Small, source, null, null), "out_path is NULL");
        Expect(Status.InvalidArgument, Quantize(Small, "", target, null), "in_path is an empty string");
        Expect(Status.InvalidArgument, Quantize(Small, source, "", null), "out_path is an empty string");
        Expect(Status.InvalidArgument, Quantize("resnet-50", source, target, null), "unknown model 'resnet-50'");
        Expect(Status.InvalidArgument, Quantize(Small, source, target, Options(precision: 9)), "options->precision is 9");
        Expect(Status.InvalidArgument, Quantize(Small, source, target, Options() with { StructSize = 8 }), "options->struct_size is 8");
        Expect(Status.InvalidArgument, Quantize(Small, source, _dir, null), "is a folder");
        Expect(Status.IoError, Quantize(Small, source, Path.Combine(_dir, "no", "such", "x.safetensors"), null), "does not exist");
        Expect(Status.IoError, Quantize(Small, Path.Combine(_dir, "missing.safetensors"), target, null), "not found");
        Expect(Status.BadCheckpoint, Quantize(Small, source, target, null), "");
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".partial"));
    }
}

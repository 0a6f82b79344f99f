// `native-abi`: random sequences of 5-40 calls on the C ABI's logic (src/Native/NativeApi.cs, the methods behind
// every aotvit_* export), made the way a C caller makes them: raw pointers into native memory, NULLs, lengths that
// are too short / too long / zero, batches that do not match, garbage and destroyed handles, corrupt files and
// image bytes, the wrong kind of model, and now and then two threads on one handle (one of them may destroy it).
//
// Oracle: include/aotvit.h. For each call the target computes, from the arguments alone, the set of documented
// statuses the call may return ("argument" errors: handle, NULL, counts, lengths, limits computable from arguments);
// if that set is empty, the content errors (file missing, image or checkpoint corrupt, image over a limit); if both
// are empty the call MUST return AOTVIT_OK. A dead or garbage handle MUST give INVALID_ARGUMENT, NULL MUST give
// NULL_POINTER, before anything else. Any other status is a CRASH.
// Further invariants: every output buffer sits between two 64-byte canaries that must survive every call; a failed
// call writes nothing into its outputs (except open's documented *out = NULL); a successful one writes only the
// `needed` first elements; input buffers (const) are never written; last_error is "" after success and non-empty
// after failure (and the pointer agrees with the message); the same input gives bit-identical outputs on every call,
// every handle and every path (file, bytes, preprocess + run_pixels).
//
// Cost: one synthetic MobileViT handle (and, if asked, one synthetic ViT) is opened in the constructor and shared by
// every input; a fresh MobileViT is opened by one input in `openEvery`, a fresh ViT by one in `openViTEvery`.
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using AotVit.Native;

namespace AotVit.Fuzzing;

public sealed unsafe class NativeAbiTarget : FuzzTarget
{
    // ---- the contract's facts (aotvit.h) ----

    private sealed record OutputFacts(string Name, int[] Shape, int Floats);

    private sealed record ModelFacts(string Name, int Kind, int C, int H, int W, OutputFacts[] Outputs, int Labels)
    {
        public int InputFloats => C * H * W;
    }

    private static readonly ModelFacts MobileViT = new("mobilevit-small", 1, 3, 256, 256, [new("logits", [1000], 1000)], 1000);

    private static readonly ModelFacts ViT = new("vit-base-patch32-224-in21k", 0, 3, 224, 224,
        [new("last_hidden_state", [50, 768], 50 * 768), new("pooler_output", [768], 768)], 0);

    private const long MaxImagePixels = 89_478_485;
    private const int MaxBatchPerCall = 1024;

    private readonly int _openEvery, _openViTEvery;
    private readonly nint _sharedMobileViT, _sharedViT;
    private readonly string _dir;
    private readonly List<(string Name, byte[] Bytes)> _images = [];
    private readonly List<(string Name, string Path, Status[] Content, bool MaybeOk)> _imageFiles = [];
    private readonly List<(string Name, string? Path, Status[] Content)> _checkpoints = [];
    private readonly List<(string Name, string Path, Status[] Content, bool MaybeOk)> _costlyFiles = [];
    private readonly Dictionary<string, float[]> _pixelSources = [];   // name -> one preprocessed image
    private readonly IReadOnlyList<string> _pixelSourceNames;            // its keys in a fixed (ordinal) order, for picking
    private readonly ConcurrentDictionary<string, byte[]> _references = new();
    private readonly ConcurrentDictionary<string, long> _calls = new();

    public NativeAbiTarget(string repoRoot, int openEvery = 40, bool sharedViT = false, int openViTEvery = 0)
    {
        _openEvery = openEvery;
        _openViTEvery = openViTEvery;
        _dir = Directory.CreateTempSubdirectory("aotvit-abifuzz-").FullName;
        string seeds = Path.Combine(repoRoot, "tests/AotVit.Tests/data/imaging/fuzz");
        foreach (string name in new[] { "seed.png", "seed.jpg", "seed.bmp", "seed.gif", "seed.tga", "seed_progressive.jpg" })
            _images.Add((name, File.ReadAllBytes(Path.Combine(seeds, name))));
        _images.Add(("grey.png", File.ReadAllBytes(Path.Combine(repoRoot, "tests/AotVit.Tests/data/images/grey.png"))));

        foreach (var (name, bytes) in _images)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllBytes(path, bytes);
            _imageFiles.Add((name, path, [], false));
        }
        string Write(string name, byte[] bytes)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllBytes(path, bytes);
            return path;
        }
        byte[] png = _images[0].Bytes;
        _imageFiles.Add(("text", Write("notes.png", "this is not an image at all"u8.ToArray()), [Status.BadImage], false));
        _imageFiles.Add(("empty file", Write("empty.png", []), [Status.BadImage], false));
        _imageFiles.Add(("zeros", Write("zeros.png", new byte[64]), [Status.BadImage], false));
        _imageFiles.Add(("half png", Write("half.png", png[..(png.Length / 2)]), [Status.BadImage], false));
        _imageFiles.Add(("30000x30000 png header", Write("bomb.png", PngHeader(30000, 30000)), [Status.LimitExceeded, Status.BadImage], false));
        _imageFiles.Add(("missing", Path.Combine(_dir, "missing.png"), [Status.IoError], false));
        _imageFiles.Add(("directory", _dir, [Status.IoError], false));
        _imageFiles.Add(("empty path", "", [Status.IoError], false));
        _imageFiles.Add(("/dev/null", "/dev/null", [Status.BadImage], false));
        // Expensive (each is read up to the 256 MiB limit or refused from its length): picked once in ~60 file calls.
        _costlyFiles.Add(("/dev/zero", "/dev/zero", [Status.LimitExceeded], false));
        string sparse = Path.Combine(_dir, "sparse.png");
        using (var stream = File.Create(sparse))
        {
            stream.Write(png);
            stream.SetLength(300L << 20);   // sparse: 300 MiB above the 256 MiB ImageLimits.MaxEncodedBytes, no disk used
        }
        _costlyFiles.Add(("300 MiB sparse file", sparse, [Status.LimitExceeded], false));

        var random = new Random(5);
        var noise = new byte[4096];
        random.NextBytes(noise);
        byte[] wrongTensors = SafeTensors("{\"foo\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4);
        byte[] hugeHeader = new byte[16];
        BitConverter.TryWriteBytes(hugeHeader, long.MaxValue);
        _checkpoints.Add(("NULL", null, []));
        _checkpoints.Add(("missing", Path.Combine(_dir, "missing.safetensors"), [Status.IoError]));
        _checkpoints.Add(("directory", _dir, [Status.IoError]));
        _checkpoints.Add(("empty path", "", [Status.IoError]));
        _checkpoints.Add(("random bytes", Write("noise.safetensors", noise), [Status.BadCheckpoint]));
        _checkpoints.Add(("2 bytes", Write("tiny.safetensors", [1, 2]), [Status.BadCheckpoint]));
        _checkpoints.Add(("wrong tensors", Write("wrong.safetensors", wrongTensors), [Status.BadCheckpoint]));
        _checkpoints.Add(("huge header length", Write("huge.safetensors", hugeHeader), [Status.BadCheckpoint]));
        _checkpoints.Add(("truncated header", Write("cut.safetensors", wrongTensors[..20]), [Status.BadCheckpoint]));
        _checkpoints.Add(("an image", Write("image.safetensors", png), [Status.BadCheckpoint]));
        _checkpoints.Add(("/dev/null", "/dev/null", [Status.BadCheckpoint]));
        _checkpoints.Add(("/dev/zero", "/dev/zero", [Status.BadCheckpoint]));

        _sharedMobileViT = OpenOrThrow(MobileViT.Name);
        _sharedViT = sharedViT ? OpenOrThrow(ViT.Name) : 0;
        foreach (var (name, bytes) in _images.Take(2))
        {
            var pixels = new float[MobileViT.InputFloats];
            fixed (byte* d = bytes)
            fixed (float* p = pixels)
                if (NativeApi.PreprocessImageBytes(_sharedMobileViT, d, (nuint)bytes.Length, p, (nuint)pixels.Length) != 0)
                    throw new InvalidOperationException($"preprocessing {name} failed: {Errors.LastMessage}");
            _pixelSources[name] = pixels;
        }
        var ramp = new float[MobileViT.InputFloats];
        for (int i = 0; i < ramp.Length; i++) ramp[i] = (i % 511 - 255) / 128f;
        _pixelSources["ramp"] = ramp;
        _pixelSources["zeros"] = new float[MobileViT.InputFloats];
        _pixelSourceNames = [.. _pixelSources.Keys.Order(StringComparer.Ordinal)];
    }

    public override string Name => "native-abi";

    public override TimeSpan PerInputTimeout => TimeSpan.FromSeconds(120);

    public override string? ExpectedError(Exception exception) => null;   // statuses are results, never exceptions

    /// <summary>How often each (function, status) was seen, over all calls of all inputs.</summary>
    public string CallSummary()
    {
        var text = new StringBuilder();
        foreach (var (bucket, count) in _calls.OrderBy(p => p.Key, StringComparer.Ordinal)) text.AppendLine($"  call   {count,8}  {bucket}");
        return text.ToString();
    }

    public IReadOnlyDictionary<string, long> CallBuckets => _calls;

    public override void Dispose()
    {
        NativeApi.ModelDestroy(_sharedMobileViT);
        if (_sharedViT != 0) NativeApi.ModelDestroy(_sharedViT);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
        base.Dispose();
    }

    private static nint OpenOrThrow(string name)
    {
        nint h;
        fixed (byte* n = Z(name))
            if (NativeApi.ModelOpen(n, null, 1, &h) != 0) throw new InvalidOperationException($"open {name}: {Errors.LastMessage}");
        return h;
    }

    // ---- handles ----

    private enum HandleKind { SharedMobileViT, SharedViT, Local, Null, Garbage }

    private sealed record HandleRef(HandleKind Kind, int Local = -1, nint Garbage = 0)
    {
        public override string ToString() => Kind switch
        {
            HandleKind.Local => $"local#{Local}",
            HandleKind.Garbage => $"garbage 0x{Garbage:x}",
            _ => Kind.ToString(),
        };
    }

    private enum SlotState { Unopened, Live, Failed, Dead, Racing }

    private sealed class Slot
    {
        public nint Token;
        public SlotState State = SlotState.Unopened;
        public ModelFacts? Facts;
    }

    /// <summary>Everything one input's execution shares between its steps.</summary>
    private sealed class Run
    {
        public readonly List<Slot> Locals = [];
        public int Calls;
    }

    private readonly record struct Resolved(nint Token, ModelFacts? Facts, Status? HandleError, bool Racing);

    private Resolved Resolve(Run run, HandleRef h)
    {
        switch (h.Kind)
        {
            case HandleKind.SharedMobileViT: return new(_sharedMobileViT, MobileViT, null, false);
            case HandleKind.SharedViT: return new(_sharedViT, ViT, null, false);
            case HandleKind.Null: return new(0, null, Status.NullPointer, false);
            case HandleKind.Garbage: return new(h.Garbage, null, Status.InvalidArgument, false);
        }
        var slot = run.Locals[h.Local];
        lock (slot)
            return slot.State switch
            {
                SlotState.Live => new(slot.Token, slot.Facts, null, false),
                SlotState.Racing => new(slot.Token, slot.Facts, null, true),
                SlotState.Dead => new(slot.Token, null, Status.InvalidArgument, false),
                _ => new(0, null, Status.NullPointer, false),   // open failed: *out was set to NULL
            };
    }

    // ---- expectations ----

    private sealed class Expect
    {
        private readonly HashSet<Status> _arguments = [];
        private readonly HashSet<Status> _content = [];
        private Status? _exact;
        public bool MaybeOk;
        public bool Racing;

        public Expect(Resolved h)
        {
            _exact = h.HandleError;
            Racing = h.Racing;
        }

        public bool HandleOk => _exact is null;
        public void Arg(Status s) => _arguments.Add(s);
        public void Arg(bool condition, Status s) { if (condition) _arguments.Add(s); }
        public void Content(Status s) => _content.Add(s);
        public bool MustFail => _exact is not null || _arguments.Count > 0 || _content.Count > 0 && !MaybeOk;
        public bool ArgumentsValid => _exact is null && _arguments.Count == 0;

        public HashSet<Status> Allowed()
        {
            HashSet<Status> allowed = _exact is Status e ? [e]
                : _arguments.Count > 0 ? [.. _arguments]
                : _content.Count > 0 ? [.. _content]
                : [Status.Ok];
            if (_exact is null && _arguments.Count == 0 && _content.Count > 0 && MaybeOk) allowed.Add(Status.Ok);
            if (Racing) allowed.Add(Status.InvalidArgument);
            return allowed;
        }
    }

    private void Check(Run run, string function, string call, int status, Expect expect)
    {
        run.Calls++;
        var s = (Status)status;
        _calls.AddOrUpdate($"{function}: {(Enum.IsDefined(s) ? StatusName(s) : status.ToString())}", 1, (_, c) => c + 1);
        var allowed = expect.Allowed();
        if (!allowed.Contains(s))
            throw new FuzzInvariantException($"{call}: returned {status} ({s}), the contract allows {string.Join(" / ", allowed.Select(StatusName))}; last_error: {Errors.LastMessage}");
        string message = Errors.LastMessage;
        string? pointed = Marshal.PtrToStringUTF8((nint)Errors.LastErrorPointer());
        if (pointed != message) throw new FuzzInvariantException($"{call}: last_error pointer says '{pointed}', the message is '{message}'");
        if (s == Status.Ok && message.Length != 0) throw new FuzzInvariantException($"{call}: succeeded but last_error is '{message}'");
        if (s != Status.Ok && message.Length == 0) throw new FuzzInvariantException($"{call}: failed with {s} but last_error is empty");
    }

    private static string StatusName(Status s) => "AOTVIT_" + s switch
    {
        Status.Ok => "OK", Status.InvalidArgument => "INVALID_ARGUMENT", Status.NullPointer => "NULL_POINTER",
        Status.BufferTooSmall => "BUFFER_TOO_SMALL", Status.IoError => "IO_ERROR", Status.BadCheckpoint => "BAD_CHECKPOINT",
        Status.BadImage => "BAD_IMAGE", Status.WrongModelKind => "WRONG_MODEL_KIND", Status.LimitExceeded => "LIMIT_EXCEEDED",
        Status.OutOfMemory => "OUT_OF_MEMORY", _ => "INTERNAL_ERROR",
    };

    // ---- guarded native buffers ----

    /// <summary>NativeMemory with 64-byte canaries on both sides; the body starts filled with 0xCD (or given data).</summary>
    private sealed class Guarded : IDisposable
    {
        private const int Guard = 64;
        private const byte GuardByte = 0xA5, Fill = 0xCD;
        private readonly byte* _base;
        private readonly nuint _bytes;
        private readonly byte[] _initial;
        public readonly string What;
        public readonly int ElementSize;
        public readonly nuint Count;

        public Guarded(string what, nuint count, int elementSize, ReadOnlySpan<byte> content = default)
        {
            What = what;
            Count = count;
            ElementSize = elementSize;
            _bytes = count * (nuint)elementSize;
            _base = (byte*)NativeMemory.Alloc(_bytes + 2 * Guard);
            new Span<byte>(_base, Guard).Fill(GuardByte);
            new Span<byte>(_base + Guard + _bytes, Guard).Fill(GuardByte);
            var body = new Span<byte>(_base + Guard, (int)_bytes);
            body.Fill(Fill);
            content[..Math.Min(content.Length, body.Length)].CopyTo(body);
            _initial = body.ToArray();
        }

        public void* Pointer => _base + Guard;
        public Span<byte> Body => new(_base + Guard, (int)_bytes);

        public void CheckGuards(string call)
        {
            if (new Span<byte>(_base, Guard).ContainsAnyExcept(GuardByte))
                throw new FuzzInvariantException($"{call}: wrote before the start of {What} (canary overwritten)");
            if (new Span<byte>(_base + Guard + _bytes, Guard).ContainsAnyExcept(GuardByte))
                throw new FuzzInvariantException($"{call}: wrote past the end of {What} ({Count} elements; canary overwritten)");
        }

        /// <summary>Elements [from, Count) are as they were before the call.</summary>
        public void CheckUnchangedFrom(string call, nuint from)
        {
            int start = (int)Math.Min(from * (nuint)ElementSize, _bytes);
            if (!Body[start..].SequenceEqual(_initial.AsSpan(start)))
                throw new FuzzInvariantException($"{call}: {What} changed at or after element {from} (a failed call writes nothing; a successful one only the needed elements)");
        }

        public void Dispose() => NativeMemory.Free(_base);
    }

    /// <summary>An optional pointer argument: NULL (with some length) or a guarded buffer of exactly the declared length.</summary>
    private sealed record BufferSpec(bool IsNull, nuint Length)
    {
        public override string ToString() => IsNull ? $"NULL/{Length}" : $"buf[{Length}]";
    }

    private static BufferSpec OutSpec(Random r, long need)
    {
        long length = r.Next(12) switch
        {
            0 => 0,
            1 => 1,
            2 or 3 => need - 1,
            4 => need + 1 + r.Next(64),
            5 => need / 2,
            _ => need,
        };
        bool isNull = r.Next(14) == 0;
        return new(isNull, (nuint)Math.Clamp(length, 0, 1L << 20));
    }

    private static Guarded? Allocate(BufferSpec spec, string what, int elementSize, ReadOnlySpan<byte> content = default) =>
        spec.IsNull ? null : new Guarded(what, spec.Length, elementSize, content);

    private static void* P(Guarded? g) => g is null ? null : g.Pointer;

    // ---- inputs ----

    public override FuzzCase Next(Random random, long index)
    {
        var plan = new List<(string Text, Action<Run> Execute)>();
        var locals = new List<ModelFacts?>();   // planned kind of each local slot (null: an open that must fail)
        bool mayOpen = _openEvery > 0 && index % _openEvery == 0;
        bool mayOpenViT = _openViTEvery > 0 && index % _openViTEvery == _openViTEvery / 2;
        int calls = random.Next(5, 41);
        int opensPlanned = 0;
        for (int i = 0; i < calls; i++)
        {
            int choice = random.Next(100);
            if (choice < 10 && opensPlanned < 3)
            {
                // Open: valid (only when this input may pay for it) or one of the cheap failures.
                bool valid = (mayOpen || mayOpenViT) && opensPlanned == 0 && random.Next(2) == 0;
                plan.Add(PlanOpen(random, locals, valid ? (mayOpenViT ? ViT : MobileViT) : null));
                opensPlanned++;
            }
            else if (choice < 16)
            {
                plan.Add(PlanDestroy(random, locals));
            }
            else if (choice < 19 && (locals.Any(f => f is not null) || random.Next(3) == 0))
            {
                plan.Add(PlanRace(random, locals));
            }
            else
            {
                plan.Add(PlanCall(random, locals));
            }
        }
        string text = string.Join("\n", plan.Select((p, i) => $"{i}: {p.Text}"));
        return new FuzzCase($"{plan.Count} calls", Encoding.UTF8.GetBytes(text), ".txt", () => Execute(plan, locals.Count));
    }

    private FuzzResult Execute(List<(string Text, Action<Run> Execute)> plan, int localCount)
    {
        var run = new Run();
        for (int i = 0; i < localCount; i++) run.Locals.Add(new Slot());
        bool opened = false;
        try
        {
            foreach (var (text, execute) in plan)
            {
                try { execute(run); }
                catch (FuzzInvariantException e) { throw new FuzzInvariantException($"step '{text}': {e.Message}"); }
            }
        }
        finally
        {
            foreach (var slot in run.Locals.Where(s => s.State is SlotState.Live or SlotState.Racing))
            {
                opened = true;
                int status = NativeApi.ModelDestroy(slot.Token);
                if (status != 0) throw new FuzzInvariantException($"destroying a live local handle at the end returned {status}: {Errors.LastMessage}");
            }
        }
        opened |= run.Locals.Any(s => s.State == SlotState.Dead);
        return FuzzResult.Ok(opened ? "sequence with a fresh handle" : "sequence");
    }

    private static HandleRef PickHandle(Random r, List<ModelFacts?> locals, bool sharedViT)
    {
        int c = r.Next(100);
        if (c < 60) return new(HandleKind.SharedMobileViT);
        if (c < 70 && sharedViT) return new(HandleKind.SharedViT);
        if (c < 82 && locals.Count > 0) return new(HandleKind.Local, r.Next(locals.Count));
        if (c < 90) return new(HandleKind.Null);
        if (c < 97) return new(HandleKind.Garbage, Garbage: r.Pick(GarbageHandles()));
        return new(HandleKind.SharedMobileViT);
    }

    private static readonly nint[] s_fixedGarbage = [1, -1, 0x1000, unchecked((nint)0xdeadbeef), nint.MaxValue, nint.MinValue, unchecked((nint)(0x5A5A_0000L << 4 | 8))];

    private static nint[] GarbageHandles() => s_fixedGarbage;

    private ModelFacts FactsOf(HandleRef h, List<ModelFacts?> locals) => h.Kind switch
    {
        HandleKind.SharedViT => ViT,
        HandleKind.Local => locals[h.Local] ?? MobileViT,
        _ => MobileViT,
    };

    private (string, Action<Run>) PlanOpen(Random r, List<ModelFacts?> locals, ModelFacts? valid)
    {
        int slot = locals.Count;
        string? name;
        (string Name, string? Path, Status[] Content) checkpoint;
        int threads = r.Pick([-1, 0, 1, 2]);
        bool outNull = false;
        if (valid is not null)
        {
            name = r.Next(4) == 0 ? valid.Name.ToUpperInvariant() : valid.Name;
            checkpoint = _checkpoints[0];
        }
        else
        {
            name = r.Pick<string?>([null, "resnet-50", "", "mobilevit-small ", "mobilevit", "vit", "\u00ffmobilevit-small", MobileViT.Name, ViT.Name]);
            checkpoint = r.Pick(_checkpoints);
            if (name is "mobilevit-small" or "vit-base-patch32-224-in21k" && checkpoint.Path is null)
            {
                // Must fail cheaply: NULL out, or too many threads.
                if (r.Next(2) == 0) outNull = true;
                else threads = r.Pick([257, 1000, int.MaxValue]);
            }
            else if (r.Next(10) == 0) outNull = true;
            else if (r.Next(10) == 0) threads = 300;
        }
        bool known = name is not null && (name.Equals(MobileViT.Name, StringComparison.OrdinalIgnoreCase) || name.Equals(ViT.Name, StringComparison.OrdinalIgnoreCase));
        ModelFacts? facts = known && checkpoint.Path is null && !outNull && threads <= 256
            ? (name!.Equals(MobileViT.Name, StringComparison.OrdinalIgnoreCase) ? MobileViT : ViT) : null;
        locals.Add(facts);
        string text = $"open(name {(name is null ? "NULL" : $"'{name}'")}, checkpoint {checkpoint.Name}, threads {threads}, out {(outNull ? "NULL" : "ptr")}) -> local#{slot}";
        return (text, run =>
        {
            var expect = new Expect(new Resolved(0, null, null, false));
            expect.Arg(outNull, Status.NullPointer);
            expect.Arg(name is null, Status.NullPointer);
            expect.Arg(name is not null && !known, Status.InvalidArgument);
            expect.Arg(threads > 256, Status.InvalidArgument);
            foreach (var s in checkpoint.Content) expect.Content(s);
            using var outBuffer = outNull ? null : new Guarded("out", 1, sizeof(nint));
            int status;
            fixed (byte* n = name is null ? null : Z(name))
            fixed (byte* c = checkpoint.Path is null ? null : Z(checkpoint.Path))
                status = NativeApi.ModelOpen(n, c, threads, (nint*)P(outBuffer));
            Check(run, "open", text, status, expect);
            outBuffer?.CheckGuards(text);
            var slotState = run.Locals[slot];
            if (outBuffer is null)
            {
                slotState.State = SlotState.Failed;
                return;
            }
            nint token = *(nint*)outBuffer.Pointer;
            if (status != 0)
            {
                if (token != 0) throw new FuzzInvariantException($"{text}: failed but *out is 0x{token:x}, not NULL");
                slotState.State = SlotState.Failed;
                return;
            }
            if (token == 0 || token == _sharedMobileViT || token == _sharedViT || run.Locals.Any(s => s != slotState && s.Token == token))
                throw new FuzzInvariantException($"{text}: returned handle 0x{token:x} is NULL or already in use");
            slotState.Token = token;
            slotState.Facts = facts;
            slotState.State = SlotState.Live;
        });
    }

    private (string, Action<Run>) PlanDestroy(Random r, List<ModelFacts?> locals)
    {
        int c = r.Next(10);
        HandleRef h = c < 6 && locals.Count > 0 ? new(HandleKind.Local, r.Next(locals.Count))
            : c < 8 ? new(HandleKind.Null)
            : new(HandleKind.Garbage, Garbage: r.Pick(GarbageHandles()));
        string text = $"destroy({h})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            // destroy(NULL) is a no-op that succeeds; a dead or garbage handle is INVALID_ARGUMENT.
            var expect = new Expect(resolved with { HandleError = resolved.HandleError == Status.NullPointer ? null : resolved.HandleError });
            int status = NativeApi.ModelDestroy(resolved.Token);
            Check(run, "destroy", text, status, expect);
            if (h.Kind == HandleKind.Local && resolved.HandleError is null)
            {
                var slot = run.Locals[h.Local];
                lock (slot) slot.State = SlotState.Dead;
            }
        });
    }

    /// <summary>Two threads, 2-4 calls each, on one handle; thread B may destroy it (when it is a local handle).</summary>
    private (string, Action<Run>) PlanRace(Random r, List<ModelFacts?> locals)
    {
        var liveLocals = Enumerable.Range(0, locals.Count).Where(i => locals[i] is not null).ToList();
        HandleRef h = liveLocals.Count > 0 && r.Next(2) == 0 ? new(HandleKind.Local, r.Pick(liveLocals)) : new(HandleKind.SharedMobileViT);
        ModelFacts facts = FactsOf(h, locals);
        var a = Enumerable.Range(0, r.Next(2, 5)).Select(_ => PlanCall(r, locals, h, facts)).ToList();
        var b = Enumerable.Range(0, r.Next(2, 5)).Select(_ => PlanCall(r, locals, h, facts)).ToList();
        bool destroy = h.Kind == HandleKind.Local && r.Next(2) == 0;
        int destroyAt = destroy ? r.Next(b.Count + 1) : -1;
        string text = $"race on {h}: A[{string.Join("; ", a.Select(x => x.Item1))}] B[{string.Join("; ", b.Select(x => x.Item1))}]" + (destroy ? $" B destroys after call {destroyAt}" : "");
        return (text, run =>
        {
            Slot? slot = h.Kind == HandleKind.Local ? run.Locals[h.Local] : null;
            bool live = slot is null || slot.State == SlotState.Live;
            if (slot is not null && live && destroy) slot.State = SlotState.Racing;
            Exception? failure = null;
            void Thread(List<(string, Action<Run>)> steps, bool destroyer)
            {
                try
                {
                    if (Errors.LastMessage.Length != 0) throw new FuzzInvariantException("a new thread's last_error is not empty");
                    for (int i = 0; i <= steps.Count; i++)
                    {
                        if (destroyer && i == destroyAt && slot is not null && live)
                        {
                            int status = NativeApi.ModelDestroy(slot.Token);
                            if (status != 0) throw new FuzzInvariantException($"destroy during the race returned {status}: {Errors.LastMessage}");
                        }
                        if (i < steps.Count) steps[i].Item2(run);
                    }
                }
                catch (Exception e) { Interlocked.CompareExchange(ref failure, e, null); }
            }
            var ta = new System.Threading.Thread(() => Thread(a, false));
            var tb = new System.Threading.Thread(() => Thread(b, true));
            ta.Start();
            tb.Start();
            ta.Join();
            tb.Join();
            if (slot is not null && live && destroy) slot.State = SlotState.Dead;
            if (failure is FuzzInvariantException f) throw new FuzzInvariantException($"race: {f.Message}");
            if (failure is not null) throw new InvalidOperationException("race thread failed", failure);
        });
    }

    private (string, Action<Run>) PlanCall(Random r, List<ModelFacts?> locals, HandleRef? fixedHandle = null, ModelFacts? fixedFacts = null)
    {
        HandleRef h = fixedHandle ?? PickHandle(r, locals, _sharedViT != 0);
        ModelFacts facts = fixedFacts ?? FactsOf(h, locals);
        return r.Next(16) switch
        {
            0 => PlanInfo(r, h),
            1 => PlanOutputInfo(r, h),
            2 => PlanLabel(r, h),
            3 or 4 => PlanRunBytes(r, h, facts),
            5 => PlanRunFile(r, h, facts),
            6 or 7 => PlanRunRgb8(r, h, facts),
            8 or 9 => PlanRunPixels(r, h, facts),
            10 => PlanPreprocess(r, h, facts, file: r.Next(2) == 0),
            11 or 12 => PlanTopK(r, h),
            13 => ("version", run =>
            {
                if (Marshal.PtrToStringUTF8((nint)NativeApi.Version()) != NativeApi.VersionText || !NativeApi.VersionText.StartsWith("0.1.0+", StringComparison.Ordinal))
                    throw new FuzzInvariantException("aotvit_version() changed or is malformed");
            }),
            _ => PlanInfo(r, h),
        };
    }

    private (string, Action<Run>) PlanInfo(Random r, HandleRef h)
    {
        int which = r.Next(5);
        bool[] nulls = Enumerable.Range(0, 3).Select(_ => r.Next(4) == 0).ToArray();
        string[] names = ["name", "kind", "input_shape", "output_count", "label_count"];
        string text = $"model_{names[which]}({h}, out {string.Join(",", nulls.Select(n => n ? "NULL" : "ptr"))})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            using var o0 = nulls[0] ? null : new Guarded("out", 1, 8);
            using var o1 = nulls[1] ? null : new Guarded("out1", 1, 4);
            using var o2 = nulls[2] ? null : new Guarded("out2", 1, 4);
            int status = which switch
            {
                0 => NativeApi.ModelName(resolved.Token, (byte**)P(o0)),
                1 => NativeApi.ModelKind(resolved.Token, (int*)P(o1)),
                2 => NativeApi.ModelInputShape(resolved.Token, (int*)P(o1), (int*)P(o2), (int*)P(which == 2 && !nulls[0] ? o0 : null)),
                3 => NativeApi.ModelOutputCount(resolved.Token, (int*)P(o1)),
                _ => NativeApi.ModelLabelCount(resolved.Token, (int*)P(o1)),
            };
            Check(run, "model_" + names[which], text, status, expect);
            foreach (var g in new[] { o0, o1, o2 }) g?.CheckGuards(text);
            if (status != 0)
            {
                foreach (var g in new[] { o0, o1, o2 }) g?.CheckUnchangedFrom(text, 0);
                return;
            }
            var f = resolved.Facts!;
            void Is(Guarded? g, int expected, string what)
            {
                if (g is not null && *(int*)g.Pointer != expected) throw new FuzzInvariantException($"{text}: {what} is {*(int*)g.Pointer}, expected {expected}");
            }
            switch (which)
            {
                case 0:
                    if (o0 is not null && Marshal.PtrToStringUTF8(*(nint*)o0.Pointer) != f.Name)
                        throw new FuzzInvariantException($"{text}: name is '{Marshal.PtrToStringUTF8(*(nint*)o0.Pointer)}', expected '{f.Name}'");
                    break;
                case 1: Is(o1, f.Kind, "kind"); break;
                case 2: Is(o1, f.C, "channels"); Is(o2, f.H, "height"); Is(o0, f.W, "width"); break;
                case 3: Is(o1, f.Outputs.Length, "output count"); break;
                default: Is(o1, f.Labels, "label count"); break;
            }
        });
    }

    private (string, Action<Run>) PlanOutputInfo(Random r, HandleRef h)
    {
        int index = r.Pick([-1, 0, 0, 1, 1, 2, int.MaxValue, int.MinValue]);
        bool[] nulls = Enumerable.Range(0, 4).Select(_ => r.Next(4) == 0).ToArray();
        string text = $"model_output_info({h}, {index}, {string.Join(",", nulls.Select(n => n ? "NULL" : "ptr"))})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk) expect.Arg(index < 0 || index >= resolved.Facts!.Outputs.Length, Status.InvalidArgument);
            using var name = nulls[0] ? null : new Guarded("name", 1, 8);
            using var shape = nulls[1] ? null : new Guarded("shape", 4, 4);   // AOTVIT_MAX_RANK ints
            using var rank = nulls[2] ? null : new Guarded("rank", 1, 4);
            using var floats = nulls[3] ? null : new Guarded("floats_per_image", 1, 8);
            int status = NativeApi.ModelOutputInfo(resolved.Token, index, (byte**)P(name), (int*)P(shape), (int*)P(rank), (nuint*)P(floats));
            Check(run, "model_output_info", text, status, expect);
            Guarded?[] all = [name, shape, rank, floats];
            foreach (var g in all) g?.CheckGuards(text);
            if (status != 0)
            {
                foreach (var g in all) g?.CheckUnchangedFrom(text, 0);
                return;
            }
            var o = resolved.Facts!.Outputs[index];
            if (name is not null && Marshal.PtrToStringUTF8(*(nint*)name.Pointer) != o.Name) throw new FuzzInvariantException($"{text}: wrong output name");
            if (rank is not null && *(int*)rank.Pointer != o.Shape.Length) throw new FuzzInvariantException($"{text}: wrong rank");
            if (floats is not null && *(nuint*)floats.Pointer != (nuint)o.Floats) throw new FuzzInvariantException($"{text}: wrong floats_per_image");
            if (shape is not null)
                for (int i = 0; i < 4; i++)
                    if (((int*)shape.Pointer)[i] != (i < o.Shape.Length ? o.Shape[i] : 0)) throw new FuzzInvariantException($"{text}: wrong shape[{i}]");
        });
    }

    private (string, Action<Run>) PlanLabel(Random r, HandleRef h)
    {
        int index = r.Pick([-1, 0, 1, 281, 999, 1000, int.MaxValue, int.MinValue, r.Next(1000)]);
        bool isNull = r.Next(4) == 0;
        string text = $"model_label({h}, {index}, {(isNull ? "NULL" : "ptr")})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk) expect.Arg(index < 0 || index >= resolved.Facts!.Labels, Status.InvalidArgument);
            using var label = isNull ? null : new Guarded("label", 1, 8);
            int status = NativeApi.ModelLabel(resolved.Token, index, (byte**)P(label));
            Check(run, "model_label", text, status, expect);
            label?.CheckGuards(text);
            if (status != 0) label?.CheckUnchangedFrom(text, 0);
            else if (label is not null && string.IsNullOrEmpty(Marshal.PtrToStringUTF8(*(nint*)label.Pointer)))
                throw new FuzzInvariantException($"{text}: empty label");
        });
    }

    // ---- inference ----

    private sealed record Outputs(BufferSpec Out0, BufferSpec Out1)
    {
        public override string ToString() => $"out0 {Out0}, out1 {Out1}";
    }

    private static Outputs PlanOutputs(Random r, ModelFacts facts, long batch)
    {
        var out0 = OutSpec(r, batch * facts.Outputs[0].Floats);
        BufferSpec out1 = facts.Outputs.Length == 1
            ? r.Next(8) switch { 0 => new(false, (nuint)r.Pick([0, 1000])), 1 => new(true, 1000), _ => new(true, 0) }
            : r.Next(3) == 0 ? new(true, r.Next(4) == 0 ? (nuint)768 : 0) : OutSpec(r, batch * facts.Outputs[1].Floats);
        return new(out0, out1);
    }

    /// <summary>Adds the output-buffer errors for `batch` images of the model behind the handle.</summary>
    private static void ExpectOutputs(Expect e, ModelFacts f, long batch, Outputs o)
    {
        long need0 = batch * f.Outputs[0].Floats;
        e.Arg(o.Out0.IsNull, Status.NullPointer);
        e.Arg(need0 > int.MaxValue, Status.LimitExceeded);
        e.Arg(!o.Out0.IsNull && o.Out0.Length < (nuint)Math.Min(need0, int.MaxValue), Status.BufferTooSmall);
        if (f.Outputs.Length == 1)
        {
            e.Arg(!o.Out1.IsNull || o.Out1.Length != 0, Status.InvalidArgument);
        }
        else if (o.Out1.IsNull)
        {
            e.Arg(o.Out1.Length != 0, Status.NullPointer);
        }
        else
        {
            long need1 = batch * f.Outputs[1].Floats;
            e.Arg(need1 > int.MaxValue, Status.LimitExceeded);
            e.Arg(o.Out1.Length < (nuint)Math.Min(need1, int.MaxValue), Status.BufferTooSmall);
        }
    }

    /// <summary>Allocates the outputs, runs the call, checks canaries, untouched tails and determinism per image.</summary>
    private void RunWithOutputs(Run run, string function, string text, Resolved resolved, Expect expect, Outputs outputs,
                                string[]? imageKeys, Func<nint, nint, nuint, nint, nuint, int> call)
    {
        using var out0 = Allocate(outputs.Out0, "out0", 4);
        using var out1 = Allocate(outputs.Out1, "out1", 4);
        int status = call(resolved.Token, (nint)P(out0), outputs.Out0.Length, (nint)P(out1), outputs.Out1.Length);
        Check(run, function, text, status, expect);
        out0?.CheckGuards(text);
        out1?.CheckGuards(text);
        if (status != 0)
        {
            out0?.CheckUnchangedFrom(text, 0);
            out1?.CheckUnchangedFrom(text, 0);
            return;
        }
        var f = resolved.Facts!;
        int batch = imageKeys!.Length;
        foreach (var (g, o) in new[] { (out0, 0), (out1, 1) })
        {
            if (g is null || o >= f.Outputs.Length) continue;
            int per = f.Outputs[o].Floats;
            g.CheckUnchangedFrom(text, (nuint)(batch * per));
            for (int i = 0; i < batch; i++)
            {
                var bits = g.Body.Slice(i * per * 4, per * 4);
                if (imageKeys[i] is null) continue;
                SameAsBefore($"{f.Name}|{f.Outputs[o].Name}|{imageKeys[i]}", bits, $"{text}: image {i} {f.Outputs[o].Name}");
            }
        }
    }

    private void SameAsBefore(string key, ReadOnlySpan<byte> bits, string what)
    {
        byte[] reference = _references.GetOrAdd(key, bits.ToArray());
        if (!bits.SequenceEqual(reference))
            throw new FuzzInvariantException($"{what}: output differs from an earlier run of the same input (key {key})");
    }

    private static string Key(string prefix, ReadOnlySpan<byte> data) => prefix + Convert.ToHexString(SHA256.HashData(data), 0, 12);

    /// <summary>Encoded image bytes: a valid seed, a mutation of one, or definitely-bad bytes.</summary>
    private (string Name, byte[] Bytes, Status[] Content, bool MaybeOk) PickImageBytes(Random r)
    {
        int c = r.Next(10);
        if (c < 4) { var (n, b) = r.Pick(_images); return (n, b, [], false); }
        if (c < 7)
        {
            var (n, b) = r.Pick(_images);
            byte[] mutated = Mutator.Mutate(r, b, 4);
            return ($"mutated {n} {Fingerprint(mutated)}", mutated, [Status.BadImage, Status.LimitExceeded], true);
        }
        switch (r.Next(5))
        {
            case 0: return ("text", "this is not an image"u8.ToArray(), [Status.BadImage], false);
            case 1:
                int zeros = r.Next(1, 200);
                return ($"{zeros} zeros", new byte[zeros], [Status.BadImage], false);
            case 2: return ("png signature only", _images[0].Bytes[..8], [Status.BadImage], false);
            case 3: return ("half png", _images[0].Bytes[..(_images[0].Bytes.Length / 2)], [Status.BadImage], false);
            default: return ("30000x30000 png header", PngHeader(30000, 30000), [Status.LimitExceeded, Status.BadImage], false);
        }
    }

    private (string, Action<Run>) PlanRunBytes(Random r, HandleRef h, ModelFacts facts)
    {
        var image = PickImageBytes(r);
        bool dataNull = r.Next(12) == 0;
        nuint size = r.Next(15) == 0 ? 0 : (nuint)image.Bytes.Length;
        var outputs = PlanOutputs(r, facts, 1);
        string text = $"run_image_bytes({h}, {(dataNull ? "NULL" : image.Name)}, size {size}, {outputs})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk)
            {
                expect.Arg(dataNull, Status.NullPointer);
                expect.Arg(!dataNull && size == 0, Status.BadImage);
                ExpectOutputs(expect, resolved.Facts!, 1, outputs);
                foreach (var s in image.Content) expect.Content(s);
                expect.MaybeOk = image.MaybeOk;
            }
            using var data = dataNull ? null : new Guarded("data", size, 1, image.Bytes);
            RunWithOutputs(run, "run_image_bytes", text, resolved, expect, outputs, [Key("enc:", image.Bytes)],
                (m, o0, l0, o1, l1) => NativeApi.RunImageBytes(m, (byte*)P(data), size, (float*)o0, l0, (float*)o1, l1));
            data?.CheckGuards(text);
            data?.CheckUnchangedFrom(text, 0);   // const input
        });
    }

    private (string Name, string Path, Status[] Content, bool MaybeOk) PickFile(Random r) =>
        r.Next(60) == 0 ? r.Pick(_costlyFiles) : r.Next(3) == 0 ? _imageFiles[r.Next(_images.Count)] : r.Pick(_imageFiles);

    private (string, Action<Run>) PlanRunFile(Random r, HandleRef h, ModelFacts facts)
    {
        var file = PickFile(r);
        bool pathNull = r.Next(12) == 0;
        var outputs = PlanOutputs(r, facts, 1);
        string text = $"run_image_file({h}, {(pathNull ? "NULL" : file.Name)}, {outputs})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk)
            {
                expect.Arg(pathNull, Status.NullPointer);
                ExpectOutputs(expect, resolved.Facts!, 1, outputs);
                foreach (var s in file.Content) expect.Content(s);
                expect.MaybeOk = file.MaybeOk;
            }
            string key = file.Content.Length == 0 ? Key("enc:", File.ReadAllBytes(file.Path)) : "file:" + file.Name;
            fixed (byte* p = pathNull ? null : Z(file.Path))
            {
                byte* path = p;
                RunWithOutputs(run, "run_image_file", text, resolved, expect, outputs, [key],
                    (m, o0, l0, o1, l1) => NativeApi.RunImageFile(m, path, (float*)o0, l0, (float*)o1, l1));
            }
        });
    }

    private (string, Action<Run>) PlanRunRgb8(Random r, HandleRef h, ModelFacts facts)
    {
        int c = r.Next(10);
        (int w, int hgt) = c switch
        {
            < 5 => (r.Next(1, 48), r.Next(1, 48)),
            5 => r.Next(2) == 0 ? (1, r.Pick([100, 150, 300, 1000])) : (r.Pick([100, 150, 300, 1000]), 1),
            6 => (r.Pick([0, -1, int.MinValue, 5]), r.Pick([0, -3, 7])),
            7 => (r.Pick([100_000, 65536, int.MaxValue]), r.Pick([100_000, 65536, 2])),
            _ => (r.Next(1, 16), r.Next(1, 16)),
        };
        long exact = (long)w * hgt * 3;
        long length = exact is > 0 and < (1 << 22) ? r.Next(6) switch { 0 => exact - 1, 1 => exact + 3, 2 => 0, _ => exact } : r.Next(64);
        bool rgbNull = r.Next(12) == 0;
        int seed = r.Next(4);
        var outputs = PlanOutputs(r, facts, 1);
        string text = $"run_rgb8({h}, {(rgbNull ? "NULL" : "rgb")}[{length}], {w}x{hgt}, seed {seed}, {outputs})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk)
            {
                var f = resolved.Facts!;
                long pixels = (long)w * hgt;
                expect.Arg(w <= 0 || hgt <= 0, Status.InvalidArgument);
                expect.Arg(w > 0 && hgt > 0 && pixels > MaxImagePixels, Status.LimitExceeded);
                expect.Arg(w > 0 && hgt > 0 && length != exact, Status.InvalidArgument);
                expect.Arg(rgbNull, Status.NullPointer);
                ExpectOutputs(expect, f, 1, outputs);
                // Shortest-edge resize (MobileViT, edge 288): the intermediate must stay within 2^24 pixels, a limit.
                if (f == MobileViT && w > 0 && hgt > 0)
                {
                    double ratio = (double)Math.Max(w, hgt) / Math.Min(w, hgt);
                    double resized = 288.0 * 288.0 * ratio;
                    if (resized > (1 << 24) * 1.02) expect.Content(Status.LimitExceeded);
                    else if (resized > (1 << 24) * 0.98) { expect.Content(Status.LimitExceeded); expect.MaybeOk = true; }
                }
            }
            var bytes = new byte[Math.Max(0, length)];
            new Random(seed).NextBytes(bytes);
            using var rgb = rgbNull ? null : new Guarded("rgb", (nuint)length, 1, bytes);
            RunWithOutputs(run, "run_rgb8", text, resolved, expect, outputs, [Key($"rgb:{w}x{hgt}:", bytes)],
                (m, o0, l0, o1, l1) => NativeApi.RunRgb8(m, (byte*)P(rgb), (nuint)length, w, hgt, (float*)o0, l0, (float*)o1, l1));
            rgb?.CheckGuards(text);
            rgb?.CheckUnchangedFrom(text, 0);
        });
    }

    private (string, Action<Run>) PlanRunPixels(Random r, HandleRef h, ModelFacts facts)
    {
        int batch = r.Next(10) switch
        {
            < 5 => 1,
            5 or 6 => r.Next(2, 4),
            7 => r.Pick([0, -1, int.MinValue]),
            8 => r.Pick([int.MaxValue, 20_000, 10_923, 1 << 20]),
            _ => r.Next(50) == 0 ? MaxBatchPerCall + 1 : 2,
        };
        long exact = (long)batch * facts.InputFloats;
        bool bigVirtual = batch == MaxBatchPerCall + 1;   // 800 MB, allocated but never touched (must be refused)
        long length = bigVirtual ? exact
            : exact is > 0 and <= 4L * 3 * 256 * 256 ? r.Next(8) switch { 0 => exact - 1, 1 => exact + 1, 2 => 0, _ => exact }
            : r.Next(1000);
        bool pixelsNull = r.Next(12) == 0;
        string[] sources = Enumerable.Range(0, Math.Clamp(batch, 1, 4)).Select(_ => r.Pick(_pixelSourceNames)).ToArray();
        var outputs = bigVirtual ? new Outputs(new(false, (nuint)(batch * facts.Outputs[0].Floats)), new(true, 0)) : PlanOutputs(r, facts, Math.Max(batch, 0));
        string text = $"run_pixels({h}, batch {batch}, {(pixelsNull ? "NULL" : "pixels")}[{length}] of {string.Join("+", sources)}, {outputs})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            var f = resolved.Facts;
            long need = f is null ? 0 : (long)batch * f.InputFloats;
            if (expect.HandleOk)
            {
                expect.Arg(batch < 1, Status.InvalidArgument);
                expect.Arg(need > int.MaxValue, Status.LimitExceeded);
                expect.Arg(batch > MaxBatchPerCall, Status.LimitExceeded);
                expect.Arg(pixelsNull, Status.NullPointer);
                expect.Arg(batch >= 1 && length != need, Status.InvalidArgument);
                if (batch >= 1) ExpectOutputs(expect, f!, batch, outputs);
            }
            if (bigVirtual && !expect.MustFail) return;   // another model kind: would really run 1025 images
            Guarded? pixels = null;
            void* pointer = null;
            if (bigVirtual && !pixelsNull) pointer = NativeMemory.Alloc((nuint)length * 4);
            else if (!pixelsNull)
            {
                pixels = new Guarded("pixel_values", (nuint)length, 4);
                int per = (f ?? MobileViT).InputFloats;
                var floats = MemoryMarshal.Cast<byte, float>(pixels.Body);
                for (int i = 0; i < sources.Length; i++)
                {
                    var source = _pixelSources[sources[i]];
                    int at = i * per, count = Math.Min(per, floats.Length - at);
                    if (count <= 0) break;
                    source.AsSpan(0, Math.Min(count, source.Length)).CopyTo(floats[at..]);
                }
                pixels = Reguard(pixels);
                pointer = pixels.Pointer;
            }
            try
            {
                string[] keys = new string[Math.Max(batch, 0) > 4 ? 0 : Math.Max(batch, 0)];
                if (f is not null && length == need && keys.Length == batch)
                    for (int i = 0; i < batch; i++)
                        keys[i] = f.InputFloats == MobileViT.InputFloats ? Key("px:", MemoryMarshal.AsBytes(_pixelSources[sources[i]].AsSpan())) : $"px-vit:{sources[i]}";
                RunWithOutputs(run, "run_pixels", text, resolved, expect, outputs, keys,
                    (m, o0, l0, o1, l1) => NativeApi.RunPixels(m, batch, (float*)pointer, (nuint)length, (float*)o0, l0, (float*)o1, l1));
                pixels?.CheckGuards(text);
                pixels?.CheckUnchangedFrom(text, 0);
            }
            finally
            {
                pixels?.Dispose();
                if (bigVirtual && pointer != null) NativeMemory.Free(pointer);
            }
        });
    }

    /// <summary>Re-snapshots a buffer after its content was written through Body (so "unchanged" means unchanged by the call).</summary>
    private static Guarded Reguard(Guarded g)
    {
        var copy = new Guarded(g.What, g.Count, g.ElementSize, g.Body);
        g.Dispose();
        return copy;
    }

    private (string, Action<Run>) PlanPreprocess(Random r, HandleRef h, ModelFacts facts, bool file)
    {
        var image = file ? default : PickImageBytes(r);
        var imageFile = file ? PickFile(r) : default;
        bool inputNull = r.Next(12) == 0;
        nuint size = file ? 0 : r.Next(15) == 0 ? 0 : (nuint)image.Bytes.Length;
        var pixelsSpec = OutSpec(r, facts.InputFloats);
        string function = file ? "preprocess_image_file" : "preprocess_image_bytes";
        string text = $"{function}({h}, {(inputNull ? "NULL" : file ? imageFile.Name : image.Name)}, {(file ? "" : $"size {size}, ")}pixels {pixelsSpec})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk)
            {
                expect.Arg(inputNull, Status.NullPointer);
                expect.Arg(!file && !inputNull && size == 0, Status.BadImage);
                expect.Arg(pixelsSpec.IsNull, Status.NullPointer);
                expect.Arg(!pixelsSpec.IsNull && pixelsSpec.Length < (nuint)resolved.Facts!.InputFloats, Status.BufferTooSmall);
                foreach (var s in file ? imageFile.Content : image.Content) expect.Content(s);
                expect.MaybeOk = file ? imageFile.MaybeOk : image.MaybeOk;
            }
            using var pixels = Allocate(pixelsSpec, "pixels", 4);
            using var data = file || inputNull ? null : new Guarded("data", size, 1, image.Bytes);
            int status;
            string key;
            if (file)
            {
                key = imageFile.Content.Length == 0 ? Key("enc:", File.ReadAllBytes(imageFile.Path)) : "file:" + imageFile.Name;
                fixed (byte* p = inputNull ? null : Z(imageFile.Path))
                    status = NativeApi.PreprocessImageFile(resolved.Token, p, (float*)P(pixels), pixelsSpec.Length);
            }
            else
            {
                key = Key("enc:", image.Bytes);
                status = NativeApi.PreprocessImageBytes(resolved.Token, (byte*)P(data), size, (float*)P(pixels), pixelsSpec.Length);
            }
            Check(run, function, text, status, expect);
            pixels?.CheckGuards(text);
            data?.CheckGuards(text);
            data?.CheckUnchangedFrom(text, 0);
            if (status != 0) { pixels?.CheckUnchangedFrom(text, 0); return; }
            if (pixels is null) return;
            int per = resolved.Facts!.InputFloats;
            pixels.CheckUnchangedFrom(text, (nuint)per);
            SameAsBefore($"{resolved.Facts.Name}|preprocess|{key}", pixels.Body[..(per * 4)], text);
        });
    }

    private (string, Action<Run>) PlanTopK(Random r, HandleRef h)
    {
        int length = r.Pick([1000, 1000, 1000, 0, 999, 1001]);
        int kind = r.Next(4);   // 0 random, 1 constant (ties), 2 NaN/inf sprinkled, 3 from a pixel-source reference
        int seed = r.Next(8);
        bool logitsNull = r.Next(12) == 0;
        int k = r.Pick([0, 1, 5, 5, 10, 1000, 1001, -1, int.MaxValue, int.MinValue, r.Next(1000)]);
        long kk = Math.Max(k, 0);
        var indices = r.Next(12) == 0 ? new BufferSpec(true, r.Next(2) == 0 ? 0 : (nuint)kk) : OutSpec(r, Math.Min(kk, 2000));
        var probabilities = r.Next(3) == 0 ? new BufferSpec(true, r.Next(2) == 0 ? 0u : 7u) : OutSpec(r, Math.Min(kk, 2000));
        string text = $"classify_top_k({h}, {(logitsNull ? "NULL" : "logits")}[{length}] kind {kind} seed {seed}, k {k}, indices {indices}, probabilities {probabilities})";
        return (text, run =>
        {
            var resolved = Resolve(run, h);
            var expect = new Expect(resolved);
            if (expect.HandleOk)
            {
                var f = resolved.Facts!;
                expect.Arg(f.Kind != 1, Status.WrongModelKind);
                expect.Arg(logitsNull, Status.NullPointer);
                expect.Arg(length != f.Labels, Status.InvalidArgument);
                expect.Arg(k < 0 || k > f.Labels, Status.InvalidArgument);
                expect.Arg(indices.IsNull && k > 0, Status.NullPointer);
                expect.Arg(!indices.IsNull && indices.Length < (nuint)kk, Status.BufferTooSmall);
                expect.Arg(!probabilities.IsNull && probabilities.Length < (nuint)kk, Status.BufferTooSmall);
            }
            var values = new float[length];
            var random = new Random(seed);
            for (int i = 0; i < length; i++)
                values[i] = kind switch
                {
                    0 => (float)(random.NextDouble() * 40 - 20),
                    1 => 1.5f,
                    2 => random.Next(50) switch { 0 => float.NaN, 1 => float.PositiveInfinity, 2 => float.NegativeInfinity, 3 => float.MaxValue, _ => (float)random.NextDouble() },
                    _ => (float)Math.Sin(i * (seed + 1)) * 8,
                };
            using var logits = logitsNull ? null : new Guarded("logits", (nuint)length, 4, MemoryMarshal.AsBytes(values.AsSpan()));
            using var idx = Allocate(indices, "indices", 4);
            using var prob = Allocate(probabilities, "probabilities", 4);
            int status = NativeApi.ClassifyTopK(resolved.Token, (float*)P(logits), (nuint)length, k, (int*)P(idx), indices.Length, (float*)P(prob), probabilities.Length);
            Check(run, "classify_top_k", text, status, expect);
            foreach (var g in new[] { logits, idx, prob }) g?.CheckGuards(text);
            logits?.CheckUnchangedFrom(text, 0);
            if (status != 0)
            {
                idx?.CheckUnchangedFrom(text, 0);
                prob?.CheckUnchangedFrom(text, 0);
                return;
            }
            idx?.CheckUnchangedFrom(text, (nuint)k);
            prob?.CheckUnchangedFrom(text, (nuint)k);
            if (idx is null) return;
            var seen = new HashSet<int>();
            for (int i = 0; i < k; i++)
            {
                int c = ((int*)idx.Pointer)[i];
                if (c < 0 || c >= 1000 || !seen.Add(c)) throw new FuzzInvariantException($"{text}: index {i} is {c} (out of range or repeated)");
            }
            if (prob is not null && kind != 2)
                for (int i = 0; i < k; i++)
                {
                    float p = ((float*)prob.Pointer)[i];
                    if (!(p >= 0 && p <= 1) || i > 0 && p > ((float*)prob.Pointer)[i - 1])
                        throw new FuzzInvariantException($"{text}: probability {i} is {p} (outside [0, 1] or not descending)");
                }
            SameAsBefore($"topk|{kind}|{seed}|{length}|{k}|idx", idx.Body[..(k * 4)], text);
            if (prob is not null) SameAsBefore($"topk|{kind}|{seed}|{length}|{k}|prob", prob.Body[..(k * 4)], text);
        });
    }

    // ---- helpers ----

    private static byte[] Z(string s) => Encoding.UTF8.GetBytes(s + "\0");

    /// <summary>A safetensors file: 8-byte little-endian header length, the JSON header, `data` zero bytes.</summary>
    private static byte[] SafeTensors(string header, int data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data];
        BitConverter.TryWriteBytes(bytes, (long)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>A PNG signature and IHDR (correct CRC) declaring width x height RGB8, followed by nothing.</summary>
    private static byte[] PngHeader(int width, int height)
    {
        var bytes = new List<byte>([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]);
        var chunk = new List<byte>("IHDR"u8.ToArray());
        void Be(List<byte> to, uint v) => to.AddRange([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]);
        Be(chunk, (uint)width);
        Be(chunk, (uint)height);
        chunk.AddRange([8, 2, 0, 0, 0]);
        bytes.AddRange(chunk);
        Be(bytes, Crc32(chunk.ToArray()));
        return [.. bytes];
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int i = 0; i < 8; i++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}

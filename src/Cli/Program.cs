// aotvit — the command-line face of aot-vit.
//   aotvit classify IMAGE... [--model M] [--weights FILE|FOLDER|ORG/NAME] [--top N] [--json] [--threads N]
//   aotvit embed IMAGE...    [--model M] [--weights FILE|FOLDER|ORG/NAME] [--json] [--full] [--threads N]
//   aotvit bench [--model M,...|all] [--threads 1,2] [--batch 1,8] [--seconds S] [--weights W] [--markdown FILE]
//   aotvit info
//   aotvit make-weights MODEL OUT.safetensors [--seed N] [--dtype f32|f16|bf16]
//   aotvit selftest [--image chelsea.png]
// Exit codes: 0 success, 1 usage error, 2 input error (bad image, checkpoint, limits), 3 internal error,
// 4 a selftest check failed.
using AotVit;
using AotVit.Cli;
using AotVit.Runtime.Imaging;
using AotVit.Runtime.Weights;

return CommandLine.Run(args);

namespace AotVit.Cli
{
    internal static class CommandLine
    {
        public const string Usage = """
            usage:
              aotvit classify IMAGE... [--model M] [--weights W] [--top 5] [--json] [--threads N]
                  an image classifier (default mobilevit-small): labels and probabilities; several images run as one batch
              aotvit embed IMAGE... [--model M] [--weights W] [--json] [--full] [--threads N]
                  a feature extractor (default vit-base-patch32-224-in21k): pooler_output (and last_hidden_state with --full)
              aotvit bench [--model M,...|all] [--threads 1,2] [--batch 1,8] [--seconds 3] [--weights W] [--markdown FILE] [--profile | --profile-all]
              aotvit preprocess IMAGE [--model M] [--stage decoded|pixel_values] -o OUT.npy [--no-exif-transpose]
                  what the model sees, as NumPy .npy: the decoded RGB (uint8 [H, W, 3], after orientation) or pixel_values (float32 [1, C, H, W])
              aotvit info
              aotvit make-weights MODEL OUT.safetensors [--seed 0] [--dtype f32|f16|bf16]
              aotvit selftest [--image chelsea.png]
                  checks this machine: every kernel against reference loops, and both seed models against PyTorch values (exit 4 on a mismatch)
            M: a compiled model, by folder name or hub repo id (aotvit info lists them).
            Images are oriented by their EXIF tag, as transformers' load_image does; --no-exif-transpose uses the stored pixels.
            W: a checkpoint file (model.safetensors, pytorch_model.bin, a *.index.json of shards), a folder holding one,
            or a hub repo id (apple/mobilevit-small, org/name@revision) looked up offline in the Hugging Face cache.
            Without --weights a SYNTHETIC checkpoint (random weights from a seed) is used, and the output says so.
            """;

        public static int Run(string[] args)
        {
            try
            {
                if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
                {
                    StdStream.Out.WriteLine(Usage);
                    return args.Length == 0 ? 1 : 0;
                }
                var options = Options.Parse(args.AsSpan(1));
                return args[0] switch
                {
                    "classify" => Commands.Classify(options.For("classify", positionals: true, "--model", "--weights", "--top", "--json", "--threads", "--no-exif-transpose")),
                    "embed" => Commands.Embed(options.For("embed", positionals: true, "--model", "--weights", "--json", "--full", "--threads", "--no-exif-transpose")),
                    "preprocess" => Commands.Preprocess(options.For("preprocess", positionals: true, "--model", "--stage", "-o", "--no-exif-transpose")),
                    "bench" => Bench.Run(options.For("bench", positionals: false, "--model", "--threads", "--batch", "--seconds",
                                                     "--weights", "--markdown", "--profile", "--profile-all")),
                    "info" => Commands.Info(options.For("info", positionals: false)),
                    "make-weights" => Commands.MakeWeights(options.For("make-weights", positionals: true, "--seed", "--dtype")),
#if AOTVIT_SELFTEST
                    "selftest" => SelfTest.Run(options.For("selftest", positionals: false, "--image")),
#else
                    "selftest" => throw new UsageException("selftest is not compiled into this build of aotvit (built with AotVitSelfTest=false to fit its size budget); run aotvit-selftest selftest, published next to it"),
#endif
                    _ => throw new UsageException($"unknown command '{args[0]}'"),
                };
            }
            catch (UsageException e)
            {
                StdStream.Error.WriteLine($"aotvit: {e.Message}");
                StdStream.Error.WriteLine(Usage);
                return 1;
            }
            catch (Exception e) when (e is CheckpointException or ImageDecodeException or FileNotFoundException or DirectoryNotFoundException
                                          or UnauthorizedAccessException or IOException or InvalidDataException or ArgumentException)
            {
                StdStream.Error.WriteLine($"aotvit: error: {e.Message}");
                return 2;
            }
            catch (Exception e)
            {
                StdStream.Error.WriteLine($"aotvit: internal error: {e}");
                return 3;
            }
        }
    }

    internal sealed class UsageException(string message) : Exception(message);

    /// <summary>Positional arguments and --flags (a flag takes the next argument as its value unless it is a switch).</summary>
    internal sealed class Options
    {
        private static readonly HashSet<string> Switches = ["--json", "--full", "--profile", "--profile-all", "--no-exif-transpose"];
        private static readonly HashSet<string> Valued = ["--weights", "--top", "--threads", "--model", "--batch", "--seconds", "--seed", "--dtype", "--stage", "-o", "--image",
                                                         "--markdown"];
        public List<string> Positional { get; } = [];
        private readonly Dictionary<string, string> _values = [];
        private readonly HashSet<string> _switches = [];

        public static Options Parse(ReadOnlySpan<string> args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i];
                if (Switches.Contains(a)) o._switches.Add(a);
                else if (Valued.Contains(a))
                {
                    if (i + 1 >= args.Length) throw new UsageException($"{a} needs a value");
                    if (!o._values.TryAdd(a, args[++i])) throw new UsageException($"{a} given twice");
                }
                else if (a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unknown option '{a}'");
                else o.Positional.Add(a);
            }
            return o;
        }

        /// <summary>
        /// Checks the options against what <paramref name="command"/> takes: a flag it does not take, or any positional
        /// argument when it takes none, is a usage error rather than silently ignored.
        /// </summary>
        public Options For(string command, bool positionals, params string[] flags)
        {
            foreach (string flag in _switches)
            {
                if (Array.IndexOf(flags, flag) < 0) throw new UsageException($"option '{flag}' does not apply to '{command}'");
            }

            foreach (string flag in _values.Keys)
            {
                if (Array.IndexOf(flags, flag) < 0) throw new UsageException($"option '{flag}' does not apply to '{command}'");
            }

            if (!positionals && Positional.Count > 0) throw new UsageException($"'{command}' takes no arguments, got '{Positional[0]}'");
            return this;
        }

        public bool Has(string flag) => _switches.Contains(flag);
        public string? Get(string flag) => _values.GetValueOrDefault(flag);

        public int GetInt(string flag, int fallback, int min, int max)
        {
            var s = Get(flag);
            if (s is null) return fallback;
            if (!int.TryParse(s, out int v) || v < min || v > max) throw new UsageException($"{flag} must be an integer from {min} to {max}, got '{s}'");
            return v;
        }

        public int[] GetInts(string flag, int[] fallback, int min, int max)
        {
            var s = Get(flag);
            if (s is null) return fallback;
            string[] parts = s.Split(',');
            var values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], out values[i]) || values[i] < min || values[i] > max)
                    throw new UsageException($"{flag} must be a comma-separated list of integers from {min} to {max}, got '{s}'");
            }
            return values;
        }
    }
}

// aotvit — the command-line face of aot-vit. Usage texts below; `aotvit help COMMAND` prints one command's.
// Exit codes: 0 success, 1 usage error (found before any model or file is loaded), 2 input error (classify/embed: one or
// more inputs failed, or the model could not be loaded), 3 internal error (any exception that is not the input's fault,
// as InputException.IsInputError draws the line: ArgumentException from a kernel is a bug here, not a user's error),
// 4 a selftest check failed.
using AotVit;
using AotVit.Cli;
using AotVit.Runtime;
using AotVit.Runtime.Interop;

return CommandLine.Run(CommandLine.RawArguments(args));

namespace AotVit.Cli
{
    internal static class CommandLine
    {
        private const string ImagesHelp = """
            INPUT: an image file; a directory (its image files by name: .jpg .jpeg .png .bmp .gif .tga …; with --recursive,
              those of its subdirectories too); a glob pattern, quoted or not ("photos/*.jpg", expanded here when the shell
              did not); or - for one image read from stdin. Directories and patterns take regular files only (FIFOs,
              sockets and devices are skipped and counted); a file named itself is read whatever it is. Images are
              oriented by their EXIF tag, as transformers' load_image does; --no-exif-transpose uses the stored pixels.
            Results are written in input order as they finish, to stdout or -o FILE:
              --format text (default), json (one document; --json is the same), jsonl (one object per line), or
              npy (needs -o FILE: FILE.npy, a float32 [N, ...] array with one row per image that worked, and FILE.index.tsv,
              a row/image/error line for every input). json and jsonl give each image's path, size and results.
            An input that cannot be read or decoded is reported on stderr (its path and the reason) and the run goes on;
            the last stderr line then says how many failed ("3 of 1000 images failed") and the exit status is 2.
            Throughput: --decoders threads (default: the number of cores) read and decode images while the model runs
            batches of up to --batch images (default 8, at most 64) on --threads threads (default: the number of cores, at most 8).
            A progress line (images/s, time left) is shown on stderr when it is a terminal.
            """;

        private const string ModelHelp = """
            M: a compiled model, by folder name or hub repo id (aotvit info lists them).
            W: a checkpoint file (model.safetensors, pytorch_model.bin, a *.index.json of shards), a folder holding one,
            or a hub repo id (apple/mobilevit-small, org/name@revision) looked up offline in the Hugging Face cache.
            Without --weights a SYNTHETIC checkpoint (random weights from a seed) is used, and the output says so.
            """;

        private const string ClassifyUsage = """
              aotvit classify INPUT... [--model M] [--weights W] [--top 5] [--logits] [--format text|json|jsonl|npy] [-o FILE]
                                       [--recursive] [--batch 8] [--threads N] [--decoders N] [--no-exif-transpose]
                                       [--precision float32|int8] [--calibration IMAGES]
                  an image classifier (default mobilevit-small): each image's top labels and probabilities;
                  --logits adds the full logits vector (json, jsonl); npy writes the logits, float32 [N, classes]
            """;

        private const string EmbedUsage = """
              aotvit embed INPUT... [--model M] [--weights W] [--full] [--format text|json|jsonl|npy] [-o FILE]
                                    [--recursive] [--batch 8] [--threads N] [--decoders N] [--no-exif-transpose]
                                    [--precision float32|int8] [--calibration IMAGES]
                  a feature extractor (default vit-base-patch32-224-in21k): each image's pooler_output;
                  --full adds last_hidden_state (json, jsonl; npy: FILE.last_hidden_state.npy [N, tokens, hidden] beside
                  FILE.npy, the pooler_output [N, hidden])
            """;

        private const string BenchUsage = """
              aotvit bench [--model M,...|all] [--threads 1,2] [--batch 1,8] [--seconds 3] [--weights W] [--precision float32|int8]
                           [--markdown FILE] [--profile | --profile-all]
                  median latency, GFLOP/s and % of the FMA peak per model, thread count and batch
            """;

        private const string PreprocessUsage = """
              aotvit preprocess IMAGE [--model M] [--stage decoded|pixel_values] -o OUT.npy [--no-exif-transpose]
                  what the model sees, as NumPy .npy: the decoded RGB (uint8 [H, W, 3], after orientation) or pixel_values (float32 [1, C, H, W])
            """;

        private const string InfoUsage = """
              aotvit info
                  the compiled models: inputs, outputs, cost, preprocessing; the SIMD path of this build
            """;

        private const string QuantizeUsage = """
              aotvit quantize IN OUT.safetensors --model M [--calibration IMAGES] [--threads N]
                  an int8 checkpoint: the nn.Linear weights in int8 (per output channel), the rest float32, and the
                  deviation from float32 measured on the calibration images (printed and stored in the file)
            """;

        private const string PrecisionHelp = """
            --precision int8: nn.Linear layers in int8 (weights per output channel, activations per row); the rest float32.
            Loading a float checkpoint in int8 runs the calibration images (IMAGES: a folder, a file or a comma-separated
            list; default: built-in synthetic images) in both precisions and prints the deviation (cosine, max error, top-k).
            """;

        private const string MakeWeightsUsage = """
              aotvit make-weights MODEL OUT.safetensors [--seed 0] [--dtype f32|f16|bf16]
                  a synthetic checkpoint file (seeded random weights of the real shapes)
            """;

        private const string SelfTestUsage = """
              aotvit selftest [--image chelsea.png] [--kernels]
                  checks this machine: every kernel against reference loops, and both seed models against PyTorch values (exit 4 on a mismatch);
                  --kernels: the kernel checks only
            """;

        public static string Usage => Lines(ClassifyUsage, EmbedUsage, BenchUsage, PreprocessUsage, InfoUsage, QuantizeUsage, MakeWeightsUsage, SelfTestUsage,
            "  aotvit help COMMAND    the options of one command (also: aotvit COMMAND --help)\n  aotvit --version", ModelHelp, ImagesHelp);

        /// <summary>The usage of one command (null: not a command).</summary>
        public static string? CommandUsage(string command) => command switch
        {
            "classify" => Lines(ClassifyUsage, ModelHelp, ImagesHelp, PrecisionHelp),
            "embed" => Lines(EmbedUsage, ModelHelp, ImagesHelp, PrecisionHelp),
            "bench" => Lines(BenchUsage, ModelHelp, PrecisionHelp),
            "quantize" => Lines(QuantizeUsage, ModelHelp, PrecisionHelp),
            "preprocess" => Lines(PreprocessUsage, "M: a compiled model, by folder name or hub repo id (aotvit info lists them)."),
            "info" => Lines(InfoUsage),
            "make-weights" => Lines(MakeWeightsUsage, "MODEL: vit, mobilevit, or a compiled model by name (aotvit info lists them)."),
            "selftest" => Lines(SelfTestUsage),
            _ => null,
        };

        private static string Lines(params string[] parts) => "usage:\n" + string.Join("\n", parts);

        /// <summary>
        /// <paramref name="args"/>, except that when one holds U+FFFD (.NET's replacement for bytes that are not UTF-8,
        /// e.g. a Latin-1 file name the shell expanded) every argument is decoded again from /proc/self/cmdline with those
        /// bytes kept as escapes (FileNames), so that the path opens. Its last args.Length entries are the arguments,
        /// whether the host is this executable or `dotnet aotvit.dll`; anything unexpected keeps args as they are.
        /// </summary>
        internal static string[] RawArguments(string[] args)
        {
            bool lossy = false;
            foreach (string a in args) lossy |= a.Contains('\uFFFD');
            if (!lossy) return args;
            try
            {
                byte[] commandLine = File.ReadAllBytes("/proc/self/cmdline");
                var entries = new List<string>();
                int start = 0;
                for (int i = 0; i < commandLine.Length; i++)
                {
                    if (commandLine[i] != 0) continue;
                    entries.Add(FileNames.Decode(commandLine.AsSpan(start, i - start)));
                    start = i + 1;
                }
                if (entries.Count < args.Length) return args;
                string[] raw = entries.GetRange(entries.Count - args.Length, args.Length).ToArray();
                for (int i = 0; i < args.Length; i++)
                {
                    // The same argument, seen through .NET's lossy decoding? Otherwise the mapping is not what we think.
                    if (System.Text.Encoding.UTF8.GetString(FileNames.Encode(raw[i])) != args[i]) return args;
                }
                return raw;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return args;
            }
        }

        public static int Run(string[] args)
        {
            string? command = null;
            try
            {
                if (args.Length == 0)
                {
                    StdStream.Error.WriteLine(Usage);
                    return 1;
                }
                if (args[0] is "--version" or "-V")
                {
                    if (args.Length > 1) throw new UsageException($"--version takes no arguments, got '{args[1]}'");
                    StdStream.Out.WriteLine($"aotvit {BuildInfo.InformationalVersion}");
                    return 0;
                }
                if (args[0] is "-h" or "--help" or "help")
                {
                    if (args.Length == 1)
                    {
                        StdStream.Out.WriteLine(Usage);
                        return 0;
                    }
                    if (args.Length > 2) throw new UsageException("help takes one COMMAND");
                    StdStream.Out.WriteLine(CommandUsage(args[1]) ?? throw new UsageException($"unknown command '{args[1]}'"));
                    return 0;
                }
                command = CommandUsage(args[0]) is null ? null : args[0];
                if (command is null) throw new UsageException($"unknown command '{args[0]}'");
                if (Options.AsksForHelp(args.AsSpan(1)))
                {
                    StdStream.Out.WriteLine(CommandUsage(command)!);
                    return 0;
                }
                var options = Options.Parse(args.AsSpan(1));
                return command switch
                {
                    "classify" => Commands.Classify(options.For("classify", positionals: true, "--model", "--weights", "--top", "--logits", "--json", "--format", "-o",
                                                                "--recursive", "--batch", "--threads", "--decoders", "--no-exif-transpose", "--precision", "--calibration")),
                    "embed" => Commands.Embed(options.For("embed", positionals: true, "--model", "--weights", "--full", "--json", "--format", "-o",
                                                          "--recursive", "--batch", "--threads", "--decoders", "--no-exif-transpose", "--precision", "--calibration")),
                    "preprocess" => Commands.Preprocess(options.For("preprocess", positionals: true, "--model", "--stage", "-o", "--no-exif-transpose")),
                    "bench" => Bench.Run(options.For("bench", positionals: false, "--model", "--threads", "--batch", "--seconds",
                                                     "--weights", "--markdown", "--profile", "--profile-all", "--precision")),
                    "quantize" => Commands.Quantize(options.For("quantize", positionals: true, "--model", "--calibration", "--threads", "--precision")),
                    "info" => Commands.Info(options.For("info", positionals: false)),
                    "make-weights" => Commands.MakeWeights(options.For("make-weights", positionals: true, "--seed", "--dtype")),
                    _ => SelfTest.Run(options.For("selftest", positionals: false, "--image", "--kernels")),
                };
            }
            catch (UsageException e)
            {
                StdStream.Error.WriteLine($"aotvit: {e.Message}");
                StdStream.Error.WriteLine((command is null ? null : CommandUsage(command)) ?? Usage);
                return 1;
            }
            catch (Exception e)
            {
                var (code, message) = Failure(e);
                StdStream.Error.WriteLine(message);
                return code;
            }
        }

        /// <summary>The exit code and stderr line for an exception that ended a command: 2 and the message for the
        /// input's fault (<see cref="InputException.IsInputError"/>), 3 and the exception's type and message for
        /// anything else, ArgumentException included.</summary>
        internal static (int Code, string Message) Failure(Exception e) =>
            InputException.IsInputError(e) ? (2, $"aotvit: error: {e.Message}") : (3, $"aotvit: internal error: {e}");
    }

    internal sealed class UsageException(string message) : Exception(message);

    /// <summary>Positional arguments and --flags (a flag takes the next argument as its value unless it is a switch).
    /// "-" is a positional argument (stdin); after "--" every argument is positional.</summary>
    internal sealed class Options
    {
        private static readonly HashSet<string> Switches = ["--json", "--full", "--logits", "--recursive", "--profile", "--profile-all", "--no-exif-transpose", "--kernels"];
        private static readonly HashSet<string> Valued = ["--weights", "--top", "--threads", "--model", "--batch", "--seconds", "--seed", "--dtype", "--stage", "-o",
                                                         "--markdown", "--format", "--decoders", "--image", "--precision", "--calibration"];

        /// <summary>True when -h or --help comes before any "--".</summary>
        public static bool AsksForHelp(ReadOnlySpan<string> args)
        {
            foreach (string a in args)
            {
                if (a == "--") return false;
                if (a is "-h" or "--help") return true;
            }
            return false;
        }
        public List<string> Positional { get; } = [];
        private readonly Dictionary<string, string> _values = [];
        private readonly HashSet<string> _switches = [];

        public static Options Parse(ReadOnlySpan<string> args)
        {
            var o = new Options();
            for (int i = 0; i < args.Length; i++)
            {
                string a = args[i] == "-r" ? "--recursive" : args[i];
                if (a == "--")
                {
                    for (i++; i < args.Length; i++) o.Positional.Add(args[i]);
                    break;
                }
                if (Switches.Contains(a)) o._switches.Add(a);
                else if (Valued.Contains(a))
                {
                    if (i + 1 >= args.Length) throw new UsageException($"{a} needs a value");
                    if (!o._values.TryAdd(a, args[++i])) throw new UsageException($"{a} given twice");
                }
                else if (a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unknown option '{a}'");
                else if (a.Length > 1 && a[0] == '-') throw new UsageException($"unknown option '{a}' (for a file whose name starts with '-', put it after --)");
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

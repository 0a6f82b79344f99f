// The output of classify and embed, one image at a time in input order, in one of four formats; nothing is held
// beyond the image being written (json is one document whose results array is written element by element).
//   text   a few readable lines per image
//   json   {"model", "weights", "synthetic", "results": [ {…}, … ], "images", "failed"}, indented, vectors on one line
//   jsonl  one compact object per image, the same members as a json result
//   npy    FILE.npy float32 [N, …] (one row per decoded image) and FILE.index.tsv (row, image, error) for every input
// A failed input is an object {"image", "error"} in json and jsonl, a row-less line in the index, nothing in text
// (its message is on stderr in every format).
using System.Text;
using AotVit.Runtime.Interop;

namespace AotVit.Cli;

/// <summary>What one command writes for one decoded image, for every format.</summary>
internal abstract class ImageRecord
{
    /// <summary>The members after "image", "width" and "height".</summary>
    public abstract void Json(JsonOut json);

    /// <summary>The lines after the image's "path  (W×H)" line, each ending in '\n'.</summary>
    public abstract void Text(StringBuilder text);

    /// <summary>The image's row of npy array <paramref name="array"/> (as listed by the command's NpyArrays).</summary>
    public abstract ReadOnlySpan<float> Row(int array);
}

/// <summary>An npy array a command writes: file name suffix ("" for FILE.npy) and the shape of one row.</summary>
internal sealed class NpyArray(string suffix, long[] rowShape)
{
    public string Suffix { get; } = suffix;
    public long[] RowShape { get; } = rowShape;
}

internal sealed class ResultWriter : IDisposable
{
    private readonly string _format;
    private readonly FileStream? _file;          // -o FILE for text, json, jsonl
    private readonly NpyRowWriter[] _npy = [];
    private readonly FileStream? _index;
    private bool _disposed;
    private readonly StringBuilder _text = new();
    private int _written, _rows;

    /// <summary>The output files of a run: for npy, <paramref name="output"/> without a trailing ".npy" is the base name.</summary>
    public static string NpyBase(string output) => output.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? output[..^4] : output;

    /// <summary>Every file a run with these settings creates (checked before the model loads).</summary>
    public static List<string> OutputFiles(string format, string? output, NpyArray[] arrays)
    {
        var files = new List<string>();
        if (output is null) return files;
        if (format != "npy") { files.Add(output); return files; }
        string stem = NpyBase(output);
        foreach (var a in arrays) files.Add(stem + a.Suffix + ".npy");
        files.Add(stem + ".index.tsv");
        return files;
    }

    public ResultWriter(string format, string? output, NpyArray[] arrays, int inputs, VisionModel model)
    {
        _format = format;
        if (format == "npy")
        {
            string stem = NpyBase(output!);
            _npy = new NpyRowWriter[arrays.Length];
            try
            {
                for (int a = 0; a < arrays.Length; a++) _npy[a] = new NpyRowWriter(stem + arrays[a].Suffix + ".npy", arrays[a].RowShape, inputs);
                _index = UserFiles.Create(stem + ".index.tsv", "index file");
            }
            catch
            {
                foreach (var w in _npy) w?.Dispose();
                throw;
            }
            Write("row\timage\terror\n");
            return;
        }
        if (output is not null) _file = UserFiles.Create(output, $"{format} output file");
        if (format == "json")
        {
            var head = new JsonOut(indented: true).StartObject()
                .String("model", model.Descriptor.Name).String("weights", model.WeightsDescription).Bool("synthetic", model.IsSynthetic)
                .ToString();
            Write(head + ",\n  \"results\": [");
        }
    }

    /// <summary>True when the output goes to stdout (a progress line on the same terminal must step aside for it).</summary>
    public bool ToStdout => _file is null && _index is null;

    /// <summary>True once the reader of stdout has gone (EPIPE): nothing more can be delivered.</summary>
    public bool Closed => ToStdout && StdStream.Out.IsBroken;

    public void Result(string image, int width, int height, ImageRecord record)
    {
        switch (_format)
        {
            case "text":
                _text.Clear();
                _text.Append(image).Append("  (").Append(width).Append('×').Append(height).Append(")\n");
                record.Text(_text);
                Write(_text.ToString());
                break;
            case "npy":
                for (int a = 0; a < _npy.Length; a++) _npy[a].Append(record.Row(a));
                Write($"{_rows++}\t{Inputs.TsvField(image)}\t\n");
                break;
            default:
                var json = Element();
                json.StartObject().String("image", image).Number("width", width).Number("height", height);
                record.Json(json);
                EndElement(json.EndObject());
                break;
        }
    }

    public void Failed(string image, string error)
    {
        switch (_format)
        {
            case "text":
                break;
            case "npy":
                Write($"\t{Inputs.TsvField(image)}\t{Inputs.TsvField(error)}\n");
                break;
            default:
                EndElement(Element().StartObject().String("image", image).String("error", error).EndObject());
                break;
        }
    }

    private JsonOut Element() => _format == "json" ? new JsonOut(indented: true, depth: 2) : new JsonOut(indented: false);

    private void EndElement(JsonOut json)
    {
        Write(_format == "json" ? (_written++ == 0 ? "\n    " : ",\n    ") + json : json + "\n");
    }

    /// <summary>Closes the json document (with the counts) and flushes the files; the text footer is the caller's.</summary>
    public void End(int images, int failed, string? textFooter)
    {
        if (_format == "json")
            Write((_written == 0 ? "]" : "\n  ]") + $",\n  \"images\": {images},\n  \"failed\": {failed}\n}}\n");
        else if (_format == "text" && textFooter is not null)
            Write(textFooter + "\n");
        Flush();
    }

    /// <summary>Pushes what was written so far to the files (after each batch, so a reader sees results as they come).</summary>
    public void Flush()
    {
        _file?.Flush();
        _index?.Flush();
        foreach (var n in _npy) n.Flush();
    }

    private void Write(string s)
    {
        // Paths whose names are not UTF-8 as their own bytes (FileNames); JsonOut has already escaped them in json.
        if (_index is not null) _index.Write(FileNames.Encode(s));
        else if (_file is not null) _file.Write(FileNames.Encode(s));
        else StdStream.Out.Write(s);
    }

    /// <summary>Closes the output files (the .npy headers count the rows written); later calls do nothing.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _file?.Dispose();
        _index?.Dispose();
        foreach (var n in _npy) n.Dispose();
    }
}

/// <summary>
/// The progress line on stderr while images are processed: done/total, images/s and the time left; drawn only when
/// stderr is a terminal, redrawn at most 5 times a second, and erased before anything else is written to that terminal.
/// </summary>
internal sealed class Progress(int total, bool outputToStdout)
{
    private readonly bool _enabled = Terminal.IsTerminal(2);
    private readonly bool _sharesTerminal = outputToStdout && Terminal.IsTerminal(1);
    private readonly long _start = System.Diagnostics.Stopwatch.GetTimestamp();
    private long _lastDraw;
    private bool _shown;

    /// <summary>Erases the line before a message on stderr.</summary>
    public void Clear()
    {
        if (!_shown) return;
        StdStream.Error.Write("\r\u001b[K");
        _shown = false;
    }

    /// <summary>Erases the line before results are written to stdout, when stdout is the same terminal.</summary>
    public void ClearForOutput()
    {
        if (_sharesTerminal) Clear();
    }

    public void Update(int done)
    {
        if (!_enabled || done >= total) return;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_shown && now - _lastDraw < System.Diagnostics.Stopwatch.Frequency / 5) return;
        _lastDraw = now;
        double seconds = (double)(now - _start) / System.Diagnostics.Stopwatch.Frequency;
        double rate = seconds > 0 ? done / seconds : 0;
        string eta = rate > 0 ? Clock((total - done) / rate) : "?";
        StdStream.Error.Write($"\r{done}/{total} images  {rate:F1} images/s  ETA {eta}\u001b[K");
        _shown = true;
    }

    private static string Clock(double seconds)
    {
        long s = (long)Math.Ceiling(seconds);
        return s >= 3600 ? $"{s / 3600}:{s / 60 % 60:D2}:{s % 60:D2}" : $"{s / 60}:{s % 60:D2}";
    }
}

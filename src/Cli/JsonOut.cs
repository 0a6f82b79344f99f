using System.Globalization;
using System.Text;

namespace AotVit.Cli;

/// <summary>
/// A minimal JSON writer for the CLI's json and jsonl output (objects, arrays, strings, numbers, booleans). Hand-written
/// instead of Utf8JsonWriter to keep the NativeAOT executable small; output is valid JSON, RFC 8259 escaping.
/// Indented output starts at <paramref name="depth"/> levels (a fragment placed inside an enclosing document) and puts
/// a vector of numbers (<see cref="Numbers"/>) on one line, so both commands format alike whatever the vector sizes.
/// Floats are written as the shortest text that reads back to the same float.
/// </summary>
internal sealed class JsonOut(bool indented, int depth = 0)
{
    private readonly StringBuilder _sb = new();
    private readonly Stack<bool> _first = new();

    public JsonOut StartObject(string? name = null) => Open('{', name);
    public JsonOut EndObject() => Close('}');
    public JsonOut StartArray(string? name = null) => Open('[', name);
    public JsonOut EndArray() => Close(']');

    public JsonOut String(string name, string value) { Name(name); Quote(value); return this; }
    public JsonOut Bool(string name, bool value) { Name(name); _sb.Append(value ? "true" : "false"); return this; }
    public JsonOut Number(string name, double value) { Name(name); Num(value); return this; }
    public JsonOut Number(double value) { Name(null); Num(value); return this; }
    public JsonOut Number(string name, float value) { Name(name); Num(value); return this; }
    public JsonOut Number(string name, int value) { Name(name); _sb.Append(value); return this; }

    /// <summary>"name": [v0, v1, …] on one line.</summary>
    public JsonOut Numbers(string name, ReadOnlySpan<float> values)
    {
        Name(name);
        _sb.Append('[');
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0) _sb.Append(indented ? ", " : ",");
            Num(values[i]);
        }
        _sb.Append(']');
        return this;
    }

    public override string ToString() => _sb.ToString();

    private JsonOut Open(char bracket, string? name)
    {
        Name(name);
        _sb.Append(bracket);
        _first.Push(true);
        return this;
    }

    private JsonOut Close(char bracket)
    {
        bool empty = _first.Pop();
        if (!empty) NewLine();
        _sb.Append(bracket);
        return this;
    }

    private void Name(string? name)
    {
        if (_first.Count > 0)
        {
            if (!_first.Peek()) _sb.Append(',');
            _first.Pop();
            _first.Push(false);
            NewLine();
        }
        if (name is not null)
        {
            Quote(name);
            _sb.Append(indented ? ": " : ":");
        }
    }

    private void NewLine()
    {
        if (!indented) return;
        _sb.Append('\n').Append(' ', 2 * (depth + _first.Count));
    }

    private void Num(double value)
    {
        if (!double.IsFinite(value)) { _sb.Append("null"); return; }
        _sb.Append(value.ToString("R", CultureInfo.InvariantCulture));
    }

    private void Num(float value)
    {
        if (!float.IsFinite(value)) { _sb.Append("null"); return; }
        Span<char> text = stackalloc char[32];
        value.TryFormat(text, out int written, default, CultureInfo.InvariantCulture);
        _sb.Append(text[..written]);
    }

    private void Quote(string s)
    {
        _sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsSurrogate(c))
            {
                // A pair is one character; a lone surrogate (a file name byte that is not UTF-8, FileNames) is written
                // as a \u escape, which JSON allows and Python reads back as the same surrogate (os.fsencode: the bytes).
                if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) _sb.Append(c).Append(s[++i]);
                else _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                continue;
            }

            switch (c)
            {
                case '"': _sb.Append("\\\""); break;
                case '\\': _sb.Append("\\\\"); break;
                case '\n': _sb.Append("\\n"); break;
                case '\r': _sb.Append("\\r"); break;
                case '\t': _sb.Append("\\t"); break;
                default:
                    if (c < 0x20) _sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else _sb.Append(c);
                    break;
            }
        }
        _sb.Append('"');
    }
}

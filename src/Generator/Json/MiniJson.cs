// A small, strict JSON reader for HF config files inside the generator.
// Why hand-written: System.Text.Json in an analyzer binds to whatever copy the compiler host has
// (docs/PLATFORM.md), so the generator keeps zero dependencies. It is not a general-purpose JSON
// library: it builds an immutable tree, remembers where each value starts (line, column) so that
// diagnostics can point at the field, and refuses input deeper than MaxDepth instead of recursing
// without bound.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace AotVit.Generator.Json
{
    internal enum JsonKind { Null, Bool, Number, String, Array, Object }

    /// <summary>A parsed JSON value with its source position (1-based line and column).</summary>
    internal sealed class JsonValue
    {
        public JsonKind Kind { get; }
        public int Line { get; }
        public int Column { get; }
        public bool Bool { get; }
        public double Number { get; }
        /// <summary>The number exactly as written (so that "1e-12" survives into generated code).</summary>
        public string? Text { get; }
        public IReadOnlyList<JsonValue> Items { get; }
        /// <summary>Object members in file order.</summary>
        public IReadOnlyList<KeyValuePair<string, JsonValue>> Members { get; }

        private static readonly JsonValue[] NoItems = new JsonValue[0];
        private static readonly KeyValuePair<string, JsonValue>[] NoMembers = new KeyValuePair<string, JsonValue>[0];

        private JsonValue(JsonKind kind, int line, int column, bool b = false, double n = 0, string? text = null,
                          IReadOnlyList<JsonValue>? items = null, IReadOnlyList<KeyValuePair<string, JsonValue>>? members = null)
        {
            Kind = kind; Line = line; Column = column; Bool = b; Number = n; Text = text;
            Items = items ?? NoItems; Members = members ?? NoMembers;
        }

        public static JsonValue Null(int l, int c) => new JsonValue(JsonKind.Null, l, c);
        public static JsonValue FromBool(bool b, int l, int c) => new JsonValue(JsonKind.Bool, l, c, b);
        public static JsonValue FromNumber(double n, string text, int l, int c) => new JsonValue(JsonKind.Number, l, c, n: n, text: text);
        public static JsonValue FromString(string s, int l, int c) => new JsonValue(JsonKind.String, l, c, text: s);
        public static JsonValue FromArray(List<JsonValue> items, int l, int c) => new JsonValue(JsonKind.Array, l, c, items: items);
        public static JsonValue FromObject(List<KeyValuePair<string, JsonValue>> m, int l, int c) => new JsonValue(JsonKind.Object, l, c, members: m);

        public JsonValue? Get(string key)
        {
            foreach (var m in Members)
                if (m.Key == key) return m.Value;
            return null;
        }

        public string KindName => Kind switch
        {
            JsonKind.Null => "null", JsonKind.Bool => "a boolean", JsonKind.Number => "a number",
            JsonKind.String => "a string", JsonKind.Array => "an array", _ => "an object",
        };
    }

    internal sealed class JsonParseException : Exception
    {
        public int Line { get; }
        public int Column { get; }
        public JsonParseException(string message, int line, int column) : base(message) { Line = line; Column = column; }
    }

    /// <summary>Recursive-descent parser over a string; RFC 8259 grammar, duplicate keys rejected.</summary>
    internal sealed class MiniJson
    {
        public const int MaxDepth = 64;
        private readonly string _s;
        private int _pos, _line = 1, _lineStart;

        private MiniJson(string s) { _s = s; }

        public static JsonValue Parse(string text)
        {
            var p = new MiniJson(text);
            p.SkipWhitespace();
            var v = p.ParseValue(0);
            p.SkipWhitespace();
            if (p._pos != p._s.Length) throw p.Error("unexpected text after the top-level value");
            return v;
        }

        private int Column => _pos - _lineStart + 1;
        private JsonParseException Error(string message) => new JsonParseException(message, _line, Column);

        private void SkipWhitespace()
        {
            while (_pos < _s.Length)
            {
                char c = _s[_pos];
                if (c == '\n') { _pos++; _line++; _lineStart = _pos; }
                else if (c == ' ' || c == '\t' || c == '\r' || c == '\uFEFF' && _pos == 0) _pos++;
                else break;
            }
        }

        private JsonValue ParseValue(int depth)
        {
            if (depth > MaxDepth) throw Error($"nesting deeper than {MaxDepth} levels");
            if (_pos >= _s.Length) throw Error("unexpected end of input");
            int line = _line, col = Column;
            char c = _s[_pos];
            switch (c)
            {
                case '{': return ParseObject(depth, line, col);
                case '[': return ParseArray(depth, line, col);
                case '"': return JsonValue.FromString(ParseString(), line, col);
                case 't': Expect("true"); return JsonValue.FromBool(true, line, col);
                case 'f': Expect("false"); return JsonValue.FromBool(false, line, col);
                case 'n': Expect("null"); return JsonValue.Null(line, col);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(line, col);
                    throw Error($"unexpected character '{c}'");
            }
        }

        private void Expect(string word)
        {
            if (string.CompareOrdinal(_s, _pos, word, 0, word.Length) != 0) throw Error($"expected '{word}'");
            _pos += word.Length;
        }

        private JsonValue ParseObject(int depth, int line, int col)
        {
            _pos++; // '{'
            var members = new List<KeyValuePair<string, JsonValue>>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            SkipWhitespace();
            if (_pos < _s.Length && _s[_pos] == '}') { _pos++; return JsonValue.FromObject(members, line, col); }
            while (true)
            {
                SkipWhitespace();
                if (_pos >= _s.Length || _s[_pos] != '"') throw Error("expected a member name in double quotes");
                int keyLine = _line, keyCol = Column;
                string key = ParseString();
                if (!seen.Add(key)) throw new JsonParseException($"duplicate member \"{key}\"", keyLine, keyCol);
                SkipWhitespace();
                if (_pos >= _s.Length || _s[_pos] != ':') throw Error("expected ':' after a member name");
                _pos++;
                SkipWhitespace();
                members.Add(new KeyValuePair<string, JsonValue>(key, ParseValue(depth + 1)));
                SkipWhitespace();
                if (_pos >= _s.Length) throw Error("unexpected end of input inside an object");
                if (_s[_pos] == ',') { _pos++; continue; }
                if (_s[_pos] == '}') { _pos++; return JsonValue.FromObject(members, line, col); }
                throw Error("expected ',' or '}' in an object");
            }
        }

        private JsonValue ParseArray(int depth, int line, int col)
        {
            _pos++; // '['
            var items = new List<JsonValue>();
            SkipWhitespace();
            if (_pos < _s.Length && _s[_pos] == ']') { _pos++; return JsonValue.FromArray(items, line, col); }
            while (true)
            {
                SkipWhitespace();
                items.Add(ParseValue(depth + 1));
                SkipWhitespace();
                if (_pos >= _s.Length) throw Error("unexpected end of input inside an array");
                if (_s[_pos] == ',') { _pos++; continue; }
                if (_s[_pos] == ']') { _pos++; return JsonValue.FromArray(items, line, col); }
                throw Error("expected ',' or ']' in an array");
            }
        }

        private string ParseString()
        {
            _pos++; // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _s.Length) throw Error("unterminated string");
                char c = _s[_pos++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Error("control character inside a string");
                if (c != '\\') { sb.Append(c); continue; }
                if (_pos >= _s.Length) throw Error("unterminated escape sequence");
                char e = _s[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _s.Length ||
                            !int.TryParse(_s.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                            throw Error("invalid \\u escape");
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default: throw Error($"invalid escape '\\{e}'");
                }
            }
        }

        private JsonValue ParseNumber(int line, int col)
        {
            int start = _pos;
            if (_s[_pos] == '-') _pos++;
            if (_pos >= _s.Length || !char.IsDigit(_s[_pos])) throw Error("invalid number");
            if (_s[_pos] == '0') _pos++;
            else while (_pos < _s.Length && char.IsDigit(_s[_pos])) _pos++;
            if (_pos < _s.Length && _s[_pos] == '.')
            {
                _pos++;
                if (_pos >= _s.Length || !char.IsDigit(_s[_pos])) throw Error("invalid number: digits expected after '.'");
                while (_pos < _s.Length && char.IsDigit(_s[_pos])) _pos++;
            }
            if (_pos < _s.Length && (_s[_pos] == 'e' || _s[_pos] == 'E'))
            {
                _pos++;
                if (_pos < _s.Length && (_s[_pos] == '+' || _s[_pos] == '-')) _pos++;
                if (_pos >= _s.Length || !char.IsDigit(_s[_pos])) throw Error("invalid number: digits expected in the exponent");
                while (_pos < _s.Length && char.IsDigit(_s[_pos])) _pos++;
            }
            string text = _s.Substring(start, _pos - start);
            double value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (double.IsInfinity(value)) throw new JsonParseException($"number {text} is out of range", line, col);
            return JsonValue.FromNumber(value, text, line, col);
        }
    }
}

// JsonTokenizer: a strict RFC 8259 tokenizer over UTF-8 bytes, for the runtime's three JSON readers (the safetensors
// header, `*.index.json` shard maps, a folder's config.json). It replaces System.Text.Json's Utf8JsonReader, which
// was the only reason System.Text.Json was in the NativeAOT binary (~40 KB of code for a multi-segment, comment-
// and option-aware reader these files do not need).
//
// What it accepts is exactly RFC 8259 JSON text, as Utf8JsonReader with its default options accepts it, plus two
// refusals Utf8JsonReader only makes when a string is decoded (GetString throws InvalidOperationException there):
// invalid UTF-8 and unpaired UTF-16 surrogate escapes are refused in every string, read or skipped. Refused:
// a UTF-8 byte order mark, comments, trailing commas, NaN / Infinity and other non-JSON literals, leading zeros,
// "+1", ".5", "1.", control characters in strings, unknown escapes, anything after the root value. Nesting deeper
// than the configured depth is refused as Utf8JsonReader refuses it (MaxDepth N allows N nested containers).
// It is iterative (a hostile "[[[[..." costs one early error) and never reads past the span. Do not read from a
// copy and then from the original: copies share the stack of open containers.
//
// Every error is a JsonSyntaxException whose message says what is wrong and where (line, column and byte offset);
// callers wrap it in their own exception (CheckpointException) with the file's name.
using System.Globalization;
using System.Text;

namespace AotVit.Runtime.Weights;

internal enum JsonToken : byte { None, StartObject, EndObject, StartArray, EndArray, PropertyName, String, Number, True, False, Null }

/// <summary>Malformed JSON text. The message names the problem and its position.</summary>
internal sealed class JsonSyntaxException(string message, int offset) : Exception(message)
{
    /// <summary>Byte offset of the problem in the JSON text.</summary>
    public int Offset { get; } = offset;
}

internal ref struct JsonTokenizer
{
    private readonly ReadOnlySpan<byte> _json;
    private readonly int _maxDepth;
    private int _pos;
    private int _depth;
    /// <summary>One bit per open container, 1 = object; grown past 64 levels.</summary>
    private ulong[] _objects;
    private JsonToken _token;
    private int _tokenStart;
    /// <summary>Strings and property names: the content between the quotes; numbers: the number's text.</summary>
    private int _valueStart, _valueLength;
    private bool _escaped, _integer;

    /// <param name="maxDepth">Containers may nest this deep (at least 1).</param>
    public JsonTokenizer(ReadOnlySpan<byte> json, int maxDepth)
    {
        _json = json;
        _maxDepth = Math.Max(1, maxDepth);
        _objects = new ulong[1];
    }

    public readonly JsonToken TokenType => _token;

    /// <summary>Offset of the current token's first byte.</summary>
    public readonly int TokenStart => _tokenStart;

    /// <summary>Offset just past the current token.</summary>
    public readonly int BytesConsumed => _pos;

    /// <summary>Number of containers open around the position.</summary>
    public readonly int Depth => _depth;

    /// <summary>A string's or property name's raw (still escaped) content, or a number's text.</summary>
    public readonly ReadOnlySpan<byte> ValueSpan => _json.Slice(_valueStart, _valueLength);

    private readonly bool InObject => (_objects[(_depth - 1) >> 6] >> ((_depth - 1) & 63) & 1) != 0;

    /// <summary>Advances to the next token. Returns false once the root value is complete and only whitespace follows.</summary>
    /// <exception cref="JsonSyntaxException">The text is not JSON (including when it ends before the root value does).</exception>
    public bool Read()
    {
        if (_token == JsonToken.None && _json.StartsWith("\uFEFF"u8))
        {
            throw Fail("the text starts with a UTF-8 byte order mark, which JSON does not allow", 0);
        }
        SkipWhitespace();
        bool rootDone = _depth == 0 && _token != JsonToken.None;
        if (_pos >= _json.Length)
        {
            if (rootDone) return false;
            throw Fail(_token == JsonToken.None ? "the text is empty (no JSON value)" : "the JSON text ends unexpectedly", _pos);
        }
        if (rootDone) throw Fail($"unexpected {Describe(_pos)} after the end of the JSON value", _pos);

        byte c = _json[_pos];
        switch (_token)
        {
            case JsonToken.None:
            case JsonToken.PropertyName:
                ReadValue();
                break;
            case JsonToken.StartObject when c == '}':
            case JsonToken.StartArray when c == ']':
                EndContainer();
                break;
            case JsonToken.StartObject:
                ReadPropertyName();
                break;
            case JsonToken.StartArray:
                ReadValue();
                break;
            default:   // after a complete value inside a container
                bool inObject = InObject;
                if (c == (inObject ? '}' : ']'))
                {
                    EndContainer();
                    break;
                }
                if (c != ',') throw Fail($"expected ',' or '{(inObject ? '}' : ']')}', found {Describe(_pos)}", _pos);
                int comma = _pos++;
                SkipWhitespace();
                if (_pos >= _json.Length) throw Fail("the JSON text ends unexpectedly", _pos);
                if (_json[_pos] == (inObject ? '}' : ']'))
                {
                    throw Fail("trailing comma before the end of the " + (inObject ? "object" : "array"), comma);
                }
                if (inObject) ReadPropertyName();
                else ReadValue();
                break;
        }
        return true;
    }

    /// <summary>
    /// On a property name, skips its value; on the start of an object or array, skips to its end (the reader is then at
    /// the closing token); on any other token, does nothing. Depth and syntax are still checked.
    /// </summary>
    public void Skip()
    {
        if (_token == JsonToken.PropertyName) Read();
        if (_token is JsonToken.StartObject or JsonToken.StartArray)
        {
            int outer = _depth - 1;
            while (_depth > outer) Read();
        }
    }

    /// <summary>The current string or property name, unescaped.</summary>
    public readonly string GetString()
    {
        if (_token is not (JsonToken.String or JsonToken.PropertyName)) throw new InvalidOperationException("the current JSON token is not a string");
        ReadOnlySpan<byte> raw = ValueSpan;
        if (!_escaped) return Encoding.UTF8.GetString(raw);
        byte[] text = new byte[raw.Length];   // unescaped text is never longer than its escaped form
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == '\\')
            {
                b = raw[++i];
                if (b == 'u')
                {
                    int code = Hex4(raw, i + 1);
                    i += 4;
                    if (code is >= 0xD800 and <= 0xDBFF)
                    {
                        code = 0x10000 + ((code - 0xD800) << 10) + (Hex4(raw, i + 3) - 0xDC00);   // Read checked the pair
                        i += 6;
                    }
                    n += EncodeUtf8(code, text.AsSpan(n));
                    continue;
                }
                b = b switch { (byte)'b' => 8, (byte)'f' => 12, (byte)'n' => 10, (byte)'r' => 13, (byte)'t' => 9, _ => b };
            }
            text[n++] = b;
        }
        return Encoding.UTF8.GetString(text, 0, n);
    }

    /// <summary>The current number as a 64-bit integer: false for a fraction, an exponent or a value out of range.</summary>
    public readonly bool TryGetInt64(out long value)
    {
        value = 0;
        if (!TryGetMagnitude(out ulong magnitude, out bool negative)) return false;
        if (magnitude > (negative ? 1UL << 63 : long.MaxValue)) return false;
        value = negative ? unchecked((long)(0 - magnitude)) : (long)magnitude;
        return true;
    }

    /// <summary>The current number as an unsigned 64-bit integer: false for a sign, a fraction, an exponent or a value above 2^64 − 1.</summary>
    public readonly bool TryGetUInt64(out ulong value)
    {
        if (TryGetMagnitude(out value, out bool negative) && !negative) return true;
        value = 0;
        return false;
    }

    /// <summary>
    /// The current number as the double nearest its exact text (double.Parse, invariant culture: correctly rounded;
    /// beyond the double range it is ±infinity, as Utf8JsonReader.TryGetDouble gives it). False when not a number.
    /// </summary>
    public readonly bool TryGetDouble(out double value)
    {
        value = 0;
        return _token == JsonToken.Number
            && double.TryParse(Encoding.UTF8.GetString(ValueSpan), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private readonly bool TryGetMagnitude(out ulong magnitude, out bool negative)
    {
        magnitude = 0;
        negative = false;
        if (_token != JsonToken.Number || !_integer) return false;
        ReadOnlySpan<byte> digits = ValueSpan;
        if (digits[0] == '-')
        {
            negative = true;
            digits = digits[1..];
        }
        foreach (byte b in digits)
        {
            uint digit = (uint)(b - '0');
            if (magnitude > (ulong.MaxValue - digit) / 10) return false;
            magnitude = magnitude * 10 + digit;
        }
        return true;
    }

    private void ReadValue()
    {
        _tokenStart = _pos;
        byte c = _json[_pos];
        switch (c)
        {
            case (byte)'{':
            case (byte)'[':
                if (_depth >= _maxDepth) throw Fail($"nesting exceeds the maximum configured depth of {_maxDepth}", _pos);
                if ((_depth >> 6) >= _objects.Length)
                {
                    var grown = new ulong[_objects.Length * 2];
                    _objects.CopyTo(grown, 0);
                    _objects = grown;
                }
                ref ulong bits = ref _objects[_depth >> 6];
                ulong bit = 1UL << (_depth & 63);
                bits = c == '{' ? bits | bit : bits & ~bit;
                _depth++;
                _pos++;
                _token = c == '{' ? JsonToken.StartObject : JsonToken.StartArray;
                return;
            case (byte)'"':
                ReadString();
                _token = JsonToken.String;
                return;
            case (byte)'t':
                ReadLiteral("true"u8, JsonToken.True);
                return;
            case (byte)'f':
                ReadLiteral("false"u8, JsonToken.False);
                return;
            case (byte)'n':
                ReadLiteral("null"u8, JsonToken.Null);
                return;
            default:
                if (c == '-' || (uint)(c - '0') <= 9)
                {
                    ReadNumber();
                    return;
                }
                throw Fail($"{Describe(_pos)} cannot start a JSON value", _pos);
        }
    }

    private void ReadPropertyName()
    {
        if (_json[_pos] != '"') throw Fail($"expected a property name in double quotes, found {Describe(_pos)}", _pos);
        _tokenStart = _pos;
        ReadString();
        _token = JsonToken.PropertyName;
        SkipWhitespace();
        if (_pos >= _json.Length) throw Fail("the JSON text ends unexpectedly", _pos);
        if (_json[_pos] != ':') throw Fail($"expected ':' after a property name, found {Describe(_pos)}", _pos);
        _pos++;
    }

    private void EndContainer()
    {
        _tokenStart = _pos;
        _token = _json[_pos] == '}' ? JsonToken.EndObject : JsonToken.EndArray;
        _depth--;
        _pos++;
    }

    private void ReadLiteral(ReadOnlySpan<byte> literal, JsonToken token)
    {
        if (!_json[_pos..].StartsWith(literal))
        {
            throw Fail($"invalid literal (expected '{Encoding.UTF8.GetString(literal)}'; JSON has no NaN, Infinity or other bare words)", _pos);
        }
        _pos += literal.Length;
        _token = token;
    }

    /// <summary>RFC 8259 number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?</summary>
    private void ReadNumber()
    {
        int start = _pos;
        if (_json[_pos] == '-') _pos++;
        if (_pos < _json.Length && _json[_pos] == '0')
        {
            _pos++;
            if (_pos < _json.Length && (uint)(_json[_pos] - '0') <= 9) throw Fail("invalid number: leading zero", _pos);
        }
        else
        {
            Digits();
        }
        _integer = true;
        if (_pos < _json.Length && _json[_pos] == '.')
        {
            _pos++;
            Digits();
            _integer = false;
        }
        if (_pos < _json.Length && (_json[_pos] | 0x20) == 'e')
        {
            _pos++;
            if (_pos < _json.Length && _json[_pos] is (byte)'+' or (byte)'-') _pos++;
            Digits();
            _integer = false;
        }
        _valueStart = start;
        _valueLength = _pos - start;
        _token = JsonToken.Number;
    }

    private void Digits()
    {
        int first = _pos;
        while (_pos < _json.Length && (uint)(_json[_pos] - '0') <= 9) _pos++;
        if (_pos == first)
        {
            throw Fail(_pos < _json.Length ? $"invalid number: expected a digit, found {Describe(_pos)}" : "invalid number: the text ends where a digit is expected", _pos);
        }
    }

    /// <summary>Reads a string from its opening quote; checks escapes, surrogate pairs, control characters and UTF-8.</summary>
    private void ReadString()
    {
        int open = _pos++;
        bool escaped = false, nonAscii = false;
        while (true)
        {
            if (_pos >= _json.Length) throw Fail("unterminated string", open);
            byte b = _json[_pos];
            if (b == '"') break;
            if (b < 0x20) throw Fail($"control character {Describe(_pos)} in a string (it must be escaped)", _pos);
            if (b >= 0x80) nonAscii = true;
            if (b != '\\')
            {
                _pos++;
                continue;
            }
            escaped = true;
            if (_pos + 1 >= _json.Length) throw Fail("unterminated string", open);
            byte e = _json[_pos + 1];
            if (e != 'u')
            {
                if (e is not ((byte)'"' or (byte)'\\' or (byte)'/' or (byte)'b' or (byte)'f' or (byte)'n' or (byte)'r' or (byte)'t'))
                {
                    throw Fail($"invalid escape in a string: '\\' followed by {Describe(_pos + 1)}", _pos);
                }
                _pos += 2;
                continue;
            }
            int code = Hex4(_json, _pos + 2);
            if (code < 0) throw Fail("invalid \\u escape (four hex digits expected)", _pos);
            if (code is >= 0xDC00 and <= 0xDFFF) throw Fail($"unpaired surrogate escape \\u{code:X4} in a string (a low surrogate without a high one)", _pos);
            if (code is >= 0xD800 and <= 0xDBFF)
            {
                int low = _pos + 6 + 1 < _json.Length && _json[_pos + 6] == '\\' && _json[_pos + 7] == 'u' ? Hex4(_json, _pos + 8) : -1;
                if (low is < 0xDC00 or > 0xDFFF)
                {
                    throw Fail($"unpaired surrogate escape \\u{code:X4} in a string (a high surrogate must be followed by a \\u escape of a low one)", _pos);
                }
                _pos += 6;
            }
            _pos += 6;
        }
        _valueStart = open + 1;
        _valueLength = _pos - open - 1;
        _escaped = escaped;
        _pos++;
        if (nonAscii && !System.Text.Unicode.Utf8.IsValid(ValueSpan)) throw Fail("invalid UTF-8 in a string", open);
    }

    /// <summary>The four hex digits at <paramref name="at"/> as a number, or -1.</summary>
    private static int Hex4(ReadOnlySpan<byte> text, int at)
    {
        if (at + 4 > text.Length) return -1;
        int value = 0;
        for (int i = at; i < at + 4; i++)
        {
            int c = text[i], lower = c | 0x20;
            if (c is >= '0' and <= '9') value = value << 4 | c - '0';
            else if (lower is >= 'a' and <= 'f') value = value << 4 | lower - 'a' + 10;
            else return -1;
        }
        return value;
    }

    private static int EncodeUtf8(int code, Span<byte> to)
    {
        if (code < 0x80) { to[0] = (byte)code; return 1; }
        if (code < 0x800) { to[0] = (byte)(0xC0 | code >> 6); to[1] = (byte)(0x80 | code & 0x3F); return 2; }
        if (code < 0x10000)
        {
            to[0] = (byte)(0xE0 | code >> 12); to[1] = (byte)(0x80 | code >> 6 & 0x3F); to[2] = (byte)(0x80 | code & 0x3F);
            return 3;
        }
        to[0] = (byte)(0xF0 | code >> 18); to[1] = (byte)(0x80 | code >> 12 & 0x3F); to[2] = (byte)(0x80 | code >> 6 & 0x3F); to[3] = (byte)(0x80 | code & 0x3F);
        return 4;
    }

    private void SkipWhitespace()
    {
        while (_pos < _json.Length && _json[_pos] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') _pos++;
    }

    private readonly string Describe(int at)
    {
        byte b = _json[at];
        return b is >= 0x21 and < 0x7F ? $"'{(char)b}'" : $"byte 0x{b:X2}";
    }

    /// <summary>The error for a problem at <paramref name="at"/>, with its line and column (1-based, in bytes).</summary>
    private readonly JsonSyntaxException Fail(string what, int at)
    {
        int line = 1, lineStart = 0;
        for (int i = 0; i < at && i < _json.Length; i++)
        {
            if (_json[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }
        return new JsonSyntaxException($"{what} at line {line}, column {at - lineStart + 1} (byte {at})", at);
    }
}

// JsonTokenizer (the runtime's JSON reader for safetensors headers, shard indexes and config.json): tokens, strings and
// escapes, numbers at the int64 / uint64 edges, depth, refusals with their positions, and agreement with
// System.Text.Json's Utf8JsonReader (still available to the tests; the oracle of the `json` fuzz target) on a corpus.
using System.Text;
using AotVit.Fuzzing;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class JsonTokenizerTests
{
    /// <summary>Every token as "Type" or "Type:value" (strings unescaped, numbers as their text).</summary>
    internal static List<string> Tokens(byte[] json, int maxDepth = 64)
    {
        var tokens = new List<string>();
        var reader = new JsonTokenizer(json, maxDepth);
        while (reader.Read())
        {
            tokens.Add(reader.TokenType switch
            {
                JsonToken.String or JsonToken.PropertyName => $"{reader.TokenType}:{reader.GetString()}",
                JsonToken.Number => $"Number:{Encoding.UTF8.GetString(reader.ValueSpan)}",
                _ => reader.TokenType.ToString(),
            });
        }
        Assert.False(reader.Read());   // stays at the end
        return tokens;
    }

    private static List<string> Tokens(string json, int maxDepth = 64) => Tokens(Encoding.UTF8.GetBytes(json), maxDepth);

    private static string Refused(byte[] json, int maxDepth = 64)
    {
        try
        {
            Tokens(json, maxDepth);
        }
        catch (JsonSyntaxException e)
        {
            Assert.InRange(e.Offset, 0, json.Length);
            return e.Message;
        }
        throw new Xunit.Sdk.XunitException($"accepted: {Encoding.UTF8.GetString(json)}");
    }

    private static string Refused(string json, int maxDepth = 64) => Refused(Encoding.UTF8.GetBytes(json), maxDepth);

    private static T OnNumber<T>(string json, Func<JsonTokenizer, T> get)
    {
        var reader = new JsonTokenizer(Encoding.UTF8.GetBytes(json), 4);
        Assert.True(reader.Read());
        Assert.Equal(JsonToken.Number, reader.TokenType);
        return get(reader);
    }

    [Fact]
    public void Reads_every_token_type()
    {
        Assert.Equal(["StartObject", "PropertyName:a", "StartArray", "Number:1", "Number:-2.5e+3", "True", "False", "Null", "String:x",
                      "StartObject", "EndObject", "StartArray", "EndArray", "EndArray", "PropertyName:", "String:", "EndObject"],
                     Tokens(" {\"a\" :\t[1,-2.5e+3 ,true,false,null,\"x\",{},[]],\r\n\"\":\"\"} \n"));
        Assert.Equal(["Number:0"], Tokens("0"));
        Assert.Equal(["String:top"], Tokens("\"top\""));
        Assert.Equal(["Null"], Tokens(" null "));
    }

    [Fact]
    public void Unescapes_strings()
    {
        Assert.Equal(["String:\"\\/\b\f\n\r\t"], Tokens("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""));
        Assert.Equal(["String:é€A\u0000"], Tokens("\"\\u00e9\\u20AC\\u0041\\u0000\""));
        Assert.Equal(["String:😀"], Tokens("\"\\ud83d\\ude00\""));
        Assert.Equal(["String:a😀b"], Tokens("\"a\\uD83D\\uDE00b\""));
        Assert.Equal(["String:raw é and 😀"], Tokens("\"raw é and 😀\""));
        Assert.Equal(["StartObject", "PropertyName:dtype", "Number:1", "EndObject"], Tokens("{\"\\u0064type\":1}"));
    }

    [Theory]
    [InlineData("\"\\ud800\"", "unpaired surrogate escape \\uD800")]
    [InlineData("\"\\udc00\"", "unpaired surrogate escape \\uDC00")]
    [InlineData("\"\\ud800\\ud800\"", "unpaired surrogate escape \\uD800")]
    [InlineData("\"\\ud800\\u0041\"", "unpaired surrogate escape \\uD800")]
    [InlineData("\"\\ud800x\"", "unpaired surrogate escape \\uD800")]
    [InlineData("\"\\ud800", "unpaired surrogate escape \\uD800")]
    [InlineData("{\"skipped\\udfff\":1}", "unpaired surrogate escape \\uDFFF")]
    [InlineData("\"\\x\"", "invalid escape in a string: '\\' followed by 'x'")]
    [InlineData("\"\\u12g4\"", "invalid \\u escape")]
    [InlineData("\"\\u12\"", "invalid \\u escape")]
    [InlineData("\"a\tb\"", "control character byte 0x09 in a string")]
    [InlineData("\"abc", "unterminated string at line 1, column 1 (byte 0)")]
    [InlineData("\"abc\\", "unterminated string")]
    public void Refuses_bad_strings(string json, string expected) =>
        Assert.Contains(expected, Refused(json));

    [Theory]
    [InlineData(new byte[] { 0x22, 0xFF, 0x22 })]
    [InlineData(new byte[] { 0x22, 0xC0, 0x80, 0x22 })]              // overlong NUL
    [InlineData(new byte[] { 0x22, 0xED, 0xA0, 0x80, 0x22 })]        // an encoded surrogate
    [InlineData(new byte[] { 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22 })]  // above U+10FFFF
    [InlineData(new byte[] { 0x22, 0xE2, 0x82, 0x22 })]              // truncated sequence
    public void Refuses_invalid_utf8_in_strings(byte[] json) =>
        Assert.Contains("invalid UTF-8 in a string at line 1, column 1 (byte 0)", Refused(json));

    [Fact]
    public void Refuses_a_byte_order_mark() =>
        Assert.Contains("byte order mark", Refused([0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}']));

    [Theory]
    [InlineData("", "the text is empty")]
    [InlineData(" \n\t ", "the text is empty")]
    [InlineData("{", "ends unexpectedly")]
    [InlineData("{\"a\"", "ends unexpectedly")]
    [InlineData("{\"a\":", "ends unexpectedly")]
    [InlineData("{\"a\":1", "ends unexpectedly")]
    [InlineData("[1,", "ends unexpectedly")]
    [InlineData("tru", "invalid literal (expected 'true'")]
    [InlineData("nul", "invalid literal (expected 'null'")]
    [InlineData("fals", "invalid literal (expected 'false'")]
    [InlineData("-", "invalid number")]
    [InlineData("1.", "invalid number")]
    [InlineData("1e", "invalid number")]
    [InlineData("1e+", "invalid number")]
    [InlineData("[1.]", "invalid number: expected a digit, found ']'")]
    [InlineData("[-a]", "invalid number")]
    public void Refuses_truncated_input(string json, string expected) =>
        Assert.Contains(expected, Refused(json));

    [Theory]
    [InlineData("{} x", "unexpected 'x' after the end of the JSON value at line 1, column 4 (byte 3)")]
    [InlineData("{}{}", "unexpected '{' after the end of the JSON value")]
    [InlineData("1 2", "unexpected '2' after the end of the JSON value")]
    [InlineData("\"a\"\"b\"", "after the end of the JSON value")]
    [InlineData("{}\n\u0000", "unexpected byte 0x00 after the end of the JSON value at line 2, column 1 (byte 3)")]
    [InlineData("truex", "unexpected 'x' after the end")]
    [InlineData("[1,]", "trailing comma before the end of the array")]
    [InlineData("{\"a\":1,}", "trailing comma before the end of the object")]
    [InlineData("{,}", "expected a property name in double quotes, found ','")]
    [InlineData("{\"a\" 1}", "expected ':' after a property name, found '1'")]
    [InlineData("{\"a\":1 \"b\":2}", "expected ',' or '}', found '\"'")]
    [InlineData("[1 2]", "expected ',' or ']', found '2'")]
    [InlineData("[1}", "expected ',' or ']', found '}'")]
    [InlineData("{a:1}", "expected a property name in double quotes")]
    [InlineData("{'a':1}", "expected a property name in double quotes")]
    [InlineData("{/*c*/}", "expected a property name in double quotes, found '/'")]
    [InlineData("[1]//c", "after the end of the JSON value")]
    [InlineData("NaN", "'N' cannot start a JSON value")]
    [InlineData("[Infinity]", "'I' cannot start a JSON value")]
    [InlineData("[-Infinity]", "invalid number: expected a digit, found 'I'")]
    [InlineData("[nan]", "invalid literal (expected 'null'")]
    [InlineData("+1", "'+' cannot start a JSON value")]
    [InlineData(".5", "'.' cannot start a JSON value")]
    [InlineData("01", "invalid number: leading zero at line 1, column 2 (byte 1)")]
    [InlineData("[-01]", "invalid number: leading zero")]
    [InlineData("[0x1F]", "expected ',' or ']', found 'x'")]
    [InlineData("\u000b1", "byte 0x0B cannot start a JSON value")]
    [InlineData("[1,\n  2,\n  @]", "'@' cannot start a JSON value at line 3, column 3 (byte 11)")]
    public void Refuses_invalid_text_and_says_where(string json, string expected) =>
        Assert.Contains(expected, Refused(json));

    [Fact]
    public void Depth_limit_is_that_of_Utf8JsonReader()
    {
        Assert.Equal(2, Tokens("{}", maxDepth: 1).Count);
        Assert.Contains("maximum configured depth of 1", Refused("{\"a\":{}}", maxDepth: 1));
        Assert.Equal(4, Tokens("[[]]", maxDepth: 2).Count);
        Assert.Contains("maximum configured depth of 2 at line 1, column 3 (byte 2)", Refused("[[[]]]", maxDepth: 2));
        Assert.Equal(2 * 64, Tokens(new string('[', 64) + new string(']', 64), maxDepth: 64).Count);
        Assert.Contains("maximum configured depth of 64", Refused(new string('[', 65) + new string(']', 65), maxDepth: 64));
        // Past 64 levels the container stack grows; objects and arrays still close in the right order.
        string deep = string.Concat(Enumerable.Repeat("{\"k\":[", 100)) + "1" + string.Concat(Enumerable.Repeat("]}", 100));
        Assert.Equal(100 * 5 + 1, Tokens(deep, maxDepth: 200).Count);
        Assert.Contains("expected ',' or ']', found '}'", Refused(string.Concat(Enumerable.Repeat("{\"k\":[", 100)) + "1}", maxDepth: 200));
        // A million open brackets cost one early error.
        Assert.Contains("maximum configured depth of 16", Refused(new string('[', 1_000_000), maxDepth: 16));
    }

    [Fact]
    public void Skip_passes_over_a_value_or_a_container()
    {
        var reader = new JsonTokenizer("{\"a\":{\"b\":[1,{\"c\":null}],\"d\":\"e\"},\"f\":2}"u8, 8);
        reader.Read();
        reader.Read();   // "a"
        reader.Skip();   // its value, an object
        Assert.Equal(JsonToken.EndObject, reader.TokenType);
        Assert.Equal(1, reader.Depth);
        reader.Read();
        Assert.Equal("f", reader.GetString());
        reader.Read();
        reader.Skip();   // a number: nothing to skip
        Assert.Equal(JsonToken.Number, reader.TokenType);
        reader.Read();
        Assert.Equal(JsonToken.EndObject, reader.TokenType);
        Assert.False(reader.Read());
    }

    [Theory]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("123456789", 123456789L)]
    public void Int64_in_range(string json, long expected)
    {
        Assert.True(OnNumber(json, r => r.TryGetInt64(out long v) && v == expected));
    }

    [Theory]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("18446744073709551616")]
    [InlineData("99999999999999999999999999")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("1E0")]
    [InlineData("-0.0")]
    public void Int64_refuses_out_of_range_and_non_integers(string json) =>
        Assert.False(OnNumber(json, r => r.TryGetInt64(out _)));

    [Theory]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    [InlineData("9223372036854775808", 9223372036854775808UL)]
    [InlineData("0", 0UL)]
    public void UInt64_in_range(string json, ulong expected) =>
        Assert.True(OnNumber(json, r => r.TryGetUInt64(out ulong v) && v == expected));

    [Theory]
    [InlineData("18446744073709551616")]
    [InlineData("18446744073709551620")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData("1.5")]
    public void UInt64_refuses_out_of_range_signs_and_non_integers(string json) =>
        Assert.False(OnNumber(json, r => r.TryGetUInt64(out _)));

    [Theory]
    [InlineData("1e-12", 1e-12)]
    [InlineData("0.1", 0.1)]
    [InlineData("-2.5E+3", -2500.0)]
    [InlineData("9007199254740993", 9007199254740992.0)]   // round to nearest even, from the exact text
    [InlineData("1e400", double.PositiveInfinity)]           // as Utf8JsonReader.TryGetDouble gives it
    [InlineData("-1e400", double.NegativeInfinity)]
    [InlineData("1e-400", 0.0)]
    [InlineData("2.2250738585072011e-308", 2.2250738585072011e-308)]
    public void Doubles_round_trip_the_exact_text(string json, double expected) =>
        Assert.Equal(expected, OnNumber(json, r => r.TryGetDouble(out double v) ? v : double.NaN));

    [Fact]
    public void Int64_and_double_refuse_other_tokens()
    {
        var reader = new JsonTokenizer("\"1\""u8, 4);
        reader.Read();
        Assert.False(reader.TryGetInt64(out _));
        Assert.False(reader.TryGetDouble(out _));
        Assert.Throws<InvalidOperationException>(() => new JsonTokenizer("1"u8, 4).GetString());
    }

    /// <summary>Texts on which the tokenizer must agree with Utf8JsonReader (accept / refuse, tokens, values).</summary>
    public static TheoryData<string> Corpus =>
    [
        "{}", "[]", "0", "-0", "1.5e-3", "\"x\"", "true", "null", "  {\"a\": [1, 2, {\"b\": null}], \"c\": \"d\\n\"}  ",
        "{\"a\":1,\"a\":2}", "[1e400]", "[-1E-400]", "[123456789012345678901234567890]", "[0.0000000000000000000001]",
        "{\"\\u00e9\\ud83d\\ude00\": \"\\/\"}", "[\"\\u0000\"]", "\"\u007f\"",
        "", " ", "{", "}", "[", "]", "{]", "[}", "{\"a\"}", "{\"a\":}", "[,]", "[1,]", "{,}", "{\"a\":1,}", "01", "-", "1.", ".1", "+1",
        "1e", "1e+", "1E-", "0x10", "Infinity", "NaN", "nul", "tru", "{} {}", "{} x", "[1] ]", "\"\\ud800\"", "\"\\udc00\\ud800\"",
        "\"\\u12\"", "\"\\q\"", "\"a\u0001\"", "'a'", "{a:1}", "/*x*/1", "1//x", "[1 2]", "{\"a\":1 \"b\":2}", "\uFEFF{}",
        "[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]", "[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]",
    ];

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Agrees_with_Utf8JsonReader(string json)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(JsonTarget.Reference(bytes, 17), JsonTarget.Ours(bytes, 17));
    }
}

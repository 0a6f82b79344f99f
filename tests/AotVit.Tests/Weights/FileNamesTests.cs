// FileNames: names that are not UTF-8 as strings (Python's surrogateescape): every byte string decodes and encodes back
// to itself, valid UTF-8 decodes as .NET decodes it, invalid bytes become U+DC80–U+DCFF one by one.

using System.Text;
using AotVit.Runtime.Interop;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class FileNamesTests
{
    // A table, not [InlineData]: xunit serialises theory arguments as text, which turns a lone surrogate into U+FFFD.
    private static readonly (byte[] Bytes, string Expected)[] Cases =
    [
        ([(byte)'c', (byte)'a', (byte)'f', 0xE9], "caf\uDCE9"),                  // Latin-1 é
        ([0xC3, 0xA9], "é"),                                                     // UTF-8 é
        ([0xF0, 0x9F, 0x98, 0x80], "\U0001F600"),                                // a pair
        ([0xED, 0xA0, 0x80], "\uDCED\uDCA0\uDC80"),                              // an encoded surrogate
        ([0xC0, 0x80], "\uDCC0\uDC80"),                                          // overlong NUL
        ([0xE0, 0x80, 0xAF], "\uDCE0\uDC80\uDCAF"),                              // overlong '/'
        ([0xF4, 0x90, 0x80, 0x80], "\uDCF4\uDC90\uDC80\uDC80"),                  // above U+10FFFF
        ([0xE2, 0x82, (byte)'A'], "\uDCE2\uDC82A"),                              // cut short
        ([0xE2, 0x82, 0xAC, 0xFF], "€\uDCFF"),
    ];

    [Fact]
    public void Bytes_decode_as_python_surrogateescape_does_and_encode_back()
    {
        foreach (var (bytes, expected) in Cases)
        {
            string decoded = FileNames.Decode(bytes);
            Assert.Equal(expected, decoded);
            Assert.Equal(bytes, FileNames.Encode(decoded));
            Assert.Equal([.. bytes, 0], FileNames.Encode(decoded, nulTerminated: true));
            Assert.Equal(!System.Text.Unicode.Utf8.IsValid(bytes), FileNames.HasEscapes(decoded));
        }
    }

    [Fact]
    public void Every_byte_string_round_trips_and_valid_utf8_decodes_as_dotnet_does()
    {
        var random = new Random(7);
        for (int n = 0; n < 20_000; n++)
        {
            var bytes = new byte[random.Next(0, 12)];
            random.NextBytes(bytes);
            if (n % 3 == 0)
            {
                for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(0x80 | bytes[i]);   // mostly multi-byte material
            }

            string decoded = FileNames.Decode(bytes);
            Assert.Equal(bytes, FileNames.Encode(decoded));
            bool valid = System.Text.Unicode.Utf8.IsValid(bytes);
            Assert.Equal(!valid, FileNames.HasEscapes(decoded));
            if (valid)
            {
                Assert.Equal(Encoding.UTF8.GetString(bytes), decoded);
            }
        }
    }

    [Fact]
    public void Strings_without_escapes_encode_as_utf8()
    {
        foreach (string s in new[] { "", "photos/a.png", "ünïcødé/日本.jpg", "\U0001F600.png" })
        {
            Assert.False(FileNames.HasEscapes(s));
            Assert.Equal(Encoding.UTF8.GetBytes(s), FileNames.Encode(s));
        }

        Assert.Equal(Encoding.UTF8.GetBytes("\uFFFD"), FileNames.Encode("\uD800"));   // a lone high surrogate: as .NET writes it
    }

    [Fact]
    public void A_nul_inside_a_path_is_refused_not_cut_short()
    {
        // C would stop at the NUL and name another file.
        Assert.Throws<ArgumentException>(() => FileNames.Encode("a\0b\uDCE9", nulTerminated: true));
        Assert.Equal(LinuxFiles.PathKind.Unknown, LinuxFiles.KindOf("/tmp\0/x"));
        Assert.Throws<ArgumentException>(() => UserFiles.OpenRead("/tmp/a\0b\uDCE9.png", "image file"));
    }
}

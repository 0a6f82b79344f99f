// Reader for the "AVIG" golden containers written by tools/pil_goldens.py (format described there),
// plus the seeded byte generator the script uses for its random images.

using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Xunit;

namespace AotVit.Tests.Imaging;

internal sealed class GoldenFile
{
    private readonly Dictionary<string, (byte Dtype, int[] Shape, byte[] Bytes)> _arrays = new();

    public static string DataDirectory => Path.Combine(AppContext.BaseDirectory, "data");

    public static string ImagePath(string name) => Path.Combine(DataDirectory, "images", name);

    public static GoldenFile Load(string name)
    {
        using var file = File.OpenRead(Path.Combine(DataDirectory, "imaging", name));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new BinaryReader(gzip);
        if (Encoding.ASCII.GetString(reader.ReadBytes(4)) != "AVIG")
        {
            throw new InvalidDataException($"{name}: not an AVIG golden file");
        }
        var golden = new GoldenFile();
        uint count = reader.ReadUInt32();
        for (uint i = 0; i < count; i++)
        {
            string arrayName = Encoding.UTF8.GetString(reader.ReadBytes(reader.ReadUInt16()));
            byte dtype = reader.ReadByte();
            int rank = reader.ReadByte();
            var shape = new int[rank];
            long elements = 1;
            for (int d = 0; d < rank; d++)
            {
                shape[d] = reader.ReadInt32();
                elements *= shape[d];
            }
            int elementSize = dtype == 1 ? 1 : 4;
            golden._arrays[arrayName] = (dtype, shape, reader.ReadBytes(checked((int)(elements * elementSize))));
        }
        return golden;
    }

    public bool Has(string name) => _arrays.ContainsKey(name);

    public int[] Shape(string name) => _arrays[name].Shape;

    public byte[] Bytes(string name) => Get(name, 1).Bytes;

    public float[] Floats(string name)
    {
        var bytes = Get(name, 2).Bytes;
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);   // little-endian host assumed (x64/arm64)
        return values;
    }

    public int[] Ints(string name)
    {
        var bytes = Get(name, 3).Bytes;
        var values = new int[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }

    public JsonElement Meta => JsonDocument.Parse(Bytes("meta")).RootElement;

    private (byte Dtype, int[] Shape, byte[] Bytes) Get(string name, byte dtype)
    {
        var array = _arrays[name];
        Assert.Equal(dtype, array.Dtype);
        return array;
    }
}

/// <summary>byte_i = mix(seed·0x9e3779b97f4a7c15 + (i + 1)·0xbf58476d1ce4e5b9) >> 56 (mod 2⁶⁴), as in tools/pil_goldens.py.</summary>
internal static class SeededBytes
{
    public static byte[] Generate(ulong seed, int count)
    {
        var bytes = new byte[count];
        ulong start = unchecked(seed * 0x9E3779B97F4A7C15UL);
        for (int i = 0; i < count; i++)
        {
            ulong z = unchecked(start + (ulong)(i + 1) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
            z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
            z ^= z >> 31;
            bytes[i] = (byte)(z >> 56);
        }
        return bytes;
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
}

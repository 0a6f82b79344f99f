// `image`: ImageDecoder on mutated seeds (PNG, JPEG, GIF, BMP, TGA), truncations, header dimension fields set to
// 0 / 1 / huge, and two kinds of PNG decompression bomb: a tiny file declaring a huge size (must be refused by
// ImageLimits.MaxPixels before any pixel memory exists) and a small image whose zlib stream inflates far past
// what its header needs (decoded as Pillow does, without inflating past the last row: the allocation bound holds).
// Invariants on success: dimensions within the limit, pixel buffer = w·h·3, ReadInfo agrees with Decode, and the
// decode allocated memory in proportion to its input and output (no hidden bomb).
using System.Buffers.Binary;
using System.IO.Compression;
using AotVit.Runtime.Imaging;

namespace AotVit.Fuzzing;

public sealed class ImageTarget : FuzzTarget
{
    private readonly List<(string Name, byte[] Bytes)> _seeds;
    private readonly ImageLimits _limits = new() { MaxPixels = 16_000_000 };
    private readonly byte[] _zlibBomb;

    /// <param name="seedDirectories">Folders whose image files are the seeds (tests/AotVit.Tests/data/images, data/imaging/fuzz).</param>
    /// <param name="bombMegabytes">How much the zlib-bomb seed inflates to.</param>
    public ImageTarget(IEnumerable<string> seedDirectories, int bombMegabytes = 64)
    {
        string[] extensions = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tga"];
        _seeds = seedDirectories.Where(Directory.Exists)
            .SelectMany(d => Directory.GetFiles(d))
            .Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))
            .ToList();
        if (_seeds.Count == 0) throw new InvalidOperationException("no image seeds found");
        _zlibBomb = ZlibOfZeros(bombMegabytes << 20);
    }

    public override string Name => "image";

    public IReadOnlyList<string> SeedNames => _seeds.Select(s => s.Name).ToList();

    public override string? ExpectedError(Exception exception)
    {
        if (exception is not ImageDecodeException) return null;
        // stb names unknown critical PNG chunks by their (random) type bytes: one bucket for all of them.
        string bucket = Bucket(exception);
        int data = bucket.IndexOf("data: ", StringComparison.Ordinal);
        return data > 0 && bucket.Length - data - 6 < 6 ? bucket[..(data + 6)] + "<stb message naming a chunk type>" : bucket;
    }

    public override FuzzCase Next(Random random, long index)
    {
        var (name, seed) = random.Pick(_seeds);
        switch (random.Next(12))
        {
            case 10:
            case 11:
                return Case($"exif {name}", MutateExif(random, seed, name));
            case 0:
                return Case($"truncate {name}", Mutator.Truncate(random, seed));
            case 1:
            case 2:
                return Case($"dimensions {name}", SetDimensions(random, seed, name));
            case 3:
                {
                    // A ~60-byte PNG that declares up to 4 billion² pixels.
                    uint width = (uint)random.Next(4097, int.MaxValue), height = (uint)random.Next(4097, int.MaxValue);
                    byte[] png = Png(width, height, colorType: 2, ZlibOfZeros(16));
                    return new FuzzCase($"size bomb {width}x{height}", png, ".png", () => ExpectRefused(png, "size bomb"));
                }
            case 4:
                {
                    // 64x64 RGB whose IDAT inflates to many megabytes: only 64·(1 + 64·3) bytes are needed. Pillow
                    // stops at the last row and decodes it; so must we, within the allocation bound.
                    byte[] png = Png(64, 64, colorType: 2, _zlibBomb);
                    return new FuzzCase("zlib bomb", png, ".png", () => Decode(png));
                }
            default:
                {
                    var (_, other) = random.Pick(_seeds);
                    return Case($"mutate {name}", Mutator.Mutate(random, seed, spliceFrom: other));
                }
        }
    }

    private FuzzCase Case(string kind, byte[] bytes) => new(kind, bytes, ".img", () => Decode(bytes));

    private FuzzResult Decode(byte[] bytes) => FuzzResult.Ok($"decoded {DecodeChecked(bytes, _limits).Format}");

    /// <summary>
    /// ImageDecoder.Decode with the invariants every decoded image keeps (this target's and the jpeg target's): the
    /// size within the limit and the pixel buffer exactly width·height·3, the allocation bounded by the input and
    /// output sizes, and ReadInfo's (oriented) size equal to what Decode produced.
    /// </summary>
    internal static (RgbImage Image, string Format) DecodeChecked(byte[] bytes, ImageLimits limits)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        RgbImage image = ImageDecoder.Decode(bytes, limits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long pixels = (long)image.Width * image.Height;
        if (pixels > limits.MaxPixels || image.Pixels.Length != pixels * 3)
            throw new FuzzInvariantException($"decoded {image.Width}x{image.Height} with {image.Pixels.Length} bytes (limit {limits.MaxPixels} pixels)");
        long bound = (64L << 20) + 64L * bytes.Length + 16 * pixels;
        if (allocated > bound)
            throw new FuzzInvariantException($"decoding {bytes.Length} bytes into {image.Width}x{image.Height} allocated {allocated >> 20} MiB");
        var (w, h, format) = ImageDecoder.ReadInfo(bytes, limits);   // oriented size, as Decode applies EXIF
        if (w != image.Width || h != image.Height)
            throw new FuzzInvariantException($"ReadInfo says {w}x{h}, Decode produced {image.Width}x{image.Height}");
        return (image, format);
    }

    private FuzzResult ExpectRefused(byte[] png, string what)
    {
        try
        {
            RgbImage image = ImageDecoder.Decode(png, _limits);
            throw new FuzzInvariantException($"{what} of {png.Length} bytes decoded to {image.Width}x{image.Height} instead of being refused");
        }
        catch (ImageDecodeException e)
        {
            return FuzzResult.Error(Bucket(e));
        }
    }

    /// <summary>The <c>exif</c> class: an EXIF block (PNG eXIf chunk with a fresh CRC, or JPEG APP1 after SOI) whose
    /// IFD0 is built with hostile fields (entry counts up to 65535, value counts up to 2^32-1, offsets past the end,
    /// into the header or looping to IFD0, every TIFF type 0-17, duplicate Orientation tags, either byte order,
    /// truncated at a random point), inserted into the seed (other formats get a PNG-style chunk appended: ignored).
    /// Decode must give an image or an ImageDecodeException, and ReadInfo must agree on the oriented size.</summary>
    private static byte[] MutateExif(Random random, byte[] seed, string name)
    {
        bool big = random.Next(2) == 0;
        var ifd = new List<byte>();
        void U16(int v) { if (big) { ifd.Add((byte)(v >> 8)); ifd.Add((byte)v); } else { ifd.Add((byte)v); ifd.Add((byte)(v >> 8)); } }
        void U32(uint v) { for (int i = 0; i < 4; i++) ifd.Add((byte)(big ? v >> (24 - 8 * i) : v >> (8 * i))); }
        ifd.AddRange(big ? "MM"u8.ToArray() : "II"u8.ToArray());
        U16(random.Next(8) == 0 ? random.Next(65536) : 42);
        uint[] offsets = [0, 1, 2, 6, 7, 8, 9, 4096, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF];
        U32(random.Next(6) == 0 ? random.Pick(offsets) : 8);
        int entries = random.Next(10) == 0 ? random.Next(65536) : random.Next(1, 6);
        U16(entries);
        for (int e = 0; e < Math.Min(entries, 6); e++)
        {
            U16(random.Next(3) == 0 ? random.Next(65536) : 0x0112);
            U16(random.Next(4) == 0 ? random.Next(18) : 3);
            U32(random.Next(4) == 0 ? random.Pick(offsets) : 1);
            U32(random.Next(3) == 0 ? random.Pick(offsets) : (uint)random.Next(0, 10) << (big ? 16 : 0));
        }
        U32(random.Next(4) == 0 ? 8u : 0u);
        byte[] tiff = ifd.ToArray();
        if (random.Next(4) == 0) tiff = tiff[..random.Next(tiff.Length + 1)];
        string extension = Path.GetExtension(name).ToLowerInvariant();
        if (extension is ".jpg" or ".jpeg" && seed.Length > 2)
        {
            byte[] payload = [.. "Exif\0\0"u8, .. tiff];
            byte[] segment = [0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];
            return [.. seed.AsSpan(0, 2), .. segment, .. seed.AsSpan(2)];
        }
        using var chunk = new MemoryStream();
        Chunk(chunk, random.Next(5) == 0 ? "tEXt" : "eXIf", random.Next(5) == 0 ? [.. "exif\0"u8, .. tiff] : tiff);
        byte[] c = chunk.ToArray();
        int at = extension == ".png" && seed.Length > 33 ? (random.Next(2) == 0 ? 33 : Math.Max(33, seed.Length - 12)) : seed.Length;
        return [.. seed.AsSpan(0, at), .. c, .. seed.AsSpan(at)];
    }

    private static readonly uint[] DimensionValues = [0, 1, 2, 255, 256, 4096, 65535, 65536, 100_000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    /// <summary>Overwrites the width and/or height field of the seed's own format with an edge value.</summary>
    private static byte[] SetDimensions(Random random, byte[] seed, string name)
    {
        byte[] bytes = (byte[])seed.Clone();
        uint value = random.Next(3) == 0 ? (uint)random.Next() : random.Pick(DimensionValues);
        bool height = random.Next(2) == 0;
        string extension = Path.GetExtension(name).ToLowerInvariant();
        switch (extension)
        {
            case ".png" when bytes.Length >= 24:
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(height ? 20 : 16), value);
                break;
            case ".gif" when bytes.Length >= 10:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(height ? 8 : 6), (ushort)value);
                break;
            case ".bmp" when bytes.Length >= 26:
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(height ? 22 : 18), random.Next(4) == 0 ? (uint)-(int)value : value);
                break;
            case ".tga" when bytes.Length >= 18:
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(height ? 14 : 12), (ushort)value);
                break;
            case ".jpg" or ".jpeg":
                for (int i = 0; i + 9 < bytes.Length; i++)
                {
                    if (bytes[i] == 0xFF && bytes[i + 1] is 0xC0 or 0xC1 or 0xC2)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + (height ? 5 : 7)), (ushort)value);
                        break;
                    }
                }
                break;
        }
        return bytes;
    }

    // ---- PNG construction (for the bombs) ----

    public static byte[] ZlibOfZeros(int length)
    {
        using var output = new MemoryStream();
        using (var z = new ZLibStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 16];
            for (int left = length; left > 0; left -= zeros.Length) z.Write(zeros, 0, Math.Min(left, zeros.Length));
        }
        return output.ToArray();
    }

    public static byte[] Png(uint width, uint height, byte colorType, byte[] idat)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = colorType;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat);
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        png.Write(word);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        png.Write(word);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}

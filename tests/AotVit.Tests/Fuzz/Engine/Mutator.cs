// Byte-level mutations shared by the binary targets: bit flips, interesting values, chunk insert/delete/duplicate,
// splicing and truncation. Structure-aware mutations live with their targets.
using System.Buffers.Binary;

namespace AotVit.Fuzzing;

public static class Mutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x5B, 0x7B, 0x30];
    private static readonly uint[] InterestingInts = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x3FFFFFFF, 65500, 100000];

    /// <summary>Applies 1..maxMutations random mutations to a copy of <paramref name="data"/>.</summary>
    public static byte[] Mutate(Random random, byte[] data, int maxMutations = 8, byte[]? spliceFrom = null)
    {
        var bytes = new List<byte>(data);
        int count = 1 + random.Next(maxMutations);
        for (int m = 0; m < count; m++)
        {
            if (bytes.Count == 0) { bytes.Add((byte)random.Next(256)); continue; }
            int at = PickOffset(random, bytes.Count);
            switch (random.Next(9))
            {
                case 0: bytes[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)]; break;
                case 2: bytes[at] = (byte)random.Next(256); break;
                case 3:
                    {
                        uint value = InterestingInts[random.Next(InterestingInts.Length)];
                        Span<byte> word = stackalloc byte[4];
                        if (random.Next(2) == 0) BinaryPrimitives.WriteUInt32BigEndian(word, value);
                        else BinaryPrimitives.WriteUInt32LittleEndian(word, value);
                        int width = random.Next(2) == 0 ? 2 : 4;
                        for (int i = 0; i < width && at + i < bytes.Count; i++) bytes[at + i] = word[i + (width == 2 ? 2 : 0)];
                        break;
                    }
                case 4: bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + random.Next(64))); break;
                case 5:
                    {
                        int length = Math.Min(bytes.Count - at, 1 + random.Next(256));
                        bytes.InsertRange(PickOffset(random, bytes.Count), bytes.GetRange(at, length));
                        break;
                    }
                case 6:
                    {
                        var junk = new byte[1 + random.Next(32)];
                        random.NextBytes(junk);
                        bytes.InsertRange(at, junk);
                        break;
                    }
                case 7 when spliceFrom is { Length: > 0 }:
                    {
                        int from = random.Next(spliceFrom.Length);
                        int length = Math.Min(spliceFrom.Length - from, 1 + random.Next(512));
                        for (int i = 0; i < length && at + i < bytes.Count; i++) bytes[at + i] = spliceFrom[from + i];
                        break;
                    }
                default: bytes.RemoveRange(at, bytes.Count - at); break;   // truncate
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Offsets biased towards the start, where headers live.</summary>
    public static int PickOffset(Random random, int length) =>
        random.Next(3) == 0 ? random.Next(Math.Min(length, 64)) : random.Next(length);

    public static byte[] Truncate(Random random, byte[] data) => data[..random.Next(data.Length)];

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}

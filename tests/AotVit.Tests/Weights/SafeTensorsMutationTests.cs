// Randomised robustness: thousands of corrupted variants of a valid file must either load (and read) cleanly or fail with
// CheckpointException; any other exception type is a bug in the validation.
using System.Buffers.Binary;
using System.Text;
using AotVit.Runtime.Weights;
using Xunit;

namespace AotVit.Tests.Weights;

[Trait("Category", "Weights")]
public sealed class SafeTensorsMutationTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void MutatedFilesOnlyFailWithCheckpointException()
    {
        byte[] original = SafeTensorsTestFiles.Sample();
        int headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(original);
        var random = new Random(20240611);
        int accepted = 0, rejected = 0;
        byte[] interesting = Encoding.ASCII.GetBytes("{}[],:\"-0123456789eE.\\ ");

        for (int iteration = 0; iteration < 4000; iteration++)
        {
            byte[] mutated = (byte[])original.Clone();
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++)
            {
                if (mutated.Length <= 8) break;
                switch (random.Next(6))
                {
                    case 0: // random byte anywhere, biased to the header
                        mutated[random.Next(Math.Min(mutated.Length, headerEnd + 4))] = (byte)random.Next(256);
                        break;
                    case 1: // JSON-significant character in the header
                        mutated[HeaderIndex(random, mutated, headerEnd)] = interesting[random.Next(interesting.Length)];
                        break;
                    case 2: // truncation
                        mutated = mutated[..random.Next(mutated.Length)];
                        break;
                    case 3: // corrupt the length prefix
                        if (mutated.Length >= 8)
                        {
                            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(mutated);
                            ulong[] candidates = [0, length - 1, length + 1, length + 8, (ulong)random.NextInt64(), ulong.MaxValue, 1UL << 63];
                            BinaryPrimitives.WriteUInt64LittleEndian(mutated, candidates[random.Next(candidates.Length)]);
                        }
                        break;
                    case 4: // digit flip inside a number: changes shapes and offsets while keeping JSON valid
                        {
                            int at = HeaderIndex(random, mutated, headerEnd);
                            if (mutated[at] is >= (byte)'0' and <= (byte)'9') mutated[at] = (byte)('0' + random.Next(10));
                            break;
                        }
                    default: // insert or delete a byte in the header (shifts everything after it)
                        {
                            int at = random.Next(Math.Min(mutated.Length, headerEnd) + 1);
                            mutated = random.Next(2) == 0 || at >= mutated.Length
                                ? [.. mutated[..at], interesting[random.Next(interesting.Length)], .. mutated[at..]]
                                : [.. mutated[..at], .. mutated[(at + 1)..]];
                            break;
                        }
                }
            }

            try
            {
                using var file = SafeTensorsFile.FromMemory(mutated);
                foreach (TensorInfo tensor in file.Tensors)
                {
                    _ = file.GetBytes(tensor).Length;
                    if (tensor.DType.IsFloatingPoint()) _ = file.GetFloats(tensor).Length;
                }
                _ = file.Metadata.Count;
                accepted++;
            }
            catch (CheckpointException exception)
            {
                Assert.False(string.IsNullOrWhiteSpace(exception.Message));
                rejected++;
            }
            catch (Exception exception)
            {
                Assert.Fail($"iteration {iteration}: {exception.GetType().Name}: {exception.Message}\n{Convert.ToHexString(mutated)}");
            }
        }
        output.WriteLine($"mutated files: {accepted} accepted, {rejected} rejected with CheckpointException");
        Assert.True(accepted > 0 && rejected > 0, $"accepted {accepted}, rejected {rejected}");
    }

    /// <summary>A random index in the JSON header part of <paramref name="file"/> (which is longer than 8 bytes).</summary>
    private static int HeaderIndex(Random random, byte[] file, int headerEnd) =>
        8 + random.Next(Math.Max(1, Math.Min(file.Length, headerEnd) - 8));
}

// NativeBuffer: small blocks come from the C allocator and are zeroed by us; blocks of 1 MiB or more are anonymous
// mappings (zeroed by the kernel, 2 MiB aligned, transparent huge pages on Linux). Both must be zeroed, aligned,
// writable over their whole length and freed exactly once.
using AotVit.Runtime.Threading;
using Xunit;

namespace AotVit.Tests.Kernels;

public sealed unsafe class NativeBufferTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(1L)]
    [InlineData(1000L)]
    [InlineData((1L << 18) - 1)]        // just under the mapping threshold (1 MiB)
    [InlineData(1L << 18)]              // exactly 1 MiB
    [InlineData((3L << 20) / 4 + 7)]    // 3 MiB + 28 bytes: a huge page and a tail of small pages
    [InlineData(25L << 20)]             // 100 MiB, as large as ViT-B/32's biggest packed matrices together
    public void BlocksAreZeroedAlignedWritableAndFreedOnce(long floats)
    {
        for (int round = 0; round < 2; round++)   // a second round reuses what the first freed
        {
            var buffer = new NativeBuffer(floats);
            Assert.Equal(floats, buffer.Length);
            Assert.True(buffer.Pointer != null);
            Assert.Equal(0L, (long)buffer.Pointer % NativeBuffer.Alignment);
            float* p = buffer.Pointer;
            long step = Math.Max(1, floats / 4096);
            for (long i = 0; i < floats; i += step)
            {
                Assert.Equal(0f, p[i]);
                p[i] = i;
            }

            if (floats > 0)
            {
                float expectedLast = (floats - 1) % step == 0 ? floats - 1 : 0f;   // written above, or still zero
                Assert.Equal(expectedLast, p[floats - 1]);
                p[floats - 1] = 1f;   // the last float is writable
            }

            buffer.Dispose();
            Assert.True(buffer.Pointer == null);
            buffer.Dispose();   // idempotent
        }
    }
}

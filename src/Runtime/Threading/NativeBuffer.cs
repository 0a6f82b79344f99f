// NativeBuffer: a 64-byte aligned, zeroed block of native floats (activation arenas, packed weights, kernel scratch).
// It is not a pool or an arena allocator: one buffer, one allocation, freed on Dispose or by the finalizer.
using System.Runtime.InteropServices;

namespace AotVit.Runtime.Threading;

/// <summary>64-byte aligned native memory block of <see cref="Length"/> floats, zeroed, freed on Dispose.</summary>
public sealed unsafe class NativeBuffer : IDisposable
{
    /// <summary>Alignment of <see cref="Pointer"/> in bytes (one cache line, one zmm register).</summary>
    public const int Alignment = 64;

    /// <summary>Allocates <paramref name="floats"/> zeroed floats.</summary>
    public NativeBuffer(long floats)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(floats);
        nuint bytes = (nuint)Math.Max(1, floats) * sizeof(float);
        Pointer = (float*)NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear(Pointer, bytes);
        Length = floats;
    }

    ~NativeBuffer() => Free();

    /// <summary>Start of the block ([Length] floats); null after Dispose.</summary>
    public float* Pointer { get; private set; }

    /// <summary>Number of floats in the block.</summary>
    public long Length { get; }

    /// <summary>The block as a span (for loading and tests).</summary>
    public Span<float> AsSpan() => new(Pointer, checked((int)Length));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        float* pointer = Pointer;
        Pointer = null;
        if (pointer != null)
        {
            NativeMemory.AlignedFree(pointer);
        }
    }
}

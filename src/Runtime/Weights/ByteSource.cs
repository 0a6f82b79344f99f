// ByteSource: the bytes of a checkpoint, read by position. Files are read with positioned reads (pread), never
// memory-mapped: a file that is truncated, replaced or rewritten while it is read ends in a CheckpointException, never
// in SIGBUS (touching a mapped page past the new end of a file kills the process, and a library loaded into a
// long-running service must not). Reads are thread-safe: every read names its own offset.
using Microsoft.Win32.SafeHandles;
using AotVit.Runtime.Interop;

namespace AotVit.Runtime.Weights;

/// <summary>A read-only byte range with positioned, thread-safe reads: a file or caller memory.</summary>
public abstract class ByteSource : IDisposable
{
    private protected ByteSource(string name, long length)
    {
        Name = name;
        Length = length;
    }

    /// <summary>The path, or the display name of in-memory data; used in error messages.</summary>
    public string Name { get; }

    /// <summary>The length when the source was opened. A file that is shorter when read is an error.</summary>
    public long Length { get; }

    /// <summary>Fills <paramref name="destination"/> with the bytes at [offset, offset + destination.Length).</summary>
    /// <exception cref="CheckpointException">The range lies outside [0, Length), or the file ends before it (it was
    /// truncated or replaced after it was opened), or the read fails.</exception>
    public abstract void ReadExactly(long offset, Span<byte> destination);

    /// <summary>The bytes at [offset, offset + length) without copying, where the source is memory; false for files.</summary>
    internal virtual bool TryGetSpan(long offset, long length, out ReadOnlySpan<byte> span)
    {
        span = default;
        return false;
    }

    /// <summary>
    /// Throws when the file is no longer what was opened: another length, or another modification time (a rewrite in
    /// place). Loaders call it after the last read, so weights are never a mix of two versions of a file. Memory sources
    /// never change.
    /// </summary>
    /// <exception cref="CheckpointException">The file changed since it was opened.</exception>
    public virtual void CheckUnchanged()
    {
    }

    /// <summary>Opens <paramref name="path"/> for positioned reads. Errors as <see cref="UserFiles.OpenRead"/>, and a
    /// <see cref="CheckpointException"/> for something that is not a regular file (a pipe, a socket, a device), refused
    /// without opening it where the file's kind can be read (Linux).</summary>
    public static ByteSource OpenFile(string path, string what = "checkpoint") => new FileSource(path, what);

    /// <summary>Caller memory, which must not change while the source is used.</summary>
    public static ByteSource FromMemory(ReadOnlyMemory<byte> bytes, string name = "<memory>") => new MemorySource(bytes, name);

    /// <summary>Checks [offset, offset + length) against [0, Length) without overflow.</summary>
    private protected void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
        {
            throw new CheckpointException(
                $"a read of {length} bytes at offset {offset} lies outside the file's {Length} bytes", Name);
        }
    }

    public abstract void Dispose();

    private sealed class FileSource : ByteSource
    {
        private readonly FileStream _stream;
        private readonly SafeFileHandle _handle;
        private readonly LinuxFiles.Version? _version;   // null where statx is unavailable: only the length is checked

        public FileSource(string path, string what) : this(Open(path, what), path)
        {
        }

        private FileSource((FileStream Stream, long Length) opened, string path) : base(path, opened.Length)
        {
            _stream = opened.Stream;
            _handle = opened.Stream.SafeFileHandle;
            _version = LinuxFiles.TryStat(_handle, out var version) ? version : null;
        }

        private static (FileStream, long) Open(string path, string what)
        {
            CheckpointException NotRegular() => new($"not a regular file (a pipe, socket or device): a {what} is read by position, so save it to a file first", path);
            // A FIFO is refused before it is opened: open(2) of a FIFO for reading waits for a writer, maybe forever.
            if (LinuxFiles.KindOf(path) == LinuxFiles.PathKind.Special)
            {
                throw NotRegular();
            }

            FileStream stream = UserFiles.OpenRead(path, what, FileOptions.RandomAccess);
            try
            {
                if (!stream.CanSeek)
                {
                    // Where the kind could not be read: a pipe (`--weights <(curl …)`) or a socket; reads by position need a file.
                    throw NotRegular();
                }
                return (stream, stream.Length);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        public override void ReadExactly(long offset, Span<byte> destination)
        {
            CheckRange(offset, destination.Length);
            while (!destination.IsEmpty)
            {
                int read;
                try
                {
                    read = RandomAccess.Read(_handle, destination, offset);
                }
                catch (IOException e)
                {
                    throw new CheckpointException($"reading {destination.Length} bytes at offset {offset} failed: {e.Message}", Name, inner: e);
                }
                if (read == 0)
                {
                    throw new CheckpointException(
                        $"the file ended at byte {offset} while {Length} bytes were expected: it was truncated or replaced while it was being read", Name);
                }
                destination = destination[read..];
                offset += read;
            }
        }

        public override void CheckUnchanged()
        {
            long length;
            try
            {
                length = RandomAccess.GetLength(_handle);
            }
            catch (IOException e)
            {
                throw new CheckpointException($"cannot check the file after reading it: {e.Message}", Name, inner: e);
            }
            if (length != Length)
            {
                throw new CheckpointException(
                    $"the file changed while it was being read ({Length} bytes when opened, {length} now); load it again once it is complete", Name);
            }
            // A rewrite in place keeps the length; it moves the modification and status-change times (the latter
            // cannot be set back by hand).
            if (_version is { } before && LinuxFiles.TryStat(_handle, out var now) && now != before)
            {
                throw new CheckpointException(
                    "the file was modified while it was being read (its modification time changed); load it again once it is complete", Name);
            }
        }

        public override void Dispose() => _stream.Dispose();
    }

    private sealed class MemorySource : ByteSource
    {
        private readonly ReadOnlyMemory<byte> _bytes;

        public MemorySource(ReadOnlyMemory<byte> bytes, string name) : base(name, bytes.Length) => _bytes = bytes;

        public override void ReadExactly(long offset, Span<byte> destination)
        {
            CheckRange(offset, destination.Length);
            _bytes.Span.Slice((int)offset, destination.Length).CopyTo(destination);
        }

        internal override bool TryGetSpan(long offset, long length, out ReadOnlySpan<byte> span)
        {
            CheckRange(offset, length);
            span = _bytes.Span.Slice((int)offset, (int)length);
            return true;
        }

        public override void Dispose()
        {
        }
    }
}

// ClampedMemoryStream: the Stream StbImageSharp reads from. Read-only, over pinned memory, and - the reason it
// exists - it never lets the position leave [0, Length].
//
// StbImageSharp ports stb_image's buffer-based helpers onto System.IO.Stream: stbi__skip(n) becomes
// Seek(n, Current) and stbi__at_eof becomes Position == Length. With an ordinary stream, a segment length that
// points past the end leaves Position > Length, at_eof never becomes true, and the JPEG marker scan loops
// forever (found by the truncation tests: a JPEG cut after its first APP0 length hangs). A negative skip, which
// stb_image in C treats as "jump to the end", would move backwards and re-read the same marker. Clamping both
// restores stb_image's C behaviour.

namespace AotVit.Runtime.Imaging;

internal sealed unsafe class ClampedMemoryStream(byte* data, int length) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = (int)Math.Clamp(value, 0, length);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int available = Math.Min(buffer.Length, length - _position);
        new ReadOnlySpan<byte>(data + _position, available).CopyTo(buffer);
        _position += available;
        return available;
    }

    public override int ReadByte() => _position < length ? data[_position++] : -1;

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current when offset < 0 => length,   // stb_image: a negative skip means "skip to the end"
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        Position = target;
        return _position;
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

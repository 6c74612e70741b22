// Shared source, compiled into each assembly that reads gzip from strangers (<Compile Include="../Shared/…" />).
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.GZip;

namespace Ziya2.IO;

/// <summary>
/// Reads a gzip file (one member or several) with SharpZipLib, which checks each member's trailer — .NET's
/// <c>GZipStream</c> ends silently on a truncated file — and makes whatever the inflater does with corrupt bytes an
/// <see cref="InvalidDataException"/> naming the file: its own exceptions, which callers would otherwise have to
/// know; an <see cref="IndexOutOfRangeException"/> on bad Huffman tables; and output without end from a few bytes
/// (bench/fuzz.sh jsonl found 35 bytes it inflated at 143 MB/s for as long as they were read). Deflate cannot expand
/// data more than 1032:1, so output beyond that ratio of the compressed bytes read so far is corrupt by construction.
/// </summary>
sealed class CheckedGzipStream(Stream compressed, string name) : Stream
{
    const long MaxRatio = 1032, Slack = 1 << 20;
    readonly GZipInputStream _inner = new(compressed) { IsStreamOwner = false };
    readonly long _start = compressed.CanSeek ? compressed.Position : 0;
    long _inflated;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n;
        try { n = _inner.Read(buffer); }
        // Everything the inflater says about the bytes is a corrupt file (SharpZipLib's own exceptions, its "EOS reading
        // GZIP footer", an index out of its tables); only the disk's own I/O errors stay what they are.
        catch (Exception e) when (e is SharpZipBaseException or EndOfStreamException || e is not (IOException or OutOfMemoryException or OperationCanceledException))
        {
            throw new InvalidDataException($"{name}: corrupt gzip stream ({e.GetType().Name}: {e.Message})", e);
        }
        _inflated += n;
        if (!compressed.CanSeek) return n;
        // What the inflater has pulled from the file so far: an upper bound on what it consumed, so the check is lenient.
        long read = compressed.Position - _start;
        if (_inflated > MaxRatio * read + Slack)
            throw new InvalidDataException($"{name}: corrupt gzip stream ({_inflated:N0} bytes inflated from {read:N0}, beyond deflate's 1032:1)");
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _inflated; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _inner.Dispose();
        base.Dispose(disposing);
    }
}

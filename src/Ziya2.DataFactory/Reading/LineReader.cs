namespace Ziya2.DataFactory.Reading;

/// <summary>
/// Splits a byte stream into lines without ever holding more than <c>maxLineBytes</c> of one line: a longer line is
/// skipped to its end and reported with its length, so a 100 MB single line costs no memory.
/// </summary>
static class LineReader
{
    public readonly record struct Line(long Number, byte[]? Bytes, long Length);

    public static IEnumerable<Line> Read(Stream stream, int maxLineBytes)
    {
        var buffer = new byte[1 << 16];
        var line = new MemoryStream();
        long number = 1, length = 0;
        bool tooLong = false;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int start = 0, end;
            while ((end = Array.IndexOf(buffer, (byte)'\n', start, read - start)) >= 0)
            {
                // A line inside the buffer (most are) is copied once, straight out of it.
                if (length == 0) yield return Whole(buffer.AsSpan(start, end - start));
                else
                {
                    Append(buffer.AsSpan(start, end - start));
                    yield return Finish();
                }
                start = end + 1;
            }
            Append(buffer.AsSpan(start, read - start));
        }
        if (length > 0) yield return Finish();

        void Append(ReadOnlySpan<byte> part)
        {
            length += part.Length;
            if (tooLong) return;
            if (length > maxLineBytes) { tooLong = true; line.SetLength(0); return; }
            line.Write(part);
        }

        Line Whole(ReadOnlySpan<byte> bytes) =>
            bytes.Length > maxLineBytes ? new Line(number++, null, bytes.Length)
            : new Line(number++, (bytes is [.., (byte)'\r'] ? bytes[..^1] : bytes).ToArray(), bytes.Length);

        Line Finish()
        {
            var bytes = tooLong ? null : line.ToArray();
            if (bytes is [.., (byte)'\r']) bytes = bytes[..^1];
            var result = new Line(number++, bytes, length);
            line.SetLength(0); length = 0; tooLong = false;
            return result;
        }
    }
}

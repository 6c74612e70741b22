using System.Text;

namespace Ziya2.Cli;

/// <summary>
/// The lines of a UTF-8 stream as spans of one reused buffer (split at '\n' only, as SentencePiece's spm_encode reads
/// them: a '\r' stays in its line; a last line without '\n' counts). Nothing is allocated per line.
/// </summary>
static class LineReader
{
    public delegate void LineHandler(ReadOnlySpan<char> line);

    public static void ForEach(Stream input, LineHandler handle)
    {
        using var reader = new StreamReader(input, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false, bufferSize: 1 << 16);
        var buffer = new char[1 << 16];
        int start = 0, filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (start > 0) { Array.Copy(buffer, start, buffer, 0, filled - start); (filled, start) = (filled - start, 0); }
                else Array.Resize(ref buffer, buffer.Length * 2);   // a line longer than the buffer
            }
            int read = reader.Read(buffer, filled, buffer.Length - filled);
            if (read == 0)
            {
                if (filled > start) handle(buffer.AsSpan(start, filled - start));
                return;
            }
            int scanFrom = filled;
            filled += read;
            for (int at; (at = Array.IndexOf(buffer, '\n', scanFrom, filled - scanFrom)) >= 0; scanFrom = at + 1)
            {
                handle(buffer.AsSpan(start, at - start));
                start = at + 1;
            }
        }
    }
}

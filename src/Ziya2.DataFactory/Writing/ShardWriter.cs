using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ziya2.DataFactory.Writing;

/// <summary>
/// Writes JSON lines into zstd-compressed shards of bounded (uncompressed) size: <c>&lt;prefix&gt;-00000.jsonl.zst</c>, … .
/// Files are written under temporary names and renamed by <see cref="Complete"/>, so a killed run never leaves a
/// file that looks finished. Single-threaded zstd at a fixed level keeps the bytes deterministic.
/// </summary>
sealed class ShardWriter(string directory, string prefix, long maxBytes) : IDisposable
{
    const int CompressionLevel = 3;
    // Text stays readable UTF-8 (Chinese is 3 bytes, not a 6-byte \uXXXX escape); only what JSON requires is escaped.
    static readonly JsonSerializerOptions Json = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };
    static readonly JsonWriterOptions Writer = new() { Encoder = Json.Encoder };
    readonly List<string> _written = [];
    // One buffer and one JSON writer for every record: the line is written as UTF-8 once, with no string in between.
    readonly ArrayBufferWriter<byte> _line = new(1 << 16);
    Utf8JsonWriter? _json;
    Stream? _file;
    ZstdSharp.CompressionStream? _zstd;
    // Lines reach zstd a megabyte at a time: fed one record at a time, its compressor ran between every document's
    // filters, whose work pushed its match tables out of the cache (~2.7× its speed on the same bytes in one go).
    BufferedStream? _batched;
    long _bytes;

    public long Records { get; private set; }

    public void Write(JsonObject record)
    {
        _line.ResetWrittenCount();
        if (_json is null) _json = new Utf8JsonWriter(_line, Writer);
        else _json.Reset(_line);
        record.WriteTo(_json, Json);
        _json.Flush();
        _line.Write("\n"u8);
        var line = _line.WrittenSpan;
        if (_batched is null || (_bytes > 0 && _bytes + line.Length > maxBytes)) Open();
        _batched!.Write(line);
        _bytes += line.Length;
        Records++;
    }

    void Open()
    {
        Close();
        var path = Path.Combine(directory, $"{prefix}-{_written.Count:D5}.jsonl.zst");
        _written.Add(path);
        _file = new FileStream(path + ".tmp", FileMode.Create, FileAccess.Write);
        _zstd = new ZstdSharp.CompressionStream(_file, CompressionLevel);
        _batched = new BufferedStream(_zstd, 1 << 20);
        _bytes = 0;
    }

    void Close()
    {
        _batched?.Dispose(); _zstd?.Dispose(); _file?.Dispose();
        _batched = null; _zstd = null; _file = null;
    }

    /// <summary>Finishes the last file and renames every file to its final name.</summary>
    public IReadOnlyList<string> Complete()
    {
        Close();
        foreach (var path in _written) File.Move(path + ".tmp", path, overwrite: true);
        return _written;
    }

    public void Dispose()
    {
        Close();
        _json?.Dispose();
    }
}

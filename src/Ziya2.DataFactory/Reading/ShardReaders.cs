using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Parquet;
using Parquet.Schema;
using Ziya2.Data;

namespace Ziya2.DataFactory.Reading;

/// <summary>Input formats the factory reads.</summary>
public enum InputFormat { Jsonl, JsonlGzip, JsonlZstd, Parquet, TextDirectory }

/// <summary>One unit of parallel work: a file (JSONL, compressed JSONL, Parquet) or a directory of text files.</summary>
public sealed record InputShard(string Path, InputFormat Format)
{
    /// <summary>Stable output name: the path relative to its input root, with separators replaced.</summary>
    public string Name { get; init; } = System.IO.Path.GetFileName(Path);

    public static InputFormat? Detect(string path) =>
        Directory.Exists(path) ? InputFormat.TextDirectory
        : path.EndsWith(".jsonl.gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json.gz", StringComparison.OrdinalIgnoreCase) ? InputFormat.JsonlGzip
        : path.EndsWith(".jsonl.zst", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json.zst", StringComparison.OrdinalIgnoreCase) ? InputFormat.JsonlZstd
        : path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? InputFormat.Jsonl
        : path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase) ? InputFormat.Parquet
        : null;

    /// <summary>
    /// Expands inputs into shards in a stable order: files are shards; a directory containing data files contributes
    /// each of them; a directory of plain text files is one shard. An empty directory is an error: nothing to read.
    /// </summary>
    public static IReadOnlyList<InputShard> Expand(IEnumerable<string> inputs) => Expand(inputs, out _);

    /// <summary>
    /// <see cref="Expand(IEnumerable{string})"/>, also giving the files it leaves out: those of another format in a
    /// directory that holds data files (a directory without any is read as text, every file of it).
    /// </summary>
    public static IReadOnlyList<InputShard> Expand(IEnumerable<string> inputs, out IReadOnlyList<string> skipped)
    {
        var shards = new List<InputShard>();
        var left = new List<string>();
        skipped = left;
        foreach (var input in inputs)
        {
            var full = System.IO.Path.GetFullPath(input);
            if (File.Exists(full))
            {
                var format = Detect(full) ?? throw new ArgumentException($"{input}: unknown input format (expected .jsonl, .jsonl.gz, .jsonl.zst, .parquet or a directory of text files)");
                shards.Add(new InputShard(full, format));
            }
            else if (Directory.Exists(full))
            {
                var files = Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
                if (files.Count == 0) throw new ArgumentException($"{input}: an empty directory: nothing to read (give .jsonl, .jsonl.gz, .jsonl.zst or .parquet files, or text files)");
                var dataFiles = files.Where(f => Detect(f) is { } fmt && fmt != InputFormat.TextDirectory).ToList();
                if (dataFiles.Count > 0)
                {
                    shards.AddRange(dataFiles.Select(f => new InputShard(f, Detect(f)!.Value) { Name = System.IO.Path.GetRelativePath(full, f).Replace('/', '_') }));
                    left.AddRange(files.Except(dataFiles));
                }
                else shards.Add(new InputShard(full, InputFormat.TextDirectory) { Name = System.IO.Path.GetFileName(full) });
            }
            else throw new FileNotFoundException($"{input}: no such file or directory");
        }
        var duplicate = shards.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"two inputs map to the same shard name '{duplicate.Key}': {string.Join(", ", duplicate.Select(s => s.Path))}");
        return shards;
    }
}

/// <summary>Reads shards into records. Nothing malformed throws: it becomes a <see cref="MalformedRecord"/>.</summary>
public sealed class ShardReader(FieldMapping fields, int maxLineBytes = 64 << 20, LegacyEncodings? legacy = null)
{
    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    const int RawPreviewChars = 4096;

    public IEnumerable<InputRecord> Read(InputShard shard) => shard.Format switch
    {
        InputFormat.Parquet => ReadParquet(shard),
        InputFormat.TextDirectory => ReadTextDirectory(shard),
        _ => ReadJsonl(shard),
    };

    IEnumerable<InputRecord> ReadJsonl(InputShard shard)
    {
        using var file = File.OpenRead(shard.Path);
        using Stream stream = shard.Format switch
        {
            InputFormat.JsonlGzip => new Ziya2.IO.CheckedGzipStream(file, shard.Path),
            InputFormat.JsonlZstd => new ZstdSharp.DecompressionStream(file),
            _ => file,
        };
        using var lines = LineReader.Read(stream, maxLineBytes).GetEnumerator();
        long lastLine = 0;
        while (true)
        {
            LineReader.Line line;
            string? streamError = null;
            try
            {
                if (!lines.MoveNext()) break;
                line = lines.Current;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or ZstdSharp.ZstdException or ICSharpCode.SharpZipLib.SharpZipBaseException)
            {
                // A truncated or corrupt compressed stream: what was read stays; the rest of the shard is reported.
                streamError = $"{e.GetType().Name}: {e.Message}";
                line = default;
            }
            if (streamError is not null)
            {
                yield return new MalformedRecord(new RecordOrigin(shard.Path, lastLine + 1), "corrupt_stream", $"stream unreadable after line {lastLine}: {streamError}", null);
                yield break;
            }
            lastLine = line.Number;
            var origin = new RecordOrigin(shard.Path, line.Number);
            if (line.Bytes is null)
            {
                yield return new MalformedRecord(origin, "line_too_long", $"line of {line.Length} bytes exceeds the {maxLineBytes}-byte limit", null);
                continue;
            }
            if (line.Bytes.Length == 0 || line.Bytes.AsSpan().Trim(" \t"u8).Length == 0) continue;   // blank lines are not records
            yield return ParseJsonLine(origin, line.Bytes);
        }
    }

    InputRecord ParseJsonLine(RecordOrigin origin, byte[] bytes)
    {
        // Parsed from the bytes as they are (no string of the whole line): the text field is the only string made.
        byte[] utf8 = bytes;
        string? recoveredFrom = null;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            if (legacy is null || !legacy.TryDecode(bytes, out var text, out var encoding))
                return new MalformedRecord(origin, "invalid_utf8", $"invalid UTF-8 at byte {InvalidByteIndex(bytes)}", null);
            recoveredFrom = encoding;
            utf8 = Encoding.UTF8.GetBytes(text);
        }
        string? Preview()
        {
            // The first RawPreviewChars characters: at most 3 bytes each (a 4-byte character is two of them).
            var text = Encoding.UTF8.GetString(utf8, 0, Math.Min(utf8.Length, RawPreviewChars * 3));
            return text.Length <= RawPreviewChars ? text : text[..RawPreviewChars];
        }
        if (utf8.AsSpan().Contains((byte)0)) return new MalformedRecord(origin, "nul_byte", "line contains a NUL character", Preview()?.Replace("\0", "\\u0000"));
        JsonNode? node;
        try { node = JsonNode.Parse(utf8); }
        catch (JsonException e) { return new MalformedRecord(origin, "invalid_json", e.Message, Preview()); }
        if (node is not JsonObject obj) return new MalformedRecord(origin, "not_an_object", "a JSON line must be an object", Preview());
        var record = ToDocument(origin, obj, Preview);
        return recoveredFrom is not null && record is ParsedRecord p ? p with { Document = p.Document.WithAttribute("source_encoding", recoveredFrom) } : record;
    }

    /// <summary>Where the strict decoder stops in bytes that are not UTF-8.</summary>
    static long InvalidByteIndex(byte[] bytes)
    {
        try { _ = StrictUtf8.GetString(bytes); return -1; }
        catch (DecoderFallbackException e) { return e.Index; }
    }

    InputRecord ToDocument(RecordOrigin origin, JsonObject obj, Func<string?> preview)
    {
        if (obj[fields.Text] is not JsonValue textValue || !textValue.TryGetValue<string>(out var body))
            return new MalformedRecord(origin, "missing_text", $"no string field '{fields.Text}'", preview());
        if (body.Contains('\0')) return new MalformedRecord(origin, "nul_byte", "text contains a NUL character", preview()?.Replace("\0", "\\u0000"));
        string? Str(string key) => obj[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : obj[key] is JsonValue n ? n.ToJsonString() : null;
        var id = Str(fields.Id) ?? $"{Path.GetFileName(origin.File)}:{origin.Line}";
        var document = new Document(id, body)
        {
            Url = Str(fields.Url), Source = Str(fields.Source) ?? Path.GetFileName(origin.File), Language = Str(fields.Language),
        };
        // Attributes an earlier pipeline wrote (its "attributes" object) come back, so annotation chains across runs.
        if (obj["attributes"] is JsonObject written)
            foreach (var (name, node) in written)
                document = WithScalar(document, name, node);
        foreach (var name in fields.Attributes) document = WithScalar(document, name, obj[name]);
        return new ParsedRecord(origin, document, obj);

        static Document WithScalar(Document document, string name, JsonNode? node)
        {
            if (node is not JsonValue v) return document;
            if (v.TryGetValue<string>(out var s)) return document.WithAttribute(name, s);
            if (v.TryGetValue<bool>(out var b)) return document.WithAttribute(name, b);
            if (v.TryGetValue<long>(out var l)) return document.WithAttribute(name, l);
            if (v.TryGetValue<double>(out var d)) return document.WithAttribute(name, d);
            return document;
        }
    }

    IEnumerable<InputRecord> ReadParquet(InputShard shard)
    {
        List<InputRecord> records;
        try { records = ReadParquetRows(shard).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is IOException or InvalidDataException or ParquetException or NotSupportedException or ArgumentException)
        {
            records = [new MalformedRecord(new RecordOrigin(shard.Path, 0), "corrupt_parquet", $"{e.GetType().Name}: {e.Message}", null)];
        }
        return records;
    }

    /// <summary>Row group by row group; string columns only become fields (others are skipped).</summary>
    async Task<List<InputRecord>> ReadParquetRows(InputShard shard)
    {
        var result = new List<InputRecord>();
        using var stream = File.OpenRead(shard.Path);
        await using var reader = await ParquetReader.CreateAsync(stream);
        // Parquet.Net 6 reports string columns as ReadOnlyMemory<char>; they still read into string arrays.
        var stringFields = reader.Schema.GetDataFields().Where(f => f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>)).ToList();
        long row = 0;
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using var group = reader.OpenRowGroupReader(g);
            var columns = new List<(string Name, string?[] Data)>();
            foreach (var field in stringFields)
            {
                var data = new string?[group.RowCount];
                await group.ReadAsync(field, data.AsMemory(), null);
                columns.Add((field.Name, data));
            }
            for (long i = 0; i < group.RowCount; i++)
            {
                row++;
                var obj = new JsonObject();
                foreach (var (name, data) in columns) if (data[i] is string s) obj[name] = s;
                result.Add(ToDocument(new RecordOrigin(shard.Path, row), obj, () => null));
            }
        }
        return result;
    }

    IEnumerable<InputRecord> ReadTextDirectory(InputShard shard)
    {
        foreach (var file in Directory.EnumerateFiles(shard.Path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var origin = new RecordOrigin(file, 1);
            var relative = Path.GetRelativePath(shard.Path, file);
            var length = new FileInfo(file).Length;
            if (length > maxLineBytes) { yield return new MalformedRecord(origin, "file_too_large", $"{length} bytes exceeds the {maxLineBytes}-byte limit", null); continue; }
            string text;
            string? error = null, encoding = null;
            var bytes = File.ReadAllBytes(file);
            try { text = StrictUtf8.GetString(bytes); }
            catch (DecoderFallbackException e)
            {
                if (legacy is not null && legacy.TryDecode(bytes, out text, out var found)) encoding = found;
                else { text = ""; error = $"invalid UTF-8 at byte {e.Index}"; }
            }
            if (error is not null) { yield return new MalformedRecord(origin, "invalid_utf8", error, null); continue; }
            if (text.Contains('\0')) { yield return new MalformedRecord(origin, "nul_byte", "file contains a NUL character", null); continue; }
            var document = new Document(relative, text) { Source = Path.GetFileName(shard.Path) };
            if (encoding is not null) document = document.WithAttribute("source_encoding", encoding);
            yield return new ParsedRecord(origin, document, new JsonObject { ["id"] = relative, ["text"] = text });
        }
    }
}

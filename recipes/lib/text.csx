// Shared helpers for recipes: reading shipped JSONL documents and turning text into byte-level tokens.
using System.Text;
using System.Text.Json;

/// <summary>Settings of the tiny training loop, bound from [train].</summary>
public class TrainSettings
{
    public string Data { get; set; } = "data/tiny.jsonl";
    public int Steps { get; set; } = 40;
    public int BatchSize { get; set; } = 8;
    public int SequenceLength { get; set; } = 64;
    public double ClipGradNorm { get; set; } = 1.0;
    public int LogEvery { get; set; } = 10;
}

/// <summary>Reads {"id", "text"} JSON lines; a malformed line is reported with its number and skipped.</summary>
IEnumerable<Document> ReadJsonl(string path)
{
    int lineNumber = 0;
    foreach (var line in File.ReadLines(path))
    {
        lineNumber++;
        if (string.IsNullOrWhiteSpace(line)) continue;
        Document? doc = null;
        try
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            doc = new Document(root.TryGetProperty("id", out var id) ? id.ToString() : $"{Path.GetFileName(path)}:{lineNumber}", root.GetProperty("text").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            Log.LogWarning("{File}:{Line}: rejected malformed document: {Reason}", path, lineNumber, e.Message);
        }
        if (doc is not null) yield return doc;
    }
}

/// <summary>
/// Byte-level tokens, laid out as SentencePiece's byte fallback: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, byte b → 3 + b.
/// Each document is wrapped in &lt;s&gt; … &lt;/s&gt;. The tokenizer-free default of the tiny recipe (the llama "tiny"
/// preset has 320 ids and exports to GGUF with this vocabulary).
/// </summary>
long[] ByteTokens(IEnumerable<Document> documents) =>
    documents.SelectMany(d => Encoding.UTF8.GetBytes(d.Text).Select(b => 3L + b).Prepend(1L).Append(2L)).ToArray();

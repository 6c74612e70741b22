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

/// <summary>UTF-8 bytes as token ids (vocabulary 256): the tokenizer-free default of the tiny recipe.</summary>
long[] ByteTokens(IEnumerable<Document> documents) =>
    documents.SelectMany(d => Encoding.UTF8.GetBytes(d.Text + "\n")).Select(b => (long)b).ToArray();

using System.Text.Json;

namespace Ziya2.Evaluation;

/// <summary>Benchmark files in JSON Lines: one object per non-blank line; problems name the file and line.</summary>
static class Jsonl
{
    public static List<T> Read<T>(string path, Func<JsonElement, string, T> parse)
    {
        var items = new List<T>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (text.Trim().Length == 0) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(text); }
            catch (JsonException e) { throw new InvalidDataException($"{path}:{line}: not JSON ({e.Message})"); }
            using (doc) items.Add(parse(doc.RootElement, $"{path}:{line}"));
        }
        return items;
    }

    /// <summary>The string field <paramref name="name"/>, or an error naming <paramref name="where"/>.</summary>
    public static string Field(JsonElement e, string name, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new InvalidDataException($"{where}: no string field '{name}'");
}

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ziya2.Models.Checkpoints;

/// <summary>
/// A Hugging Face <c>config.json</c> read strictly, for model plugins and training plans: each accessor returns a value
/// of the type and range its key needs, or throws <see cref="InvalidDataException"/> naming the file, the key and what
/// was found — never the <see cref="InvalidOperationException"/> or <see cref="FormatException"/> that
/// <see cref="JsonNode"/> throws for a value of another type.
/// </summary>
public sealed class HuggingFaceConfig
{
    readonly JsonObject root;

    HuggingFaceConfig(JsonObject root, string source) { this.root = root; Source = source; }

    /// <summary>Where the config came from, as errors name it.</summary>
    public string Source { get; }

    /// <summary>Parses <paramref name="json"/>; anything but a JSON object is refused.</summary>
    public static HuggingFaceConfig Parse(string json, string source)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"{source}: not valid JSON: {e.Message}"); }
        return node is JsonObject o ? new HuggingFaceConfig(o, source) : throw new InvalidDataException($"{source}: not a JSON object");
    }

    /// <summary>Whether <paramref name="key"/> is present with a value other than <c>null</c>.</summary>
    public bool Has(string key) => root[key] is not null;

    /// <summary>The raw node under <paramref name="key"/> (null when absent), for shapes the typed accessors do not cover.</summary>
    public JsonNode? this[string key] => root[key];

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="fallback"/> when absent, an error when absent without one.</summary>
    public int Int(string key, int? fallback = null, int min = int.MinValue, int max = int.MaxValue) =>
        Int(key, root[key], fallback, min, max);

    /// <summary>
    /// An integer or, as <c>eos_token_id</c> may be, a non-empty array of integers, of which the first is returned.
    /// </summary>
    public int IntOrFirstOfArray(string key, int? fallback = null, int min = int.MinValue, int max = int.MaxValue) => root[key] switch
    {
        JsonArray { Count: > 0 } a => Int($"{key}[0]", a[0], null, min, max),
        JsonArray => throw Wrong(key, "an integer or a non-empty array of integers", root[key]),
        var v => Int(key, v, fallback, min, max),
    };

    /// <summary>A finite number greater than <paramref name="above"/> when given; <paramref name="fallback"/> when absent.</summary>
    public double Double(string key, double? fallback = null, double above = double.NegativeInfinity)
    {
        var node = root[key];
        if (node is null) return fallback ?? throw Missing(key);
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<double>(out var x) || !double.IsFinite(x))
            throw Wrong(key, "a number", node);
        if (!(x > above)) throw Wrong(key, $"a number > {above}", node);
        return x;
    }

    /// <summary><c>true</c> or <c>false</c>; <paramref name="fallback"/> when absent.</summary>
    public bool Bool(string key, bool fallback)
    {
        var node = root[key];
        if (node is null) return fallback;
        return node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : throw Wrong(key, "true or false", node);
    }

    /// <summary>A string; null when absent.</summary>
    public string? String(string key)
    {
        var node = root[key];
        if (node is null) return null;
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Wrong(key, "a string", node);
    }

    int Int(string key, JsonNode? node, int? fallback, int min, int max)
    {
        if (node is null) return fallback ?? throw Missing(key);
        // TryGetValue<int> is false for 4.5, 1e3, 2147483648 and strings alike: all are refused the same way.
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<int>(out var x))
            throw Wrong(key, "an integer", node);
        if (x < min || x > max) throw Wrong(key, max == int.MaxValue ? $"an integer ≥ {min}" : $"an integer in [{min}, {max}]", node);
        return x;
    }

    InvalidDataException Missing(string key) => new($"{Source}: no '{key}'");

    InvalidDataException Wrong(string key, string expected, JsonNode? found)
    {
        var text = found?.ToJsonString() ?? "null";
        return new($"{Source}: '{key}' must be {expected} (found {(text.Length > 40 ? text[..40] + "…" : text)})");
    }
}

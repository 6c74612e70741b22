using System.Text.Json.Nodes;
using Ziya2.Data;

namespace Ziya2.DataFactory.Reading;

/// <summary>Where a record came from: file and 1-based line (or row) number.</summary>
public readonly record struct RecordOrigin(string File, long Line)
{
    public override string ToString() => $"{File}:{Line}";
}

/// <summary>One item read from an input shard: a document with its original fields, or a record that could not be read.</summary>
public abstract record InputRecord(RecordOrigin Origin);

/// <summary>A document and the fields it was read from (kept in the output, as Dolma keeps source fields).</summary>
public sealed record ParsedRecord(RecordOrigin Origin, Document Document, JsonObject Fields) : InputRecord(Origin);

/// <summary>A line or row that is not a document; goes to the rejects with <see cref="Reason"/>.</summary>
/// <param name="Origin">File and line.</param>
/// <param name="Reason">Machine-friendly reason, e.g. <c>invalid_json</c>.</param>
/// <param name="Detail">Human-readable detail.</param>
/// <param name="Raw">The raw text when it could be decoded and is small enough to keep; else null.</param>
public sealed record MalformedRecord(RecordOrigin Origin, string Reason, string Detail, string? Raw) : InputRecord(Origin);

/// <summary>Which JSON fields hold the document's parts.</summary>
public sealed class FieldMapping
{
    public string Text { get; set; } = "text";
    public string Id { get; set; } = "id";
    public string Url { get; set; } = "url";
    public string Source { get; set; } = "source";
    public string Language { get; set; } = "language";
    /// <summary>Other fields copied into the document's attributes (strings, numbers, booleans), e.g. <c>question</c>, <c>answer</c>.</summary>
    public List<string> Attributes { get; set; } = [];
}

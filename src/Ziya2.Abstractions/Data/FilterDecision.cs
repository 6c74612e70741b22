namespace Ziya2.Data;

/// <summary>What a filter decided about one document.</summary>
public enum FilterAction
{
    /// <summary>Pass the document on unchanged (attributes may still have been added via <see cref="FilterDecision.Rewrite"/>).</summary>
    Keep,
    /// <summary>Remove the document; it goes to the rejects with the reason.</summary>
    Drop,
    /// <summary>Pass on a changed document (text edited, attributes added).</summary>
    Rewrite,
}

/// <summary>A filter's decision. Create with <see cref="Keep"/>, <see cref="Drop"/> or <see cref="Rewrite"/>.</summary>
public readonly record struct FilterDecision
{
    FilterDecision(FilterAction action, string? reason, Document? document)
    {
        Action = action; Reason = reason; Document = document;
    }

    /// <summary>The action taken.</summary>
    public FilterAction Action { get; }

    /// <summary>For <see cref="FilterAction.Drop"/>: a short machine-friendly reason, e.g. <c>too_short</c>.</summary>
    public string? Reason { get; }

    /// <summary>For <see cref="FilterAction.Rewrite"/>: the replacement document.</summary>
    public Document? Document { get; }

    /// <summary>Keep the document as it is.</summary>
    public static FilterDecision Keep() => new(FilterAction.Keep, null, null);

    /// <summary>Drop the document, naming why. Reasons are counted in the pipeline's statistics.</summary>
    public static FilterDecision Drop(string reason) =>
        string.IsNullOrWhiteSpace(reason) ? throw new ArgumentException("a drop needs a reason", nameof(reason)) : new(FilterAction.Drop, reason, null);

    /// <summary>Replace the document with <paramref name="document"/>.</summary>
    public static FilterDecision Rewrite(Document document) => new(FilterAction.Rewrite, null, document ?? throw new ArgumentNullException(nameof(document)));
}

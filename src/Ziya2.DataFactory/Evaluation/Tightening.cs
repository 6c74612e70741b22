namespace Ziya2.DataFactory.Evaluation;

/// <summary>Which way an option moves to keep less of the data.</summary>
public enum TightenDirection
{
    /// <summary>A smaller value removes more (a rule's maximum density, a word list's hits per unit).</summary>
    Lower,
    /// <summary>A larger value removes more (the share of a document that must remain after removals).</summary>
    Raise,
}

/// <summary>
/// One option the quality gate may turn when <paramref name="Criterion"/> fails: the config key of a rule in the
/// shipped pipelines (<c>filters.html-remnants.threshold</c>), the way that removes more, the change per round and the
/// furthest value it may reach. <paramref name="Integer"/> options move by whole steps and are written without a
/// fraction.
/// </summary>
public sealed record Tightening(string Criterion, string Key, TightenDirection Direction, double Change, double Bound, bool Integer = false)
{
    /// <summary>The pipeline step the key configures: <c>filters.&lt;step&gt;.&lt;option&gt;</c>.</summary>
    public string Step => Key.Split('.') is { Length: 3 } parts && parts[0] == "filters" ? parts[1] : throw new InvalidOperationException($"'{Key}' is not a filters.<step>.<option> key");

    /// <summary>One round's move from <paramref name="current"/>: by <paramref name="change"/>, not past <paramref name="bound"/>.</summary>
    public double Next(double current, double change, double bound)
    {
        double next = Direction == TightenDirection.Lower ? Math.Max(bound, current - change) : Math.Min(bound, current + change);
        return Integer ? Math.Round(next) : Math.Round(next, 9);
    }

    /// <summary>Whether <paramref name="current"/> already is at (or past) <paramref name="bound"/>.</summary>
    public bool AtBound(double current, double bound) => Direction == TightenDirection.Lower ? current <= bound : current >= bound;
}

/// <summary>
/// The tightenings behind each gate criterion, in the order they are tried, and the advice shown with a failure.
/// Every key is one the shipped pipeline definition (<c>recipes/pipelines/ziya2.toml</c>) writes out; a config
/// without a key leaves that tightening out (the loop says so). Steps and bounds here are defaults; a recipe's
/// <c>[evaluation.auto_tighten]</c> overrides them per key.
/// </summary>
public static class GateTightenings
{
    static readonly Dictionary<string, (string Advice, Tightening[] Knobs)> Table = new()
    {
        // Human criteria: a judged sheet's rate is re-measured over the judged documents that are still kept, so cutting
        // more of the high-perplexity tail and of broken pages lowers it when the judges' flags follow those measures.
        ["coherence"] = ("raise the scoring cut-offs (filters.perplexity high/medium), tighten navigation-lines, url-density, word-list (advertising) and paragraph-repetition",
            [new("coherence", "filters.perplexity.medium", TightenDirection.Lower, 0.05, 0.35),
             new("coherence", "filters.url-density.threshold", TightenDirection.Lower, 0.05, 0.05),
             new("coherence", "filters.navigation-lines.min_remaining", TightenDirection.Raise, 0.1, 0.8)]),
        ["readability"] = ("tighten truncated-sentences, terminal-punctuation, line-punctuation, char-runs and mojibake; raise the perplexity cut-offs",
            [new("readability", "filters.terminal-punctuation.min_remaining", TightenDirection.Raise, 0.1, 0.8),
             new("readability", "filters.line-punctuation.threshold", TightenDirection.Raise, 0.04, 0.4),
             new("readability", "filters.perplexity.medium", TightenDirection.Lower, 0.05, 0.35)]),
        ["toxic"] = ("add toxic and sensitive word lists to a word-list step (unit = \"sentence\")",
            [new("toxic", "filters.sensitive.min_hits", TightenDirection.Lower, 1, 1, Integer: true),
             new("toxic", "filters.sensitive.min_remaining", TightenDirection.Raise, 0.1, 0.9)]),
        // PII the privacy step's patterns miss cannot be cut by a number: the step has to run (or its patterns grow).
        ["privacy"] = ("run the privacy step (mode = \"remove\" or \"mask\") at sentence level", []),
        ["advertising"] = ("run word-list with advertising.txt at paragraph level; lower min_hits or min_remaining",
            [new("advertising", "filters.advertising.min_hits", TightenDirection.Lower, 1, 1, Integer: true),
             new("advertising", "filters.advertising.min_remaining", TightenDirection.Raise, 0.1, 0.9)]),
        ["html_function"] = ("lower the html-remnants threshold; add code-remnants and browser-notices",
            [new("html_function", "filters.html-remnants.threshold", TightenDirection.Lower, 1, 0),
             new("html_function", "filters.code-remnants.threshold", TightenDirection.Lower, 0.05, 0.05)]),
    };

    /// <summary>The gate's criteria, human then automatic.</summary>
    public static IEnumerable<string> Criteria => Table.Keys;

    /// <summary>What to tighten, in words, when <paramref name="criterion"/> fails.</summary>
    public static string Advice(string criterion) => Find(criterion).Advice;

    /// <summary>The options the loop turns for <paramref name="criterion"/>, first to try first.</summary>
    public static IReadOnlyList<Tightening> For(string criterion) => Find(criterion).Knobs;

    static (string Advice, Tightening[] Knobs) Find(string criterion) =>
        Table.TryGetValue(criterion, out var entry) ? entry : throw new ArgumentException($"no gate criterion '{criterion}' ({string.Join(", ", Table.Keys)})", nameof(criterion));
}

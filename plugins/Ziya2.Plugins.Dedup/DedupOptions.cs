using Ziya2.Configuration;

namespace Ziya2.Plugins.Dedup;

/// <summary>Which document of a duplicate cluster survives.</summary>
public enum KeepPolicy
{
    /// <summary>The first in input order (shard order, then line order).</summary>
    First,
    /// <summary>The one in the best <c>quality_bucket</c> (high, medium, then the rest), first in input order among equals.</summary>
    BestBucket,
}

/// <summary>Options of <see cref="DedupFilter"/>, at <c>[filters.dedup]</c>.</summary>
public sealed class DedupOptions : IValidatableOptions
{
    /// <summary>Drop documents whose normalised URL was seen (<c>duplicate_url</c>).</summary>
    public bool Url { get; set; } = true;
    /// <summary>Drop documents whose normalised text (no punctuation, symbols, emoji or whitespace; lower case) was seen (<c>duplicate_exact</c>).</summary>
    public bool Exact { get; set; } = true;
    /// <summary>Drop documents within <see cref="Hamming"/> bits of a seen SimHash (<c>near_duplicate</c>).</summary>
    public bool Near { get; set; } = true;
    /// <summary>Tokens per SimHash shingle (a token is a CJK character or a Latin word).</summary>
    public int Shingle { get; set; } = 4;
    /// <summary>Largest Hamming distance between the 64-bit SimHashes of near duplicates.</summary>
    public int Hamming { get; set; } = 3;
    /// <summary>
    /// Bands the SimHash is cut into for the index; tables are keyed by every choice of <c>bands - hamming</c> bands,
    /// so any pair within <c>hamming</c> bits shares a key (pigeonhole). Default <c>hamming + 1</c>: few tables, 16-bit keys.
    /// More bands: more tables, longer keys, fewer candidates per lookup.
    /// </summary>
    public int? Bands { get; set; }
    /// <summary>
    /// Partitions of the url, exact and near stages — each a separate reduce task on a cluster (the cluster stage is one).
    /// The decision is the same for any value; a persistent index is not (one set of files per partition), so it is fixed
    /// for an index directory.
    /// </summary>
    public int Partitions { get; set; } = 1;
    /// <summary>Survivor of a cluster.</summary>
    public KeepPolicy Keep { get; set; } = KeepPolicy.First;
    /// <summary>
    /// Directory of the persistent index (URL and exact Bloom filters, SimHash SQLite database). Documents kept by a
    /// completed run are added, so the next run drops duplicates of them without re-reading old data. Empty: this run only.
    /// </summary>
    public string Index { get; set; } = "";
    /// <summary>Documents the Bloom filters are sized for (a filter file is created once; its size is then fixed).</summary>
    public long ExpectedDocuments { get; set; } = 10_000_000;
    /// <summary>False-positive rate each Bloom filter has at <see cref="ExpectedDocuments"/> (a unique document wrongly dropped).</summary>
    public double FalsePositiveRate { get; set; } = 1e-6;

    public IEnumerable<string> Validate()
    {
        if (!Url && !Exact && !Near) yield return "enable at least one of url, exact, near";
        if (Shingle < 1) yield return "shingle must be >= 1";
        if (Hamming is < 0 or > 16) yield return "hamming must be within 0..16";
        if (BandCount <= Hamming || BandCount > 64) yield return "bands must be > hamming and <= 64";
        if (Partitions is < 1 or > 4096) yield return "partitions must be within 1..4096";
        if (ExpectedDocuments < 1) yield return "expected_documents must be >= 1";
        if (FalsePositiveRate is <= 0 or >= 1) yield return "false_positive_rate must be within (0, 1)";
    }

    internal int BandCount => Bands ?? Hamming + 1;
}

namespace Ziya2.DataFactory.Evaluation;

/// <summary>What <see cref="DataEvaluator"/> measures and samples (paper §2.1 DE, Table 1).</summary>
public sealed class EvaluationOptions
{
    /// <summary>Share of documents in the automatic evaluation (paper: 1 %); chosen by a seeded hash of the id, so stable.</summary>
    public double SampleRate { get; set; } = 0.01;
    /// <summary>Documents exported for human evaluation (paper: 1,000), a seeded uniform sample of all documents.</summary>
    public int SheetSize { get; set; } = 1000;
    public long Seed { get; set; } = 20231127;
    /// <summary>Toxic word lists (one phrase per line, <c>#</c> comments); none given: the toxic rate is not measured.</summary>
    public List<string> ToxicLists { get; set; } = [];
    /// <summary>Advertising word lists; none given: the advertising rate is not measured.</summary>
    public List<string> AdvertisingLists { get; set; } = [];
    /// <summary>Topic lexicon (TSV: topic, keyword); empty uses the built-in zh/en lexicon.</summary>
    public string? TopicLexicon { get; set; }

    public IEnumerable<string> Validate()
    {
        if (SampleRate is <= 0 or > 1) yield return "sample rate must be within (0, 1]";
        if (SheetSize < 0) yield return "sheet size must be >= 0";
        foreach (var f in ToxicLists.Concat(AdvertisingLists).Append(TopicLexicon ?? "").Where(f => f.Length > 0))
            if (!File.Exists(f)) yield return $"no such file '{f}'";
    }
}

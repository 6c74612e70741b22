namespace Ziya2.DataFactory.Evaluation;

/// <summary>One criterion's verdict.</summary>
public sealed record CriterionResult(string Name, string Kind, long Unqualified, long Total, double Rate, bool Passed, string Advice);

/// <summary>The gate's verdict: pass only when every criterion is at or below the threshold.</summary>
public sealed record GateResult(bool Passed, double Threshold, IReadOnlyList<CriterionResult> Criteria)
{
    public IEnumerable<CriterionResult> Failures => Criteria.Where(c => !c.Passed);
}

/// <summary>
/// The data-evaluation gate (paper §2.1 DE): data is accepted when every unqualified rate is at most the threshold
/// (the paper's "one in a thousand", 0.1 %) — the human criteria from a judged sheet, and the Level-1 automatic rates
/// (privacy, toxic, advertising and web-page function words) when a report is given. A failing criterion comes with
/// the steps to tighten (<see cref="GateTightenings"/>), which <see cref="GateLoop"/> turns into a next round's settings.
/// </summary>
public static class QualityGate
{
    public const double PaperThreshold = 0.001;

    public static GateResult Check(IReadOnlyList<Judgement>? sheet, EvaluationReport? report, double threshold = PaperThreshold)
    {
        if (sheet is null && report is null) throw new ArgumentException("the gate needs a judged sheet, an evaluation report, or both");
        if (threshold is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(threshold), "threshold must be within [0, 1]");
        var results = new List<CriterionResult>();
        if (sheet is not null)
        {
            foreach (var (name, value) in new (string, Func<Judgement, int>)[] { ("coherence", j => j.Coherence), ("readability", j => j.Readability), ("toxic", j => j.Toxic) })
            {
                long bad = sheet.Count(j => value(j) == 1);
                double rate = (double)bad / sheet.Count;
                results.Add(new CriterionResult(name, "human", bad, sheet.Count, rate, rate <= threshold, GateTightenings.Advice(name)));
            }
        }
        if (report is not null)
            foreach (var (name, rate) in report.Rates)
                if (rate is { } r)
                    results.Add(new CriterionResult(name, "automatic", (long)Math.Round(r * report.Sampled), report.Sampled, r, r <= threshold, GateTightenings.Advice(name)));
        return new GateResult(results.All(c => c.Passed), threshold, results);
    }
}

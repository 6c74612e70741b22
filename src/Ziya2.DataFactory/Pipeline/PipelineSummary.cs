namespace Ziya2.DataFactory.Pipeline;

/// <summary>The funnel as readable text, for the console of <c>ziya2 data run</c> and of recipes.</summary>
public static class PipelineSummary
{
    /// <summary>Writes what each step received and passed, why documents were dropped, and where the stats are.</summary>
    public static void Write(TextWriter o, PipelineResult result)
    {
        var s = result.Stats;
        o.WriteLine($"{s.Input:N0} records in → {s.Kept:N0} kept ({(double)s.Kept / Math.Max(1, s.Input):P2}), {s.Rejected:N0} rejected; " +
                    $"{s.Shards} shard(s), {result.ShardsSkipped} already done; {s.Seconds:F1} s");
        o.WriteLine($"{"step",-24} {"in",12} {"kept",12} {"dropped",10} {"rewritten",10} {"MB in",9} {"MB out",9}  top reasons");
        foreach (var st in s.Steps)
            o.WriteLine($"{st.Name,-24} {st.Input,12:N0} {st.Kept,12:N0} {st.Dropped,10:N0} {st.Rewritten,10:N0} {st.BytesIn / 1e6,9:F1} {st.BytesOut / 1e6,9:F1}  " +
                        string.Join(", ", st.Reasons.OrderByDescending(x => x.Value).Take(3).Select(x => $"{x.Key}={x.Value:N0}")));
        o.WriteLine($"stats: {Path.Combine(result.OutputDirectory, "stats.json")}  funnel: {Path.Combine(result.OutputDirectory, "funnel.svg")}");
    }
}

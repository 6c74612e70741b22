using System.Text.Json.Serialization;

namespace Ziya2.DataFactory.Pipeline;

/// <summary>What one step did to the documents that reached it.</summary>
public sealed class StepStats
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("input")] public long Input { get; set; }
    [JsonPropertyName("kept")] public long Kept { get; set; }
    [JsonPropertyName("dropped")] public long Dropped { get; set; }
    [JsonPropertyName("rewritten")] public long Rewritten { get; set; }
    [JsonPropertyName("chars_in")] public long CharsIn { get; set; }
    [JsonPropertyName("chars_out")] public long CharsOut { get; set; }
    [JsonPropertyName("bytes_in")] public long BytesIn { get; set; }
    [JsonPropertyName("bytes_out")] public long BytesOut { get; set; }
    /// <summary>Time spent inside the step, summed over workers (CPU-seconds); not deterministic, unlike the counts.</summary>
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
    [JsonPropertyName("reasons")] public SortedDictionary<string, long> Reasons { get; set; } = new(StringComparer.Ordinal);

    public void Add(StepStats o)
    {
        Input += o.Input; Kept += o.Kept; Dropped += o.Dropped; Rewritten += o.Rewritten;
        CharsIn += o.CharsIn; CharsOut += o.CharsOut; BytesIn += o.BytesIn; BytesOut += o.BytesOut; Seconds += o.Seconds;
        foreach (var (k, v) in o.Reasons) Reasons[k] = Reasons.GetValueOrDefault(k) + v;
    }
}

/// <summary>
/// Counts of a shard or a whole run. <see cref="Input"/> counts every record read, malformed ones included, and always
/// equals <see cref="Kept"/> + <see cref="Rejected"/>; the first step, <c>read</c>, is where malformed records drop.
/// </summary>
public sealed class PipelineStats
{
    [JsonPropertyName("input")] public long Input { get; set; }
    [JsonPropertyName("kept")] public long Kept { get; set; }
    [JsonPropertyName("rejected")] public long Rejected { get; set; }
    [JsonPropertyName("malformed")] public long Malformed { get; set; }
    [JsonPropertyName("shards")] public int Shards { get; set; }
    [JsonPropertyName("seconds")] public double Seconds { get; set; }
    [JsonPropertyName("steps")] public List<StepStats> Steps { get; set; } = [];

    public void Add(PipelineStats o)
    {
        Input += o.Input; Kept += o.Kept; Rejected += o.Rejected; Malformed += o.Malformed; Shards += o.Shards;
        for (int i = 0; i < o.Steps.Count; i++)
        {
            if (i == Steps.Count) Steps.Add(new StepStats { Name = o.Steps[i].Name });
            Steps[i].Add(o.Steps[i]);
        }
    }

    /// <summary>Throws unless every document is accounted for, overall and per step.</summary>
    public void Reconcile(string what)
    {
        if (Input != Kept + Rejected)
            throw new ReconcileException($"{what}: {Input} records in but {Kept} kept + {Rejected} rejected = {Kept + Rejected}");
        long flowing = Input;
        foreach (var s in Steps)
        {
            if (s.Input != flowing || s.Kept + s.Dropped != s.Input)
                throw new ReconcileException($"{what}: step '{s.Name}' saw {s.Input} (expected {flowing}) and passed {s.Kept} + dropped {s.Dropped}");
            flowing = s.Kept;
        }
        if (flowing != Kept) throw new ReconcileException($"{what}: the last step passed {flowing} but {Kept} were written");
    }
}

/// <summary>Counts do not add up: something was lost or duplicated. The run fails.</summary>
public sealed class ReconcileException(string message) : Exception(message);

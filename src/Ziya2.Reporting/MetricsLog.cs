using System.Globalization;
using System.Text.Json;

namespace Ziya2.Reporting;

/// <summary>One line of a run's <c>metrics.jsonl</c>: the event (a stage name for training metrics), its step and its numbers.</summary>
public sealed record MetricRecord(string Event, long Step, IReadOnlyDictionary<string, double> Values);

/// <summary>Reads <c>metrics.jsonl</c> as the host writes it (a value that was not a number is null; older files wrote it as a string such as "NaN").</summary>
public static class MetricsLog
{
    /// <summary>Every record in order; a line that is not a JSON object (a torn last line after a kill) is skipped.</summary>
    public static IReadOnlyList<MetricRecord> Read(string path)
    {
        var records = new List<MetricRecord>();
        if (!File.Exists(path)) return records;
        foreach (var line in File.ReadLines(path))
        {
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException) { continue; }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("event", out var e) || !root.TryGetProperty("step", out var s)) continue;
                var values = new Dictionary<string, double>();
                foreach (var p in root.EnumerateObject())
                {
                    if (p.Name is "event" or "step" or "time_utc") continue;
                    if (p.Value.ValueKind == JsonValueKind.Number) values[p.Name] = p.Value.GetDouble();
                    else if (p.Value.ValueKind == JsonValueKind.Null) values[p.Name] = double.NaN;
                    else if (p.Value.ValueKind == JsonValueKind.String && double.TryParse(p.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) values[p.Name] = v;
                }
                records.Add(new MetricRecord(e.GetString() ?? "", s.GetInt64(), values));
            }
        }
        return records;
    }

    /// <summary>The (step, value) series of <paramref name="metric"/> for <paramref name="eventName"/>; a resumed run's repeated steps keep the last value.</summary>
    public static (double[] Steps, double[] Values) Series(IEnumerable<MetricRecord> records, string eventName, string metric)
    {
        var points = new SortedDictionary<long, double>();
        foreach (var r in records)
            if (r.Event == eventName && r.Values.TryGetValue(metric, out var v) && double.IsFinite(v)) points[r.Step] = v;
        return (points.Keys.Select(k => (double)k).ToArray(), points.Values.ToArray());
    }

    /// <summary>One named series of <paramref name="metric"/> per event (e.g. per stage), ready for <see cref="RunReport.LineChart"/>.</summary>
    public static IEnumerable<(string Name, double[] X, double[] Y)> SeriesByEvent(IReadOnlyList<MetricRecord> records, IEnumerable<string> events, string metric) =>
        events.Select(e => { var (x, y) = Series(records, e, metric); return (e, x, y); });
}

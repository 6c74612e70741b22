using System.Globalization;
using System.Text.Json;
using Ziya2.Events;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// Appends every <see cref="RunEvents.Metrics"/> event to the run's <c>metrics.jsonl</c>: one JSON object a line with
/// <c>event</c> (the series: a stage's name for training), <c>step</c>, <c>time_utc</c> and the numbers (a non-finite one,
/// which JSON cannot hold, as <c>null</c>). Reports and <c>ziya2 scaling</c> read this file.
/// </summary>
public sealed class MetricsFile(string path) : IEventObserver
{
    public string Path { get; } = path;

    public void OnEvent(RunEvent e)
    {
        if (e.Name != RunEvents.Metrics) return;
        var record = new Dictionary<string, object?> { ["event"] = e.Stage ?? "", ["step"] = e.Step, ["time_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture) };
        foreach (var (k, v) in e.Metrics) record[k] = double.IsFinite(v) ? v : null;
        File.AppendAllText(Path, JsonSerializer.Serialize(record) + "\n");
    }
}

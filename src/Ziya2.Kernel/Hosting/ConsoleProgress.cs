using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Ziya2.Events;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// What the operator sees while engines work: a progress task per training stage (step, loss, tokens/s, ETA) and per
/// data pipeline (shards, documents kept), live bars on a terminal or periodic lines headless, and a summary line when
/// each ends. Driven only by the run's events, so any engine that publishes them gets the same display.
/// </summary>
public sealed class ConsoleProgress(IProgressFactory progress, ILogger log) : IEventObserver, IDisposable
{
    readonly Dictionary<string, Open> _open = new(StringComparer.Ordinal);

    sealed class Open(IProgressTask task)
    {
        public IProgressTask Task { get; } = task;
        public Stopwatch Clock { get; } = Stopwatch.StartNew();
        public double Tokens, Kept, Input;
    }

    public void OnEvent(RunEvent e)
    {
        var key = e.Name is RunEvents.StageStart or RunEvents.StepEnd or RunEvents.StageEnd ? "stage:" + e.Stage : "pipeline:" + e.Stage;
        switch (e.Name)
        {
            case RunEvents.StageStart:
                Close(key);
                _open[key] = new Open(progress.Start($"Stage {e.Stage}", (long)e.Get("steps"), Math.Max(0, e.Step)));
                break;
            case RunEvents.StepEnd when _open.TryGetValue(key, out var stage):
                stage.Tokens += e.Get("tokens") is var t && double.IsFinite(t) ? t : 0;
                double rate = stage.Clock.Elapsed.TotalSeconds > 0 ? stage.Tokens / stage.Clock.Elapsed.TotalSeconds : 0;
                stage.Task.Advance(1, string.Create(CultureInfo.InvariantCulture, $"step {e.Step + 1}, loss {e.Get("loss"):F4}, lr {e.Get("lr"):G3}, {rate:N0} tokens/s"));
                break;
            case RunEvents.StageEnd:
                Close(key);
                log.LogInformation(e.Get("interrupted") > 0 ? "Stage {Stage}: interrupted at step {Steps}; loss {First:F4} → {Last:F4} in {Seconds:F1} s"
                                                            : "Stage {Stage}: {Steps} steps done; loss {First:F4} → {Last:F4} in {Seconds:F1} s",
                    e.Stage, (long)e.Get("steps"), e.Get("first_loss"), e.Get("last_loss"), e.Get("seconds"));
                break;
            case RunEvents.PipelineStart:
                Close(key);
                _open[key] = new Open(progress.Start($"Data {e.Stage}", (long)e.Get("shards"), (long)e.Get("done")));
                break;
            case RunEvents.ShardEnd when _open.TryGetValue(key, out var pipeline):
                (pipeline.Input, pipeline.Kept) = (pipeline.Input + e.Get("input"), pipeline.Kept + e.Get("kept"));
                pipeline.Task.Advance(1, string.Create(CultureInfo.InvariantCulture, $"{pipeline.Kept:N0} of {pipeline.Input:N0} documents kept"));
                break;
            case RunEvents.PipelineEnd:
                Close(key);
                log.LogInformation("Data {Pipeline}: {Kept:N0} of {Input:N0} documents kept, {Rejected:N0} rejected, in {Seconds:F1} s",
                    e.Stage, e.Get("kept"), e.Get("input"), e.Get("rejected"), e.Get("seconds"));
                break;
        }
    }

    void Close(string key)
    {
        if (_open.Remove(key, out var open)) open.Task.Dispose();
    }

    /// <summary>Closes what is still open (a run that failed mid-stage), so a live display ends cleanly.</summary>
    public void Dispose()
    {
        foreach (var key in _open.Keys.ToList()) Close(key);
    }
}

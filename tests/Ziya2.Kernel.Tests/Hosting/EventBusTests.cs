using Microsoft.Extensions.Logging;
using Ziya2.Events;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Kernel.Tests.Hosting;

public class EventBusTests
{
    [Fact]
    public void Observers_see_events_in_subscription_order_until_they_unsubscribe()
    {
        var log = new List<string>();
        var bus = new EventBus();
        using var a = bus.Subscribe(e => log.Add("a:" + e.Name));
        var b = bus.Subscribe(e => log.Add("b:" + e.Name));
        bus.Publish(new RunEvent(RunEvents.StepEnd, 0, "general"));
        b.Dispose();
        b.Dispose();   // twice is harmless
        bus.Publish(new RunEvent(RunEvents.StageEnd, 1, "general"));
        Assert.Equal(["a:step_end", "b:step_end", "a:stage_end"], log);
    }

    [Fact]
    public void Publishing_from_many_threads_delivers_every_event_one_at_a_time()
    {
        var bus = new EventBus();
        int inside = 0, overlaps = 0, seen = 0;
        bus.Subscribe(_ =>
        {
            if (Interlocked.Increment(ref inside) > 1) Interlocked.Increment(ref overlaps);
            Thread.SpinWait(200);
            seen++;   // not interlocked: delivery is serialised
            Interlocked.Decrement(ref inside);
        });
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => bus.Publish(new RunEvent(RunEvents.ShardEnd, i, "p")));
        Assert.Equal(0, overlaps);
        Assert.Equal(2000, seen);
    }

    sealed class RecordingProgress : IProgressFactory
    {
        public List<string> Lines { get; } = [];
        public IProgressTask Start(string description, long total, long done = 0)
        {
            Lines.Add($"start {description} {done}/{total}");
            return new Task(this, description);
        }
        sealed class Task(RecordingProgress owner, string description) : IProgressTask
        {
            public void Advance(long amount = 1, string? status = null) => owner.Lines.Add($"{description} +{amount} {status}");
            public void Dispose() => owner.Lines.Add($"end {description}");
        }
    }

    sealed class ListLogger(List<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => lines.Add(formatter(state, exception));
    }

    [Fact]
    public void Console_progress_follows_stages_and_pipelines_from_their_events_and_sums_each_up()
    {
        var progress = new RecordingProgress();
        var logged = new List<string>();
        var bus = new EventBus();
        using (var console = new ConsoleProgress(progress, new ListLogger(logged)))
        {
            bus.Subscribe(console);
            bus.Publish(new RunEvent(RunEvents.StageStart, 3, "general", new Dictionary<string, double> { ["steps"] = 10 }));
            bus.Publish(new RunEvent(RunEvents.StepEnd, 3, "general", new Dictionary<string, double> { ["loss"] = 2.5, ["lr"] = 1e-3, ["tokens"] = 256 }));
            bus.Publish(new RunEvent(RunEvents.PipelineStart, -1, "web/dp-rf", new Dictionary<string, double> { ["shards"] = 4, ["done"] = 1 }));
            bus.Publish(new RunEvent(RunEvents.ShardEnd, 2, "web/dp-rf", new Dictionary<string, double> { ["input"] = 100, ["kept"] = 60, ["rejected"] = 40 }));
            bus.Publish(new RunEvent(RunEvents.StageEnd, 10, "general", new Dictionary<string, double>
                { ["steps"] = 10, ["first_loss"] = 2.5, ["last_loss"] = 1.25, ["interrupted"] = 0, ["seconds"] = 4 }));
            bus.Publish(new RunEvent(RunEvents.StepEnd, 11, "general"));   // after its end: nothing to advance
        }   // the pipeline never ended (a failed run): disposing closes its display

        Assert.Equal("start Stage general 3/10", progress.Lines[0]);
        Assert.StartsWith("Stage general +1 step 4, loss 2.5000, lr 0.001, ", progress.Lines[1]);
        Assert.EndsWith(" tokens/s", progress.Lines[1]);
        Assert.Equal(["start Data web/dp-rf 1/4", "Data web/dp-rf +1 60 of 100 documents kept", "end Stage general", "end Data web/dp-rf"], progress.Lines[2..]);
        Assert.Equal(["Stage general: 10 steps done; loss 2.5000 → 1.2500 in 4.0 s"], logged);
    }

    [Fact]
    public void The_metrics_file_takes_metrics_events_only_and_keeps_non_finite_values_as_text()
    {
        using var tmp = new TempDir();
        var path = tmp.Combine("metrics.jsonl");
        var bus = new EventBus();
        bus.Subscribe(new MetricsFile(path));
        bus.Publish(new RunEvent(RunEvents.StepEnd, 0, "general", new Dictionary<string, double> { ["loss"] = 3 }));
        bus.Publish(new RunEvent(RunEvents.Metrics, 9, "general", new Dictionary<string, double> { ["loss"] = 2.5, ["mfu"] = double.NaN }));
        var line = Assert.Single(File.ReadAllLines(path));
        Assert.Contains("\"event\":\"general\",\"step\":9", line);
        Assert.Contains("\"loss\":2.5", line);
        Assert.Contains("\"mfu\":null", line);   // JSON has no NaN: a value that is not a number is null
    }
}

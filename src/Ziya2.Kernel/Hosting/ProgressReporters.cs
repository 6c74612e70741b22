using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ziya2.Kernel.Hosting;

/// <summary>Progress of one long piece of work (a training stage, a data pipeline).</summary>
public interface IProgressTask : IDisposable
{
    /// <summary>Advances by <paramref name="amount"/> and optionally replaces the status text (e.g. <c>loss 3.21</c>).</summary>
    void Advance(long amount = 1, string? status = null);
}

/// <summary>Creates progress tasks: live bars on an interactive terminal, periodic log lines otherwise.</summary>
public interface IProgressFactory
{
    /// <summary>Starts a task of <paramref name="total"/> units, <paramref name="done"/> of them already done (a resumed stage).</summary>
    IProgressTask Start(string description, long total, long done = 0);
}

/// <summary>
/// Headless progress: a line when a task starts, then at most one every <c>interval</c> (with the rate's ETA), and
/// one at completion, so CI logs and log shippers get a bounded number of readable lines.
/// </summary>
public sealed class PlainProgressFactory(ILogger log, TimeSpan interval) : IProgressFactory
{
    public IProgressTask Start(string description, long total, long done = 0) => new Task(log, interval, description, total, done);

    sealed class Task : IProgressTask
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        readonly ILogger log;
        readonly TimeSpan interval;
        readonly string description;
        readonly long total, _initial;
        TimeSpan _last;
        long _done;
        string? _status;

        public Task(ILogger log, TimeSpan interval, string description, long total, long done)
        {
            (this.log, this.interval, this.description, this.total, _initial, _done) = (log, interval, description, total, done, done);
            Report();
        }

        public void Advance(long amount = 1, string? status = null)
        {
            _done += amount;
            _status = status ?? _status;
            if (_done >= total || _clock.Elapsed - _last >= interval) Report();
        }

        void Report()
        {
            _last = _clock.Elapsed;
            // ETA from this session's rate (a resumed task's earlier units took no time here).
            double rate = _last.TotalSeconds > 0 ? (_done - _initial) / _last.TotalSeconds : 0;
            string eta = rate > 0 && _done < total ? $", ETA {TimeSpan.FromSeconds(Math.Ceiling((total - _done) / rate)):c}" : "";
            log.LogInformation("{Description}: {Done}/{Total} ({Percent:F0}%{Eta}) {Status}", description, _done, total, total > 0 ? 100.0 * _done / total : 100, eta, _status ?? "");
        }

        public void Dispose() { if (_done < total) Report(); }
    }
}

/// <summary>Spectre.Console progress bars; one live display shared by all tasks while any is open.</summary>
public sealed class SpectreProgressFactory(IAnsiConsole console) : IProgressFactory
{
    readonly object _gate = new();
    ProgressContext? _context;
    TaskCompletionSource? _done;
    System.Threading.Tasks.Task? _display;
    int _open;

    public IProgressTask Start(string description, long total, long done = 0)
    {
        lock (_gate)
        {
            if (_context is null)
            {
                var ready = new TaskCompletionSource<ProgressContext>();
                _done = new TaskCompletionSource();
                var closed = _done;
                _display = console.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx => { ready.SetResult(ctx); await closed.Task; });
                _context = ready.Task.GetAwaiter().GetResult();
            }
            _open++;
            var task = _context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
            task.Value = done;
            return new Task(this, task, description);
        }
    }

    void Close()
    {
        lock (_gate)
        {
            if (--_open > 0) return;
            _done!.SetResult();
            _display!.GetAwaiter().GetResult();
            _context = null;
        }
    }

    sealed class Task(SpectreProgressFactory owner, ProgressTask task, string description) : IProgressTask
    {
        bool _disposed;
        public void Advance(long amount = 1, string? status = null)
        {
            task.Increment(amount);
            if (status is not null) task.Description = Markup.Escape($"{description} {status}");
        }
        public void Dispose() { if (_disposed) return; _disposed = true; task.StopTask(); owner.Close(); }
    }
}

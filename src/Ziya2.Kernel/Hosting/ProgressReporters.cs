using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Ziya2.Recipes;

namespace Ziya2.Kernel.Hosting;

/// <summary>Creates progress tasks: live bars on an interactive terminal, periodic log lines otherwise.</summary>
public interface IProgressFactory
{
    IProgressTask Start(string description, long total);
}

/// <summary>
/// Headless progress: one log line at most every <c>interval</c> and one at completion, so CI logs and log
/// shippers get a bounded number of readable lines.
/// </summary>
public sealed class PlainProgressFactory(ILogger log, TimeSpan interval) : IProgressFactory
{
    public IProgressTask Start(string description, long total) => new Task(log, interval, description, total);

    sealed class Task(ILogger log, TimeSpan interval, string description, long total) : IProgressTask
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        TimeSpan _last = TimeSpan.MinValue;
        long _done;
        string? _status;

        public void Advance(long amount = 1, string? status = null)
        {
            _done += amount;
            _status = status ?? _status;
            if (_done >= total || _last == TimeSpan.MinValue || _clock.Elapsed - _last >= interval) Report();
        }

        void Report()
        {
            _last = _clock.Elapsed;
            log.LogInformation("{Description}: {Done}/{Total} ({Percent:F0}%) {Status}", description, _done, total, total > 0 ? 100.0 * _done / total : 100, _status ?? "");
        }

        public void Dispose() { if (_last != _clock.Elapsed && _done < total) Report(); }
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

    public IProgressTask Start(string description, long total)
    {
        lock (_gate)
        {
            if (_context is null)
            {
                var ready = new TaskCompletionSource<ProgressContext>();
                _done = new TaskCompletionSource();
                var done = _done;
                _display = console.Progress().AutoClear(false)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .StartAsync(async ctx => { ready.SetResult(ctx); await done.Task; });
                _context = ready.Task.GetAwaiter().GetResult();
            }
            _open++;
            return new Task(this, _context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total)), description);
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

using Microsoft.Extensions.Logging;
using Ziya2.Distributed;

namespace Ziya2.Kernel.Hosting;

/// <summary>
/// The ranks of one <c>ziya2 run</c> started by <c>mpiexec</c> or <c>srun</c> (<see cref="LaunchEnvironment"/>): every rank
/// runs the whole recipe in one run directory, which rank 0 chooses and writes (run.json, config.toml, metrics, the
/// console's progress) while the others log into <c>logs/ziya2.rank-NNNNN.log</c>. Preparation goes rank 0 first
/// (<see cref="MainProcessFirst{T}"/>); a failure that only some ranks see ends every rank (<see cref="Fail"/>), so
/// none waits forever in a collective for a rank that is gone. A process started alone is a job of one, and none of
/// this touches MPI.
/// </summary>
sealed class RunJob(LaunchEnvironment launch)
{
    IProcessGroup? _group;

    public LaunchEnvironment Launch => launch;
    public bool Alone => launch.WorldSize == 1;
    public bool IsMain => launch.IsMain;

    /// <summary>Set when every rank is failing at the same point (so they may end normally, together).</summary>
    public bool FailingTogether { get; private set; }

    /// <summary>The job's collectives (MPI is started on first use).</summary>
    public IProcessGroup Group => _group ??= ProcessGroups.Current;

    /// <summary>
    /// Whether any rank found problems, agreed by all: rank 0 reports its own; another rank reports its own only when
    /// rank 0 found none (so a config error every rank sees is printed once).
    /// </summary>
    public (bool Any, bool Report) AgreeOnProblems(bool mine)
    {
        if (Alone) return (mine, mine);
        Span<double> flags = [mine ? 1 : 0, IsMain && mine ? 1 : 0];
        Group.AllReduceMax(flags);
        return (flags[0] > 0, mine && (IsMain || flags[1] == 0));
    }

    /// <summary>Rank 0's <paramref name="choose"/>() on every rank: what it decided (a kind and a value, such as a run directory or an error).</summary>
    public (string Kind, string Value) Agree(Func<(string Kind, string Value)> choose)
    {
        if (Alone) return choose();
        var (kind, value) = IsMain ? choose() : ("", "");
        var agreed = Group.Broadcast(kind + "\n" + value);
        int cut = agreed.IndexOf('\n');
        return (agreed[..cut], agreed[(cut + 1)..]);
    }

    /// <summary>
    /// <paramref name="work"/> on rank 0, then (when it succeeded) on the others, every rank waiting for each part
    /// asleep; a failure or an interruption on any rank stops all of them at the same point.
    /// </summary>
    public T MainProcessFirst<T>(Func<T> work, CancellationToken cancellation)
    {
        // Inside another one (a recipe helper that uses it, called from preparation) each rank already runs in its turn.
        if (Alone || _preparing > 0) return work();
        _preparing++;
        try { return InTurn(work, cancellation); }
        finally { _preparing--; }
    }

    int _preparing;

    T InTurn<T>(Func<T> work, CancellationToken cancellation)
    {
        T result = default!;
        Exception? failure = null;
        void Attempt(bool mine)
        {
            if (!mine) return;
            try { result = work(); }
            catch (Exception e) when (!(e is OperationCanceledException && cancellation.IsCancellationRequested)) { failure = e; }
            catch (OperationCanceledException) { }
        }
        Attempt(IsMain);
        Settle(failure, cancellation, "rank 0");
        Attempt(!IsMain);
        Settle(failure, cancellation, "another rank");
        return result;
    }

    /// <summary>Every rank learns whether one failed or was interrupted; they all throw then, together.</summary>
    void Settle(Exception? failure, CancellationToken cancellation, string who)
    {
        Group.Barrier();
        Span<double> status = [failure is null ? 0 : 1, cancellation.IsCancellationRequested ? 1 : 0];
        Group.AllReduceMax(status);
        if (status[0] > 0)
        {
            FailingTogether = true;
            if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            throw new JobRankFailedException($"{who} failed while preparing (its error is in its output and log); every rank stops");
        }
        if (status[1] > 0)
        {
            FailingTogether = true;
            JobInterruption.Spread();
            throw new JobInterruptedException("the job was interrupted (SIGTERM or Ctrl+C on a rank); every rank stops here");
        }
    }

    /// <summary>The end of a recipe that returned: every rank waits (asleep) for the others, so none finalises MPI while another still works.</summary>
    public void Finish()
    {
        if (!Alone) Group.Barrier();
    }

    /// <summary>
    /// The end of a failed recipe: ranks that fail together just return <paramref name="exitCode"/>; a rank that fails
    /// alone ends the whole job (MPI_Abort), since the others would wait for it in their next collective forever.
    /// <paramref name="flushLog"/> runs between the notice and the abort: the console logger writes from a queue of its
    /// own, and MPI_Abort ends the process before that queue drains.
    /// </summary>
    public int Fail(int exitCode, ILogger log, Action? flushLog = null)
    {
        if (Alone || FailingTogether || _group is null) return exitCode;
        log.LogError("This rank failed alone: ending every rank of the job ({World} ranks)", launch.WorldSize);
        flushLog?.Invoke();
        Group.Abort(exitCode);
        return exitCode;
    }

    /// <summary>
    /// Intra-op threads for this rank, when the launcher put several ranks on this node and nobody chose
    /// (<c>OMP_NUM_THREADS</c>): the node's cores shared out, as torchrun does, unless the launcher already bound this
    /// rank to its own cores. Null: leave libtorch's default.
    /// </summary>
    public int? ThreadsPerRank()
    {
        if (Alone || launch.LocalWorldSize <= 1 || Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is { Length: > 0 }) return null;
        int visible = Environment.ProcessorCount, online = OnlineCpus() ?? visible;
        return visible < online ? visible : Math.Max(1, online / launch.LocalWorldSize);
    }

    static int? OnlineCpus()
    {
        // "0-15" or "0-3,8-11": the node's CPUs, whatever this process's affinity.
        try
        {
            return File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(',').Sum(range =>
                range.Split('-') is [var a, var b] ? int.Parse(b) - int.Parse(a) + 1 : 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { return null; }
    }
}

/// <summary>Another rank of the job failed; this one stops with it.</summary>
sealed class JobRankFailedException(string message) : Exception(message);

/// <summary>A rank of the job was interrupted; every rank stops cleanly at the same point.</summary>
sealed class JobInterruptedException(string message) : OperationCanceledException(message);

namespace Ziya2.Distributed;

/// <summary>
/// The interruption of this process's job: the operator's signal to this rank (SIGTERM, Ctrl+C), or word from another
/// rank, at a collective, that it was signalled. Launchers usually signal every rank (Slurm's preemption, mpiexec's
/// forwarding), but not always: a rank that hears of it from the others stops at the same point as they do, and its
/// recipe sees the same <see cref="Token"/> cancelled, so every rank takes the same path out.
/// </summary>
public static class JobInterruption
{
    static readonly CancellationTokenSource Source = new();

    /// <summary>Cancelled when this rank or any rank that said so at a collective was interrupted.</summary>
    public static CancellationToken Token => Source.Token;

    /// <summary>Makes <paramref name="signal"/> (this rank's own interruption) interrupt the job's token too.</summary>
    public static void Follow(CancellationToken signal) => signal.Register(Source.Cancel);

    /// <summary>Another rank was interrupted: so is this one.</summary>
    public static void Spread()
    {
        if (!Source.IsCancellationRequested) Source.Cancel();
    }
}

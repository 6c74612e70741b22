namespace Ziya2.Distributed;

/// <summary>
/// The processes of one job and the collectives between them — what torch.distributed's process group is to PyTorch,
/// over host memory. Every rank calls every collective in the same order with buffers of the same length; a collective
/// returns when this rank's part is done. <see cref="ProcessGroups.Current"/> is the job's group, found from the
/// launcher's environment (<see cref="LaunchEnvironment"/>); a process started alone is a group of one, and needs no MPI.
/// </summary>
public interface IProcessGroup
{
    /// <summary>This process's index, 0 ≤ rank &lt; <see cref="WorldSize"/>; rank 0 writes what is written once.</summary>
    int Rank { get; }

    /// <summary>Processes in the job.</summary>
    int WorldSize { get; }

    /// <summary>This process's index among those on its node (the GPU it takes: cuda:LOCAL_RANK).</summary>
    int LocalRank { get; }

    /// <summary>Element-wise sum over all ranks, in place.</summary>
    void AllReduceSum(Span<float> values);

    /// <summary>Element-wise sum over all ranks, in place.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Element-wise maximum over all ranks, in place.</summary>
    void AllReduceMax(Span<double> values);

    /// <summary>Rank <paramref name="root"/>'s bytes into every rank's buffer.</summary>
    void Broadcast(Span<byte> bytes, int root = 0);

    /// <summary>
    /// Sums <paramref name="values"/> (WorldSize equal slices) over all ranks and leaves slice <see cref="Rank"/> of the
    /// sum in <paramref name="slice"/> — the gradient exchange of a sharded optimizer.
    /// </summary>
    void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> slice);

    /// <summary>Every rank's <paramref name="slice"/>, in rank order, into <paramref name="values"/> on every rank.</summary>
    void AllGather(ReadOnlySpan<float> slice, Span<float> values);

    /// <summary>
    /// Returns when every rank has called it. A rank that arrives early sleeps between checks instead of spinning, so a
    /// rank waiting while rank 0 prepares data or evaluates leaves the cores to it.
    /// </summary>
    void Barrier();

    /// <summary>
    /// Ends every process of the job with <paramref name="exitCode"/>, now: what a rank does when it fails while the
    /// others may be waiting in a collective for it (exiting normally would leave them waiting forever). Does not return.
    /// </summary>
    void Abort(int exitCode);
}

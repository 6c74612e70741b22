namespace Ziya2.Distributed;

/// <summary>A job of one process: every collective is the identity.</summary>
public sealed class SingleProcessGroup : IProcessGroup
{
    public static SingleProcessGroup Instance { get; } = new();

    public int Rank => 0;
    public int WorldSize => 1;
    public int LocalRank => 0;
    public void AllReduceSum(Span<float> values) { }
    public void AllReduceSum(Span<double> values) { }
    public void AllReduceMax(Span<double> values) { }
    public void Broadcast(Span<byte> bytes, int root = 0) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
    public void ReduceScatterSum(ReadOnlySpan<float> values, Span<float> slice) => values.CopyTo(slice);
    public void AllGather(ReadOnlySpan<float> slice, Span<float> values) => slice.CopyTo(values);
    public void Barrier() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
}

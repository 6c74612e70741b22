using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// A model's parameters laid end to end in one index space (parameter 0's elements, then parameter 1's, …) without
/// allocating that space: ranges of it are copied to and from buffers of a bucket's size. The data-parallel all-reduce
/// and the sharded optimizer's slices (reduce-scatter windows, all-gathered masters) are ranges of this layout.
/// </summary>
public sealed class FlatParameters
{
    readonly long[] _offsets;

    public FlatParameters(IReadOnlyList<Tensor> parameters)
    {
        Parameters = parameters;
        _offsets = new long[parameters.Count + 1];
        for (int i = 0; i < parameters.Count; i++) _offsets[i + 1] = _offsets[i] + parameters[i].numel();
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Elements of all parameters together.</summary>
    public long Count => _offsets[^1];

    /// <summary>Where parameter <paramref name="index"/> starts.</summary>
    public long OffsetOf(int index) => _offsets[index];

    /// <summary>The parts of parameters that range [<paramref name="start"/>, start + <paramref name="length"/>) covers (clipped to <see cref="Count"/>), in order.</summary>
    public IEnumerable<(int Parameter, long Within, long At, long Length)> Pieces(long start, long length)
    {
        long end = Math.Min(Count, start + length);
        if (start >= end) yield break;
        int i = Array.BinarySearch(_offsets, start);
        if (i < 0) i = ~i - 1;
        for (; i < Parameters.Count && _offsets[i] < end; i++)
        {
            long from = Math.Max(start, _offsets[i]), to = Math.Min(end, _offsets[i + 1]);
            if (from < to) yield return (i, from - _offsets[i], from - start, to - from);
        }
    }

    /// <summary>
    /// Elements [<paramref name="start"/>, start + destination's length) of what <paramref name="select"/> gives for each
    /// parameter (its gradient, its data) into <paramref name="destination"/>, converted to its dtype and device; a
    /// parameter without one (null: no gradient) and the range past <see cref="Count"/> read as zeros.
    /// </summary>
    public void CopyTo(long start, Tensor destination, Func<Tensor, Tensor?> select)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        long length = destination.numel(), covered = 0;
        foreach (var (parameter, within, at, n) in Pieces(start, length))
        {
            var target = destination.narrow(0, at, n);
            if (select(Parameters[parameter]) is { } source) target.copy_(Flat(source).narrow(0, within, n));
            else target.zero_();
            covered = at + n;
        }
        if (covered < length) destination.narrow(0, covered, length - covered).zero_();
    }

    /// <summary>
    /// <paramref name="source"/> into elements [<paramref name="start"/>, start + its length) of what
    /// <paramref name="select"/> gives for each parameter (converted to their dtype and device); parameters without
    /// one (null) and the range past <see cref="Count"/> are skipped.
    /// </summary>
    public void CopyFrom(long start, Tensor source, Func<Tensor, Tensor?> select)
    {
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        foreach (var (parameter, within, at, n) in Pieces(start, source.numel()))
            if (select(Parameters[parameter]) is { } target)
                Flat(target).narrow(0, within, n).copy_(source.narrow(0, at, n));
    }

    /// <summary>A 1-D view of <paramref name="t"/>; writing through it must reach <paramref name="t"/>, so it must be contiguous.</summary>
    static Tensor Flat(Tensor t) => t.is_contiguous() ? t.view(-1) : throw new ArgumentException("a parameter or gradient that is not contiguous cannot be laid flat in place");
}

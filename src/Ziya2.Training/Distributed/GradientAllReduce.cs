using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// Plain data parallelism's gradient exchange: the model's gradients, laid flat (<see cref="FlatParameters"/>), summed
/// over all ranks bucket by bucket through one FP32 buffer of a bucket's size on the model's device — allocated once,
/// since a fresh buffer per step pays its page faults every step.
/// </summary>
public sealed class GradientAllReduce : IDisposable
{
    readonly ITensorCollectives _collectives;
    readonly FlatParameters _layout;
    readonly Tensor _bucket;

    public GradientAllReduce(ITensorCollectives collectives, IReadOnlyList<Tensor> parameters, Device device)
    {
        _collectives = collectives;
        _layout = new FlatParameters(parameters);
        _bucket = zeros(Math.Max(1, Math.Min(collectives.BucketElements, _layout.Count)), ScalarType.Float32, device).DetachFromDisposeScope();
    }

    /// <summary>Every parameter's gradient becomes the sum of all ranks' (a missing one is taken as zeros and stays missing).</summary>
    public void Run()
    {
        long size = _bucket.numel();
        for (long start = 0; start < _layout.Count; start += size)
        {
            using var _ = NewDisposeScope();
            var bucket = _bucket.narrow(0, 0, Math.Min(size, _layout.Count - start));
            _layout.CopyTo(start, bucket, p => p.grad);
            _collectives.AllReduceSum(bucket);
            _layout.CopyFrom(start, bucket, p => p.grad);
        }
    }

    public void Dispose() => _bucket.Dispose();
}

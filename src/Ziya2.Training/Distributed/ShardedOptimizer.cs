using System.Runtime.InteropServices;
using TorchSharp.Modules;
using Ziya2.Distributed;
using Ziya2.Models;
using Ziya2.Optimization;
using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// ZeRO (Rajbhandari et al. 2020; PyTorch's ZeroRedundancyOptimizer, DeepSpeed's stages 1 and 2) over any optimizer
/// plugin. The model's parameters, laid end to end (<see cref="FlatParameters"/>), are cut into one contiguous slice
/// per rank; each rank keeps, on the model's device, FP32 master weights and an FP32 gradient of its slice only, and
/// runs the plugin's optimizer (AdamW, Lion, …) over the masters — so optimizer state costs 1/ranks of an unsharded
/// run, and a BF16 model trains against FP32 masters (mixed precision as Megatron and DeepSpeed do it).
/// <list type="bullet">
/// <item>Stage 1: after the last micro-batch the model's gradients are reduce-scattered into the slices.</item>
/// <item>Stage 2: after every micro-batch (<see cref="ReduceMicroBatch"/>) they are reduce-scattered and added into the
/// FP32 slice, and the model's gradients are released, so between micro-batches no rank holds a whole gradient and
/// accumulation happens in FP32 whatever the model's dtype. (Without backward hooks in TorchSharp, one micro-batch's
/// whole gradient still exists until its backward ends.)</item>
/// </list>
/// A step then clips by the global norm (all-reduced), steps the slice and all-gathers the updated slices into every
/// rank's model, bucket by bucket through one staging buffer. The update is element-wise, so the result equals the
/// unsharded data-parallel step up to summation order. Checkpoints hold one state file and one master file per rank;
/// a different world size is refused, naming both.
/// </summary>
public sealed class ShardedOptimizer : IOptimizer
{
    readonly ITensorCollectives _collectives;
    readonly IProcessGroup _group;
    readonly FlatParameters _layout;
    readonly long _slice, _from;                              // elements per rank (the last one padded); where this rank's starts
    readonly Tensor _master, _gradient;                       // this rank's slice: FP32 masters and their gradient
    readonly List<Parameter> _pieces = [];                    // views of _master, one per parameter piece, as the optimizer sees them
    readonly Tensor _staging, _received;                      // a bucket of every rank's window; a received bucket (stage 2)
    readonly long _bucket;
    readonly IOptimizer _inner;

    ShardedOptimizer(IOptimizerFactory factory, IReadOnlyList<ParameterGroup> groups, ITensorCollectives collectives, int stage)
    {
        if (stage is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(stage), stage, "ZeRO stage 1 or 2");
        (_collectives, _group, Stage) = (collectives, collectives.Group, stage);
        var parameters = groups.SelectMany(g => g.Parameters).ToList();
        if (parameters.Count == 0) throw new ArgumentException("no parameters to optimize");
        _layout = new FlatParameters(parameters);
        var device = parameters[0].device;
        int world = _group.WorldSize;
        _slice = (_layout.Count + world - 1) / world;
        if (_slice > int.MaxValue) throw new ArgumentException($"a slice of {_slice} elements per rank (more than 2^31): use more ranks");
        _from = _group.Rank * _slice;
        _master = zeros(_slice, ScalarType.Float32, device).DetachFromDisposeScope();
        _gradient = zeros(_slice, ScalarType.Float32, device).DetachFromDisposeScope();

        var shardGroups = new List<ParameterGroup>();
        int index = 0;
        foreach (var g in groups)
        {
            var masters = new List<Parameter>();
            foreach (var p in g.Parameters)
            {
                long start = Math.Max(_from, _layout.OffsetOf(index)), end = Math.Min(_from + _slice, _layout.OffsetOf(index) + p.numel());
                if (start < end)
                {
                    // A view of the slice: the optimizer's in-place update lands in _master, its gradient is a view of _gradient.
                    var master = new Parameter(_master.narrow(0, start - _from, end - start));
                    master.grad = _gradient.narrow(0, start - _from, end - start);
                    masters.Add(master);
                    _pieces.Add(master);
                }
                index++;
            }
            if (masters.Count > 0) shardGroups.Add(g with { Parameters = masters });
        }
        if (shardGroups.Count == 0) throw new ArgumentException($"rank {_group.Rank} of {world} owns none of the model's {_layout.Count} parameters: use fewer ranks");
        _inner = factory.Create(shardGroups);
        _bucket = Math.Max(1, Math.Min(collectives.BucketElements / world, _slice));
        _staging = zeros(_bucket * world, ScalarType.Float32, device).DetachFromDisposeScope();
        _received = stage == 2 ? zeros(_bucket, ScalarType.Float32, device).DetachFromDisposeScope() : empty(0);
        TakeMastersFromModel();
    }

    /// <summary>
    /// <paramref name="factory"/>, sharded over this job's ranks at the ZeRO stage <paramref name="trainer"/> asks for
    /// (<c>zero_stage</c> 1 or 2, over the collectives <c>collectives</c> names); with 0, the factory itself.
    /// </summary>
    public static IOptimizerFactory For(IOptimizerFactory factory, TrainerOptions trainer) =>
        trainer.ZeroStage == 0 ? factory : Factory(factory, ProcessGroups.Current, trainer.ZeroStage, trainer.Collectives);

    /// <summary>The factory that shards <paramref name="inner"/>'s optimizers over <paramref name="group"/> at ZeRO <paramref name="stage"/>.</summary>
    public static IOptimizerFactory Factory(IOptimizerFactory inner, IProcessGroup group, int stage = 1, string collectives = "auto") =>
        new ShardingFactory(inner, group, stage, collectives);

    sealed class ShardingFactory(IOptimizerFactory inner, IProcessGroup group, int stage, string collectives) : IOptimizerFactory
    {
        public IOptimizer Create(IReadOnlyList<ParameterGroup> groups)
        {
            var device = groups.SelectMany(g => g.Parameters).FirstOrDefault()?.device ?? throw new ArgumentException("no parameters to optimize");
            return new ShardedOptimizer(inner, groups, TensorCollectives.Shared(group, device, collectives), stage);
        }
    }

    /// <summary>1 (optimizer state sharded) or 2 (gradients too).</summary>
    public int Stage { get; }

    public int WorldSize => _group.WorldSize;

    /// <summary>Elements of this rank's slice (its FP32 masters, its gradient).</summary>
    public long SliceElements => _slice;

    public double LearningRate { get => _inner.LearningRate; set => _inner.LearningRate = value; }

    /// <summary>Clears the model's gradients and this rank's gradient slice.</summary>
    public void ZeroGrad()
    {
        foreach (var p in _layout.Parameters) p.grad?.zero_();
        using var _ = no_grad();
        _gradient.zero_();
    }

    /// <summary>
    /// Stage 2, after each micro-batch's backward: the model's gradients, summed over ranks, are added into this rank's
    /// FP32 slice, and released. Stage 1: nothing (the exchange happens once, in <see cref="ReduceGradients"/>).
    /// </summary>
    public void ReduceMicroBatch()
    {
        if (Stage != 2) return;
        ReduceScatter(accumulate: true);
        foreach (var p in _layout.Parameters) p.grad = null;
    }

    /// <summary>
    /// Brings the gradients into this rank's slice (stage 1: one reduce-scatter; stage 2: done by
    /// <see cref="ReduceMicroBatch"/>), clips them by the global norm when <paramref name="maxNorm"/> &gt; 0, and returns
    /// the global norm and <paramref name="loss"/> summed over ranks. Called once per step, before <see cref="Step"/>.
    /// </summary>
    public (double Norm, double Loss) ReduceGradients(double maxNorm, double loss)
    {
        if (Stage == 1) ReduceScatter(accumulate: false);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // The slice's norm in FP32, as torch.nn.utils.clip_grad_norm_ computes norms in the gradients' dtype.
        double local = _gradient.norm().item<float>();
        Span<double> sums = [local * local, loss];
        _group.AllReduceSum(sums);
        double norm = Math.Sqrt(sums[0]);
        // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
        if (maxNorm > 0 && maxNorm / (norm + 1e-6) < 1) _gradient.mul_(maxNorm / (norm + 1e-6));
        return (norm, sums[1]);
    }

    /// <summary>
    /// Bucket by bucket: every rank's window of the model's gradients is packed side by side and reduce-scattered, so
    /// this rank receives the sum of its own window (into the slice, or added to it).
    /// </summary>
    void ReduceScatter(bool accumulate)
    {
        int world = _group.WorldSize;
        for (long at = 0; at < _slice; at += _bucket)
        {
            using var _ = NewDisposeScope();
            long n = Math.Min(_bucket, _slice - at);
            var packed = _staging.narrow(0, 0, n * world);
            for (int r = 0; r < world; r++) _layout.CopyTo(r * _slice + at, packed.narrow(0, r * n, n), p => p.grad);
            var target = _gradient.narrow(0, at, n);
            if (!accumulate) { _collectives.ReduceScatterSum(packed, target); continue; }
            var received = _received.narrow(0, 0, n);
            _collectives.ReduceScatterSum(packed, received);
            using (no_grad()) target.add_(received);
        }
    }

    /// <summary>Steps the slice and gathers every rank's updated slice into the model.</summary>
    public void Step()
    {
        _inner.Step();
        int world = _group.WorldSize;
        for (long at = 0; at < _slice; at += _bucket)
        {
            using var _ = NewDisposeScope();
            long n = Math.Min(_bucket, _slice - at);
            var packed = _staging.narrow(0, 0, n * world);
            _collectives.AllGather(_master.narrow(0, at, n), packed);
            for (int r = 0; r < world; r++) _layout.CopyFrom(r * _slice + at, packed.narrow(0, r * n, n), p => p);
        }
    }

    /// <summary>Sets the masters from the model (after rank 0's weights were broadcast, or a checkpoint without masters was loaded).</summary>
    public void TakeMastersFromModel()
    {
        using var _ = no_grad();
        _layout.CopyTo(_from, _master, p => p);   // the padding past the model reads as zeros
    }

    string ShardName => $"rank-{_group.Rank:D5}-of-{_group.WorldSize:D5}";

    /// <summary>Writes this rank's optimizer state and FP32 masters into <paramref name="directory"/>.</summary>
    public void SaveShard(string directory)
    {
        Directory.CreateDirectory(directory);
        _inner.SaveState(Path.Combine(directory, ShardName + ".optimizer"));
        using var scope = NewDisposeScope();
        var tmp = Path.Combine(directory, ShardName + ".master.tmp");
        File.WriteAllBytes(tmp, _master.cpu().bytes.ToArray());
        File.Move(tmp, Path.Combine(directory, ShardName + ".master"), overwrite: true);
    }

    /// <summary>Reads this rank's state from a checkpoint's shard directory; refuses one written by another number of ranks, naming both.</summary>
    public void LoadShard(string directory)
    {
        var written = Directory.Exists(directory) ? Directory.GetFiles(directory, "rank-*.optimizer").Select(Path.GetFileName).ToList() : [];
        var counts = written.Select(n => n!.Split("-of-")[1].Split('.')[0]).Distinct().ToList();
        if (written.Count == 0)
            throw new InvalidDataException($"{directory}: no sharded optimizer state (the checkpoint was written without ZeRO, or by another optimizer setup); resume it with the settings that wrote it");
        if (counts is not [var count] || int.Parse(count) != _group.WorldSize)
            throw new InvalidDataException($"{directory}: optimizer state sharded over {string.Join("/", counts.Select(int.Parse))} ranks; this run has {_group.WorldSize}. Resume with {string.Join("/", counts.Select(int.Parse))} ranks (resharding is not supported)");
        var bytes = File.ReadAllBytes(Path.Combine(directory, ShardName + ".master"));
        if (bytes.Length != _slice * sizeof(float)) throw new InvalidDataException($"{directory}: {ShardName}.master holds {bytes.Length / 4} values, this model's slice {_slice}");
        _inner.LoadState(Path.Combine(directory, ShardName + ".optimizer"));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        _master.copy_(tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray()));
    }

    /// <summary>Unsupported: a sharded optimizer's state is one file per rank (<see cref="SaveShard"/>), written by every rank.</summary>
    public void SaveState(string path) => throw new NotSupportedException("a sharded optimizer saves one shard per rank: SaveShard(directory) on every rank");

    /// <summary>Unsupported: see <see cref="LoadShard"/>.</summary>
    public void LoadState(string path) => throw new NotSupportedException("a sharded optimizer loads one shard per rank: LoadShard(directory) on every rank");

    public void Dispose()
    {
        _inner.Dispose();
        foreach (var p in _pieces) p.Dispose();
        _master.Dispose();
        _gradient.Dispose();
        _staging.Dispose();
        _received.Dispose();   // the collectives are the job's (TensorCollectives.Shared): not this optimizer's to end
    }
}

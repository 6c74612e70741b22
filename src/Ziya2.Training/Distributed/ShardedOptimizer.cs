using System.Runtime.InteropServices;
using TorchSharp.Modules;
using Ziya2.Models;
using Ziya2.Optimization;
using static TorchSharp.torch;

namespace Ziya2.Training.Distributed;

/// <summary>
/// ZeRO stage 1 (Rajbhandari et al. 2020; PyTorch's ZeroRedundancyOptimizer) over any optimizer plugin: the model's
/// parameters, laid end to end, are cut into one contiguous slice per rank; each rank keeps FP32 master weights of its
/// slice only and runs the plugin's optimizer (AdamW, Lion, …) over them, so optimizer state costs 1/ranks of the
/// unsharded run. A step: gradients reduce-scattered (each rank receives the sum over ranks of its slice), the global
/// norm all-reduced and clipped, the slice stepped, the updated slices all-gathered into every rank's model. The
/// optimizer's update is element-wise, so the result equals the unsharded data-parallel step up to the clipping
/// norm's summation order. Checkpoints hold one state file per rank; a different world size is refused.
/// </summary>
public sealed class ShardedOptimizer : IOptimizer
{
    readonly IProcessGroup _group;
    readonly IReadOnlyList<Parameter> _parameters;          // the model's, in order
    readonly long[] _offsets;                              // of each parameter in the flat layout
    readonly long _slice;                                  // elements per rank (the last one padded)
    readonly List<(Parameter Master, long Start, int Parameter, long Within)> _masters = [];   // start: in this rank's slice
    readonly IOptimizer _inner;
    // Host buffers for the whole run (the model laid flat, this rank's slice): fresh ones per step cost page faults every step.
    readonly Tensor _flat, _mine;

    ShardedOptimizer(IOptimizerFactory factory, IReadOnlyList<ParameterGroup> groups, IProcessGroup group)
    {
        _group = group;
        _parameters = [.. groups.SelectMany(g => g.Parameters)];
        _offsets = new long[_parameters.Count];
        long total = 0;
        for (int i = 0; i < _parameters.Count; i++) { _offsets[i] = total; total += _parameters[i].numel(); }
        _slice = (total + group.WorldSize - 1) / group.WorldSize;
        if (_slice > int.MaxValue) throw new ArgumentException($"a slice of {_slice} elements per rank (more than 2^31): use more ranks");
        long from = group.Rank * _slice, to = Math.Min(total, from + _slice);

        var shardGroups = new List<ParameterGroup>();
        int index = 0;
        using (no_grad())
            foreach (var g in groups)
            {
                var masters = new List<Parameter>();
                foreach (var p in g.Parameters)
                {
                    long start = Math.Max(from, _offsets[index]), end = Math.Min(to, _offsets[index] + p.numel());
                    if (start < end)
                    {
                        var master = new Parameter(p.detach().reshape(-1).narrow(0, start - _offsets[index], end - start).to_type(ScalarType.Float32).cpu().clone());
                        masters.Add(master);
                        _masters.Add((master, start - from, index, start - _offsets[index]));
                    }
                    index++;
                }
                if (masters.Count > 0) shardGroups.Add(g with { Parameters = masters });
            }
        if (shardGroups.Count == 0) throw new ArgumentException($"rank {group.Rank} of {group.WorldSize} owns none of the model's {total} parameters: use fewer ranks");
        _inner = factory.Create(shardGroups);
        _flat = zeros(_slice * group.WorldSize, ScalarType.Float32).DetachFromDisposeScope();
        _mine = zeros(_slice, ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary><paramref name="factory"/>, sharded over this job's ranks when <paramref name="trainer"/> asks for <c>zero_stage = 1</c>.</summary>
    public static IOptimizerFactory For(IOptimizerFactory factory, TrainerOptions trainer) =>
        trainer.ZeroStage == 1 ? Factory(factory, ProcessGroups.Current) : factory;

    /// <summary>The factory that shards <paramref name="inner"/>'s optimizers over <paramref name="group"/>.</summary>
    public static IOptimizerFactory Factory(IOptimizerFactory inner, IProcessGroup group) => new ShardingFactory(inner, group);

    sealed class ShardingFactory(IOptimizerFactory inner, IProcessGroup group) : IOptimizerFactory
    {
        public IOptimizer Create(IReadOnlyList<ParameterGroup> groups) => new ShardedOptimizer(inner, groups, group);
    }

    public int WorldSize => _group.WorldSize;

    public double LearningRate { get => _inner.LearningRate; set => _inner.LearningRate = value; }

    /// <summary>Clears the model's gradients (the masters' are set at each step).</summary>
    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.grad?.zero_();
    }

    /// <summary>
    /// Sums the model's gradients over all ranks into this rank's slice, clips them by the global norm when
    /// <paramref name="maxNorm"/> &gt; 0, hands them to the masters, and returns the global norm and the loss summed
    /// over ranks. Called once per step, before <see cref="Step"/>.
    /// </summary>
    public (double Norm, double Loss) ReduceGradients(double maxNorm, double loss)
    {
        using var scope = NewDisposeScope();
        var (flat, mine) = (_flat, _mine);
        using (no_grad())
        {
            flat.zero_();
            for (int i = 0; i < _parameters.Count; i++)
                if (_parameters[i].grad is { } g) flat.narrow(0, _offsets[i], g.numel()).copy_(g.detach().reshape(-1));
        }
        _group.ReduceScatterSum(MemoryMarshal.Cast<byte, float>(flat.bytes), MemoryMarshal.Cast<byte, float>(mine.bytes));

        // The slice's norm in FP32, as torch.nn.utils.clip_grad_norm_ computes norms in the gradients' dtype.
        double local = mine.norm().item<float>();
        Span<double> sums = [local * local, loss];
        _group.AllReduceSum(sums);
        double norm = Math.Sqrt(sums[0]);
        // As torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1.
        if (maxNorm > 0 && maxNorm / (norm + 1e-6) < 1) mine.mul_(maxNorm / (norm + 1e-6));

        foreach (var (master, start, _, _) in _masters)
        {
            var slice = mine.narrow(0, start, master.numel());
            if (master.grad is { } grad) { using var _ = no_grad(); grad.copy_(slice); continue; }
            // A parameter's gradient cannot be assigned in TorchSharp: the first time, backward through master·g makes it g.
            using var __ = enable_grad();
            master.mul(slice.detach()).sum().backward();
        }
        return (norm, sums[1]);
    }

    /// <summary>Steps the slice and gathers every rank's updated slice into the model.</summary>
    public void Step()
    {
        _inner.Step();
        TakeSlicesFromMasters();
    }

    void TakeSlicesFromMasters()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (mine, all) = (_mine, _flat);
        MastersIntoSlice();
        _group.AllGather(MemoryMarshal.Cast<byte, float>(mine.bytes), MemoryMarshal.Cast<byte, float>(all.bytes));
        for (int i = 0; i < _parameters.Count; i++)
        {
            var p = _parameters[i];
            p.copy_(all.narrow(0, _offsets[i], p.numel()).view(p.shape).to(p.dtype, p.device));
        }
    }

    /// <summary>This rank's masters, laid end to end, into the slice buffer (its padding left as the last exchange left it: zeros).</summary>
    void MastersIntoSlice()
    {
        using var _ = no_grad();
        foreach (var (master, start, _, _) in _masters) _mine.narrow(0, start, master.numel()).copy_(master);
    }

    /// <summary>Sets the masters from the model (after rank 0's weights were broadcast, or a checkpoint without masters was loaded).</summary>
    public void TakeMastersFromModel()
    {
        using var _ = no_grad();
        foreach (var (master, _, parameter, within) in _masters)
            master.copy_(_parameters[parameter].detach().reshape(-1).narrow(0, within, master.numel()).to_type(ScalarType.Float32).cpu());
    }

    string ShardName => $"rank-{_group.Rank:D5}-of-{_group.WorldSize:D5}";

    /// <summary>Writes this rank's optimizer state and FP32 masters into <paramref name="directory"/>.</summary>
    public void SaveShard(string directory)
    {
        Directory.CreateDirectory(directory);
        _inner.SaveState(Path.Combine(directory, ShardName + ".optimizer"));
        using var scope = NewDisposeScope();
        MastersIntoSlice();
        var tmp = Path.Combine(directory, ShardName + ".master.tmp");
        File.WriteAllBytes(tmp, _mine.bytes.ToArray());
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
        _inner.LoadState(Path.Combine(directory, ShardName + ".optimizer"));
        var bytes = File.ReadAllBytes(Path.Combine(directory, ShardName + ".master"));
        if (bytes.Length != _slice * sizeof(float)) throw new InvalidDataException($"{directory}: {ShardName}.master holds {bytes.Length / 4} values, this model's slice {_slice}");
        var mine = MemoryMarshal.Cast<byte, float>(bytes);
        using var _ = no_grad();
        foreach (var (master, start, _, _) in _masters)
            master.copy_(tensor(mine.Slice((int)start, (int)master.numel()).ToArray()));
    }

    /// <summary>Unsupported: a sharded optimizer's state is one file per rank (<see cref="SaveShard"/>), written by every rank.</summary>
    public void SaveState(string path) => throw new NotSupportedException("a sharded optimizer saves one shard per rank: SaveShard(directory) on every rank");

    /// <summary>Unsupported: see <see cref="LoadShard"/>.</summary>
    public void LoadState(string path) => throw new NotSupportedException("a sharded optimizer loads one shard per rank: LoadShard(directory) on every rank");

    public void Dispose()
    {
        _inner.Dispose();
        _flat.Dispose();
        _mine.Dispose();
        foreach (var (master, _, _, _) in _masters) master.Dispose();
    }
}

using Ziya2.Configuration;
using Ziya2.Models;
using Ziya2.Optimization;
using static TorchSharp.torch;

namespace MyZiya2Plugin;

/// <summary>Options, bound from the recipe's TOML (<c>[optimizer]</c> by default; keys in snake_case).</summary>
public sealed class ComponentOptimizerOptions : IValidatableOptions
{
    /// <summary>Base learning rate (schedulers set it before every step).</summary>
    public double Lr { get; set; } = 1e-2;

    /// <summary>Momentum coefficient.</summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Decoupled weight decay, applied to groups that ask for it.</summary>
    public double WeightDecay { get; set; }

    /// <inheritdoc/>
    public IEnumerable<string> Validate()
    {
        if (!(Lr > 0)) yield return "lr must be > 0";
        if (Momentum is < 0 or >= 1) yield return "momentum must be in [0, 1)";
        if (WeightDecay < 0) yield return "weight_decay must be >= 0";
    }
}

/// <summary>What a recipe gets for <c>Optimizer("my-component")</c>: it binds an optimizer to a model's parameter groups.</summary>
public sealed class ComponentOptimizerFactory(ComponentOptimizerOptions options) : IOptimizerFactory
{
    /// <inheritdoc/>
    public IOptimizer Create(IReadOnlyList<ParameterGroup> groups) => new ComponentOptimizer(options, groups);
}

/// <summary>SGD with momentum and decoupled weight decay; its state (one buffer per parameter) saves and restores exactly.</summary>
public sealed class ComponentOptimizer : IOptimizer
{
    readonly ComponentOptimizerOptions _options;
    readonly IReadOnlyList<ParameterGroup> _groups;
    readonly Tensor[] _momentum;

    internal ComponentOptimizer(ComponentOptimizerOptions options, IReadOnlyList<ParameterGroup> groups)
    {
        (_options, _groups) = (options, groups);
        LearningRate = options.Lr;
        _momentum = groups.SelectMany(g => g.Parameters).Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
    }

    /// <inheritdoc/>
    public double LearningRate { get; set; }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var p in _groups.SelectMany(g => g.Parameters)) p.grad?.zero_();
    }

    /// <inheritdoc/>
    public void Step()
    {
        using var _ = no_grad();
        int i = 0;
        foreach (var group in _groups)
            foreach (var p in group.Parameters)
            {
                var buffer = _momentum[i++];
                if (p.grad is not { } g) continue;
                if (group.ApplyWeightDecay && _options.WeightDecay > 0) p.mul_(1 - LearningRate * _options.WeightDecay);
                buffer.mul_(_options.Momentum).add_(g);
                p.add_(buffer, alpha: -LearningRate);
            }
    }

    /// <inheritdoc/>
    public void SaveState(string path)
    {
        var tmp = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(tmp)))
        {
            writer.Write(_momentum.Length);
            foreach (var m in _momentum)
            {
                var values = m.cpu().to_type(ScalarType.Float32).data<float>().ToArray();
                writer.Write(values.Length);
                foreach (var v in values) writer.Write(v);
            }
        }
        File.Move(tmp, path, overwrite: true);   // complete or absent
    }

    /// <inheritdoc/>
    public void LoadState(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        if (reader.ReadInt32() != _momentum.Length) throw new InvalidDataException($"{path}: optimizer state for another parameter list");
        var loaded = _momentum.Select(m =>
        {
            int n = reader.ReadInt32();
            if (n != m.numel()) throw new InvalidDataException($"{path}: a buffer of {n} values where the parameter has {m.numel()}");
            return Enumerable.Range(0, n).Select(_ => reader.ReadSingle()).ToArray();
        }).ToList();   // everything read and checked before any buffer changes
        using var _ = no_grad();
        for (int i = 0; i < _momentum.Length; i++) _momentum[i].copy_(tensor(loaded[i]).view(_momentum[i].shape).to(_momentum[i].device));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var m in _momentum) m.Dispose();
    }
}

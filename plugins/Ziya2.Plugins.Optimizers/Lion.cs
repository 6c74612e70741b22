using TorchSharp;
using Ziya2.Configuration;
using Ziya2.Models;
using Ziya2.Optimization;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Optimizers;

/// <summary>Options of Lion (Chen et al. 2023). Its updates are signs, so lr is typically 3–10× smaller than AdamW's and weight decay larger.</summary>
public sealed class LionOptions : IValidatableOptions
{
    public double Lr { get; set; } = 1e-5;
    public double Beta1 { get; set; } = 0.9;
    public double Beta2 { get; set; } = 0.99;
    /// <summary>Decoupled weight decay for groups that take it.</summary>
    public double WeightDecay { get; set; } = 1.0;

    public IEnumerable<string> Validate()
    {
        if (Lr <= 0) yield return "lr must be > 0";
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) yield return "beta1 and beta2 must be within [0, 1)";
        if (WeightDecay < 0) yield return "weight_decay must be >= 0";
    }
}

/// <summary>Builds Lion optimizers: one momentum buffer per parameter (half of AdamW's state).</summary>
public sealed class LionFactory(LionOptions options) : IOptimizerFactory
{
    public IOptimizer Create(IReadOnlyList<ParameterGroup> groups)
    {
        var parameters = groups.SelectMany(g => g.Parameters.Select(p => (Parameter: p, Decay: g.ApplyWeightDecay))).ToList();
        if (parameters.Count == 0) throw new ArgumentException("no parameters to optimize");
        return new LionOptimizer(options, parameters);
    }
}

/// <summary>
/// Lion: c = β1·m + (1−β1)·g; p ← p − lr·(sign(c) + wd·p); m ← β2·m + (1−β2)·g. Written with in-place tensor ops
/// under no_grad; state is the momentum of every parameter plus the step count, saved bit-exactly.
/// </summary>
sealed class LionOptimizer : IOptimizer
{
    readonly LionOptions _o;
    readonly List<(TorchSharp.Modules.Parameter Parameter, bool Decay)> _parameters;
    readonly Tensor[] _momentum;
    long _steps;

    public LionOptimizer(LionOptions o, List<(TorchSharp.Modules.Parameter, bool)> parameters)
    {
        _o = o; _parameters = parameters; LearningRate = o.Lr;
        using (no_grad())
            _momentum = parameters.Select(p => zeros_like(p.Item1).DetachFromDisposeScope()).ToArray();
    }

    public double LearningRate { get; set; }

    public void ZeroGrad()
    {
        foreach (var (p, _) in _parameters) p.grad?.zero_();
    }

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < _parameters.Count; i++)
        {
            var (p, decay) = _parameters[i];
            if (p.grad is not { } g) continue;
            var m = _momentum[i];
            var update = m.mul(_o.Beta1).add_(g, alpha: 1 - _o.Beta1).sign_();
            if (decay && _o.WeightDecay > 0) p.mul_(1 - LearningRate * _o.WeightDecay);
            p.add_(update, alpha: -LearningRate);
            m.mul_(_o.Beta2).add_(g, alpha: 1 - _o.Beta2);
        }
        _steps++;
    }

    public void SaveState(string path)
    {
        var tmp = path + ".tmp";
        using (var w = new BinaryWriter(File.Create(tmp)))
        {
            w.Write("lion-v1"); w.Write(_steps); w.Write(_momentum.Length);
            foreach (var m in _momentum) m.Save(w);
        }
        File.Move(tmp, path, overwrite: true);
    }

    public void LoadState(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("optimizer state not found", path);
        using var r = new BinaryReader(File.OpenRead(path));
        if (r.ReadString() != "lion-v1") throw new InvalidDataException($"{path}: not a Lion optimizer state");
        long steps = r.ReadInt64();
        int count = r.ReadInt32();
        if (count != _momentum.Length) throw new InvalidDataException($"{path}: state for {count} parameters, this optimizer has {_momentum.Length}");
        using var _ = no_grad();
        foreach (var m in _momentum)
        {
            using var loaded = Tensor.Load(r);
            if (!loaded.shape.SequenceEqual(m.shape)) throw new InvalidDataException($"{path}: momentum of shape [{string.Join(",", loaded.shape)}] for a parameter of shape [{string.Join(",", m.shape)}]");
            m.copy_(loaded);
        }
        _steps = steps;
    }

    public void Dispose()
    {
        foreach (var m in _momentum) m.Dispose();
    }
}

using TorchSharp;
using Ziya2.Configuration;
using Ziya2.Models;
using Ziya2.Optimization;

namespace Ziya2.Plugins.Optimizers;

/// <summary>Options of AdamW; defaults are the paper's (§4).</summary>
public sealed class AdamWOptions : IValidatableOptions
{
    public double Lr { get; set; } = 1e-4;
    public double Beta1 { get; set; } = 0.9;
    public double Beta2 { get; set; } = 0.95;
    public double Eps { get; set; } = 1e-8;
    /// <summary>Decoupled weight decay for groups that take it (norms and biases usually do not).</summary>
    public double WeightDecay { get; set; } = 0.1;

    public IEnumerable<string> Validate()
    {
        if (Lr <= 0) yield return "lr must be > 0";
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) yield return "beta1 and beta2 must be within [0, 1)";
        if (Eps <= 0) yield return "eps must be > 0";
        if (WeightDecay < 0) yield return "weight_decay must be >= 0";
    }
}

/// <summary>Builds TorchSharp AdamW optimizers with one parameter group per model group.</summary>
public sealed class AdamWFactory(AdamWOptions options) : IOptimizerFactory
{
    public IOptimizer Create(IReadOnlyList<ParameterGroup> groups)
    {
        var torchGroups = groups.Where(g => g.Parameters.Count > 0).Select(g => new TorchSharp.Modules.AdamW.ParamGroup(
            g.Parameters, options.Lr, options.Beta1, options.Beta2, options.Eps, g.ApplyWeightDecay ? options.WeightDecay : 0.0)).ToList();
        if (torchGroups.Count == 0) throw new ArgumentException("no parameters to optimize");
        return new AdamWOptimizer(torch.optim.AdamW(torchGroups, options.Lr, options.Beta1, options.Beta2, options.Eps, options.WeightDecay), options.Lr);
    }
}

sealed class AdamWOptimizer(TorchSharp.Modules.AdamW optimizer, double lr) : IOptimizer
{
    double _lr = lr;

    public double LearningRate
    {
        get => _lr;
        set { _lr = value; foreach (var g in optimizer.ParamGroups) g.LearningRate = value; }
    }

    public void ZeroGrad() => optimizer.zero_grad();
    public void Step() => optimizer.step();

    public void SaveState(string path)
    {
        var tmp = path + ".tmp";
        optimizer.save_state_dict(tmp);
        File.Move(tmp, path, overwrite: true);
    }

    public void LoadState(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException("optimizer state not found", path);
        optimizer.load_state_dict(path);
    }

    public void Dispose() => optimizer.Dispose();
}

using Ziya2.Models;

namespace Ziya2.Optimization;

/// <summary>Builds optimizers; the component a recipe gets for <c>Optimizer("adamw")</c>.</summary>
public interface IOptimizerFactory
{
    /// <summary>Creates an optimizer over <paramref name="groups"/>, honouring each group's weight-decay flag.</summary>
    IOptimizer Create(IReadOnlyList<ParameterGroup> groups);
}

/// <summary>An optimizer bound to parameters. State (moments, step counts) can be saved and restored exactly.</summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Base learning rate of every group; schedulers set it before each step.</summary>
    double LearningRate { get; set; }

    /// <summary>Clears the gradients of all parameters.</summary>
    void ZeroGrad();

    /// <summary>Applies one update from the current gradients.</summary>
    void Step();

    /// <summary>Writes the complete optimizer state to <paramref name="path"/>.</summary>
    void SaveState(string path);

    /// <summary>Restores state written by <see cref="SaveState"/>; throws if it does not match the parameters.</summary>
    void LoadState(string path);
}

using Ziya2.Models;
using Ziya2.Optimization;

namespace Ziya2.Recipes;

/// <summary>
/// The recipe API recipes run against: <see cref="RecipeGlobals"/> plus the components whose contracts carry tensors
/// (<c>var model = Model("llama");</c>).
/// </summary>
public abstract class TrainingRecipeGlobals : RecipeGlobals
{
    /// <summary>Resolves model <paramref name="name"/>; options from <paramref name="section"/> (default <c>model</c>).</summary>
    [RecipeComponent("model", "model")]
    public abstract ILanguageModel Model(string name, string? section = null);

    /// <summary>Resolves optimizer <paramref name="name"/>; options from <paramref name="section"/> (default <c>optimizer</c>).</summary>
    [RecipeComponent("optimizer", "optimizer")]
    public abstract IOptimizerFactory Optimizer(string name, string? section = null);
}

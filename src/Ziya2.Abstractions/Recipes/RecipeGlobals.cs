using Microsoft.Extensions.Logging;
using Ziya2.Configuration;
using Ziya2.Data;
using Ziya2.Events;
using Ziya2.Models;
using Ziya2.Optimization;

namespace Ziya2.Recipes;

/// <summary>
/// The recipe API: every member is directly callable from a <c>.csx</c> recipe (<c>var m = Model("llama");</c>).
/// Components are resolved by name from the loaded plugins and constructed with their options bound from the
/// config section given (or the default section shown on each method).
/// </summary>
public abstract class RecipeGlobals
{
    /// <summary>The run's configuration.</summary>
    public abstract IRecipeConfig Config { get; }

    /// <summary>Logger of the recipe; lines also go to the run directory's log.</summary>
    public abstract ILogger Log { get; }

    /// <summary>The run directory (resolved config, logs, metrics, checkpoints).</summary>
    public abstract string RunDirectory { get; }

    /// <summary>Seed of the run (<c>run.seed</c>, default 1234).</summary>
    public abstract long Seed { get; }

    /// <summary>
    /// True under <c>ziya2 run --dry-run</c>: the recipe should print its plan (stages, budgets, steps, memory, time)
    /// and return before it loads data or builds large models. <see cref="RunDirectory"/> is then a scratch directory
    /// that is deleted afterwards.
    /// </summary>
    public abstract bool DryRun { get; }
    /// <summary>Signalled when the operator interrupts the run.</summary>
    public abstract CancellationToken Cancellation { get; }

    /// <summary>The run's event bus; engines publish to it and plugin callbacks listen.</summary>
    public abstract IEventBus Events { get; }

    /// <summary>Resolves data filter <paramref name="name"/>; options from <paramref name="section"/> (default <c>filters.{name}</c>).</summary>
    [RecipeComponent("filter", "filters.{name}")]
    public abstract IDataFilter Filter(string name, string? section = null);

    /// <summary>Resolves model <paramref name="name"/>; options from <paramref name="section"/> (default <c>model</c>).</summary>
    [RecipeComponent("model", "model")]
    public abstract ILanguageModel Model(string name, string? section = null);

    /// <summary>Resolves optimizer <paramref name="name"/>; options from <paramref name="section"/> (default <c>optimizer</c>).</summary>
    [RecipeComponent("optimizer", "optimizer")]
    public abstract IOptimizerFactory Optimizer(string name, string? section = null);

    /// <summary>Resolves scheduler <paramref name="name"/>; options from <paramref name="section"/> (default <c>scheduler</c>).</summary>
    [RecipeComponent("scheduler", "scheduler")]
    public abstract ILearningRateScheduler Scheduler(string name, string? section = null);

    /// <summary>Resolves tokenizer <paramref name="name"/>; options from <paramref name="section"/> (default <c>tokenizer</c>).</summary>
    [RecipeComponent("tokenizer", "tokenizer")]
    public abstract Tokenization.ITokenizer Tokenizer(string name, string? section = null);

    /// <summary>Resolves callback <paramref name="name"/> and subscribes it to <see cref="Events"/>; options from <c>callbacks.{name}</c>.</summary>
    [RecipeComponent("callback", "callbacks.{name}")]
    public abstract IRunCallback Callback(string name, string? section = null);

    /// <summary>Resolves text embedder <paramref name="name"/> (a plugin's); options from <paramref name="section"/> (default <c>embedders.{name}</c>).</summary>
    [RecipeComponent("embedder", "embedders.{name}")]
    public abstract ITextEmbedder Embedder(string name, string? section = null);
    /// <summary>Starts a progress display for <paramref name="total"/> units of work.</summary>
    public abstract IProgressTask Progress(string description, long total);

    /// <summary>Appends one metrics record (<c>metrics.jsonl</c> in the run directory) and publishes it as an event.</summary>
    public abstract void Metrics(string eventName, long step, IReadOnlyDictionary<string, double> values);

    /// <summary>Resolves <paramref name="path"/> against the directory of the entry recipe (for shipped data beside recipes).</summary>
    public abstract string RecipePath(string path);
}

using Microsoft.Extensions.Logging;
using Ziya2.Configuration;
using Ziya2.Data;
using Ziya2.Events;
using Ziya2.Optimization;

namespace Ziya2.Recipes;

/// <summary>
/// The recipe API: every member is directly callable from a <c>.csx</c> recipe (<c>var f = Filter("language");</c>).
/// Components are resolved by name from the loaded plugins and constructed with their options bound from the
/// config section given (or the default section shown on each method). Recipes run against
/// <c>TrainingRecipeGlobals</c> (Ziya2.Abstractions.Tensors), which adds models and optimizers.
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

    /// <summary>
    /// The run's event bus: hand it to the engines (trainer, data pipelines) so they report steps and shards; the
    /// console progress and the metrics file (<c>metrics.jsonl</c>) are subscribed already, add your own observers.
    /// </summary>
    public abstract IEventBus Events { get; }

    /// <summary>Resolves data filter <paramref name="name"/>; options from <paramref name="section"/> (default <c>filters.{name}</c>).</summary>
    [RecipeComponent("filter", "filters.{name}")]
    public abstract IDataFilter Filter(string name, string? section = null);

    /// <summary>
    /// The steps of pipeline <paramref name="name"/> as the configuration defines it — the same definition
    /// <c>ziya2 data run</c> reads: <c>[pipelines.&lt;name&gt;] steps = [...]</c> (<c>skip = [...]</c> leaves steps out), each
    /// step's options at <c>[filters.&lt;step&gt;]</c>, its data filter the step's name or that section's <c>use</c>.
    /// Configs share definitions with <c>include = ["../pipelines/ziya2.toml"]</c>.
    /// </summary>
    [RecipePipeline]
    public abstract IReadOnlyList<PipelineStep> Pipeline(string name);

    /// <summary>Resolves scheduler <paramref name="name"/>; options from <paramref name="section"/> (default <c>scheduler</c>).</summary>
    [RecipeComponent("scheduler", "scheduler")]
    public abstract ILearningRateScheduler Scheduler(string name, string? section = null);

    /// <summary>Resolves tokenizer <paramref name="name"/>; options from <paramref name="section"/> (default <c>tokenizer</c>).</summary>
    [RecipeComponent("tokenizer", "tokenizer")]
    public abstract Tokenization.ITokenizer Tokenizer(string name, string? section = null);

    /// <summary>
    /// Records <paramref name="values"/> as series <paramref name="eventName"/> at <paramref name="step"/>: publishes a
    /// <see cref="RunEvents.Metrics"/> event, which the host appends to <c>metrics.jsonl</c> in the run directory.
    /// </summary>
    public abstract void Metrics(string eventName, long step, IReadOnlyDictionary<string, double> values);

    /// <summary>Resolves <paramref name="path"/> against the directory of the entry recipe (for shipped data beside recipes).</summary>
    public abstract string RecipePath(string path);
}

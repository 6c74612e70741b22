using Microsoft.Extensions.Logging;
using Ziya2.Configuration;
using Ziya2.Data;
using Ziya2.Distributed;
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
    /// that is deleted afterwards (launch files go to the real one: <see cref="WriteLaunchFile"/>).
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

    /// <summary>
    /// The steps of pipeline <paramref name="name"/> with some options changed for this call only: each key of
    /// <paramref name="overrides"/> a dotted path (<c>filters.html-remnants.threshold</c>), each value a TOML literal
    /// (<c>2</c>, <c>0.5</c>, <c>"mask"</c>), checked as <c>--set</c> is. The run's configuration is not changed, so a
    /// recipe can try settings — the quality gate's tightening rounds do — without touching other bindings.
    /// </summary>
    [RecipePipeline]
    public abstract IReadOnlyList<PipelineStep> Pipeline(string name, IReadOnlyDictionary<string, string> overrides);

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

    /// <summary>
    /// This process's place in a data-parallel job (started by <c>mpiexec</c> or <c>srun</c>): rank, world size, local
    /// rank; rank 0 of 1 when started alone. Every rank runs the whole recipe; the trainer splits each batch across the
    /// ranks by itself, and rank 0 alone writes the run's files (run.json, metrics, checkpoints, exports, report).
    /// </summary>
    public virtual LaunchEnvironment Launch => LaunchEnvironment.Current;

    /// <summary>
    /// Runs <paramref name="work"/> on rank 0 first and, once it has finished, on the other ranks, which then find what
    /// rank 0 wrote and resume it to "done" (the data factory, token files, the tokenizer extension all do) — so
    /// preparation that writes files happens once, while every rank ends up with its result (HF Accelerate's
    /// <c>main_process_first</c>). A process alone just runs it. If rank 0 fails or is interrupted, every rank stops
    /// (the interruption as <see cref="OperationCanceledException"/>), instead of waiting for it forever.
    /// </summary>
    public virtual T MainProcessFirst<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return work();
    }

    /// <summary><see cref="MainProcessFirst{T}(Func{T})"/> for work without a result.</summary>
    public void MainProcessFirst(Action work)
    {
        ArgumentNullException.ThrowIfNull(work);
        MainProcessFirst<bool>(() => { work(); return true; });
    }

    /// <summary>
    /// The command that runs this recipe again with the same recipe, configs, overrides and plugins in the run
    /// directory the launch files are written to (<c>… ziya2 run recipe.csx -c a.toml --set k=v --run-dir D</c>), one
    /// argument per element: what a cluster launch script (sbatch, srun) starts on every node.
    /// </summary>
    public virtual IReadOnlyList<string> RerunCommand => throw new NotSupportedException("this host cannot say how to run the recipe again");

    /// <summary>
    /// Writes <paramref name="fileName"/> into the run directory, atomically, with the <paramref name="contents"/> made
    /// for that directory's path, and returns the file's path: a launch plan (an sbatch script) that
    /// <see cref="RerunCommand"/> makes runnable. Under <c>--dry-run</c> the run directory is then created for real (its
    /// resolved config and run.json, status "planned"), so submitting the file runs exactly the plan that was printed,
    /// and a changed config is refused there. In a data-parallel job rank 0 writes it.
    /// </summary>
    public virtual string WriteLaunchFile(string fileName, Func<string, string> contents) => throw new NotSupportedException("this host cannot write launch files");
}

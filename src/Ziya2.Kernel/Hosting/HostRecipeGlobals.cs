using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Ziya2.Configuration;
using Ziya2.Data;
using Ziya2.Distributed;
using Ziya2.Events;
using Ziya2.Kernel.Configuration;
using Ziya2.Models;
using Ziya2.Optimization;
using Ziya2.Plugins;
using Ziya2.Recipes;

namespace Ziya2.Kernel.Hosting;

/// <summary>The recipe API as the kernel implements it.</summary>
sealed class HostRecipeGlobals(
    RecipeConfig config, ComponentContainer components, IEventBus events,
    ILogger log, RunDirectory runDirectory, string recipePath, long seed, CancellationToken cancellation, bool dryRun = false) : TrainingRecipeGlobals, IRunEnvironment
{
    // Engines call component factories from worker threads (the data factory makes filters per shard worker).
    readonly object _resolveGate = new();

    public override IRecipeConfig Config => config;
    public override ILogger Log => log;
    public override string RunDirectory => runDirectory.Path;
    public override long Seed => seed;
    public override bool DryRun => dryRun;
    public override CancellationToken Cancellation => cancellation;
    public override IEventBus Events => events;

    /// <summary>The job's ranks (a job of one unless launched by mpiexec or srun).</summary>
    public RunJob Job { get; init; } = new(LaunchEnvironment.Single);
    public IReadOnlyList<string>? Rerun { get; init; }
    public Func<string, Func<string, string>, string>? LaunchFiles { get; init; }

    public override LaunchEnvironment Launch => Job.Launch;
    public override T MainProcessFirst<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Job.MainProcessFirst(work, cancellation);
    }
    public override IReadOnlyList<string> RerunCommand => Rerun ?? base.RerunCommand;
    public override string WriteLaunchFile(string fileName, Func<string, string> contents) => LaunchFiles is { } write ? write(fileName, contents) : base.WriteLaunchFile(fileName, contents);

    public override IDataFilter Filter(string name, string? section = null) => Resolve<IDataFilter>(name, section);
    public override ILanguageModel Model(string name, string? section = null) => Resolve<ILanguageModel>(name, section);
    public override IOptimizerFactory Optimizer(string name, string? section = null) => Resolve<IOptimizerFactory>(name, section);
    public override ILearningRateScheduler Scheduler(string name, string? section = null) => Resolve<ILearningRateScheduler>(name, section);
    public override Ziya2.Tokenization.ITokenizer Tokenizer(string name, string? section = null) => Resolve<Ziya2.Tokenization.ITokenizer>(name, section);

    public override IReadOnlyList<PipelineStep> Pipeline(string name) => Steps(name, config.Tree, config.Prebind, "");

    public override IReadOnlyList<PipelineStep> Pipeline(string name, IReadOnlyDictionary<string, string> overrides)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        if (overrides.Count == 0) return Pipeline(name);
        // A copy of the tree with the changes, bound afresh: the run's bindings (and its resolved config) stay as they were.
        var tree = config.Tree.With(overrides.Select(kv => $"{kv.Key}={kv.Value}"));
        var binder = new OptionsBinder(tree);
        return Steps(name, tree, (path, type, e) => binder.Bind(type, path, e), $" with {string.Join(", ", overrides.Select(kv => $"{kv.Key}={kv.Value}"))}");
    }

    IReadOnlyList<PipelineStep> Steps(string name, ConfigTree tree, OptionsBinding bind, string with)
    {
        // Resolved now, not in the workers: a missing filter or a bad option fails the call, before any data is read.
        var errors = new List<ConfigError>();
        IReadOnlyList<ResolvedPipelineStep>? steps;
        lock (_resolveGate) steps = PipelineResolution.Resolve(tree, components.Catalog, name, bind, errors);
        if (steps is null) throw new ConfigException(errors);
        log.LogDebug("Pipeline '{Name}'{With}: {Steps}", name, with, string.Join(", ", steps.Select(s => s.Definition.Name)));
        return [.. steps.Select(s => s.Runnable(components))];
    }

    /// <summary>
    /// Kind and default section come from the API method's <see cref="RecipeComponentAttribute"/>, the same place
    /// <c>validate</c> reads them, so the two can never disagree.
    /// </summary>
    T Resolve<T>(string name, string? section, [CallerMemberName] string apiMethod = "")
    {
        var attribute = typeof(TrainingRecipeGlobals).GetMethod(apiMethod)!.GetCustomAttribute<RecipeComponentAttribute>()!;
        var kind = KnownComponentKinds.Find(attribute.Kind)!;
        section ??= attribute.SectionFor(name);
        var descriptor = components.Catalog.Get(kind, name);
        object options;
        lock (_resolveGate) options = config.Get(descriptor.OptionsType, section)!;
        log.LogDebug("Resolving {Kind} '{Name}' from {Plugin} with [{Section}]", kind, name, descriptor.Plugin.Name, section);
        return (T)components.Resolve(kind, name, options);
    }

    public override void Metrics(string eventName, long step, IReadOnlyDictionary<string, double> values) =>
        events.Publish(new RunEvent(RunEvents.Metrics, step, eventName, values));

    public override string RecipePath(string path) => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(recipePath))!, path));

    string IRunEnvironment.RunDirectory => runDirectory.Path;
}

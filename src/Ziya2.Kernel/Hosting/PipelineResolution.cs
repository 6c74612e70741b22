using Ziya2.Data;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Plugins;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Hosting;

/// <summary>A defined step whose data filter is loaded and whose options are bound.</summary>
public sealed record ResolvedPipelineStep(PipelineStepDefinition Definition, ComponentDescriptor Descriptor, object Options)
{
    /// <summary>The step's name, with its filter when that differs: <c>advertising (word-list)</c>.</summary>
    public string Label => Definition.Name == Descriptor.Name ? Definition.Name : $"{Definition.Name} ({Descriptor.Name})";

    /// <summary>The step for the engine: a new filter instance, with these options, per call.</summary>
    public PipelineStep Runnable(ComponentContainer components) =>
        new(Definition.Name, () => (IDataFilter)components.Resolve(ComponentKind.DataFilter, Descriptor.Name, Options));
}

/// <summary>
/// Turns a pipeline definition into steps that can run: the same checks for <c>ziya2 validate</c>, a recipe's
/// <c>Pipeline("rf")</c> and <c>ziya2 data run</c> — every step's filter exists, every step's options bind (skipped
/// steps' too, so a typo is caught before it is turned back on).
/// </summary>
static class PipelineResolution
{
    /// <summary>The steps to run, or null with the problems in <paramref name="errors"/>.</summary>
    public static IReadOnlyList<ResolvedPipelineStep>? Resolve(ConfigTree tree, PluginCatalog catalog, string name, OptionsBinding bind, List<ConfigError> errors)
    {
        int before = errors.Count;
        var definition = PipelineDefinitions.Read(tree, name, errors, bind);
        if (definition is null) return null;
        // Steps of a definition with problems are still checked (their options are read, so they are not "unknown keys").
        var steps = new List<ResolvedPipelineStep>();
        foreach (var step in definition)
        {
            if (!catalog.TryGet(ComponentKind.DataFilter, step.Filter, out var descriptor, out var why))
            {
                errors.Add(new ConfigError(PipelineDefinitions.PathOf(name), $"step '{step.Name}': {why}", tree.OriginOf(PipelineDefinitions.PathOf(name))));
                continue;
            }
            if (bind(step.Section, descriptor!.OptionsType, errors) is { } options && !step.Skipped)
                steps.Add(new ResolvedPipelineStep(step, descriptor, options));
        }
        return errors.Count > before ? null : steps;
    }
}

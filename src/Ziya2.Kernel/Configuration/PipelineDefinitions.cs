using Tomlyn.Model;
using Ziya2.Configuration;

namespace Ziya2.Kernel.Configuration;

/// <summary><c>[pipelines.&lt;name&gt;]</c>: the steps of one pipeline, in order, and those a config leaves out.</summary>
public sealed class PipelineDefinitionOptions : IValidatableOptions
{
    /// <summary>Step names; each step's options are at <c>[filters.&lt;step&gt;]</c>.</summary>
    public List<string> Steps { get; set; } = [];
    /// <summary>Steps not to run (an overlay turns a rule off without restating the list).</summary>
    public List<string> Skip { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        if (Steps.Count == 0) yield return "steps must name at least one data filter";
        foreach (var twice in Steps.GroupBy(s => s, StringComparer.Ordinal).Where(g => g.Count() > 1))
            yield return $"step '{twice.Key}' appears twice (to run one filter twice, give the second step its own name and [filters.<name>] use = \"{twice.Key}\")";
        foreach (var unknown in Skip.Except(Steps, StringComparer.Ordinal))
            yield return $"skip names '{unknown}', which is not a step of this pipeline";
    }
}

/// <summary>Binds <paramref name="path"/> to <paramref name="type"/>, adding problems to <paramref name="errors"/> (a caller's cache may answer).</summary>
public delegate object? OptionsBinding(string path, Type type, List<ConfigError> errors);

/// <summary>One step of a defined pipeline.</summary>
/// <param name="Name">The step's name (funnel, rejection reasons).</param>
/// <param name="Filter">The data filter it runs: the step's name, or its section's <c>use</c>.</param>
/// <param name="Section">Where the filter's options are: <c>filters.&lt;step&gt;</c>.</param>
/// <param name="Skipped">Left out by the pipeline's <c>skip</c>; its options are still checked.</param>
public sealed record PipelineStepDefinition(string Name, string Filter, string Section, bool Skipped);

/// <summary>
/// Pipelines defined in configuration — the one place <c>ziya2 data run</c> and recipes (<c>Pipeline("rf")</c>) read
/// them from. A definition is data, not code, so a config file can be shared (<c>include</c>), overridden key by key
/// and fingerprinted like any other setting.
/// </summary>
public static class PipelineDefinitions
{
    /// <summary>The table that holds the definitions.</summary>
    public const string Section = "pipelines";

    /// <summary>Names of the pipelines defined, in the order the configuration gives them.</summary>
    public static IReadOnlyList<string> Names(ConfigTree tree) => tree.Find(Section) is TomlTable t ? [.. t.Keys] : [];

    /// <summary>The definition's config path.</summary>
    public static string PathOf(string name) => $"{Section}.{name}";

    /// <summary>
    /// Binds <c>[pipelines.&lt;name&gt;]</c> and lists its steps. Problems go to <paramref name="errors"/>; the steps that
    /// could be listed are returned even then (null only when there is no usable definition), so callers go on checking
    /// their options and report everything at once.
    /// </summary>
    public static IReadOnlyList<PipelineStepDefinition>? Read(ConfigTree tree, string name, List<ConfigError> errors, OptionsBinding? bind = null)
    {
        var path = PathOf(name);
        if (tree.Find(path) is not TomlTable)
        {
            var defined = Names(tree);
            errors.Add(new ConfigError(path, $"no pipeline named '{name}' is defined ({(defined.Count == 0 ? "no [pipelines.<name>] table at all; a config includes shared definitions with include = [\"<file>\"]" : "defined: " + string.Join(", ", defined))})"));
            return null;
        }
        bind ??= (p, type, e) => new OptionsBinder(tree).Bind(type, p, e);
        // A definition that fails its own checks (a skip naming no step) still lists its steps, so their sections are
        // checked and read: one mistake gives one error, not one more per option of every step.
        if (bind(path, typeof(PipelineDefinitionOptions), errors) is not PipelineDefinitionOptions options) return null;
        var steps = new List<PipelineStepDefinition>();
        foreach (var step in options.Steps)
        {
            var section = $"filters.{step}";
            var usePath = $"{section}.{OptionsBinder.UseKey}";
            var filter = step;
            if (tree.Find(usePath) is { } use)
            {
                tree.MarkConsumed(usePath);
                if (use is string s && s.Length > 0) filter = s;
                else { errors.Add(new ConfigError(usePath, $"must be a data filter name, got {ConfigTree.Show(use)}", tree.OriginOf(usePath))); continue; }
            }
            steps.Add(new PipelineStepDefinition(step, filter, section, options.Skip.Contains(step, StringComparer.Ordinal)));
        }
        return steps;
    }
}

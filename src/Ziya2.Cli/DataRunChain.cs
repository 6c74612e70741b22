using System.Security.Cryptography;
using System.Text;
using Ziya2.Data;
using Ziya2.DataFactory.Cluster;
using Ziya2.DataFactory.Pipeline;
using Ziya2.DataFactory.Reading;
using Ziya2.Events;
using Ziya2.Kernel.Configuration;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Cli;

/// <summary>
/// The pipelines of one <c>ziya2 data run</c>, in order: pipeline k reads what pipeline k−1 kept and writes
/// <c>&lt;output&gt;/&lt;name&gt;</c>. Runs them in this process, or one phase of one of them as a task of a cluster job.
/// </summary>
sealed class DataRunChain(ComponentSession session, IReadOnlyList<(string Name, IReadOnlyList<ResolvedPipelineStep> Steps)> pipelines,
    IReadOnlyList<InputShard> inputs, string output, PipelineOptions options)
{
    public IReadOnlyList<(string Name, IReadOnlyList<ResolvedPipelineStep> Steps)> Pipelines => pipelines;

    DataPipeline Engine(int k) => new([.. pipelines[k].Steps.Select(session.Step)], options);

    /// <summary>The phases of pipeline <paramref name="k"/> (corpus steps are found by building one instance of each step).</summary>
    public IReadOnlyList<PipelinePhase> Phases(int k) => Engine(k).Phases();

    public string Directory(int k) => Path.Combine(output, pipelines[k].Name);

    /// <summary>What a cluster executor schedules: every pipeline's phases, in order.</summary>
    public IReadOnlyList<ClusterPipeline> Plan() => [.. pipelines.Select((p, k) => new ClusterPipeline(p.Name, Phases(k)))];

    /// <summary>Every pipeline, every phase, in this process.</summary>
    public List<PipelineResult> RunAll(IEventBus events, Action<string, PipelineResult> finished, CancellationToken cancellation)
    {
        var results = new List<PipelineResult>();
        var (input, upstream) = (inputs, "");
        for (int k = 0; k < pipelines.Count; k++)
        {
            options.Name = pipelines[k].Name;
            upstream = Fingerprint(k, upstream, input);
            results.Add(Engine(k).Run(input, Directory(k), upstream, events, cancellation));
            finished(pipelines[k].Name, results[^1]);
            input = InputShard.Expand([Path.Combine(Directory(k), "kept")]);
        }
        return results;
    }

    /// <summary>Pipeline <paramref name="name"/>'s own phase called <paramref name="phase"/> (with its partitions), or an error listing its phases.</summary>
    public PipelinePhase Resolve(string name, PipelinePhase phase)
    {
        int k = pipelines.Select(p => p.Name).ToList().IndexOf(name);
        if (k < 0) throw new ArgumentException($"pipeline '{name}' is not among those run ({string.Join(", ", pipelines.Select(p => p.Name))})");
        var phases = Phases(k);
        return phases.FirstOrDefault(p => p == phase) ?? throw new ArgumentException($"pipeline {name} has no phase {phase} (its phases: {string.Join(", ", phases)})");
    }

    /// <summary>
    /// One phase of pipeline <paramref name="name"/> as <paramref name="task"/>. The pipelines before it must have
    /// finished (their kept shards are its input and part of its fingerprint); a cluster executor orders the jobs so.
    /// </summary>
    public PipelineResult? RunTask(string name, PipelinePhase phase, PipelineTask task, IEventBus events, CancellationToken cancellation)
    {
        int target = pipelines.Select(p => p.Name).ToList().IndexOf(name);
        if (target < 0) throw new ArgumentException($"pipeline '{name}' is not among those run ({string.Join(", ", pipelines.Select(p => p.Name))})");
        var (input, upstream) = (inputs, "");
        for (int k = 0; k < target; k++)
        {
            upstream = Fingerprint(k, upstream, input);
            if (!File.Exists(Path.Combine(Directory(k), "stats.json")))
                throw new PipelinePhaseException($"pipeline {pipelines[k].Name} has not finished (no {Path.Combine(Directory(k), "stats.json")}); {name} reads what it keeps");
            input = InputShard.Expand([Path.Combine(Directory(k), "kept")]);
        }
        options.Name = name;
        var engine = Engine(target);
        if (!engine.Phases().Contains(phase))
            throw new ArgumentException($"pipeline {name} has no phase {phase} (its phases: {string.Join(", ", engine.Phases())})");
        return engine.RunPhase(phase, task, input, Directory(target), Fingerprint(target, upstream, input), events, cancellation);
    }

    /// <summary>
    /// What determines a pipeline's output: its definition, each step's filter and options, the engine and field
    /// settings, and what it reads (the inputs, or the fingerprint of the pipeline before it) — so changing a rule
    /// threshold redoes that pipeline and those after it, not the ones before.
    /// </summary>
    string Fingerprint(int k, string upstream, IReadOnlyList<InputShard> input)
    {
        string Section(string path) => ConfigTree.Canonical(session.Tree.Find(path));
        var (name, steps) = pipelines[k];
        var text = new StringBuilder(upstream).Append('\n').Append(name).Append('=').Append(Section(PipelineDefinitions.PathOf(name)))
            .Append("\npipeline=").Append(Section("pipeline")).Append("\ninput=").Append(Section("input"));
        foreach (var s in steps) text.Append('\n').Append(s.Definition.Name).Append("->").Append(s.Descriptor.Name).Append(Section(s.Definition.Section));
        foreach (var s in input) text.Append('\n').Append(s.Name).Append('=').Append(s.Path);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}

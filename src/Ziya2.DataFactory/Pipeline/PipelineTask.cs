using System.Globalization;

namespace Ziya2.DataFactory.Pipeline;

/// <summary>
/// Task <see cref="Index"/> of <see cref="Count"/>: it owns the shards k with k mod Count == Index (datatrove's rule), so
/// every task knows its files from the sorted input list alone.
/// </summary>
public readonly record struct PipelineTask(int Index, int Count)
{
    /// <summary>One task that owns everything (a single-process run).</summary>
    public static PipelineTask Whole { get; } = new(0, 1);

    public bool Owns(int shard) => shard % Count == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Reads <c>I/N</c> (0 ≤ I &lt; N).</summary>
    public static PipelineTask Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            return Of(i, n);
        throw new ArgumentException($"a task is I/N with 0 <= I < N, not '{text}'");
    }

    /// <summary>Task <paramref name="index"/> of <paramref name="count"/>, checked.</summary>
    public static PipelineTask Of(int index, int count) =>
        count >= 1 && index >= 0 && index < count ? new PipelineTask(index, count) : throw new ArgumentException($"task {index} of {count}: need 0 <= index < count");
}

/// <summary>What a phase does: observe and decide belong to one corpus step; apply and finish to the pipeline.</summary>
public enum PhaseKind { Observe, Decide, Apply, Finish }

/// <summary>
/// One phase of a pipeline: <c>observe:&lt;step&gt;</c> and <c>apply</c> run as N tasks, each over its own shards;
/// <c>decide:&lt;step&gt;</c> and <c>finish</c> run once and read what every task wrote. A partitioned corpus step
/// (<see cref="Ziya2.Data.IPartitionedCorpusDataFilter"/>) decides in rounds instead, <c>decide:&lt;step&gt;@&lt;round&gt;</c>,
/// each as <see cref="Partitions"/> tasks.
/// </summary>
public sealed record PipelinePhase(PhaseKind Kind, string? Step = null, string? Round = null)
{
    /// <summary>Partitions of a decide round (its tasks, whatever N the shards are split into); 1 otherwise. Not part of a phase's identity: a parsed name does not know it.</summary>
    public int Partitions { get; init; } = 1;

    /// <summary>Whether the phase is split over the shards' tasks (observe, apply) rather than run once or per partition.</summary>
    public bool PerTask => Kind is PhaseKind.Observe or PhaseKind.Apply;

    /// <summary>How many tasks run this phase when the shards are split over <paramref name="tasks"/>.</summary>
    public int Tasks(int tasks) => PerTask ? tasks : Partitions;

    public bool Equals(PipelinePhase? other) => other is not null && Kind == other.Kind && Step == other.Step && Round == other.Round;

    public override int GetHashCode() => HashCode.Combine(Kind, Step, Round);

    public override string ToString() =>
        Step is null ? Kind.ToString().ToLowerInvariant() : $"{Kind.ToString().ToLowerInvariant()}:{Step}{(Round is null ? "" : "@" + Round)}";

    /// <summary>The completion marker a task leaves in <c>_tasks/</c> when it has done this phase.</summary>
    public string MarkerName(PipelineTask task) =>
        PerTask || Round is not null ? $"{ToString().Replace(':', '-')}.{task.Index:D5}-of-{task.Count:D5}" : ToString().Replace(':', '-');

    /// <summary>Reads <c>observe:dedup</c>, <c>decide:dedup</c>, <c>decide:dedup@url</c>, <c>apply</c> or <c>finish</c>.</summary>
    public static PipelinePhase Parse(string text)
    {
        var colon = text.IndexOf(':');
        var kind = colon < 0 ? text : text[..colon];
        var step = colon < 0 ? null : text[(colon + 1)..];
        var at = step?.LastIndexOf('@') ?? -1;
        return (kind, step, at) switch
        {
            ("apply", null, _) => new(PhaseKind.Apply),
            ("finish", null, _) => new(PhaseKind.Finish),
            ("observe", { Length: > 0 }, < 0) => new(PhaseKind.Observe, step),
            ("decide", { Length: > 0 }, < 0) => new(PhaseKind.Decide, step),
            ("decide", { Length: > 0 }, > 0) when at < step!.Length - 1 => new(PhaseKind.Decide, step[..at], step[(at + 1)..]),
            _ => throw new ArgumentException($"a phase is observe:<step>, decide:<step>, decide:<step>@<round>, apply or finish, not '{text}'"),
        };
    }
}

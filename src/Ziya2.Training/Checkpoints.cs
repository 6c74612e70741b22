using System.Text.Json;
using System.Text.Json.Serialization;
using Ziya2.Optimization;
using Ziya2.Training.Data;

namespace Ziya2.Training;

/// <summary>Everything besides weights and optimizer moments that a resumed run needs, as <c>state.json</c>.</summary>
public sealed record TrainingState(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("step")] long Step,
    [property: JsonPropertyName("total_steps")] long TotalSteps,
    [property: JsonPropertyName("scheduler")] SchedulerState Scheduler,
    [property: JsonPropertyName("sampler")] MixtureState Sampler,
    [property: JsonPropertyName("config_hash")] string ConfigHash,
    [property: JsonPropertyName("complete")] bool Complete,
    [property: JsonPropertyName("skipped_steps")] long SkippedSteps);

/// <summary>
/// Checkpoint directories under <c>&lt;run&gt;/checkpoints</c>: <c>&lt;stage&gt;-&lt;step:D8&gt;</c> and <c>&lt;stage&gt;-final</c>, each with
/// <c>model/</c>, <c>optimizer.bin</c> and <c>state.json</c>. A checkpoint is written into a <c>.tmp-*</c> directory and renamed
/// into place only when complete, so a kill at any moment leaves the previous one intact; leftovers are removed on resume.
/// </summary>
public sealed class CheckpointStore(string root, int keepLast)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Root { get; } = root;

    public string Save(string stage, long step, bool final, Action<string> writeModel, Action<string> writeOptimizer, TrainingState state)
    {
        Directory.CreateDirectory(Root);
        var name = final ? $"{stage}-final" : $"{stage}-{step:D8}";
        var tmp = Path.Combine(Root, $".tmp-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(tmp);
        writeModel(Path.Combine(tmp, "model"));
        writeOptimizer(Path.Combine(tmp, "optimizer.bin"));
        File.WriteAllText(Path.Combine(tmp, "state.json"), JsonSerializer.Serialize(state, Json));   // last: its presence marks a complete directory
        var target = Path.Combine(Root, name);
        if (Directory.Exists(target)) Directory.Delete(target, recursive: true);   // a re-written final checkpoint
        Directory.Move(tmp, target);
        if (!final)
            foreach (var old in Periodic(stage).SkipLast(keepLast)) Directory.Delete(old.Path, recursive: true);
        return target;
    }

    /// <summary>Where the checkpoint of <paramref name="stage"/> at <paramref name="step"/> is (or will be).</summary>
    public string PathOf(string stage, long step, bool final) => Path.Combine(Root, final ? $"{stage}-final" : $"{stage}-{step:D8}");

    /// <summary>Periodic checkpoints of a stage, oldest first.</summary>
    IEnumerable<(long Step, string Path)> Periodic(string stage) =>
        !Directory.Exists(Root) ? [] :
        Directory.EnumerateDirectories(Root, stage + "-*")
            .Select(d => (Name: Path.GetFileName(d)[(stage.Length + 1)..], Path: d))
            .Where(x => x.Name.Length == 8 && long.TryParse(x.Name, out _) && File.Exists(Path.Combine(x.Path, "state.json")))
            .Select(x => (long.Parse(x.Name), x.Path)).OrderBy(x => x.Item1);

    /// <summary>The checkpoint to resume a stage from: its final one, else its latest periodic one; null when none.</summary>
    public (string Path, TrainingState State)? Latest(string stage)
    {
        // What a killed save left (its temporary directory, a sharded optimizer's staged files); data-parallel ranks may
        // clean up at once, so a directory another rank removed first is not an error.
        foreach (var leftover in Directory.Exists(Root) ? Directory.GetDirectories(Root, ".tmp-*").Concat(Directory.GetDirectories(Root, ".shards-*")) : [])
            try { Directory.Delete(leftover, recursive: true); } catch (DirectoryNotFoundException) { }
        var final = Path.Combine(Root, $"{stage}-final");
        var path = File.Exists(Path.Combine(final, "state.json")) ? final : Periodic(stage).Select(p => p.Path).LastOrDefault();
        if (path is null) return null;
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(path, "state.json")))
            ?? throw new InvalidDataException($"{path}/state.json is empty");
        return (path, state);
    }
}

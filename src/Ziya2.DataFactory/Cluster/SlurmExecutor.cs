using System.Text;
using Ziya2.Configuration;
using Ziya2.DataFactory.Pipeline;
using Ziya2.Distributed;

namespace Ziya2.DataFactory.Cluster;

/// <summary>The phases of one pipeline, as a cluster executor schedules them (in order, after the pipeline before).</summary>
/// <param name="Pipeline">The pipeline's name: its output is &lt;output&gt;/&lt;name&gt;.</param>
/// <param name="Phases">Its phases in order (<see cref="DataPipeline.Phases"/>).</param>
public sealed record ClusterPipeline(string Pipeline, IReadOnlyList<PipelinePhase> Phases);

/// <summary>What every cluster executor is told: how many tasks split an observe or apply phase.</summary>
public abstract class ClusterSettings : IValidatableOptions
{
    /// <summary>Tasks per observe/apply phase: each takes the input files k with k mod tasks == its index.</summary>
    public int Tasks { get; set; } = 4;

    public virtual IEnumerable<string> Validate()
    {
        if (Tasks < 1) yield return "tasks must be >= 1";
    }
}

/// <summary><c>[executor.slurm]</c>: how the phases of a data run become Slurm jobs.</summary>
public sealed class SlurmSettings : ClusterSettings
{
    /// <summary>At most this many tasks of an array at once (<c>--array=0-(N-1)%K</c>; 0: no limit).</summary>
    public int MaxParallel { get; set; }
    public int CpusPerTask { get; set; } = 1;
    /// <summary><c>--mem</c>, e.g. "8G" (empty: the partition's default).</summary>
    public string Memory { get; set; } = "";
    public string Partition { get; set; } = "";
    /// <summary><c>--time</c>, e.g. "04:00:00" (empty: the partition's default).</summary>
    public string Time { get; set; } = "";
    /// <summary>More <c>#SBATCH</c> options, each as written after it (<c>--account=lm</c>).</summary>
    public List<string> Extra { get; set; } = [];
    /// <summary>The command that starts ziya2 on the nodes (default: the one running now).</summary>
    public string Command { get; set; } = "";

    public override IEnumerable<string> Validate()
    {
        foreach (var problem in base.Validate()) yield return problem;
        if (MaxParallel < 0) yield return "max_parallel must be >= 0";
        if (CpusPerTask < 1) yield return "cpus_per_task must be >= 1";
    }
}

/// <summary>
/// Writes one sbatch script per phase of every pipeline — observe and apply as job arrays of
/// <see cref="ClusterSettings.Tasks"/> tasks, a partitioned step's decide rounds as arrays of their partitions, decide
/// and finish as single jobs — and submits them in order, each
/// <c>--dependency=afterok</c> on the one before, so a failed task stops everything after it. The tasks run
/// <c>ziya2 data run … --phase &lt;pipeline&gt;/&lt;phase&gt;</c> with their index from <c>SLURM_ARRAY_TASK_ID</c>;
/// all coordination is through the output directory, which must be on storage every node sees.
/// </summary>
public static class SlurmExecutor
{
    /// <summary>A phase's job: its script and, once submitted, its id.</summary>
    public sealed record Job(string Pipeline, PipelinePhase Phase, string Script, string? Id);

    /// <summary>
    /// The scripts under <c>&lt;output&gt;/_slurm</c>; submitted when <paramref name="submit"/>, the first one after
    /// job <paramref name="after"/> when given. <paramref name="workerArguments"/> are ziya2's arguments for
    /// <c>data run</c> without <c>--task</c> and <c>--phase</c>. Refused while a previous submission into the same output
    /// is still queued or running (its ids are kept in <c>_slurm/jobs.txt</c>).
    /// </summary>
    public static List<Job> Submit(IReadOnlyList<ClusterPipeline> plan, SlurmSettings slurm, IReadOnlyList<string> workerArguments, string output, bool submit, string? after = null)
    {
        var directory = Path.Combine(Path.GetFullPath(output), "_slurm");
        Directory.CreateDirectory(Path.Combine(directory, "logs"));
        // Two chains writing one output would race each other: a new submission waits until the last one has left the queue.
        var ledger = Path.Combine(directory, "jobs.txt");
        if (submit && File.Exists(ledger) && Queued(File.ReadAllText(ledger).Trim()) is { Count: > 0 } running)
            throw new IOException($"{running.Count} job(s) of the previous submission into {output} are still queued or running ({string.Join(", ", running.Take(5))}); " +
                                  "wait for them, or scancel them, before submitting again");
        var command = slurm.Command.Length > 0 ? slurm.Command : Shell.CurrentCommand();
        // #SBATCH values are read shell-style, and '%' is a file-name pattern in --output.
        static string Value(string text) => Shell.Quote(text);
        static string Literal(string path) => path.Replace("%", "%%", StringComparison.Ordinal);
        var jobs = new List<Job>();
        string? previous = after;
        for (int k = 0; k < plan.Count; k++)
        {
            var name = plan[k].Pipeline;
            foreach (var phase in plan[k].Phases)
            {
                var jobName = $"ziya2-{name}-{phase.ToString().Replace(':', '-').Replace('@', '-')}";
                // Observe and apply split the shards over the configured tasks; a partitioned round has its own count.
                int tasks = phase.Tasks(slurm.Tasks);
                bool array = phase.PerTask || tasks > 1;
                var script = new StringBuilder("#!/bin/bash\n")
                    .Append($"#SBATCH --job-name={jobName}\n")
                    .Append($"#SBATCH --chdir={Value(Environment.CurrentDirectory)}\n")
                    .Append($"#SBATCH --output={Value(Path.Combine(Literal(directory), "logs", array ? "%x-%a.out" : "%x.out"))}\n")
                    .Append($"#SBATCH --cpus-per-task={slurm.CpusPerTask}\n");
                if (array) script.Append($"#SBATCH --array=0-{tasks - 1}{(slurm.MaxParallel > 0 ? $"%{slurm.MaxParallel}" : "")}\n");
                if (slurm.Memory.Length > 0) script.Append($"#SBATCH --mem={slurm.Memory}\n");
                if (slurm.Partition.Length > 0) script.Append($"#SBATCH --partition={slurm.Partition}\n");
                if (slurm.Time.Length > 0) script.Append($"#SBATCH --time={slurm.Time}\n");
                foreach (var extra in slurm.Extra) script.Append($"#SBATCH {extra}\n");
                script.Append("set -euo pipefail\n")
                    // The task is explicit: an array task's index, and 0 of 1 for a single decide or finish, whatever the environment holds.
                    .Append($"exec {command} {string.Join(' ', workerArguments.Select(Shell.Quote))} --task {(array ? "\"$SLURM_ARRAY_TASK_ID\"" : "0")}/{tasks} --phase {Shell.Quote($"{name}/{phase}")}\n");
                var path = Path.Combine(directory, $"{jobName}.sbatch");
                File.WriteAllText(path, script.ToString());
                var id = submit ? Sbatch(path, previous) : null;
                jobs.Add(new Job(name, phase, path, id));
                previous = id;
                if (id is not null) File.WriteAllText(ledger, string.Join(',', jobs.Select(j => j.Id)));   // as it grows: a failed sbatch leaves the ones before it on record
            }
        }
        return jobs;
    }

    /// <summary>The ids among <paramref name="ids"/> (comma-separated) still queued or running.</summary>
    static List<string> Queued(string ids)
    {
        if (ids.Length == 0) return [];
        var (code, stdout, stderr) = Shell.Run("squeue", "-h", "-o", "%i", "-j", ids);
        if (code != 0 && !stderr.Contains("Invalid job id", StringComparison.Ordinal)) throw new IOException($"squeue failed (exit {code}): {stderr.Trim()}");
        return [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    /// <summary>
    /// Waits until none of <paramref name="jobs"/> is queued or running, then true when every pipeline finished (its
    /// <c>stats.json</c> exists); false when Slurm dropped the chain (a task failed: afterok is never satisfied).
    /// </summary>
    public static bool Wait(IReadOnlyList<Job> jobs, string output, TimeSpan poll, CancellationToken cancellation)
    {
        var ids = jobs.Select(j => j.Id).OfType<string>().ToList();
        int failures = 0;
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            var (code, stdout, stderr) = Shell.Run("squeue", "-h", "-o", "%i %r", "-j", string.Join(',', ids));
            if (code != 0 && !stderr.Contains("Invalid job id", StringComparison.Ordinal))
            {
                // A busy controller times out now and then; the jobs run on regardless.
                if (++failures >= 10) throw new IOException($"squeue failed {failures} times in a row (exit {code}): {stderr.Trim()}");
                Thread.Sleep(poll);
                continue;
            }
            failures = 0;
            var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            // A job whose dependency can never be met stays queued with this reason until someone cancels it; the rest
            // of the chain would follow, so all of it is cancelled.
            if (lines.Any(l => l.Contains("DependencyNeverSatisfied", StringComparison.Ordinal))) { Shell.Run("scancel", [.. ids]); return false; }
            if (lines.Length == 0) return jobs.Select(j => j.Pipeline).Distinct().All(p => File.Exists(Path.Combine(output, p, "stats.json")));
            Thread.Sleep(poll);
        }
    }

    static string Sbatch(string script, string? after)
    {
        var args = new List<string> { "--parsable" };
        if (after is not null) args.Add($"--dependency=afterok:{after}");
        args.Add(script);
        var (code, stdout, stderr) = Shell.Run("sbatch", [.. args]);
        if (code != 0) throw new IOException($"sbatch {Path.GetFileName(script)} failed (exit {code}): {stderr.Trim()}");
        return stdout.Trim().Split(';')[0];   // "<id>" or "<id>;<cluster>"
    }
}

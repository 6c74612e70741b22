using System.Diagnostics;
using System.Text;
using Ziya2.Configuration;
using Ziya2.DataFactory.Pipeline;

namespace Ziya2.Cli;

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
/// <see cref="ClusterSettings.Tasks"/> tasks, decide and finish as single jobs — and submits them in order, each
/// <c>--dependency=afterok</c> on the one before, so a failed task stops everything after it. The tasks run
/// <c>ziya2 data run … --phase &lt;pipeline&gt;/&lt;phase&gt;</c> with their index from <c>SLURM_ARRAY_TASK_ID</c>;
/// all coordination is through the output directory, which must be on storage every node sees.
/// </summary>
static class SlurmExecutor
{
    public sealed record Job(string Pipeline, PipelinePhase Phase, string Script, string? Id);

    /// <summary>The scripts under <c>&lt;output&gt;/_slurm</c>; submitted when <paramref name="submit"/>.</summary>
    public static List<Job> Submit(DataRunChain chain, SlurmSettings slurm, IReadOnlyList<string> workerArguments, string output, bool submit)
    {
        var directory = Path.Combine(Path.GetFullPath(output), "_slurm");
        Directory.CreateDirectory(Path.Combine(directory, "logs"));
        var command = slurm.Command.Length > 0 ? slurm.Command : CurrentCommand();
        var jobs = new List<Job>();
        string? previous = null;
        for (int k = 0; k < chain.Pipelines.Count; k++)
        {
            var name = chain.Pipelines[k].Name;
            foreach (var phase in chain.Phases(k))
            {
                var jobName = $"ziya2-{name}-{phase.ToString().Replace(':', '-')}";
                var script = new StringBuilder("#!/bin/bash\n")
                    .Append($"#SBATCH --job-name={jobName}\n")
                    .Append($"#SBATCH --chdir={Environment.CurrentDirectory}\n")
                    .Append($"#SBATCH --output={Path.Combine(directory, "logs", phase.PerTask ? "%x-%a.out" : "%x.out")}\n")
                    .Append($"#SBATCH --cpus-per-task={slurm.CpusPerTask}\n");
                if (phase.PerTask) script.Append($"#SBATCH --array=0-{slurm.Tasks - 1}{(slurm.MaxParallel > 0 ? $"%{slurm.MaxParallel}" : "")}\n");
                if (slurm.Memory.Length > 0) script.Append($"#SBATCH --mem={slurm.Memory}\n");
                if (slurm.Partition.Length > 0) script.Append($"#SBATCH --partition={slurm.Partition}\n");
                if (slurm.Time.Length > 0) script.Append($"#SBATCH --time={slurm.Time}\n");
                foreach (var extra in slurm.Extra) script.Append($"#SBATCH {extra}\n");
                script.Append("set -euo pipefail\n")
                    .Append($"exec {command} {string.Join(' ', workerArguments.Select(Quote))} --tasks {slurm.Tasks} --phase {Quote($"{name}/{phase}")}\n");
                var path = Path.Combine(directory, $"{k:D2}-{jobName}.sbatch");
                File.WriteAllText(path, script.ToString());
                var id = submit ? Sbatch(path, previous) : null;
                jobs.Add(new Job(name, phase, path, id));
                previous = id;
            }
        }
        return jobs;
    }

    static string Sbatch(string script, string? after)
    {
        var psi = new ProcessStartInfo("sbatch") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--parsable");
        if (after is not null) psi.ArgumentList.Add($"--dependency=afterok:{after}");
        psi.ArgumentList.Add(script);
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new IOException($"cannot run sbatch ({e.Message}); is Slurm installed here?", e); }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEnd();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new IOException($"sbatch {Path.GetFileName(script)} failed (exit {process.ExitCode}): {stderr.Trim()}");
            return stdout.Trim().Split(';')[0];   // "<id>" or "<id>;<cluster>"
        }
    }

    /// <summary>How this process was started: the apphost, or <c>dotnet ziya2.dll</c>.</summary>
    static string CurrentCommand()
    {
        var process = Environment.ProcessPath ?? "ziya2";
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? $"{Quote(process)} {Quote(typeof(SlurmExecutor).Assembly.Location)}"
            : Quote(process);
    }

    /// <summary>A bash word: single-quoted unless it is plainly safe.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@%+".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";
}

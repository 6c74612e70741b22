using System.Globalization;
using System.Text;
using Ziya2.Distributed;

namespace Ziya2.Training.Planning;

/// <summary>How a multi-GPU plan is submitted to Slurm (<c>[launch.slurm]</c> in a recipe's TOML).</summary>
public sealed class SlurmLaunchOptions : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>GPUs per node: ranks per node (one process per GPU).</summary>
    public int GpusPerNode { get; set; } = 8;
    /// <summary>Cores per rank (<c>--cpus-per-task</c>, and the rank's intra-op threads); 0: leave it to the cluster.</summary>
    public int CpusPerTask { get; set; }
    public string JobName { get; set; } = "ziya2";
    public string Partition { get; set; } = "";
    public string Account { get; set; } = "";
    /// <summary>Wall-time limit (<c>--time</c>, e.g. <c>14-00:00:00</c>); the job is told (SIGTERM) 5 minutes before, checkpoints and stops.</summary>
    public string Time { get; set; } = "";
    /// <summary>Memory per node (<c>--mem</c>, e.g. <c>0</c> for all of it); empty: the cluster's default.</summary>
    public string Memory { get; set; } = "";
    /// <summary>srun's PMI plugin, through which MPI (and so NCCL's bootstrap) finds the ranks.</summary>
    public string Mpi { get; set; } = "pmi2";
    /// <summary>More <c>#SBATCH</c> options, one per entry (<c>"--exclusive"</c>, <c>"--requeue"</c>).</summary>
    public List<string> Extra { get; set; } = [];
    /// <summary>Shell lines run before the ranks start (<c>module load …</c>).</summary>
    public List<string> Setup { get; set; } = [];
    /// <summary>Environment of the ranks, <c>NAME=value</c> (the cluster's <c>NCCL_SOCKET_IFNAME</c>, <c>NCCL_IB_HCA</c>, …).</summary>
    public List<string> Environment { get; set; } = ["NCCL_DEBUG=WARN"];
    /// <summary>How ranks start ziya2 on the nodes (words before <c>run</c>); empty: as this process was started.</summary>
    public List<string> Command { get; set; } = [];

    public IEnumerable<string> Validate()
    {
        if (GpusPerNode < 1) yield return "gpus_per_node must be >= 1";
        if (CpusPerTask < 0) yield return "cpus_per_task must be >= 0";
        foreach (var e in Environment.Where(e => e.IndexOf('=') <= 0)) yield return $"environment entry '{e}' is not NAME=value";
        if (Mpi.Length == 0) yield return "mpi must name srun's MPI plugin (pmi2, pmix)";
    }
}

/// <summary>
/// The sbatch script of a data-parallel plan: nodes × GPUs per node, <c>srun</c> one rank per GPU (each takes
/// <c>cuda:LOCAL_RANK</c> and sees every GPU of its node, as NCCL's peer-to-peer paths want), MPI through srun's PMI for
/// the ranks and NCCL's bootstrap, <c>--kill-on-bad-exit</c> so a rank that dies ends the job instead of leaving the
/// others waiting in NCCL, and SIGTERM before the time limit so the trainer checkpoints and stops (exit 0; the same
/// script resumes). The ranks run the given command — the recipe again, in the run directory of the plan.
/// </summary>
public static class SlurmLaunch
{
    public static string Render(TrainingPlan plan, SlurmLaunchOptions options, IReadOnlyList<string> command, string runDirectory, string title)
    {
        var c = CultureInfo.InvariantCulture;
        int gpus = plan.Hardware.Gpus;
        if (plan.Hardware.PipelineParallel != 1)
            throw new InvalidOperationException($"plan.pipeline_parallel = {plan.Hardware.PipelineParallel}: this engine trains data parallel only; set it to 1 (its plan then counts {gpus} data-parallel ranks)");
        if (gpus % options.GpusPerNode != 0 && gpus > options.GpusPerNode)
            throw new InvalidOperationException($"plan.gpus = {gpus} is not a multiple of launch.slurm.gpus_per_node = {options.GpusPerNode}");
        int nodes = (gpus + options.GpusPerNode - 1) / options.GpusPerNode, perNode = Math.Min(gpus, options.GpusPerNode);
        var memory = plan.MemoryPerGpu();
        const double GiB = 1024.0 * 1024 * 1024;
        var words = options.Command.Count > 0 ? [.. options.Command, .. command.SkipWhile(w => w != "run")] : command;
        string Literal(string path) => path.Replace("%", "%%", StringComparison.Ordinal);

        var s = new StringBuilder("#!/bin/bash\n");
        s.AppendLine(c, $"# {title}: {gpus} GPU(s) as {nodes} node(s) × {perNode}, one rank per GPU, data parallel with ZeRO-{plan.Hardware.ZeroStage};");
        s.AppendLine(c, $"# {plan.StepTokens:N0} tokens per step; estimated {memory.Total / GiB:F1} GiB per GPU of {plan.Hardware.GpuMemoryGib:F0}. Written by `ziya2 run … --dry-run`.");
        s.AppendLine(c, $"# Submit: sbatch {Shell.Quote(Path.Combine(runDirectory, "launch.sbatch"))}   (the run resumes from its checkpoints when submitted again)");
        s.AppendLine(c, $"#SBATCH --job-name={Shell.Quote(options.JobName)}");
        s.AppendLine(c, $"#SBATCH --nodes={nodes}");
        s.AppendLine(c, $"#SBATCH --ntasks-per-node={perNode}");
        s.AppendLine(c, $"#SBATCH --gpus-per-node={perNode}");
        if (options.CpusPerTask > 0) s.AppendLine(c, $"#SBATCH --cpus-per-task={options.CpusPerTask}");
        if (options.Memory.Length > 0) s.AppendLine(c, $"#SBATCH --mem={Shell.Quote(options.Memory)}");
        if (options.Partition.Length > 0) s.AppendLine(c, $"#SBATCH --partition={Shell.Quote(options.Partition)}");
        if (options.Account.Length > 0) s.AppendLine(c, $"#SBATCH --account={Shell.Quote(options.Account)}");
        if (options.Time.Length > 0)
        {
            s.AppendLine(c, $"#SBATCH --time={Shell.Quote(options.Time)}");
            s.AppendLine("#SBATCH --signal=TERM@300");
        }
        s.AppendLine(c, $"#SBATCH --chdir={Shell.Quote(Literal(runDirectory))}");
        s.AppendLine(c, $"#SBATCH --output={Shell.Quote(Path.Combine(Literal(runDirectory), "logs", "slurm-%j.out"))}");
        foreach (var extra in options.Extra) s.AppendLine(c, $"#SBATCH {extra}");
        s.AppendLine("set -euo pipefail");
        s.AppendLine("# NCCL finds its peers through MPI (srun's PMI); cluster fabrics may also need NCCL_SOCKET_IFNAME / NCCL_IB_HCA below.");
        foreach (var e in options.Environment)
        {
            int eq = e.IndexOf('=');
            s.AppendLine(c, $"export {e[..eq]}={Shell.Quote(e[(eq + 1)..])}");
        }
        if (options.CpusPerTask > 0) s.AppendLine(c, $"export OMP_NUM_THREADS={options.CpusPerTask}");
        foreach (var line in options.Setup) s.AppendLine(line);
        s.AppendLine(c, $"srun --mpi={Shell.Quote(options.Mpi)} --kill-on-bad-exit=1 --ntasks-per-node={perNode} {string.Join(' ', words.Select(Shell.Quote))}");
        return s.ToString();
    }
}

using System.Globalization;

namespace Ziya2.Distributed;

/// <summary>
/// Where this process sits in a job, as its launcher says: MPICH's Hydra <c>mpiexec</c> (<c>PMI_RANK</c>, <c>PMI_SIZE</c>,
/// <c>MPI_LOCALRANKID</c>, <c>MPI_LOCALNRANKS</c>), Slurm's <c>srun</c> (<c>SLURM_PROCID</c>, <c>SLURM_STEP_NUM_TASKS</c>,
/// <c>SLURM_LOCALID</c>), Open MPI's <c>mpirun</c> (<c>OMPI_COMM_WORLD_*</c>); a process started alone is rank 0 of 1.
/// The facts only, torch-free and without MPI: components use it to place themselves (a model on
/// <c>cuda:LocalRank</c>) or to write once (rank 0); the training engine's collectives start from the same facts.
/// </summary>
/// <param name="Rank">This process's index in the job, 0 ≤ rank &lt; <paramref name="WorldSize"/>.</param>
/// <param name="WorldSize">Processes in the job.</param>
/// <param name="LocalRank">This process's index among the job's processes on its node (the GPU it takes).</param>
/// <param name="LocalWorldSize">The job's processes on this node (they share its cores).</param>
/// <param name="Launcher">What started the job (<c>mpiexec</c>, <c>srun</c>, <c>mpirun</c>), or null for a process started alone.</param>
public sealed record LaunchEnvironment(int Rank, int WorldSize, int LocalRank, int LocalWorldSize, string? Launcher)
{
    static readonly Lazy<LaunchEnvironment> Process = new(() => From(Environment.GetEnvironmentVariable));

    /// <summary>A process started alone.</summary>
    public static LaunchEnvironment Single { get; } = new(0, 1, 0, 1, null);

    /// <summary>This process's place, read from its environment once.</summary>
    public static LaunchEnvironment Current => Process.Value;

    /// <summary>Whether this is rank 0: the process that writes what a job writes once.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>
    /// The launcher's facts from <paramref name="environment"/> (a variable's value, or null). The first launcher whose
    /// size variable is present wins; a size of 1 is a process alone. Inconsistent values (a rank outside the size)
    /// are errors that name the variables, not a silent guess.
    /// </summary>
    public static LaunchEnvironment From(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        foreach (var (launcher, size, rank, local, localSize) in Launchers)
        {
            if (Int(environment, size) is not { } world) continue;
            if (world <= 1) return Single;
            int r = Int(environment, rank) ?? throw new InvalidOperationException($"{size}={world} but {rank} is not set: {launcher} did not start this process as one of its ranks");
            if (r < 0 || r >= world) throw new InvalidOperationException($"{rank}={r} is outside {size}={world}");
            int perNode = LocalSize(environment, localSize, world);
            int localRank = Int(environment, local) ?? (perNode > 0 ? r % perNode : 0);
            return new LaunchEnvironment(r, world, localRank, Math.Max(perNode, localRank + 1), launcher);
        }
        return Single;
    }

    // (launcher, world size, rank, local rank, ranks on this node)
    static readonly (string, string, string, string, string)[] Launchers =
    [
        ("mpiexec", "PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
        ("mpirun", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
        ("srun", "SLURM_STEP_NUM_TASKS", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_STEP_TASKS_PER_NODE"),
    ];

    static int? Int(Func<string, string?> environment, string name) =>
        int.TryParse(environment(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    /// <summary>Ranks on this node; Slurm writes it as a list such as <c>4(x2),2</c> (the first node's count is taken as every node's when no better is known).</summary>
    static int LocalSize(Func<string, string?> environment, string name, int world)
    {
        var value = environment(name);
        if (value is null) return 0;
        var first = value.Split(',')[0].Split('(')[0];
        return int.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? Math.Min(n, world) : 0;
    }

    /// <summary>
    /// <paramref name="device"/> with the GPU this process takes: <c>cuda</c> becomes <c>cuda:LocalRank</c> (one GPU per
    /// process, as NCCL requires); <c>cpu</c> and an explicit <c>cuda:N</c> stay as they are.
    /// </summary>
    public string PlaceDevice(string device) => device == "cuda" ? $"cuda:{LocalRank}" : device;

    /// <summary>"rank 1 of 2 (mpiexec)", or "one process".</summary>
    public override string ToString() => WorldSize == 1 ? "one process" : $"rank {Rank} of {WorldSize} ({Launcher}, local rank {LocalRank} of {LocalWorldSize})";
}

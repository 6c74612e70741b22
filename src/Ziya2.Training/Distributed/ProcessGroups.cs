namespace Ziya2.Training.Distributed;

/// <summary>
/// The job this process belongs to, from its launcher's environment: MPICH's Hydra <c>mpiexec</c> (<c>PMI_SIZE</c>),
/// Slurm's <c>srun</c> (<c>SLURM_STEP_NUM_TASKS</c>), Open MPI's <c>mpirun</c> (<c>OMPI_COMM_WORLD_SIZE</c>). More than one
/// process: MPI is started and MPI_COMM_WORLD is the group (rank and size are MPI's own); otherwise the group of one.
/// </summary>
public static class ProcessGroups
{
    static readonly Lazy<IProcessGroup> Job = new(() => FromEnvironment(Environment.GetEnvironmentVariable));

    /// <summary>This process's job (created on first use, once).</summary>
    public static IProcessGroup Current => Job.Value;

    /// <summary>Processes the launcher says the job has (1 when started alone).</summary>
    public static int WorldSizeFrom(Func<string, string?> environment) =>
        new[] { "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "SLURM_STEP_NUM_TASKS" }
            .Select(name => int.TryParse(environment(name), out var n) ? n : 0).FirstOrDefault(n => n > 0, 1);

    /// <summary>This process's rank among those on its node, as the launcher says (0 when it says nothing).</summary>
    public static int LocalRankFrom(Func<string, string?> environment) =>
        new[] { "MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "LOCAL_RANK" }
            .Select(name => int.TryParse(environment(name), out var n) ? n : -1).FirstOrDefault(n => n >= 0, 0);

    static IProcessGroup FromEnvironment(Func<string, string?> environment) =>
        WorldSizeFrom(environment) > 1 ? MpiProcessGroup.Start(LocalRankFrom(environment)) : SingleProcessGroup.Instance;
}

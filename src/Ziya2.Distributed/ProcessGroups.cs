namespace Ziya2.Distributed;

/// <summary>
/// The job this process belongs to, from its launcher's environment (<see cref="LaunchEnvironment.Current"/>): more than
/// one process, and MPI is started and MPI_COMM_WORLD is the group (rank and size are MPI's own, checked against the
/// launcher's); otherwise the group of one.
/// </summary>
public static class ProcessGroups
{
    static readonly Lazy<IProcessGroup> Job = new(() => For(LaunchEnvironment.Current));

    /// <summary>This process's job (created on first use, once).</summary>
    public static IProcessGroup Current => Job.Value;

    /// <summary>Whether <see cref="Current"/> has been created (a job of several ranks has then started MPI).</summary>
    public static bool Started => Job.IsValueCreated;

    /// <summary>The group <paramref name="launch"/> describes.</summary>
    public static IProcessGroup For(LaunchEnvironment launch) => launch.WorldSize > 1 ? MpiProcessGroup.Start(launch) : SingleProcessGroup.Instance;

    /// <summary>
    /// Strings as bytes through <see cref="IProcessGroup.Broadcast"/>: rank <paramref name="root"/>'s
    /// <paramref name="value"/> on every rank (a run directory's path, an error message).
    /// </summary>
    public static string Broadcast(this IProcessGroup group, string value, int root = 0)
    {
        if (group.WorldSize == 1) return value;
        var bytes = System.Text.Encoding.UTF8.GetBytes(group.Rank == root ? value : "");
        Span<byte> length = BitConverter.GetBytes(bytes.Length);
        group.Broadcast(length, root);
        var buffer = new byte[BitConverter.ToInt32(length)];
        if (group.Rank == root) bytes.CopyTo(buffer, 0);
        group.Broadcast(buffer, root);
        return System.Text.Encoding.UTF8.GetString(buffer);
    }
}

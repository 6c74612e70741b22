namespace Ziya2.Plugins;

/// <summary>Where the current run lives; injectable into any component's constructor.</summary>
public interface IRunEnvironment
{
    /// <summary>The run directory: resolved config, logs, metrics, checkpoints and reports go here.</summary>
    string RunDirectory { get; }

    /// <summary>Seed of the run (config key <c>run.seed</c>); components derive their own seeds from it.</summary>
    long Seed { get; }

    /// <summary>Signalled when the operator interrupts the run (Ctrl+C, SIGTERM).</summary>
    CancellationToken Cancellation { get; }
}

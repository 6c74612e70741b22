using Microsoft.Extensions.Logging;

namespace Ziya2.Kernel.Hosting;

/// <summary>How logs are written to the console.</summary>
public enum LogFormat
{
    /// <summary>One readable line per entry.</summary>
    Text,
    /// <summary>One JSON object per line, for log shippers.</summary>
    Json,
}

/// <summary>
/// What <c>ziya2 run</c> / <c>ziya2 validate</c> were asked to do. <see cref="Resume"/> continues the latest run of the
/// recipe (or <see cref="RunDirectory"/>, which must then exist); <see cref="DryRun"/> runs the recipe in a scratch
/// directory with <c>DryRun</c> set, for recipes that print their plan.
/// </summary>
public sealed record RunRequest(
    string RecipePath,
    IReadOnlyList<string> ConfigFiles,
    IReadOnlyList<string> Overrides,
    IReadOnlyList<string> PluginDirectories,
    string? RunDirectory = null,
    bool Force = false,
    LogFormat LogFormat = LogFormat.Text,
    LogLevel LogLevel = LogLevel.Information,
    string? CacheDirectory = null,
    IReadOnlyList<System.Reflection.Assembly>? Engines = null,
    bool Resume = false,
    bool DryRun = false);

/// <summary>Options every run has, at <c>[run]</c>.</summary>
public sealed class RunOptions : Ziya2.Configuration.IValidatableOptions
{
    /// <summary>Seed of the run; components derive theirs from it.</summary>
    public long Seed { get; set; } = 1234;

    /// <summary>Headless (no TTY, <c>CI=true</c>): seconds between progress lines of a running stage or pipeline.</summary>
    public double ProgressSeconds { get; set; } = 10;

    public IEnumerable<string> Validate()
    {
        if (!(ProgressSeconds > 0)) yield return "progress_seconds must be > 0";
    }
}

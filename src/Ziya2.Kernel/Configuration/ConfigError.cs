namespace Ziya2.Kernel.Configuration;

/// <summary>One configuration problem: where (key path and origin) and what.</summary>
public sealed record ConfigError(string Path, string Message, string? Origin = null)
{
    /// <summary>"origin: key: message", leaving out the parts that are empty (a file that cannot be read has no key).</summary>
    public override string ToString() => string.Join(": ", new[] { Origin, Path, Message }.Where(p => !string.IsNullOrEmpty(p)));
}

/// <summary>Configuration could not be read or bound; carries every problem found.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception("invalid configuration:" + string.Concat(errors.Select(e => "\n  " + e)))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}

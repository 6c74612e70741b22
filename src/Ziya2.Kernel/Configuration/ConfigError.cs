namespace Ziya2.Kernel.Configuration;

/// <summary>One configuration problem: where (key path and origin) and what.</summary>
public sealed record ConfigError(string Path, string Message, string? Origin = null)
{
    public override string ToString() => Origin is null ? $"{Path}: {Message}" : $"{Origin}: {Path}: {Message}";
}

/// <summary>Configuration could not be read or bound; carries every problem found.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception("invalid configuration:" + string.Concat(errors.Select(e => "\n  " + e)))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}

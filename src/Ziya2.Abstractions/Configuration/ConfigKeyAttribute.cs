namespace Ziya2.Configuration;

/// <summary>
/// Overrides the TOML key of an options property. Without it, <c>PascalCase</c> properties bind to
/// <c>snake_case</c> keys (<c>WarmupFraction</c> ↔ <c>warmup_fraction</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigKeyAttribute(string key) : Attribute
{
    /// <summary>The TOML key.</summary>
    public string Key { get; } = key;
}

/// <summary>Marks an options property as required: binding fails when the key is absent.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigRequiredAttribute : Attribute;

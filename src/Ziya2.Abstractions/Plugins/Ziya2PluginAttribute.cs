namespace Ziya2.Plugins;

/// <summary>
/// Marks an assembly as a Ziya2 plugin and records the SDK version it was compiled against. Write
/// <c>[assembly: Ziya2Plugin(Ziya2Sdk.Version)]</c>: the constant is baked into your assembly at compile time,
/// so the kernel can refuse the plugin when it runs on an incompatible host.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class Ziya2PluginAttribute(string sdkVersion) : Attribute
{
    /// <summary>The SDK version the plugin was built against.</summary>
    public string SdkVersion { get; } = sdkVersion;

    /// <summary>Optional human-readable plugin name shown by <c>ziya2 plugins list</c>; defaults to the assembly name.</summary>
    public string? Name { get; init; }
}

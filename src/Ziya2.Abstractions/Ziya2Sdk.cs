namespace Ziya2;

/// <summary>Facts about this build of the Ziya2 SDK.</summary>
public static class Ziya2Sdk
{
    /// <summary>
    /// The SDK version. A plugin records the value it was compiled against in <see cref="Plugins.Ziya2PluginAttribute"/>;
    /// the kernel refuses plugins whose version is not compatible (see <see cref="IsCompatible"/>).
    /// </summary>
    public const string Version = "0.1.0";

    /// <summary>
    /// Whether a plugin built against <paramref name="pluginSdkVersion"/> can run on a host providing
    /// <paramref name="hostSdkVersion"/>: same major version, and the plugin's minor (and, for 0.x, also its
    /// minor must equal the host's) no newer than the host's — SemVer rules, as Cake applies to addins.
    /// </summary>
    public static bool IsCompatible(string pluginSdkVersion, string hostSdkVersion)
    {
        if (!System.Version.TryParse(pluginSdkVersion, out var plugin) || !System.Version.TryParse(hostSdkVersion, out var host))
            return false;
        if (plugin.Major != host.Major) return false;
        if (host.Major == 0) return plugin.Minor == host.Minor;
        return plugin.Minor <= host.Minor;
    }
}

using Ziya2.Data;
using Ziya2.Kernel.Plugins;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Tests.Plugins;

public class PluginLoaderTests
{
    [Fact]
    public void Loads_plugin_and_resolves_component_by_kind_and_name()
    {
        using var tmp = new TempDir();
        var dll = PluginBuilder.FilterPlugin(tmp.Path, "GoodPlugin", "good");
        var catalog = PluginLoader.Load([tmp.Path]);
        Assert.Empty(catalog.Failures);
        var plugin = Assert.Single(catalog.Plugins);
        Assert.Equal(dll, plugin.AssemblyPath);
        Assert.Equal(Ziya2Sdk.Version, plugin.SdkVersion);
        var d = catalog.Get(ComponentKind.DataFilter, "good");
        Assert.True(typeof(IDataFilter).IsAssignableFrom(d.ImplementationType)); // shared SDK: type identity holds
    }

    [Fact]
    public void Sdk_version_mismatch_is_refused_with_both_versions()
    {
        using var tmp = new TempDir();
        PluginBuilder.FilterPlugin(tmp.Path, "FuturePlugin", "future", sdkVersion: "\"7.3.0\"");
        var catalog = PluginLoader.Load([tmp.Path]);
        var failure = Assert.Single(catalog.Failures);
        Assert.Contains("FuturePlugin.dll", failure.Path);
        Assert.Contains("7.3.0", failure.Reason);
        Assert.Contains(Ziya2Sdk.Version, failure.Reason);
        Assert.Empty(catalog.Plugins);
    }

    [Fact]
    public void Plugin_that_throws_is_reported_with_path_and_cause_and_others_still_load()
    {
        using var tmp = new TempDir();
        PluginBuilder.FilterPlugin(tmp.Path, "BrokenPlugin", "broken", register: "throw new System.InvalidOperationException(\"database not reachable\");");
        PluginBuilder.FilterPlugin(tmp.Path, "HealthyPlugin", "healthy");
        var catalog = PluginLoader.Load([tmp.Path]);
        var failure = Assert.Single(catalog.Failures);
        Assert.EndsWith("BrokenPlugin.dll", failure.Path);
        Assert.Contains("database not reachable", failure.Reason);
        Assert.Contains("InvalidOperationException", failure.Reason);
        Assert.NotNull(catalog.Get(ComponentKind.DataFilter, "healthy"));
        var e = Assert.Throws<ComponentNotFoundException>(() => catalog.Get(ComponentKind.DataFilter, "broken"));
        Assert.Contains("BrokenPlugin.dll", e.Message); // the recipe's failure points at the broken plugin
    }

    [Fact]
    public void Two_plugins_claiming_one_name_are_both_named()
    {
        using var tmp = new TempDir();
        PluginBuilder.FilterPlugin(tmp.Path, "AlphaPlugin", "dedup");
        PluginBuilder.FilterPlugin(tmp.Path, "BetaPlugin", "dedup");
        var catalog = PluginLoader.Load([tmp.Path]);
        var conflict = Assert.Single(catalog.Conflicts);
        Assert.Contains("AlphaPlugin", conflict.ToString());
        Assert.Contains("BetaPlugin", conflict.ToString());
        var e = Assert.Throws<ComponentNotFoundException>(() => catalog.Get(ComponentKind.DataFilter, "dedup"));
        Assert.Contains("AlphaPlugin", e.Message);
        Assert.Contains("BetaPlugin", e.Message);
    }

    [Fact]
    public void Unknown_component_lists_what_exists()
    {
        using var tmp = new TempDir();
        PluginBuilder.FilterPlugin(tmp.Path, "OnePlugin", "langid");
        PluginBuilder.FilterPlugin(tmp.Path, "TwoPlugin", "simhash");
        var catalog = PluginLoader.Load([tmp.Path]);
        var e = Assert.Throws<ComponentNotFoundException>(() => catalog.Get(ComponentKind.DataFilter, "kenlm"));
        Assert.Contains("no filter named 'kenlm'", e.Message);
        Assert.Contains("langid, simhash", e.Message);
    }

    [Fact]
    public void Assembly_without_plugin_attribute_is_named_as_not_a_plugin()
    {
        using var tmp = new TempDir();
        PluginBuilder.Build(tmp.Path, "PlainLibrary", "public class Nothing {}");
        var failure = Assert.Single(PluginLoader.Load([tmp.Path]).Failures);
        Assert.Contains("not a Ziya2 plugin", failure.Reason);
    }

    [Theory]
    [InlineData("0.1.0", "0.1.5", true)]
    [InlineData("0.2.0", "0.1.0", false)]
    [InlineData("1.2.0", "1.3.0", true)]
    [InlineData("1.4.0", "1.3.0", false)]
    [InlineData("2.0.0", "1.9.0", false)]
    [InlineData("garbage", "1.0.0", false)]
    public void Sdk_compatibility_follows_semver(string plugin, string host, bool compatible) =>
        Assert.Equal(compatible, Ziya2Sdk.IsCompatible(plugin, host));

    [Fact]
    public void Sdk_constant_matches_the_assembly_version()
    {
        var version = typeof(Ziya2Sdk).Assembly.GetName().Version!;
        Assert.Equal(Ziya2Sdk.Version, $"{version.Major}.{version.Minor}.{version.Build}");
    }
}

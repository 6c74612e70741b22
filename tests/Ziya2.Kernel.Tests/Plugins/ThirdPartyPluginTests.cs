using System.Diagnostics;
using Ziya2.Data;
using Ziya2.Kernel.Plugins;
using Ziya2.Plugins;

namespace Ziya2.Kernel.Tests.Plugins;

/// <summary>Builds tests/fixtures/ThirdPartyPlugin (outside the solution) once with the real `dotnet build`.</summary>
public sealed class ThirdPartyPluginFixture : IDisposable
{
    public TempDir Output { get; } = new();
    public string PluginRoot => Output.Combine("plugins");

    public ThirdPartyPluginFixture()
    {
        var project = Path.Combine(Repo.Root, "tests", "fixtures", "ThirdPartyPlugin", "ThirdPartyPlugin.csproj");
        var sdk = typeof(Ziya2Sdk).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "q",
            $"-p:Ziya2SdkAssembly={sdk}", "-o", Path.Combine(PluginRoot, "ThirdPartyPlugin"),
            $"-p:BaseIntermediateOutputPath={Output.Combine("obj")}/", $"-p:MSBuildProjectExtensionsPath={Output.Combine("obj")}/"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"building the third-party plugin failed:\n{stdout.Result}\n{stderr}");
    }

    public void Dispose() => Output.Dispose();
}

public class ThirdPartyPluginTests(ThirdPartyPluginFixture fixture) : IClassFixture<ThirdPartyPluginFixture>
{
    [Fact]
    public void Out_of_tree_plugin_loads_and_its_component_runs()
    {
        var catalog = PluginLoader.Load([fixture.PluginRoot]);
        Assert.Empty(catalog.Failures);
        Assert.Equal("ThirdParty.Shout", Assert.Single(catalog.Plugins).Name);
        var d = catalog.Get(ComponentKind.DataFilter, "shout");
        var filter = (IDataFilter)Activator.CreateInstance(d.ImplementationType, Activator.CreateInstance(d.OptionsType))!;
        var outcome = filter.Apply(new Document("1", "hello"));
        Assert.Equal(FilterAction.Rewrite, outcome.Action);
        Assert.Equal("HELLO!", outcome.Document!.Text);
    }

    [Fact]
    public void Private_dependency_keeps_its_own_version_beside_the_hosts()
    {
        var hostAutofac = typeof(Autofac.ContainerBuilder).Assembly.GetName().Version!;
        Assert.Equal(9, hostAutofac.Major);
        var catalog = PluginLoader.Load([fixture.PluginRoot]);
        var d = catalog.Get(ComponentKind.DataFilter, "shout");
        var filter = (IDataFilter)Activator.CreateInstance(d.ImplementationType, Activator.CreateInstance(d.OptionsType))!;
        var pluginAutofac = (string)filter.Apply(new Document("1", "x")).Document!.Attributes["autofac_version"];
        Assert.StartsWith("8.4.", pluginAutofac);
    }
}

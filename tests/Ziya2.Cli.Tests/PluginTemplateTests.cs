using System.Text.Json;

namespace Ziya2.Cli.Tests;

/// <summary>
/// A third party's path: the SDK and the template packed, `dotnet new ziya2-plugin` for each kind in a directory outside
/// the repository, built against the packages, listed by `ziya2 plugins list`, and all four components used in one
/// recipe (the filter in a data pipeline, the model, optimizer and scheduler in a training stage).
/// </summary>
public sealed class PluginTemplateTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-template-").FullName;

    (int Code, string Out, string Err) Dotnet(string directory, params string[] args) =>
        CliRunner.Program("dotnet", args, directory, new Dictionary<string, string>
        {
            // Packages restored here, not into the user's cache: NuGet caches by id and version, and these versions are ours.
            ["NUGET_PACKAGES"] = Path.Combine(_tmp, "packages"),
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1",
        });

    const string Recipe = """
        using Ziya2.DataFactory.Pipeline;
        using Ziya2.DataFactory.Reading;
        using Ziya2.Training;
        using Ziya2.Training.Data;

        var data = new DataPipeline([new PipelineStep("tpl-filter", () => Filter("tpl-filter"))], new PipelineOptions { Parallelism = 1 })
            .Run(InputShard.Expand([RecipePath("docs.jsonl")]), Path.Combine(RunDirectory, "data"), "fp", Events, Cancellation);
        Log.LogInformation("filter: {Kept} kept, {Rejected} rejected", data.Stats.Kept, data.Stats.Rejected);

        var model = Model("tpl-model");
        var file = TokenFileBuilder.Write(Path.Combine(RunDirectory, "tokens"),
            Enumerable.Range(0, 50).Select(d => (Enumerable.Range(0, 40).Select(i => 3 + (d + i) % 5).ToArray(), 0)), model.VocabSize, "cycle");
        var options = Config.Get<TrainerOptions>("trainer");
        var optimizer = Optimizer("tpl-optimizer").Create(model.GetParameterGroups());
        var results = new StageRunner(model, optimizer, Scheduler("tpl-scheduler"), options, RunDirectory, "cfg", Events)
            .Run([new StageSpec("general", new MixtureSampler([new("cycle", file, PackingMode.Documents, 1)], options.SequenceLength, 1, 0, (ulong)Seed), 40)], Cancellation);
        Log.LogInformation("trained: loss {First:F3} -> {Last:F3}", results[0].FirstLoss, results[0].LastLoss);
        Log.LogInformation("generated {Tokens}", string.Join(",", TextGeneration.Generate(model, [3, 4, 5], new GenerationOptions { MaxNewTokens = 5 })));
        optimizer.Dispose();
        """;

    const string Config = """
        [filters.tpl-filter]
        phrases = ["buy now"]
        reason = "advert"
        [model]
        vocab_size = 16
        [optimizer]
        lr = 0.5
        [scheduler]
        lr = 0.5
        min_lr = 0.05
        warmup_fraction = 0.05
        [trainer]
        sequence_length = 16
        micro_batch = 4
        log_every = 5
        checkpoint_every = 100
        """;

    [Fact]
    public void Template_projects_of_every_kind_build_against_the_packed_sdk_outside_the_solution_and_run_in_a_recipe()
    {
        // A version of our own: NuGet caches packages by id and version, so a rebuilt SDK needs a fresh one.
        var version = $"{SdkVersion()}-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var feed = Path.Combine(_tmp, "feed");
        foreach (var project in new[] { "src/Ziya2.Abstractions", "src/Ziya2.Abstractions.Tensors", "src/Ziya2.Templates" })
        {
            var pack = Dotnet(CliRunner.RepoRoot, "pack", project, "--no-build", "-c", CliRunner.Configuration, $"-p:PackageVersion={version}", "-o", feed);
            Assert.True(pack.Code == 0, pack.Out + pack.Err);
        }
        var packages = Directory.GetFiles(feed, "*.nupkg").Select(Path.GetFileName).Order().ToList();
        Assert.Equal([$"Ziya2.Abstractions.{version}.nupkg", $"Ziya2.Abstractions.Tensors.{version}.nupkg", $"Ziya2.Templates.{version}.nupkg"], packages);

        // The generated projects live outside the repository: no Directory.Build.props, no central versions, only the feed.
        var work = Path.Combine(_tmp, "work");
        Directory.CreateDirectory(work);
        File.WriteAllText(Path.Combine(work, "nuget.config"), $"""
            <configuration>
              <packageSources><add key="ziya2-test" value="{feed}" /></packageSources>
              <fallbackPackageFolders><add key="machine" value="{MachinePackages()}" /></fallbackPackageFolders>
            </configuration>
            """);
        var hive = Path.Combine(_tmp, "hive");
        var install = Dotnet(work, "new", "install", Path.Combine(feed, $"Ziya2.Templates.{version}.nupkg"), "--debug:custom-hive", hive);
        Assert.True(install.Code == 0, install.Out + install.Err);

        var plugins = Directory.CreateDirectory(Path.Combine(work, "plugins")).FullName;
        foreach (var kind in new[] { "filter", "model", "optimizer", "scheduler" })
        {
            var name = "Tpl" + char.ToUpperInvariant(kind[0]) + kind[1..];
            var created = Dotnet(work, "new", "ziya2-plugin", "-n", name, "--kind", kind, "--component", $"tpl-{kind}", "--sdk-version", version, "--debug:custom-hive", hive);
            Assert.True(created.Code == 0, created.Out + created.Err);
            var project = Path.Combine(work, name);
            Assert.Equal(kind is "model" or "optimizer", File.ReadAllText(Path.Combine(project, name + ".csproj")).Contains("Ziya2.Abstractions.Tensors"));
            var build = Dotnet(project, "build", "-nologo", "-v", "q");
            Assert.True(build.Code == 0, build.Out + build.Err);
            // The host's types come from the host: the plugin folder carries neither SDK nor TorchSharp.
            var output = Path.Combine(project, "bin", "plugins", name);
            Assert.True(File.Exists(Path.Combine(output, name + ".dll")));
            Assert.Empty(Directory.GetFiles(output, "Ziya2.Abstractions*.dll"));
            Assert.Empty(Directory.GetFiles(output, "TorchSharp*.dll"));
            Directory.Move(output, Path.Combine(plugins, name));   // one plugins directory for all four
        }

        var (code, stdout, err) = CliRunner.Run(["plugins", "list", "--plugins", plugins, "--json"]);
        Assert.True(code == 0, err);
        var listed = JsonDocument.Parse(stdout).RootElement.GetProperty("plugins").EnumerateArray()
            .SelectMany(p => p.GetProperty("components").EnumerateArray().Select(c => (Kind: c.GetProperty("kind").GetString(), Name: c.GetProperty("name").GetString(), Plugin: p.GetProperty("name").GetString())))
            .Where(c => c.Name!.StartsWith("tpl-", StringComparison.Ordinal)).Order().ToList();
        Assert.Equal([("filter", "tpl-filter", "TplFilter"), ("model", "tpl-model", "TplModel"), ("optimizer", "tpl-optimizer", "TplOptimizer"), ("scheduler", "tpl-scheduler", "TplScheduler")], listed);

        File.WriteAllText(Path.Combine(work, "tpl.csx"), Recipe);
        File.WriteAllText(Path.Combine(work, "tpl.toml"), Config);
        File.WriteAllLines(Path.Combine(work, "docs.jsonl"),
        [
            """{"id": "1", "text": "A plain page about rivers."}""", """{"id": "2", "text": "BUY NOW while stocks last"}""", """{"id": "3", "text": "Another plain page."}""",
        ]);
        var run = Path.Combine(work, "run");
        (code, stdout, err) = CliRunner.Run(["run", Path.Combine(work, "tpl.csx"), "-c", Path.Combine(work, "tpl.toml"), "--plugins", plugins, "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("filter: 2 kept, 1 rejected", err);
        Assert.Contains("advert", File.ReadAllText(Path.Combine(run, "data", "stats.json")));
        var trained = System.Text.RegularExpressions.Regex.Match(err, @"trained: loss (\d+\.\d+) -> (\d+\.\d+)");
        Assert.True(trained.Success, err);
        Assert.True(double.Parse(trained.Groups[2].Value) < double.Parse(trained.Groups[1].Value) - 0.5, trained.Value);
        Assert.Contains("generated 6,7,3,4,5", err);   // the bigram learned the cycle 3 → 4 → 5 → 6 → 7 → 3
        Assert.Contains("\"model_type\":\"bigram\"", File.ReadAllText(Path.Combine(run, "exports", "general", "config.json")));
        Assert.Matches(@"Stage general: 40 steps done", err);
    }

    /// <summary>The SDK version the template defaults to must be the SDK's own.</summary>
    static string SdkVersion()
    {
        var json = File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "src", "Ziya2.Templates", "content", "ziya2-plugin", ".template.config", "template.json"));
        var templateDefault = JsonDocument.Parse(json).RootElement.GetProperty("symbols").GetProperty("sdkVersion").GetProperty("defaultValue").GetString()!;
        var props = File.ReadAllText(Path.Combine(CliRunner.RepoRoot, "Directory.Build.props"));
        var sdk = System.Text.RegularExpressions.Regex.Match(props, "<Ziya2SdkVersion>(.*?)</Ziya2SdkVersion>").Groups[1].Value;
        Assert.Equal(sdk, templateDefault);
        return sdk;
    }

    static string MachinePackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

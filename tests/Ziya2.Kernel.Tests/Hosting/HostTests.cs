using Microsoft.Extensions.Logging.Abstractions;
using Ziya2.Kernel.Hosting;

namespace Ziya2.Kernel.Tests.Hosting;

public class HostTests
{
    sealed class Env : IDisposable
    {
        public TempDir Tmp { get; } = new();
        public StringWriter Out { get; } = new();
        public StringWriter Err { get; } = new();
        public string Plugins => Tmp.Combine("plugins");
        public Env() => PluginBuilder.FilterPlugin(Plugins, "TestFilters", "min-length");
        public Ziya2Host Host => new(NullLoggerFactory.Instance, Out, Err);
        public RunRequest Request(string recipe, string? toml = null, string[]? sets = null, string? runDir = null, bool force = false) =>
            new(Tmp.Write("recipe.csx", recipe), toml is null ? [] : [Tmp.Write("config.toml", toml)], sets ?? [], [Plugins],
                runDir ?? Tmp.Combine("run"), force, CacheDirectory: Tmp.Combine("cache"));
        public void Dispose() => Tmp.Dispose();
    }

    const string FilterRecipe = "var f = Filter(\"min-length\");\nvar d = f.Apply(new Document(\"1\", \"abc\"));\nLog.LogInformation(\"{A}\", d.Action);\n";

    [Fact]
    public void Validate_resolves_components_binds_their_options_and_runs_nothing()
    {
        using var env = new Env();
        var code = env.Host.Validate(env.Request(FilterRecipe, "[filters.min-length]\nmin = 3\n"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("filter 'min-length' ← TestFilters", env.Out.ToString());
        Assert.False(Directory.Exists(env.Tmp.Combine("run")));
    }

    [Fact]
    public void Plugin_directories_can_come_from_the_config()
    {
        using var env = new Env();
        var extra = env.Tmp.Combine("more-plugins");
        PluginBuilder.FilterPlugin(extra, "ExtraFilters", "langid");
        var recipe = "var f = Filter(\"langid\");\n";
        Assert.Equal(ExitCodes.InvalidInput, env.Host.Validate(env.Request(recipe)));
        Assert.Equal(ExitCodes.Ok, env.Host.Validate(env.Request(recipe, $"[plugins]\ndirectories = [\"{extra}\"]\n")));
        Assert.Contains("filter 'langid' ← ExtraFilters", env.Out.ToString());
    }

    [Fact]
    public void Validate_reports_every_problem_at_once_with_locations()
    {
        using var env = new Env();
        var recipe = "var f = Filter(\"min-length\");\nvar g = Filter(\"kenlm\");\nvar s = Config.Get<int>(\"train.steps\");\n";
        var code = env.Host.Validate(env.Request(recipe, "[filters.min-length]\nmin = \"three\"\n[stray]\nkey = 1\n", ["train.steps=ten"]));
        Assert.Equal(ExitCodes.InvalidInput, code);
        var err = env.Err.ToString();
        Assert.Contains("recipe.csx:2:9: error ZY0101: no filter named 'kenlm'; available filters: min-length", err);
        Assert.Contains("filters.min-length.min: expected integer (32-bit), got string \"three\"", err);
        Assert.Contains("--set train.steps=ten: train.steps: expected integer (32-bit)", err);
        Assert.Contains("stray.key: unknown key", err);
        Assert.Contains("4 problem(s) found", err);
    }

    const string PipelineConfig = "[pipelines.clean]\nsteps = [\"min-length\", \"longer\"]\n[filters.min-length]\nmin = 3\n[filters.longer]\nuse = \"min-length\"\nmin = 5\n";

    [Fact]
    public async Task A_recipe_reads_pipelines_from_the_config_and_validate_checks_every_step_first()
    {
        using var env = new Env();
        var recipe = "var steps = Pipeline(\"clean\");\nFile.WriteAllText(Path.Combine(RunDirectory, \"out.txt\"), string.Join(\",\", steps.Select(s => $\"{s.Name}:{s.Create().Apply(new Document(\"1\", \"abcd\")).Action}\")));\n";
        Assert.Equal(ExitCodes.Ok, env.Host.Validate(env.Request(recipe, PipelineConfig)));
        Assert.Contains("pipeline 'clean' [pipelines.clean]: 2 step(s): min-length, longer (min-length)", env.Out.ToString());
        Assert.Equal(ExitCodes.Ok, await env.Host.RunAsync(env.Request(recipe, PipelineConfig), CancellationToken.None));
        Assert.Equal("min-length:Keep,longer:Drop", File.ReadAllText(env.Tmp.Combine("run", "out.txt")));   // each step with its own options

        // A missing definition points at the call; a missing filter, a bad option and a stray key are all reported.
        var broken = "var a = Pipeline(\"clean\");\nvar b = Pipeline(\"dirty\");\n";
        Assert.Equal(ExitCodes.InvalidInput, env.Host.Validate(env.Request(broken, PipelineConfig.Replace("\"longer\"]", "\"longer\", \"kenlm\"]") + "[filters.longer.x]\ny = 1\n", ["filters.min-length.min=three"])));
        var err = env.Err.ToString();
        Assert.Contains("recipe.csx:2:9: error ZY0103: no pipeline named 'dirty' in the configuration (defined: clean)", err);
        Assert.Contains("pipelines.clean: step 'kenlm': no filter named 'kenlm'", err);
        Assert.Contains("filters.min-length.min: expected integer (32-bit)", err);
        Assert.Contains("filters.longer.x: unknown key for Opts", err);

        // One mistake in a definition is one error: its steps' options are still read, not reported as unknown keys.
        env.Err.GetStringBuilder().Clear();
        Assert.Equal(ExitCodes.InvalidInput, env.Host.Validate(env.Request(recipe, PipelineConfig, ["pipelines.clean.skip=[\"longest\"]"])));
        Assert.Contains("skip names 'longest', which is not a step of this pipeline", env.Err.ToString());
        Assert.Contains("1 problem(s) found", env.Err.ToString());
    }

    [Fact]
    public void Commands_find_plugins_where_the_config_says_as_recipes_do()
    {
        using var env = new Env();
        var extra = env.Tmp.Combine("more-plugins");
        PluginBuilder.FilterPlugin(extra, "ExtraFilters", "langid");
        var config = env.Tmp.Write("pipelines.toml", $"[plugins]\ndirectories = [\"{extra}\"]\n[pipelines.p]\nsteps = [\"langid\"]\n");
        using (var session = ComponentSession.Open(NullLoggerFactory.Instance, [config], [], []))
        {
            Assert.NotNull(session.Pipeline("p"));
            Assert.Empty(session.Errors);
        }
        var e = Assert.Throws<Ziya2.Kernel.Configuration.ConfigException>(() => ComponentSession.Open(NullLoggerFactory.Instance, [config], ["plugins.directories=3"], []));
        Assert.Contains("plugins.directories", e.Message);
    }

    [Fact]
    public async Task Run_writes_resolved_config_and_status_into_the_run_directory()
    {
        using var env = new Env();
        var code = await env.Host.RunAsync(env.Request(FilterRecipe, "[filters.min-length]\nmin = 3\n", ["run.seed=7"]), CancellationToken.None);
        Assert.Equal(ExitCodes.Ok, code);
        var config = File.ReadAllText(env.Tmp.Combine("run", "config.toml"));
        Assert.Contains("min = 3", config);
        Assert.Contains("seed = 7", config);
        Assert.Contains("\"status\": \"completed\"", File.ReadAllText(env.Tmp.Combine("run", "run.json")));
        Assert.True(File.Exists(env.Tmp.Combine("run", "logs", "ziya2.log")));
    }

    [Fact]
    public async Task Runtime_exception_reports_the_recipe_line_and_exit_code_1()
    {
        using var env = new Env();
        var code = await env.Host.RunAsync(env.Request("var a = 1;\nvar b = 2;\nthrow new InvalidOperationException(\"boom at three\");\n"), CancellationToken.None);
        Assert.Equal(ExitCodes.RunFailed, code);
        Assert.Matches(@"recipe\.csx:3:\d+: error: InvalidOperationException: boom at three", env.Err.ToString());
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(env.Tmp.Combine("run", "run.json")));
    }

    [Fact]
    public async Task A_recipe_that_stops_cleanly_on_interruption_exits_0_with_status_interrupted()
    {
        using var env = new Env();
        using var cts = new CancellationTokenSource();
        cts.CancelAfter(TimeSpan.FromMilliseconds(300));
        var code = await env.Host.RunAsync(env.Request("while (!Cancellation.IsCancellationRequested) Thread.Sleep(10);\nLog.LogInformation(\"checkpoint written\");\n"), cts.Token);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("\"status\": \"interrupted\"", File.ReadAllText(env.Tmp.Combine("run", "run.json")));

        // A recipe that stops by letting the cancellation escape (an engine mid-shard) stops as cleanly — every engine
        // resumes — and says so: exit 0, status interrupted, no error line. Any other exception is a failure.
        using var env2 = new Env();
        using var cts2 = new CancellationTokenSource();
        cts2.CancelAfter(TimeSpan.FromMilliseconds(300));
        Assert.Equal(ExitCodes.Ok, await env2.Host.RunAsync(env2.Request("while (true) { Cancellation.ThrowIfCancellationRequested(); Thread.Sleep(10); }\n"), cts2.Token));
        Assert.Contains("\"status\": \"interrupted\"", File.ReadAllText(env2.Tmp.Combine("run", "run.json")));
        Assert.DoesNotContain("error", env2.Err.ToString());
        using var env3 = new Env();
        using var cts3 = new CancellationTokenSource();
        cts3.CancelAfter(TimeSpan.FromMilliseconds(300));
        Assert.Equal(ExitCodes.RunFailed, await env3.Host.RunAsync(env3.Request("while (!Cancellation.IsCancellationRequested) Thread.Sleep(10);\nthrow new IOException(\"disk full while stopping\");\n"), cts3.Token));
    }

    [Fact]
    public async Task A_changed_invocation_in_the_same_run_directory_is_refused_unless_forced()
    {
        using var env = new Env();
        Assert.Equal(ExitCodes.Ok, await env.Host.RunAsync(env.Request(FilterRecipe, "[filters.min-length]\nmin = 3\n"), CancellationToken.None));
        Assert.Equal(ExitCodes.Ok, await env.Host.RunAsync(env.Request(FilterRecipe, "[filters.min-length]\nmin = 3\n"), CancellationToken.None));
        Assert.Equal(ExitCodes.InvalidInput, await env.Host.RunAsync(env.Request(FilterRecipe, "[filters.min-length]\nmin = 4\n"), CancellationToken.None));
        Assert.Contains("belongs to a different invocation", env.Err.ToString());
        Assert.Equal(ExitCodes.Ok, await env.Host.RunAsync(env.Request(FilterRecipe, "[filters.min-length]\nmin = 4\n", force: true), CancellationToken.None));
    }

    [Fact]
    public async Task Compile_errors_exit_2_before_anything_runs()
    {
        using var env = new Env();
        var code = await env.Host.RunAsync(env.Request("var x = ;\n"), CancellationToken.None);
        Assert.Equal(ExitCodes.InvalidInput, code);
        Assert.Contains("recipe.csx:1:9: error CS1525", env.Err.ToString());
        Assert.False(File.Exists(env.Tmp.Combine("run", "run.json")));
    }
}

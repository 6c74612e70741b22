using System.Text.Json;

namespace Ziya2.Cli.Tests;

public sealed class CliTests : IDisposable
{
    static readonly string RepoRoot = CliRunner.RepoRoot;
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-cli-").FullName;

    (int Code, string Out, string Err) Ziya2(params string[] args) => CliRunner.Run(args, Path.Combine(_tmp, "cache"));

    [Fact]
    public void Tiny_recipe_runs_end_to_end_on_cpu_and_the_loss_falls()
    {
        var runDir = Path.Combine(_tmp, "run");
        var (code, _, err) = Ziya2("run", "recipes/tiny.csx", "--config", "recipes/configs/tiny.toml", "--run-dir", runDir);
        Assert.True(code == 0, err);
        var losses = File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToList();
        Assert.Equal(40, losses.Count);
        Assert.True(losses.Skip(30).Average() < losses.Take(5).Average() - 1.0, $"loss did not fall: {string.Join(", ", losses)}");
        Assert.True(File.Exists(Path.Combine(runDir, "checkpoints", "final", "config.json")));
        Assert.Contains("\"status\": \"completed\"", File.ReadAllText(Path.Combine(runDir, "run.json")));
        Assert.Contains("dropped min-length:too_short=2", err);
    }

    [Fact]
    public void Validate_reports_a_bad_override_with_exit_code_2()
    {
        var (code, _, err) = Ziya2("validate", "recipes/tiny.csx", "-c", "recipes/configs/tiny.toml", "--set", "model.hidden_size=wide", "--set", "model.hidden_sise=64");
        Assert.Equal(2, code);
        Assert.Contains("--set model.hidden_size=wide: model.hidden_size: expected integer", err);
        Assert.Contains("model.hidden_sise: unknown key for LlamaOptions (did you mean 'hidden_size'?)", err);
    }

    [Fact]
    public void Plugins_list_json_describes_all_four_built_in_kinds()
    {
        var (code, stdout, err) = Ziya2("plugins", "list", "--json");
        Assert.True(code == 0, err);
        var root = JsonDocument.Parse(stdout).RootElement;
        var kinds = root.GetProperty("plugins").EnumerateArray()
            .SelectMany(p => p.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("kind").GetString())).ToHashSet();
        Assert.Superset(new HashSet<string?> { "filter", "model", "optimizer", "scheduler" }, kinds);
        Assert.All(root.GetProperty("plugins").EnumerateArray(), p => Assert.Equal("0.1.0", p.GetProperty("sdk_version").GetString()));
    }

    [Fact]
    public void Json_logs_are_one_object_per_line_when_headless()
    {
        var (code, _, err) = Ziya2("run", "recipes/tiny.csx", "-c", "recipes/configs/tiny.toml", "--set", "train.steps=3", "--set", "train.log_every=1",
            "--run-dir", Path.Combine(_tmp, "json"), "--log-format", "json");
        Assert.True(code == 0, err);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Equal(JsonValueKind.Object, JsonDocument.Parse(l).RootElement.ValueKind));
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        var (code, _, err) = Ziya2("run");
        Assert.Equal(2, code);
        Assert.Contains("Required argument missing", err);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

public sealed class DataCommandTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-data-").FullName;

    [Fact]
    public void Data_run_writes_the_documented_layout_and_resumes()
    {
        var output = Path.Combine(_tmp, "out");
        var (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output]);
        Assert.True(code == 0, err);
        Assert.Contains("25 records in → 23 kept", stdout);
        Assert.Contains("too_short=2", stdout);
        var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "stats.json"))).RootElement;
        Assert.Equal((25, 23, 2), (stats.GetProperty("input").GetInt32(), stats.GetProperty("kept").GetInt32(), stats.GetProperty("rejected").GetInt32()));
        Assert.Equal(["read", "normalize-whitespace", "min-length"], stats.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Single(Directory.GetFiles(Path.Combine(output, "kept"), "*.jsonl.zst"));
        Assert.Single(Directory.GetFiles(Path.Combine(output, "rejected"), "*.jsonl.zst"));
        Assert.True(File.Exists(Path.Combine(output, "funnel.svg")));

        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output]);
        Assert.True(code == 0, err);
        Assert.Contains("1 already done", stdout);

        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output, "--set", "filters.min-length.min_chars=5"]);
        Assert.Equal(2, code);
        Assert.Contains("different pipeline", err);
        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output, "--set", "filters.min-length.min_chars=5", "--force"]);
        Assert.True(code == 0, err);
        Assert.Contains("25 records in → 24 kept", stdout);   // only "ok" is shorter than 5
    }

    [Fact]
    public void Preprocessing_pipeline_runs_with_the_plugins_bundled_opencc_data()
    {
        var input = Path.Combine(_tmp, "trad.jsonl");
        File.WriteAllText(input, "{\"id\":\"a\",\"text\":\"這是一段繁體中文的句子，用來測試傳統漢字的處理😀，還有ＡＢＣ１２３和足夠長的內容來通過長度過濾。\"}\n");
        var (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/preprocess.toml", "--input", input, "--output", Path.Combine(_tmp, "pre")]);
        Assert.True(code == 0, err);
        var steps = JsonDocument.Parse(File.ReadAllText(Path.Combine(_tmp, "pre", "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("rewritten").GetInt32());
        Assert.Equal(1, steps["t2s"]);
        Assert.Equal(1, steps["normalize-text"]);
        Assert.Equal(1, steps["remove-invisible"]);
        Assert.Contains("1 records in → 1 kept", stdout);
    }

    [Fact]
    public void One_filter_runs_twice_under_two_step_names()
    {
        var pipeline = Path.Combine(_tmp, "twice.toml");
        File.WriteAllText(pipeline, """
            [pipeline]
            steps = ["ads", "spam"]
            [filters.ads]
            use = "word-list"
            lists = ["advertising.txt"]
            unit = "sentence"
            reason = "ads"
            [filters.spam]
            use = "word-list"
            lists = ["boilerplate.txt"]
            unit = "sentence"
            reason = "spam"
            """);
        var input = Path.Combine(_tmp, "twice.jsonl");
        File.WriteAllText(input, "{\"id\":\"a\",\"text\":\"今天天气很好，我们去公园散步。点击购买最新款手机！\"}\n");
        var output = Path.Combine(_tmp, "twice");
        var (code, stdout, err) = CliRunner.Run(["data", "run", pipeline, "--input", input, "--output", output, "--dry-run"]);
        Assert.True(code == 0, err);
        Assert.Contains("step ads (word-list)", stdout);
        (code, stdout, err) = CliRunner.Run(["data", "run", pipeline, "--input", input, "--output", output]);
        Assert.True(code == 0, err);
        var steps = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => s.GetProperty("rewritten").GetInt32());
        Assert.Equal((1, 0), (steps["ads"], steps["spam"]));

        // Changing which filter a step uses is a different pipeline; a non-string `use` is a config error.
        (code, _, err) = CliRunner.Run(["data", "run", pipeline, "--input", input, "--output", output, "--set", "filters.spam.use=\"min-length\"", "--set", "filters.spam.lists=[]"]);
        Assert.Equal(2, code);
        (code, _, err) = CliRunner.Run(["data", "run", pipeline, "--input", input, "--output", output, "--set", "filters.spam.use=3"]);
        Assert.Equal(2, code);
        Assert.Contains("filters.spam.use: must be a data filter name", err);
    }

    [Fact]
    public void Data_factory_recipe_composes_the_pipeline_in_code_and_resumes()
    {
        var run = Path.Combine(_tmp, "factory");
        var (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", "stats.json"))).RootElement;
        Assert.Equal(25, stats.GetProperty("input").GetInt32());
        Assert.Equal(25, stats.GetProperty("kept").GetInt32() + stats.GetProperty("rejected").GetInt32());
        var names = stats.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        Assert.Contains("advertising", names);   // word-list twice, under two names
        Assert.Contains("sensitive", names);
        Assert.True(names.Count >= 31, $"{names.Count} steps");

        (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("1 already done", stdout);
    }

    [Fact]
    public void Dry_run_validates_everything_and_processes_nothing()
    {
        var output = Path.Combine(_tmp, "dry");
        var (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output, "--dry-run"]);
        Assert.True(code == 0, err);
        Assert.Contains("step min-length", stdout);
        Assert.Contains("shard tiny.jsonl", stdout);
        Assert.False(Directory.Exists(output));

        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", output, "--dry-run",
            "--set", "pipeline.steps=[\"min-length\", \"langid\"]", "--set", "filters.min-length.min_charz=3"]);
        Assert.Equal(2, code);
        Assert.Contains("no filter named 'langid'", err);
        Assert.Contains("did you mean 'min_chars'", err);
        Assert.False(Directory.Exists(output));
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

using System.Text.Json;

namespace Ziya2.Cli.Tests;

public sealed class CliTests : IDisposable
{
    static readonly string RepoRoot = CliRunner.RepoRoot;
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-cli-").FullName;

    (int Code, string Out, string Err) Ziya2(params string[] args) => CliRunner.Run(args, Path.Combine(_tmp, "cache"));

    [Fact]
    public void Validate_reports_a_bad_override_with_exit_code_2()
    {
        var (code, _, err) = Ziya2("validate", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "--set", "model.hidden_size=wide", "--set", "model.hidden_sise=64");
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
        var (code, _, err) = Ziya2("run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml",
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
        output = Path.Combine(output, "tiny");   // one directory per pipeline the file defines
        var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "stats.json"))).RootElement;
        Assert.Equal((25, 23, 2), (stats.GetProperty("input").GetInt32(), stats.GetProperty("kept").GetInt32(), stats.GetProperty("rejected").GetInt32()));
        Assert.Equal(["read", "normalize-whitespace", "min-length"], stats.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Single(Directory.GetFiles(Path.Combine(output, "kept"), "*.jsonl.zst"));
        Assert.Single(Directory.GetFiles(Path.Combine(output, "rejected"), "*.jsonl.zst"));
        Assert.True(File.Exists(Path.Combine(output, "funnel.svg")));

        var root = Path.GetDirectoryName(output)!;
        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", root]);
        Assert.True(code == 0, err);
        Assert.Contains("1 already done", stdout);

        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", root, "--set", "filters.min-length.min_chars=5"]);
        Assert.Equal(2, code);
        Assert.Contains("different pipeline", err);
        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/tiny.toml", "--input", "recipes/data/tiny.jsonl", "--output", root, "--set", "filters.min-length.min_chars=5", "--force"]);
        Assert.True(code == 0, err);
        Assert.Contains("25 records in → 24 kept", stdout);   // only "ok" is shorter than 5
    }

    [Fact]
    public void Preprocessing_pipeline_runs_with_the_plugins_bundled_opencc_data()
    {
        var input = Path.Combine(_tmp, "trad.jsonl");
        File.WriteAllText(input, "{\"id\":\"a\",\"text\":\"這是一段繁體中文的句子，用來測試傳統漢字的處理😀，還有ＡＢＣ１２３和足夠長的內容來通過長度過濾。\"}\n");
        var (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/ziya2.toml", "--pipeline", "dp", "--input", input, "--output", Path.Combine(_tmp, "pre")]);
        Assert.True(code == 0, err);
        Assert.False(Directory.Exists(Path.Combine(_tmp, "pre", "rf")));   // only the pipeline asked for
        var steps = JsonDocument.Parse(File.ReadAllText(Path.Combine(_tmp, "pre", "dp", "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
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
            [pipelines.clean]
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
        var steps = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "clean", "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
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
    public void Data_factory_recipe_runs_the_papers_four_steps_in_order_resumes_and_offers_rules_first()
    {
        JsonElement Stats(string run, string pipeline) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", pipeline, "stats.json"))).RootElement;
        List<string?> Steps(JsonElement stats) => stats.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        int Kept(JsonElement stats) => stats.GetProperty("kept").GetInt32();

        var run = Path.Combine(_tmp, "factory");
        var (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        // §2.1: preprocessing → automatic scoring (on preprocessed text) → rule-based filtering → content dedup, each
        // reading what the one before kept; step 5 measured what dedup kept, and the gate passed.
        var (dp, @as, rf, cd) = (Stats(run, "dp"), Stats(run, "as"), Stats(run, "rf"), Stats(run, "cd"));
        Assert.Equal(25, dp.GetProperty("input").GetInt32());
        Assert.Equal(25, Kept(dp) + dp.GetProperty("rejected").GetInt32());
        Assert.Equal(["read", "language", "normalize-text", "remove-invisible", "t2s", "normalize-whitespace"], Steps(dp));
        Assert.Equal(Kept(dp), @as.GetProperty("input").GetInt32());
        Assert.Equal(["read", "perplexity"], Steps(@as));
        Assert.Equal(Kept(@as), rf.GetProperty("input").GetInt32());
        Assert.Contains("advertising", Steps(rf));   // word-list twice, under two names
        Assert.Contains("sensitive", Steps(rf));
        // All 33 rules of the shared definition, including those once listed only for `ziya2 data run`.
        Assert.Equal(1 + 33, Steps(rf).Count);
        foreach (var rule in new[] { "bullet-lines", "ellipsis-lines", "mean-word-length", "non-alpha-words", "short-lines", "uppercase-ratio", "numeric-lines", "terminal-punctuation" })
            Assert.Contains(rule, Steps(rf));
        Assert.Equal(Kept(rf), cd.GetProperty("input").GetInt32());
        Assert.Equal(["read", "dedup"], Steps(cd));
        var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", "evaluation", "report.json"))).RootElement;
        Assert.Equal(Kept(cd), report.GetProperty("documents").GetInt32());
        Assert.Contains("Gate passed", stdout + err);

        (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("1 already done", stdout);

        // The documented alternative: the rules in the preprocessing pass, then scoring and dedup over what they kept.
        var other = Path.Combine(_tmp, "rules-first");
        (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--set", "factory.order=\"rules-first\"", "--run-dir", other]);
        Assert.True(code == 0, err + stdout);
        var (dprf, ascd) = (Stats(other, "dp-rf"), Stats(other, "as-cd"));
        Assert.Equal(1 + 5 + 33, Steps(dprf).Count);
        Assert.Equal(Kept(dprf), ascd.GetProperty("input").GetInt32());
        Assert.Equal(["read", "perplexity", "dedup"], Steps(ascd));
        Assert.False(Directory.Exists(Path.Combine(other, "data", "dp")));
        (code, _, err) = CliRunner.Run(["validate", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--set", "factory.order=\"sideways\""]);
        Assert.Equal(2, code);
        Assert.Contains("order must be \"paper\" or \"rules-first\"", err);
    }

    [Fact]
    public void The_recipe_and_data_run_read_one_pipeline_definition_and_keep_the_same_documents()
    {
        // The sample's settings in one overlay both use: the recipe's config includes it after the shared definitions,
        // `data run` layers it over them with -c. It also turns a rule off without restating the list.
        var overlay = Path.Combine(_tmp, "sample.toml");
        File.WriteAllText(overlay, """
            [pipelines.rf]
            skip = ["uppercase-ratio"]
            [filters.word-count]
            min_words = 20
            [filters.perplexity]
            models = { zh = "recipes/data/models/zh.arpa", en = "recipes/data/models/en.arpa" }
            """);
        var pipelines = Path.Combine(CliRunner.RepoRoot, "recipes", "pipelines");
        var config = Path.Combine(_tmp, "factory.toml");
        File.WriteAllText(config, $$"""
            include = ["{{Path.Combine(pipelines, "ziya2.toml")}}", "{{Path.Combine(pipelines, "ziya2-code.toml")}}", "sample.toml"]
            [factory]
            inputs = ["data/samples/raw/en.jsonl", "data/samples/raw/zh.jsonl"]
            [evaluation]
            sample_rate = 1.0
            sheet_size = 5
            enforce_gate = false
            """);
        var run = Path.Combine(_tmp, "recipe");
        var (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", config, "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        var output = Path.Combine(_tmp, "data-run");
        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/ziya2.toml", "-c", overlay, "--input", "data/samples/raw/en.jsonl", "data/samples/raw/zh.jsonl", "--output", output]);
        Assert.True(code == 0, err + stdout);
        Assert.Matches(@"funnel: 3,252 in → dp [\d,]+ → as [\d,]+ → rf [\d,]+ → cd [\d,]+", stdout);

        // Output is deterministic per shard, so the same documents are the same compressed bytes under the same names.
        static List<(string, byte[])> Kept(string dir) =>
            [.. Directory.GetFiles(Path.Combine(dir, "kept")).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))];
        foreach (var step in new[] { "dp", "as", "rf", "cd" })
        {
            var (recipe, command) = (Kept(Path.Combine(run, "data", step)), Kept(Path.Combine(output, step)));
            Assert.Equal(2, recipe.Count);   // en and zh
            Assert.Equal(recipe.Select(f => f.Item1), command.Select(f => f.Item1));
            Assert.True(recipe.Zip(command).All(p => p.First.Item2.AsSpan().SequenceEqual(p.Second.Item2)), $"{step}: the recipe and data run kept different documents");
        }
        var rfSteps = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "rf", "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
            .Select(x => x.GetProperty("name").GetString()).ToList();
        Assert.Equal(1 + 32, rfSteps.Count);
        Assert.DoesNotContain("uppercase-ratio", rfSteps);

        // Changing a rule's threshold redoes the rules and dedup, not the passes before them.
        (code, stdout, err) = CliRunner.Run(["data", "run", "recipes/pipelines/ziya2.toml", "-c", overlay, "--input", "data/samples/raw/en.jsonl", "data/samples/raw/zh.jsonl", "--output", output,
            "--set", "filters.min-length.min_chars=45", "--pipeline", "dp,as"]);
        Assert.True(code == 0, err + stdout);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(stdout, "2 already done").Count);
        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/ziya2.toml", "-c", overlay, "--input", "data/samples/raw/en.jsonl", "--output", output,
            "--pipeline", "dp", "rf", "--set", "pipelines.rf.skip=[\"upper-ratio\"]", "--dry-run"]);
        Assert.Equal(2, code);
        Assert.Contains("skip names 'upper-ratio', which is not a step of this pipeline", err);
        (code, _, err) = CliRunner.Run(["data", "run", "recipes/pipelines/ziya2.toml", "--input", "data/samples/raw/en.jsonl", "--output", output, "--pipeline", "dq", "--dry-run"]);
        Assert.Equal(2, code);
        Assert.Contains("no pipeline named 'dq' is defined (defined: dp, as, rf, cd)", err);
    }

    [Fact]
    public void Scoring_and_dedup_run_as_corpus_steps_and_the_index_carries_over_to_the_next_run()
    {
        var zh = Path.Combine(_tmp, "zh.arpa");
        var (code, stdout, err) = CliRunner.Run(["lm", "train", "--order", "3", "--corpus", "recipes/data/tiny.jsonl", "--tokenize", "characters", "--out", zh]);
        Assert.True(code == 0, err);
        Assert.Contains("n-grams", stdout);
        (code, stdout, err) = CliRunner.Run(["lm", "score", "--model", zh, "--tokenize", "characters", "--text", "持续预训练的关键在于数据"]);
        Assert.True(code == 0, err);
        Assert.Contains("\"perplexity\"", stdout);

        var index = Path.Combine(_tmp, "index");
        var pipeline = Path.Combine(_tmp, "ascd.toml");
        File.WriteAllText(pipeline, $$"""
            [pipelines.ascd]
            steps = ["perplexity", "dedup"]
            [filters.perplexity]
            models = { zh = "{{zh}}" }
            high = 0.3
            medium = 0.6
            [filters.dedup]
            index = "{{index}}"
            expected_documents = 10000
            """);
        // Ten versions of a sentence from the training data, each more scrambled: distinct, rising perplexities.
        const string clean = "持续预训练的关键在于数据：混合哪些数据、以什么顺序训练、以及回放多少旧数据，才能让模型学到新知识而不忘记旧知识。";
        var texts = Enumerable.Range(0, 10).Select(i =>
        {
            var c = clean.ToCharArray();
            var rng = new Random(i);
            for (int k = 0; k < i * 3; k++) { int x = rng.Next(c.Length), y = rng.Next(c.Length); (c[x], c[y]) = (c[y], c[x]); }
            return new string(c);
        }).ToList();
        string Line(string id, string text, string lang = "zh", string? url = null) =>
            JsonSerializer.Serialize(new Dictionary<string, string?> { ["id"] = id, ["text"] = text, ["language"] = lang, ["url"] = url });
        var first = Path.Combine(_tmp, "first.jsonl");
        File.WriteAllLines(first, texts.Select((t, i) => Line($"a{i}", t, url: $"https://example.com/{i}"))
            .Append(Line("dup", texts[0] + "！！", url: "https://example.com/other"))
            .Append(Line("en", "An English line without an English model stays, labelled unscored.", "en")));
        (code, stdout, err) = CliRunner.Run(["data", "run", pipeline, "--input", first, "--output", Path.Combine(_tmp, "run1")]);
        Assert.True(code == 0, err + stdout);
        var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(_tmp, "run1", "ascd", "stats.json"))).RootElement;
        var steps = stats.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!);
        Assert.Equal(4, steps["perplexity"].GetProperty("reasons").GetProperty("perplexity_low").GetInt32());   // 40 % of 11 Chinese documents, at bin resolution
        Assert.True(File.Exists(Path.Combine(index, "exact.bloom")));
        Assert.True(File.Exists(Path.Combine(index, "simhash.db")));

        // Run 2 over new data: a copy of a document run 1 kept is dropped without reading run 1's output again.
        var kept1 = Directory.GetFiles(Path.Combine(_tmp, "run1", "ascd", "kept"));
        Assert.NotEmpty(kept1);
        var survivor = File.ReadAllText(first).Split('\n')[0];
        var second = Path.Combine(_tmp, "second.jsonl");
        File.WriteAllLines(second, [survivor.Replace("\"a0\"", "\"b0\"").Replace("https://example.com/0", "https://example.org/zero"), Line("new", "全新的一篇文章，和第一批数据完全无关，讲的是山里的秋天。")]);
        (code, stdout, err) = CliRunner.Run(["data", "run", pipeline, "--input", second, "--output", Path.Combine(_tmp, "run2")]);
        Assert.True(code == 0, err + stdout);
        var reasons2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(_tmp, "run2", "ascd", "stats.json"))).RootElement.GetProperty("steps").EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "dedup").GetProperty("reasons");
        Assert.True(reasons2.TryGetProperty("duplicate_exact", out _) || reasons2.TryGetProperty("near_duplicate", out _), reasons2.ToString());
    }

    [Fact]
    public void Evaluate_writes_the_report_and_sheet_and_the_gate_exit_code_follows_the_verdict()
    {
        var dir = Path.Combine(_tmp, "eval");
        var (code, stdout, err) = CliRunner.Run(["data", "evaluate", "--input", "recipes/data/tiny.jsonl", "--output", dir, "--sample-rate", "1", "--sheet-size", "4"]);
        Assert.True(code == 0, err);
        Assert.Contains("25 documents, 25 sampled", stdout);
        Assert.Contains("advertising 0.000 %", stdout);   // the plugin's bundled list is found beside the executable
        foreach (var f in new[] { "report.html", "report.json", "human-sheet.csv", "topics.svg" }) Assert.True(File.Exists(Path.Combine(dir, f)), f);

        var sheet = File.ReadAllText(Path.Combine(dir, "human-sheet.csv"));
        int row = 0;
        var judged = System.Text.RegularExpressions.Regex.Replace(sheet, ",,,,\r?\n", _ => (row++ == 0 ? ",0,1,0," : ",0,0,0,") + "\n");
        File.WriteAllText(Path.Combine(dir, "judged.csv"), judged);
        (code, stdout, err) = CliRunner.Run(["data", "gate", "--sheet", Path.Combine(dir, "judged.csv"), "--report", Path.Combine(dir, "report.json")]);
        Assert.Equal(1, code);
        Assert.Contains("gate failed: readability", stdout);
        Assert.Contains("truncated-sentences", stdout);
        (code, stdout, err) = CliRunner.Run(["data", "gate", "--sheet", Path.Combine(dir, "judged.csv"), "--threshold", "0.25"]);
        Assert.True(code == 0, err + stdout);
        (code, _, err) = CliRunner.Run(["data", "gate", "--sheet", Path.Combine(dir, "human-sheet.csv")]);
        Assert.Equal(2, code);
        Assert.Contains("is not judged", err);
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
            "--set", "pipelines.tiny.steps=[\"min-length\", \"langid\"]", "--set", "filters.min-length.min_charz=3"]);
        Assert.Equal(2, code);
        Assert.Contains("no filter named 'langid'", err);
        Assert.Contains("did you mean 'min_chars'", err);
        Assert.False(Directory.Exists(output));
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

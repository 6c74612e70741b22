using System.Text.Json;
using System.Text.Json.Nodes;

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

        // A completed run directory is answered at once; --force runs the recipe again there, and every pipeline
        // resumes from its finished shards instead of redoing them.
        (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("nothing to do", err);
        Assert.DoesNotContain("Data factory dp", err);
        (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--run-dir", run, "--force"]);
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4, stdout.Split('\n').Count(l => l.Contains("1 shard(s), 1 already done")));

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
    public void The_quality_gate_tightens_the_threshold_it_names_until_it_passes_and_a_bound_or_the_floor_stops_it()
    {
        // The shipped sample with two documents made twice as long and given one <br> each: 2–3 tags per 1,000 characters,
        // under html-remnants' threshold of 5, so they pass the rules and fail the gate's html_function criterion.
        var docs = File.ReadAllLines(Path.Combine(CliRunner.RepoRoot, "recipes", "data", "tiny.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToDictionary(d => (string)d["id"]!);
        foreach (var (id, filler) in new[] { ("tiny-000", "tiny-019"), ("tiny-012", "tiny-020") })
        {
            var text = (string)docs[id]["text"]!;
            int comma = text.IndexOf(", ", StringComparison.Ordinal) + 1;
            docs[id]["text"] = text[..comma] + "<br>" + text[comma..] + "\n\n" + (string)docs[filler]["text"]!;
            docs.Remove(filler);
        }
        var corpus = Path.Combine(_tmp, "html.jsonl");
        File.WriteAllLines(corpus, docs.Values.Select(d => d.ToJsonString()));
        string[] Args(string run, params string[] more) =>
            ["run", "recipes/data-factory.csx", "-c", "recipes/configs/data-factory.toml", "--set", $"factory.inputs=[{JsonSerializer.Serialize(corpus)}]",
             "--set", "filters.perplexity.drop_low=false", "--set", "evaluation.auto_tighten.enabled=true", "--run-dir", run, .. more];
        JsonElement Rounds(string run) => JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", "evaluation", "rounds.json"))).RootElement;

        var run = Path.Combine(_tmp, "loop");
        var (code, stdout, err) = CliRunner.Run(Args(run));
        Assert.True(code == 0, err + stdout);
        var rounds = Rounds(run);
        var list = rounds.GetProperty("rounds").EnumerateArray().ToList();
        // 5 → 4 → 3 → 2 tags per 1,000 characters: the third tightening drops both pages, and the gate passes.
        Assert.Equal(4, list.Count);
        Assert.Equal(3, rounds.GetProperty("chosen_round").GetInt32());
        Assert.True(rounds.GetProperty("passed").GetBoolean());
        Assert.True(list[0].GetProperty("unqualified").GetProperty("html_function").GetDouble() > 0.001);
        Assert.False(list[2].GetProperty("passed").GetBoolean());
        Assert.Equal(0, list[3].GetProperty("unqualified").GetProperty("html_function").GetDouble());
        for (int r = 1; r <= 3; r++)
        {
            // Only the threshold the gate names moved, one step a round; only the pipelines from the rules on re-ran.
            Assert.Equal(["filters.html-remnants.threshold"], list[r].GetProperty("changed").EnumerateObject().Select(p => p.Name));
            Assert.Equal(5 - r, list[r].GetProperty("changed").GetProperty("filters.html-remnants.threshold").GetDouble());
            Assert.Equal(["rf", "cd"], list[r].GetProperty("rerun").EnumerateArray().Select(e => e.GetString()));
            Assert.False(Directory.Exists(Path.Combine(run, "data", "rounds", r.ToString(), "dp")));
        }
        Assert.Equal("[filters.html-remnants]\nthreshold = 2\n", File.ReadAllText(Path.Combine(run, "data", "evaluation", "tightened.toml")).Split("\n\n", 2)[1]);
        // Every round's output is kept; the factory hands on the chosen one, without the two pages.
        static string Kept(string dir) => string.Concat(Directory.GetFiles(dir, "*.zst").Select(f =>
        {
            using var reader = new StreamReader(new ZstdSharp.DecompressionStream(File.OpenRead(f)));
            return reader.ReadToEnd();
        }));
        Assert.Contains("<br>", Kept(Path.Combine(run, "data", "cd", "kept")));
        Assert.DoesNotContain("<br>", Kept(Path.Combine(run, "data", "rounds", "3", "cd", "kept")));
        Assert.Contains("Factory done: 18 documents in " + Path.Combine(run, "data", "rounds", "3", "cd", "kept"), err + stdout);
        Assert.Contains("Rounds of the gate", File.ReadAllText(Path.Combine(run, "data", "evaluation", "report.html")));

        // Resumable: run again in the same directory and every round's pipelines are found done …
        (code, stdout, err) = CliRunner.Run(Args(run, "--force"));
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4 + 3 * 2, stdout.Split('\n').Count(l => l.Contains("1 shard(s), 1 already done")));
        // … and a loop stopped in its last round (that round's output gone) redoes only that round, to the same end.
        Directory.Delete(Path.Combine(run, "data", "rounds", "3"), recursive: true);
        (code, stdout, err) = CliRunner.Run(Args(run, "--force"));
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4 + 2 * 2, stdout.Split('\n').Count(l => l.Contains("1 shard(s), 1 already done")));
        Assert.Equal(2, stdout.Split('\n').Count(l => l.Contains("1 shard(s), 0 already done")));
        Assert.Equal(3, Rounds(run).GetProperty("chosen_round").GetInt32());
        Assert.DoesNotContain("<br>", Kept(Path.Combine(run, "data", "rounds", "3", "cd", "kept")));

        // A bound: html-remnants may not go below 3 and code-remnants may not move — the loop stops and says where each is.
        (code, stdout, err) = CliRunner.Run(Args(Path.Combine(_tmp, "bound"), "--set",
            "evaluation.auto_tighten.bounds={ \"filters.html-remnants.threshold\" = 3, \"filters.code-remnants.threshold\" = 0.2 }"));
        Assert.Equal(1, code);
        Assert.Contains("the data failed the quality gate (html_function): nothing left to tighten for html_function", err);
        Assert.Contains("filters.html-remnants.threshold is at its bound 3; filters.code-remnants.threshold is at its bound 0.2", err);
        Assert.Equal(2, Rounds(Path.Combine(_tmp, "bound")).GetProperty("chosen_round").GetInt32());

        // The floor: round 3 keeps 18 of the 20 documents round 0 kept (90 %), below 95 %, so it is not taken.
        (code, _, err) = CliRunner.Run(Args(Path.Combine(_tmp, "floor"), "--set", "evaluation.auto_tighten.min_kept_share=0.95"));
        Assert.Equal(1, code);
        Assert.Contains("round 3 would keep 90.0 % of the 20 documents round 0 kept, below evaluation.auto_tighten.min_kept_share = 95.0 %; round 2's output is used", err);
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

    /// <summary>The shipped sample split into five files plus a sixth of copies from the others (new ids and URLs), so both corpus steps work across task boundaries.</summary>
    string DuplicateRichCorpus()
    {
        var dir = Path.Combine(_tmp, "corpus");
        Directory.CreateDirectory(dir);
        var lines = File.ReadAllLines(Path.Combine(CliRunner.RepoRoot, "data/samples/raw/en.jsonl")).Concat(File.ReadAllLines(Path.Combine(CliRunner.RepoRoot, "data/samples/raw/zh.jsonl"))).ToList();
        for (int f = 0; f < 5; f++) File.WriteAllLines(Path.Combine(dir, $"part-{f}.jsonl"), lines.Where((_, i) => i % 5 == f));
        File.WriteAllLines(Path.Combine(dir, "part-5.jsonl"), lines.Where((_, i) => i % 7 == 3).Select((l, i) =>
        {
            var o = JsonNode.Parse(l)!.AsObject();
            o["id"] = $"copy-{i}";
            o["url"] = $"https://mirror.example/{i}";
            return o.ToJsonString();
        }));
        return dir;
    }

    [Fact]
    public void Tasks_run_phase_by_phase_from_the_environment_and_write_what_one_process_writes()
    {
        var corpus = DuplicateRichCorpus();
        var overlay = Path.Combine(_tmp, "sample.toml");
        File.WriteAllText(overlay, "[filters.word-count]\nmin_words = 20\n[filters.perplexity]\nmodels = { zh = \"recipes/data/models/zh.arpa\", en = \"recipes/data/models/en.arpa\" }\n");
        string[] common = ["data", "run", "recipes/pipelines/ziya2.toml", "-c", overlay, "--input", corpus, "--pipeline", "dp,as,cd"];
        var output = Path.Combine(_tmp, "out");
        var (code, stdout, err) = CliRunner.Run([.. common, "--output", output]);
        Assert.True(code == 0, err + stdout);
        Directory.Move(output, output + "-local");   // rejected records name their input files, so compare at the same path

        // Kubernetes-style: the index from JOB_COMPLETION_INDEX, the count from --tasks; phases in the order --dry-run lists.
        (code, stdout, err) = CliRunner.Run([.. common, "--output", output, "--dry-run"]);
        Assert.True(code == 0, err);
        Assert.Contains("pipeline cd → ", stdout);
        var phases = stdout.Split('\n').Where(l => l.StartsWith("pipeline ", StringComparison.Ordinal))
            .SelectMany(l => l[(l.IndexOf("phases ", StringComparison.Ordinal) + 7)..].Trim().Split(", ").Select(ph => (Pipeline: l.Split(' ')[1], Phase: ph))).ToList();
        Assert.Equal(["dp/apply", "dp/finish", "as/observe:perplexity", "as/decide:perplexity", "as/apply", "as/finish",
                      "cd/observe:dedup", "cd/decide:dedup@url", "cd/decide:dedup@exact", "cd/decide:dedup@near", "cd/decide:dedup@cluster", "cd/apply", "cd/finish"],
            phases.Select(p => $"{p.Pipeline}/{p.Phase}"));
        // A share of the files needs its index: without one (and no scheduler's variable) the worker refuses.
        (code, _, err) = CliRunner.Run([.. common, "--output", output, "--tasks", "3", "--phase", "dp/apply"]);
        Assert.Equal(2, code);
        Assert.Contains("which of the 3 tasks is this?", err);
        foreach (var (pipeline, phase) in phases)
        {
            // Shards split over 3 tasks; dedup's url, exact and near rounds over its 4 partitions (ziya2.toml); the rest once.
            int tasks = phase.StartsWith("observe", StringComparison.Ordinal) || phase == "apply" ? 3 : phase.Contains('@') && !phase.EndsWith("@cluster", StringComparison.Ordinal) ? 4 : 1;
            foreach (var index in Enumerable.Range(0, tasks).Reverse())
            {
                (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--tasks", tasks.ToString(), "--phase", $"{pipeline}/{phase}"],
                    CliRunner.RepoRoot, new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = index.ToString() });
                Assert.True(code == 0, $"{pipeline}/{phase} task {index}: {err}{stdout}");
                Assert.Contains($"task {index}/{tasks} done", stdout);
            }
            if (phase == "decide:dedup@exact")
            {
                // A round whose partition tasks are counted wrong is refused, saying how many there are.
                (code, _, err) = CliRunner.Run([.. common, "--output", output, "--task", "0/3", "--phase", "cd/decide:dedup@near"]);
                Assert.Equal(2, code);
                Assert.Contains("has 4 partition(s)", err);
            }
            if (pipeline == "as" && phase == "apply")
            {
                // A phase whose predecessor is incomplete is refused with the missing tasks named.
                File.Delete(Path.Combine(output, "as", "_done", "part-4.jsonl-00000.jsonl.zst.json"));
                (code, _, err) = CliRunner.Run([.. common, "--output", output, "--task", "0/3", "--phase", "as/finish"]);
                Assert.Equal(1, code);
                Assert.Contains("part-4.jsonl-00000.jsonl.zst", err);
                (code, _, err) = CliRunner.Run([.. common, "--output", output, "--task", "1/3", "--phase", "as/apply"]);   // part-4 is shard 4: task 1 of 3
                Assert.True(code == 0, err);
            }
        }
        AssertSameOutput(output + "-local", output, ["dp", "as", "cd"]);
        (code, stdout, _) = CliRunner.Run(["data", "status", output]);
        Assert.Matches(@"cd\s+finished\s+shards 6/6\s+phases observe-dedup 3/3, decide-dedup@url 4/4, decide-dedup@exact 4/4, decide-dedup@near 4/4, decide-dedup@cluster 1/1, apply 3/3, finish 1/1", stdout);
    }

    [Fact]
    public void A_task_killed_while_writing_leaves_no_marker_and_running_it_again_writes_the_same_bytes()
    {
        var corpus = DuplicateRichCorpus();
        string[] common = ["data", "run", "recipes/pipelines/ziya2.toml", "--input", corpus, "--pipeline", "dp"];
        var output = Path.Combine(_tmp, "out");
        var (code, stdout, err) = CliRunner.Run([.. common, "--output", output]);
        Assert.True(code == 0, err + stdout);
        Directory.Move(output, output + "-local");

        // SIGKILL the apply task as soon as a shard is half-written (a .tmp file in kept/).
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--task", "0/1", "--phase", "dp/apply"])
            { WorkingDirectory = CliRunner.RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["CI"] = "true";
        var kept = Path.Combine(output, "dp", "kept");
        using (var worker = System.Diagnostics.Process.Start(psi)!)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!(Directory.Exists(kept) && Directory.EnumerateFiles(kept, "*.tmp").Any()) && !worker.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(5);
            Assert.False(worker.HasExited, "the task finished before it could be killed");
            worker.Kill();
            worker.WaitForExit();
        }
        var markers = Directory.Exists(Path.Combine(output, "dp", "_done")) ? Directory.GetFiles(Path.Combine(output, "dp", "_done"), "*.json").Length : 0;
        Assert.True(markers < 6, $"{markers} of 6 shards were marked done by a task killed mid-write");
        Assert.False(File.Exists(Path.Combine(output, "dp", "stats.json")));
        (code, _, err) = CliRunner.Run([.. common, "--output", output, "--task", "0/1", "--phase", "dp/finish"]);
        Assert.Equal(1, code);                                    // finishing now is refused, naming what is missing
        Assert.Contains("have no output", err);

        foreach (var phase in new[] { "dp/apply", "dp/finish" })
        {
            (code, stdout, err) = CliRunner.Run([.. common, "--output", output, "--task", "0/1", "--phase", phase]);
            Assert.True(code == 0, err + stdout);
        }
        AssertSameOutput(output + "-local", output, ["dp"]);
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));
    }

    /// <summary>Two recipe runs of the data factory kept the same documents (kept records carry no paths: equal bytes across run directories).</summary>
    static void AssertSameKept(string expectedRunDirectory, string actualRunDirectory)
    {
        foreach (var pipeline in new[] { "dp", "as", "rf", "cd" })
        {
            var (a, b) = (Path.Combine(expectedRunDirectory, "data", pipeline, "kept"), Path.Combine(actualRunDirectory, "data", pipeline, "kept"));
            Assert.Equal(Directory.GetFiles(a).Select(Path.GetFileName).Order(), Directory.GetFiles(b).Select(Path.GetFileName).Order());
            Assert.All(Directory.GetFiles(a), f => Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(b, Path.GetFileName(f)))));
        }
    }

    static void AssertSameOutput(string expected, string actual, IEnumerable<string> pipelines)
    {
        foreach (var pipeline in pipelines)
            foreach (var dir in new[] { "kept", "rejected" })
            {
                var a = Directory.GetFiles(Path.Combine(expected, pipeline, dir)).Order(StringComparer.Ordinal).ToList();
                var b = Directory.GetFiles(Path.Combine(actual, pipeline, dir)).Order(StringComparer.Ordinal).ToList();
                Assert.NotEmpty(a);
                Assert.Equal(a.Select(Path.GetFileName), b.Select(Path.GetFileName));
                Assert.All(a.Zip(b), p => Assert.True(File.ReadAllBytes(p.First).AsSpan().SequenceEqual(File.ReadAllBytes(p.Second)), $"{pipeline}/{dir}/{Path.GetFileName(p.First)} differs"));
            }
        foreach (var pipeline in pipelines)
        {
            JsonElement Stats(string root) => JsonDocument.Parse(File.ReadAllText(Path.Combine(root, pipeline, "stats.json"))).RootElement;
            Assert.Equal(Stats(expected).GetProperty("kept").GetInt64(), Stats(actual).GetProperty("kept").GetInt64());
            Assert.Equal(Stats(expected).GetProperty("rejected").GetInt64(), Stats(actual).GetProperty("rejected").GetInt64());
        }
    }

    [Fact]
    public void Kubernetes_manifests_are_indexed_jobs_in_phase_order_over_one_shared_volume()
    {
        var config = Path.Combine(_tmp, "k8s.toml");
        File.WriteAllText(config, $$"""
            [executor.k8s]
            tasks = 5
            parallelism = 2
            image = "registry.example/ziya2:1"
            volume_claim = "corpus"
            mount_path = "{{_tmp}}"
            """);
        var input = Path.Combine(_tmp, "in.jsonl");
        File.Copy(Path.Combine(CliRunner.RepoRoot, "recipes/data/tiny.jsonl"), input);
        var output = Path.Combine(_tmp, "out");
        string[] args = ["data", "run", "recipes/pipelines/ziya2.toml", "-c", config, "--input", input, "--output", output, "--pipeline", "dp,cd", "--executor", "k8s"];
        var (code, stdout, err) = CliRunner.Run(args);
        // The pipeline file lies outside the mounted volume: refused, naming it.
        Assert.Equal(2, code);
        Assert.Contains("outside it", err);
        Assert.Contains("ziya2.toml", err);

        var pipelineFile = Path.Combine(_tmp, "ziya2.toml");
        File.Copy(Path.Combine(CliRunner.RepoRoot, "recipes/pipelines/ziya2.toml"), pipelineFile);
        args[2] = pipelineFile;
        (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 0, err + stdout);
        var files = Directory.GetFiles(Path.Combine(output, "_k8s"), "*.json").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["00-dp-apply", "01-dp-finish", "02-cd-observe-dedup", "03-cd-decide-dedup-url", "04-cd-decide-dedup-exact", "05-cd-decide-dedup-near",
                      "06-cd-decide-dedup-cluster", "07-cd-apply", "08-cd-finish"], files.Select(Path.GetFileNameWithoutExtension));
        var names = new List<string>();
        foreach (var file in files)
        {
            var job = JsonNode.Parse(File.ReadAllText(file))!;
            Assert.Equal(("batch/v1", "Job"), (job["apiVersion"]!.GetValue<string>(), job["kind"]!.GetValue<string>()));
            var name = job["metadata"]!["name"]!.GetValue<string>();
            Assert.Matches("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", name);
            names.Add(name);
            var spec = job["spec"]!;
            // Shards over the 5 configured tasks; dedup's rounds over its 4 partitions (its cluster round is one task).
            int tasks = file.Contains("apply") || file.Contains("observe") ? 5 : file.Contains("-url") || file.Contains("-exact") || file.Contains("-near") ? 4 : 1;
            Assert.Equal("Indexed", spec["completionMode"]!.GetValue<string>());
            Assert.Equal((tasks, Math.Min(tasks, 2)), (spec["completions"]!.GetValue<int>(), spec["parallelism"]!.GetValue<int>()));
            var pod = spec["template"]!["spec"]!;
            Assert.Equal("Never", pod["restartPolicy"]!.GetValue<string>());
            Assert.Equal("corpus", pod["volumes"]![0]!["persistentVolumeClaim"]!["claimName"]!.GetValue<string>());
            var container = pod["containers"]![0]!;
            Assert.Equal(_tmp, container["volumeMounts"]![0]!["mountPath"]!.GetValue<string>());
            var command = container["command"]!.AsArray().Select(c => c!.GetValue<string>()).ToList();
            Assert.Equal(["ziya2", "data", "run", pipelineFile], command.Take(4));
            Assert.Equal(["--tasks", tasks.ToString(), "--phase"], command[^4..^1]);
        }
        var run = File.ReadAllLines(Path.Combine(output, "_k8s", "run.sh"));
        Assert.Equal(files.Select(f => $"run_job {Path.GetFileName(f)} {names[files.IndexOf(f)]}"), run.Where(l => l.StartsWith("run_job ", StringComparison.Ordinal)));
        var (syntax, _, syntaxErr) = CliRunner.Shell($"bash -n {Path.Combine(output, "_k8s", "run.sh")}");
        Assert.True(syntax == 0, syntaxErr);
    }

    /// <summary>
    /// A stand-in for kubectl, first on the PATH it returns: <c>apply -f</c> runs an Indexed Job's pods one after another
    /// (each with its JOB_COMPLETION_INDEX, in the manifest's working directory) and records Complete or Failed;
    /// <c>get job</c> prints that condition, <c>delete job</c> forgets it — what run.sh asks of a cluster.
    /// </summary>
    string FakeKubectlPath()
    {
        var bin = Path.Combine(_tmp, "bin");
        Directory.CreateDirectory(bin);
        var kubectl = Path.Combine(bin, "kubectl");
        File.WriteAllText(kubectl, """
            #!/bin/bash
            state="$(dirname "$0")/jobs"; mkdir -p "$state"
            case "$1" in
              get) cat "$state/$3" 2>/dev/null; exit 0 ;;
              delete) rm -f "$state/$3"; exit 0 ;;
              apply) exec python3 - "$3" "$state" <<'PY'
            import json, os, subprocess, sys
            job = json.load(open(sys.argv[1]))
            spec = job["spec"]; container = spec["template"]["spec"]["containers"][0]
            assert spec["completionMode"] == "Indexed" and spec["parallelism"] <= spec["completions"]
            ok = all(subprocess.run(container["command"], cwd=container["workingDir"], env=dict(os.environ, JOB_COMPLETION_INDEX=str(i))).returncode == 0
                     for i in range(spec["completions"]))
            open(os.path.join(sys.argv[2], job["metadata"]["name"]), "w").write("Complete" if ok else "Failed")
            PY
              ;;
              *) echo "fake kubectl: $*" >&2; exit 2 ;;
            esac
            """);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(kubectl, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
    }

    string KubernetesConfig(int tasks) => $$"""
        [executor.k8s]
        tasks = {{tasks}}
        image = "registry.example/ziya2:1"
        volume_claim = "corpus"
        mount_path = "/"
        command = "dotnet {{CliRunner.CliAssembly}}"
        """;

    [Fact]
    public void Kubernetes_jobs_applied_and_waited_for_write_what_one_process_writes()
    {
        var corpus = DuplicateRichCorpus();
        var config = Path.Combine(_tmp, "k8s.toml");
        File.WriteAllText(config, KubernetesConfig(tasks: 2));
        string[] common = ["data", "run", "recipes/pipelines/ziya2.toml", "-c", config, "--input", corpus, "--pipeline", "cd"];
        var output = Path.Combine(_tmp, "out");
        var (code, stdout, err) = CliRunner.Run([.. common, "--output", output]);
        Assert.True(code == 0, err + stdout);
        Directory.Move(output, output + "-local");

        // Without kubectl nothing is applied, and the error says where the manifests are.
        (code, _, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--executor", "k8s", "--wait"], CliRunner.RepoRoot,
            new Dictionary<string, string> { ["PATH"] = string.Join(Path.PathSeparator, Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator)
                .Where(d => !File.Exists(Path.Combine(d, "kubectl")))) });
        Assert.Equal(2, code);
        Assert.Contains("kubectl is not on the PATH", err);
        Assert.False(Directory.Exists(Path.Combine(output, "cd", "kept")));

        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--executor", "k8s", "--wait"], CliRunner.RepoRoot,
            new Dictionary<string, string> { ["PATH"] = FakeKubectlPath() });
        Assert.True(code == 0, err + stdout);
        Assert.Contains("== cd", stdout);
        AssertSameOutput(output + "-local", output, ["cd"]);
        Assert.Equal(7, Directory.GetFiles(Path.Combine(_tmp, "bin", "jobs")).Length);   // observe, url, exact, near, cluster, apply, finish
        Assert.Single(Directory.GetFiles(Path.Combine(output, "cd", "_tasks"), "decide-dedup@cluster.*"));
        Assert.Equal(4, Directory.GetFiles(Path.Combine(output, "cd", "_tasks"), "decide-dedup@near.*").Length);

        // Again: run.sh finds every Job complete and applies nothing.
        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--executor", "k8s", "--wait"], CliRunner.RepoRoot,
            new Dictionary<string, string> { ["PATH"] = FakeKubectlPath() });
        Assert.True(code == 0, err + stdout);
        Assert.Equal(7, System.Text.RegularExpressions.Regex.Matches(err + stdout, ": complete").Count);
    }

    [Fact]
    public void A_recipe_runs_its_factory_as_kubernetes_jobs_and_keeps_what_a_local_run_keeps()
    {
        var corpus = DuplicateRichCorpus();
        var err = RunFactoryRecipeLocallyAndOnCluster(corpus, "k8s", KubernetesConfig(tasks: 2), new Dictionary<string, string> { ["PATH"] = FakeKubectlPath() });
        Assert.Matches(@"Data cd: applying 7 Kubernetes Job\(s\)", err);
    }

    /// <summary>
    /// <c>recipes/data-factory.csx</c> over <paramref name="corpus"/> twice: locally, and with <c>[factory] executor =
    /// <paramref name="executor"/></c> (settings <paramref name="executorSettings"/>, environment <paramref name="environment"/>);
    /// both pass the gate and keep the same bytes. Returns the cluster run's standard error.
    /// </summary>
    string RunFactoryRecipeLocallyAndOnCluster(string corpus, string executor, string executorSettings, IReadOnlyDictionary<string, string> environment)
    {
        var recipeConfig = Path.Combine(_tmp, "recipe.toml");
        File.WriteAllText(recipeConfig, $$"""
            include = ["{{Path.Combine(CliRunner.RepoRoot, "recipes/configs/data-factory.toml")}}"]
            [factory]
            inputs = ["{{corpus}}"]
            executor = "{{executor}}"
            {{executorSettings}}
            """);
        var (local, cluster) = (Path.Combine(_tmp, "recipe-local"), Path.Combine(_tmp, "recipe-" + executor));
        var (code, stdout, err) = CliRunner.Run(["run", "recipes/data-factory.csx", "-c", recipeConfig, "--set", "factory.executor=\"local\"", "--run-dir", local]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Gate passed", err);
        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, "run", "recipes/data-factory.csx", "-c", recipeConfig, "--run-dir", cluster], CliRunner.RepoRoot, environment);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Gate passed", err);
        AssertSameKept(local, cluster);
        return err;
    }

    [SkippableFact]
    public void Slurm_job_arrays_write_what_one_process_writes_a_resubmission_redoes_only_what_was_lost_and_recipes_run_there_too()
    {
        var missing = SingleNodeSlurm.Missing();
        if (Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_SLURM") == "1") Assert.True(missing is null, missing);
        Skip.If(missing is not null, missing);
        using var slurm = new SingleNodeSlurm();

        var corpus = DuplicateRichCorpus();
        var config = Path.Combine(_tmp, "cluster.toml");
        File.WriteAllText(config, """
            [filters.word-count]
            min_words = 20
            [filters.perplexity]
            models = { zh = "recipes/data/models/zh.arpa", en = "recipes/data/models/en.arpa" }
            [executor.slurm]
            tasks = 4
            max_parallel = 2
            """);
        string[] common = ["data", "run", "recipes/pipelines/ziya2.toml", "-c", config, "--input", corpus];
        var output = Path.Combine(_tmp, "out");
        var (code, stdout, err) = CliRunner.Run([.. common, "--output", output]);
        Assert.True(code == 0, err + stdout);
        Directory.Move(output, output + "-local");

        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--executor", "slurm"], CliRunner.RepoRoot, slurm.Environment);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("submitted 15 job(s)", stdout);   // phases: dp 2, as 4, rf 2, cd 7 (observe, 4 decide rounds, apply, finish)
        var script = File.ReadAllText(Path.Combine(output, "_slurm", "ziya2-cd-observe-dedup.sbatch"));
        Assert.Contains("#SBATCH --array=0-3%2", script);
        var round = File.ReadAllText(Path.Combine(output, "_slurm", "ziya2-cd-decide-dedup-near.sbatch"));   // an array of the round's 4 partitions
        Assert.Contains("#SBATCH --array=0-3%2", round);
        Assert.Contains("--task \"$SLURM_ARRAY_TASK_ID\"/4 --phase cd/decide:dedup@near", round);
        Assert.DoesNotContain("--array", File.ReadAllText(Path.Combine(output, "_slurm", "ziya2-cd-decide-dedup-cluster.sbatch")));
        Assert.True(slurm.WaitForEmptyQueue(TimeSpan.FromMinutes(5)), "jobs still queued after 5 minutes:\n" + slurm.Run("squeue").Out + slurm.Log());
        Assert.True(File.Exists(Path.Combine(output, "cd", "stats.json")), "the chain did not finish:\n" +
            string.Join("\n", Directory.GetFiles(Path.Combine(output, "_slurm", "logs")).Select(f => $"--- {Path.GetFileName(f)}\n{File.ReadAllText(f)}")));
        AssertSameOutput(output + "-local", output, ["dp", "as", "rf", "cd"]);

        // What a task killed mid-write leaves: no marker, a half-written temporary file. Submitting the same command
        // again redoes that shard (the other tasks find their work done) and the bytes come out the same.
        var marker = Directory.GetFiles(Path.Combine(output, "rf", "_done")).First();
        var shard = Path.GetFileName(marker)[..^".json".Length];
        File.Delete(marker);
        File.WriteAllText(Path.Combine(output, "rf", "kept", shard + "-00000.jsonl.zst.tmp"), "half");
        foreach (var p in new[] { "rf", "cd" }) File.Delete(Path.Combine(output, p, "stats.json"));
        (code, stdout, err) = CliRunner.Program("dotnet", [CliRunner.CliAssembly, .. common, "--output", output, "--executor", "slurm", "--wait"], CliRunner.RepoRoot, slurm.Environment);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("== cd", stdout);                       // --wait: the summaries once the jobs are done
        Assert.True(slurm.WaitForEmptyQueue(TimeSpan.FromMinutes(1)), "resubmitted jobs still queued:\n" + slurm.Run("squeue").Out);
        Assert.True(File.Exists(Path.Combine(output, "cd", "stats.json")));
        AssertSameOutput(output + "-local", output, ["dp", "as", "rf", "cd"]);
        Assert.Empty(Directory.GetFiles(output, "*.tmp", SearchOption.AllDirectories));

        // The recipe: the same config but for [factory] executor submits each pipeline's phases and waits for them.
        err = RunFactoryRecipeLocallyAndOnCluster(corpus, "slurm", "[executor.slurm]\ntasks = 3", slurm.Environment);
        Assert.Matches(@"Data cd: 7 Slurm job\(s\) submitted", err);
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

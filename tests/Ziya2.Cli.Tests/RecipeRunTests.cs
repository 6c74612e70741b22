using System.Text.Json;

namespace Ziya2.Cli.Tests;

/// <summary>
/// The regime recipe through the CLI with both shipped configs: the tiny default end to end, the paper's config planned
/// (--dry-run) and run end to end at toy size, so no branch of the recipe is only planned; --resume and --dry-run.
/// </summary>
public sealed class RecipeRunTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-recipes-").FullName;

    // CI size: every stage shorter, fewer benchmark items; the full size is the README command (docs/recipes.md).
    internal static readonly string[] Reduced =
    [
        "--set", "regime.base.steps=30", "--set", "regime.stages.general.steps=40", "--set", "regime.stages.supervised.steps=30",
        "--set", "regime.stages.math.steps=30", "--set", "regime.benchmarks.towns.limit=4", "--set", "regime.benchmarks.maths.limit=4",
        "--set", "trainer.checkpoint_every=20", "--set", "trainer.log_every=5", "--set", "regime.evaluate_every_tokens=10240",
    ];

    [Fact]
    public void Tiny_config_runs_the_whole_regime_writes_the_report_and_a_second_run_finds_it_complete()
    {
        var run = Path.Combine(_tmp, "tiny");
        string[] args = ["run", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "--run-dir", run, .. Reduced];
        var (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Gate passed", err);
        // Counted before the factory's T→S: the sample's traditional characters are added too (§3.2: "simplified and traditional").
        Assert.Matches(@"Tokenizer: \d+ Chinese characters added \(\d+ simplified or shared, [1-9]\d* traditional\)", err);
        // Headless progress: every stage announces itself when it starts and sums up when it ends.
        foreach (var stage in new[] { "base", "general", "supervised", "math" })
        {
            Assert.Matches($@"Stage {stage}: 0/\d+ \(0%\)", err);
            Assert.Matches($@"Stage {stage}: \d+ steps done; loss", err);
        }
        // The factory in the paper's order (§2.1): preprocessing → automatic scoring → rules → content dedup, a pipeline each.
        var ends = new[] { "dp", "as", "rf", "cd" }.Select(p => System.Text.RegularExpressions.Regex.Match(err, $@"Data web/{p}: [\d,]+ of [\d,]+ documents kept")).ToList();
        Assert.All(ends, m => Assert.True(m.Success, err));
        Assert.Equal(ends.Select(m => m.Index).Order(), ends.Select(m => m.Index));

        // Every stage trained, its loss fell (first vs last logged value), and it left a final checkpoint.
        var metrics = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var stage in new[] { "base", "general", "supervised", "math" })
        {
            var losses = metrics.Where(m => m.GetProperty("event").GetString() == stage).Select(m => m.GetProperty("loss").GetDouble()).ToList();
            Assert.True(losses.Count >= 5, $"{stage}: {losses.Count} records");
            Assert.True(losses[^1] < losses[0], $"{stage}: loss {losses[0]:F3} → {losses[^1]:F3}");
            Assert.True(File.Exists(Path.Combine(run, "checkpoints", $"{stage}-final", "state.json")), stage);
        }
        foreach (var stage in new[] { "general", "supervised", "math" })
            Assert.True(File.Exists(Path.Combine(run, "exports", stage, "config.json")), $"HF export of {stage}");
        // Figure 6's curves: the starting model, every 10 steps (10,240 tokens) inside a stage and each stage's end —
        // general 40 steps (10, 20, 30, end), supervised and math 30 (10, 20, end): 3 or more points per stage.
        var evaluations = metrics.Where(m => m.GetProperty("event").GetString() == "eval" && m.TryGetProperty("heldout_general-zh", out _))
            .Select(m => m.GetProperty("step").GetInt64()).Distinct().ToList();
        Assert.Equal([0L, 10240, 20480, 30720, 40960, 51200, 61440, 71680, 81920, 92160, 102400], evaluations);
        Assert.True(File.Exists(Path.Combine(run, "tokenizer", "tokenizer.model")));
        Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*"));

        // The report: one offline page, PNG charts, the funnel, tokenizer gain, per-stage evaluation and where things are.
        var html = File.ReadAllText(Path.Combine(run, "report", "report.html"));
        foreach (var part in new[] { "Data funnel (web)", "Tokenizer extension", "Training loss per stage", "Evaluation after each stage", "Benchmarks during training", "Held-out loss during training", "heldout_general-zh", "towns", "maths_answer_loss", "Scaling-law samples", "checkpoints", "Data gate rounds (web; evaluation.auto_tighten)" })
            Assert.Contains(part, html);
        // Issue 21: the planner's prediction beside the measured answer loss for each stage's mixture and benchmark.
        var planner = html[html.IndexOf("Mixture planner: predicted vs measured", StringComparison.Ordinal)..];
        planner = planner[..planner.IndexOf("</table>", StringComparison.Ordinal)];
        Assert.Equal(1 + 3 * 2, System.Text.RegularExpressions.Regex.Matches(planner, "<tr>").Count);
        Assert.Matches(@"<td>math</td><td>maths</td><td>[\d,]+</td><td>\d+\.\d{3}</td><td>\d+\.\d{3}</td>", planner);
        Assert.True(Directory.GetFiles(Path.Combine(run, "report", "charts"), "*.png").Length >= 4);
        Assert.Contains("\"status\": \"completed\"", File.ReadAllText(Path.Combine(run, "run.json")));

        // The report: tables scroll inside their section, the model's real size is explained beside the plan's, paths are
        // relative to the run directory and said once.
        Assert.Contains("<div class=\"wide\"><table>", html);
        Assert.Matches(@"[\d,]+ parameters with [\d,]+ vocabulary rows \(the plan above counted [\d,]+ for the [\d,]+ rows it assumed", html);
        Assert.Contains("Paths below are relative to the run directory", html);

        // Every directory the run prints as a checkpoint or an export opens with the model commands, its tokenizer beside it.
        foreach (var dir in new[] { Path.Combine(run, "checkpoints", "math-final"), Path.Combine(run, "exports", "math") })
        {
            var (infoCode, info, infoErr) = CliRunner.Run(["model", "info", dir]);
            Assert.True(infoCode == 0, infoErr + info);
            var (genCode, generated, genErr) = CliRunner.Run(["model", "generate", dir, "--text", "The town of", "--max-new-tokens", "4"]);
            Assert.True(genCode == 0, genErr + generated);
        }
        Assert.True(File.Exists(Path.Combine(run, "exports", "math", "tokenizer.model")), "an export carries the run's tokenizer");
        var broken = Path.Combine(_tmp, "broken-export");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "config.json"), "{ \"model_type\": ");
        var (brokenCode, _, brokenErr) = CliRunner.Run(["model", "info", broken]);
        Assert.Equal(2, brokenCode);
        Assert.Contains(Path.Combine(broken, "config.json") + ": not a readable config.json", brokenErr);

        // The same command again: the run is complete, so the answer is that, and nothing in the directory changes.
        var metricsBefore = File.ReadAllBytes(Path.Combine(run, "metrics.jsonl"));
        var reportWritten = File.GetLastWriteTimeUtc(Path.Combine(run, "report", "report.html"));
        (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 0, err + stdout);
        Assert.Contains($"{run} holds this run, completed ", err);
        Assert.Contains("nothing to do (--force runs the recipe again there)", err);
        Assert.Equal(metricsBefore, File.ReadAllBytes(Path.Combine(run, "metrics.jsonl")));
        Assert.Equal(reportWritten, File.GetLastWriteTimeUtc(Path.Combine(run, "report", "report.html")));
        // --force runs the recipe again: every step resumes to "done" and the report is rewritten.
        (code, stdout, err) = CliRunner.Run([.. args, "--force"]);
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(err, "already complete").Count);
        Assert.Contains("2 already done", stdout);
        Assert.NotEqual(reportWritten, File.GetLastWriteTimeUtc(Path.Combine(run, "report", "report.html")));
    }

    [Fact]
    public void The_13b_config_validates_and_dry_runs_its_plan_and_launch_script_here_without_touching_a_gpu()
    {
        var (code, stdout, err) = CliRunner.Run(["validate", "recipes/ziya2.csx", "-c", "recipes/configs/ziya2-13b.toml"]);
        Assert.True(code == 0, err + stdout);
        var planned = Path.Combine(_tmp, "13b-plan");
        (code, stdout, err) = CliRunner.Run(["run", "recipes/ziya2.csx", "-c", "recipes/configs/ziya2-13b.toml", "--dry-run", "--run-dir", planned]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Model: 13.", stdout);
        Assert.Contains("vocab 39,424", stdout);
        // 80 replicas × 4,096 × 13 = 4,259,840 tokens per step (the nearest layout at or above 4M); 650e9 of them, rounded up.
        Assert.Contains("Batch: 4,259,840 tokens/step = 80 data-parallel × 1 × 4096 × 13 accumulation (global batch asked: 4,194,304)", stdout);
        Assert.Matches(@"stage1\s+650\.0B\s+152,588 documents", stdout);
        Assert.Contains("earlier stages' replay 1:1", stdout);
        Assert.Contains("0.1B from each earlier stage", stdout);
        // BF16 weights against sharded FP32 masters: the whole 13B model and its gradients on each GPU, the rest 1/80.
        Assert.Matches(@"Memory per GPU \(ZeRO-2, activation checkpointing on, BF16 weights\): weights 24\.\d", stdout);
        Assert.Matches(@"By ZeRO stage over 80 data-parallel ranks: ZeRO-0 \d+\.\d GiB \(does not fit\), ZeRO-1 \d+\.\d GiB, ZeRO-2 \d+\.\d GiB", stdout);
        Assert.DoesNotContain("DOES NOT FIT", stdout);
        Assert.Matches(@"total\s+709\.9B", stdout);
        Assert.False(Directory.Exists(Path.Combine(CliRunner.RepoRoot, "runs", "ziya2-ziya2-13b")), "the plan went where --run-dir said");

        // The launch plan: 10 nodes × 8 GPUs, srun one rank per GPU over PMI, the job ended when a rank dies, the recipe
        // again with the same config in this run directory — which now holds the resolved config, status "planned".
        var script = File.ReadAllText(Path.Combine(planned, "launch.sbatch"));
        Assert.Contains($"Launch script: {Path.Combine(planned, "launch.sbatch")}", stdout);
        foreach (var line in new[] { "#SBATCH --nodes=10", "#SBATCH --ntasks-per-node=8", "#SBATCH --gpus-per-node=8", "#SBATCH --cpus-per-task=8", "#SBATCH --time=14-00:00:00",
                                     "#SBATCH --signal=TERM@300", "#SBATCH --exclusive", $"#SBATCH --output={planned}/logs/slurm-%j.out", "export NCCL_DEBUG=WARN", "export OMP_NUM_THREADS=8" })
            Assert.Contains(line, script);
        Assert.Matches(@"srun --mpi=pmi2 --kill-on-bad-exit=1 --ntasks-per-node=8 .*ziya2\.dll run .*/recipes/ziya2\.csx -c .*/recipes/configs/ziya2-13b\.toml --run-dir " + System.Text.RegularExpressions.Regex.Escape(planned), script);
        Assert.DoesNotContain(" --dry-run", script.Split("\nsrun ")[1]);
        Assert.Contains("\"status\": \"planned\"", File.ReadAllText(Path.Combine(planned, "run.json")));
        Assert.True(File.Exists(Path.Combine(planned, "config.toml")));
        var bash = CliRunner.Shell($"bash -n '{Path.Combine(planned, "launch.sbatch")}'");
        Assert.True(bash.Code == 0, bash.Err);
        // Submitting the plan with a changed config is refused in that directory, before anything runs.
        (code, _, err) = CliRunner.Run(["run", "recipes/ziya2.csx", "-c", "recipes/configs/ziya2-13b.toml", "--set", "trainer.log_every=11", "--run-dir", planned]);
        Assert.Equal(2, code);
        Assert.Contains("belongs to a different invocation", err);
        // Started alone, an 80-GPU plan says how to launch it instead of training on one device.
        (code, _, err) = CliRunner.Run(["run", "recipes/ziya2.csx", "-c", "recipes/configs/ziya2-13b.toml", "--run-dir", Path.Combine(_tmp, "13b-alone")]);
        Assert.Equal(1, code);
        Assert.Contains("the plan needs 80 GPUs, and this process was started alone", err);

        // The tiny config's plan: its steps as configured, nothing trained.
        (code, stdout, err) = CliRunner.Run(["run", "recipes/ziya2.csx", "-c", "recipes/configs/tiny.toml", "--dry-run"]);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Batch: 1,024 tokens/step = 1 data-parallel × 8 × 128 × 1 accumulation", stdout);
        Assert.Matches(@"general\s+204,800\s+200 documents", stdout);
        Assert.Matches(@"math\s+122,880\s+120 samples\s+.*math \+ 33 % from each earlier stage", stdout);
        Assert.DoesNotContain("Stage base", err);
    }

    [Fact]
    public void The_13b_config_runs_end_to_end_at_toy_size_from_a_base_checkpoint()
    {
        var checkpoint = Path.Combine(_tmp, "Llama-2-toy-hf");
        var (code, stdout, err) = CliRunner.Run(["model", "init", "--set", "preset=tiny", "--set", "vocab_size=1200", "--set", "hidden_size=128", "--set", "intermediate_size=352",
            "--set", "num_hidden_layers=4", "--set", "num_attention_heads=4", "--set", "num_key_value_heads=2", "--set", "max_position_embeddings=512",
            "--tokenizer", "data/samples/tokenizer/base.model", "--out", checkpoint]);
        Assert.True(code == 0, err + stdout);

        var run = Path.Combine(_tmp, "13b-toy");
        (code, stdout, err) = CliRunner.Run(["run", "recipes/ziya2.csx", "-c", "recipes/configs/ziya2-13b.toml", "-c", "recipes/configs/ziya2-13b-at-toy-size.toml",
            "--set", $"regime.base.checkpoint={checkpoint}", "--set", "regime.stages.stage1.tokens=40960", "--set", "regime.stages.stage3.replay_tokens_each=2048",
            "--set", $"filters.dedup.index={Path.Combine(_tmp, "dedup-index")}", "--set", $"filters.code-dedup.index={Path.Combine(_tmp, "code-dedup-index")}", "--run-dir", run]);
        Assert.True(code == 0, err + stdout);
        // The paper's stage arithmetic at this size: 40 steps of 1,024 tokens, then (20k instruct) × 2, then 5k + 2 × 2,048.
        Assert.Matches(@"stage1\s+40,960\s+40 documents", stdout);
        Assert.Matches(@"stage2\s+40,000\s+40 samples", stdout);
        Assert.Matches(@"stage3\s+9,096\s+9 samples", stdout);
        Assert.DoesNotContain("Stage base", err);                                   // LLaMA2 is the base: no base stage
        foreach (var stage in new[] { "stage1", "stage2", "stage3" })
        {
            Assert.True(File.Exists(Path.Combine(run, "checkpoints", $"{stage}-final", "state.json")), stage);
            Assert.Matches($@"Stage {stage}: \d+ steps done; loss", err);
        }
        Assert.True(Directory.EnumerateFiles(Path.Combine(_tmp, "dedup-index"), "*", SearchOption.AllDirectories).Any(), "the persistent dedup index was written");
        var html = File.ReadAllText(Path.Combine(run, "report", "report.html"));
        // Code went through the code path: six files kept and fenced with their language; minified, generated,
        // licence-only and ASCII-art files dropped with their reasons; the fork's copy removed by dedup.
        var codeStats = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", "code", "code-rf", "stats.json"))).RootElement;
        var codeSteps = codeStats.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s);
        Assert.Equal(["read", "code-generated", "code-line-length", "code-alphanumeric", "code-comment-only", "format-code"], codeSteps.Keys);
        Assert.Equal((11, 7), (codeStats.GetProperty("input").GetInt32(), codeStats.GetProperty("kept").GetInt32()));
        Assert.Equal(7, codeSteps["format-code"].GetProperty("rewritten").GetInt32());
        Assert.Equal(6, JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "data", "code", "code-cd", "stats.json"))).RootElement.GetProperty("kept").GetInt32());
        Assert.DoesNotContain("Data code/dp", err);                                  // no prose language ID or perplexity on code
        foreach (var part in new[] { "Data funnel (web-en)", "Data funnel (web-zh)", "Data funnel (code)", "Table 3", "paper: Ziya2-13B", "heldout_metamath", "mmlu_answer_loss" })
            Assert.Contains(part, html);
        Assert.DoesNotContain("Scaling-law samples", html);                          // off in the paper's config
    }

    const string CounterRecipe = """
        var marker = Path.Combine(RunDirectory, "count");
        var n = File.Exists(marker) ? int.Parse(File.ReadAllText(marker)) : 0;
        if (DryRun) { Console.WriteLine($"plan only in {RunDirectory}"); return; }
        File.WriteAllText(marker, (n + 1).ToString());
        Log.LogInformation("invocation {N}", n + 1);
        """;

    [Fact]
    public void Resume_continues_the_latest_run_of_the_recipe_and_dry_run_leaves_nothing_behind()
    {
        File.WriteAllText(Path.Combine(_tmp, "counter.csx"), CounterRecipe);
        (int Code, string Out, string Err) Ziya2(string options) =>
            CliRunner.Shell($"cd '{_tmp}' && dotnet '{CliRunner.CliAssembly}' run counter.csx {options}");

        var (code, _, err) = Ziya2("--resume");
        Assert.Equal(2, code);
        Assert.Contains("--resume: no earlier run of counter.csx", err);

        Assert.Equal(0, Ziya2("").Code);
        Thread.Sleep(1100);                                   // run directories are named by the second
        Assert.Equal(0, Ziya2("").Code);
        var runs = Directory.GetDirectories(Path.Combine(_tmp, "runs", "counter")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(2, runs.Count);

        // --resume finds the newest run; it completed, so there is nothing to continue until --force asks for it again.
        (code, _, err) = Ziya2("--resume");
        Assert.True(code == 0, err);
        Assert.Contains($"{runs[1]} holds this run, completed", err);
        Assert.Equal("1", File.ReadAllText(Path.Combine(runs[1], "count")));
        (code, _, err) = Ziya2("--resume --force");
        Assert.True(code == 0, err);
        Assert.Contains("invocation 2", err);
        Assert.Equal("2", File.ReadAllText(Path.Combine(runs[1], "count")));   // the newest run continued
        Assert.Equal("1", File.ReadAllText(Path.Combine(runs[0], "count")));

        (code, _, err) = Ziya2($"--resume --force --run-dir '{runs[0]}'");
        Assert.True(code == 0, err);
        Assert.Equal("2", File.ReadAllText(Path.Combine(runs[0], "count")));
        Assert.Equal(2, Ziya2($"--resume --run-dir '{Path.Combine(_tmp, "nowhere")}'").Code);

        var (dryCode, dryOut, dryErr) = Ziya2("--dry-run");
        Assert.True(dryCode == 0, dryErr);
        Assert.Contains("plan only in", dryOut);
        var scratch = dryOut.Split("plan only in ")[1].Trim();
        Assert.False(Directory.Exists(scratch), "the dry run's scratch directory is removed");
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(_tmp, "runs", "counter")).Length);
        Assert.Equal(2, Ziya2("--dry-run --resume").Code);
    }

    [Fact]
    public void Data_tokenize_builds_a_token_directory_once_and_names_unreadable_input()
    {
        var output = Path.Combine(_tmp, "tokens");
        string[] args = ["data", "tokenize", "--tokenizer", "data/samples/tokenizer/base.model", "--input", "recipes/data/tiny.jsonl", "--output", output];
        var (code, stdout, err) = CliRunner.Run(args);
        Assert.True(code == 0, err);
        var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "manifest.json"))).RootElement;
        int lines = File.ReadLines(Path.Combine(CliRunner.RepoRoot, "recipes/data/tiny.jsonl")).Count(l => l.Trim().Length > 0);
        Assert.Equal(lines, manifest.GetProperty("documents").GetInt32());
        Assert.Equal(1200, manifest.GetProperty("vocab_size").GetInt32());
        Assert.Equal(manifest.GetProperty("tokens").GetInt64() * 4, new FileInfo(Path.Combine(output, "tokens.bin")).Length);
        Assert.Contains($"{lines} documents", stdout);
        var written = File.GetLastWriteTimeUtc(Path.Combine(output, "tokens.bin"));
        Assert.Equal(0, CliRunner.Run(args).Code);                      // complete: opened, not rebuilt
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(output, "tokens.bin")));

        (code, _, err) = CliRunner.Run(["data", "tokenize", "--tokenizer", "data/samples/tokenizer/base.model", "--input", "recipes/data/tiny.jsonl",
            "--output", Path.Combine(_tmp, "wrong-field"), "--text-field", "body"]);
        Assert.Equal(2, code);
        Assert.Contains($"none of the {lines} records could be read", err);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

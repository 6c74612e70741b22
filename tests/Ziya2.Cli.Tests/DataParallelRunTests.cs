using System.Diagnostics;
using System.Text.Json;

namespace Ziya2.Cli.Tests;

/// <summary>
/// <c>ziya2 run</c> as the ranks of an MPICH <c>mpiexec</c> job: the regime recipe unchanged on two ranks, and the job's
/// rules — one run directory chosen by rank 0, rank 0 first in preparation, a failure or an interruption on one rank
/// stopping every rank, never a hang.
/// </summary>
public sealed class DataParallelRunTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-dp-run-").FullName;

    static void RequireMpi()
    {
        var missing = File.Exists("/usr/bin/mpiexec.hydra") ? null : "MPICH's mpiexec is not installed (apt-get install mpich; .ci/run does)";
        if (Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_MPI") == "1") Assert.True(missing is null, missing);
        Skip.If(missing is not null, missing);
    }

    /// <summary><c>mpiexec -n RANKS ziya2 …</c> in <paramref name="directory"/>, headless, killed (and failed) after <paramref name="limit"/>.</summary>
    static (int Code, string Out, string Err, TimeSpan Took) Mpiexec(int ranks, string directory, TimeSpan limit, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/mpiexec.hydra", ["-n", ranks.ToString(), "dotnet", CliRunner.CliAssembly, .. args])
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        psi.Environment["CI"] = "true";
        var clock = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout.Result, $"still running after {limit}: the job hangs\n" + stderr.Result, clock.Elapsed);
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    [SkippableFact]
    public void The_tiny_recipe_runs_unchanged_as_two_ranks_and_a_second_launch_finds_it_complete()
    {
        RequireMpi();
        var run = Path.Combine(_tmp, "tiny");
        string[] args = ["run", Path.Combine(CliRunner.RepoRoot, "recipes/ziya2.csx"), "-c", Path.Combine(CliRunner.RepoRoot, "recipes/configs/tiny.toml"), "--run-dir", run, .. RecipeRunTests.Reduced];
        var (code, stdout, err, _) = Mpiexec(2, CliRunner.RepoRoot, TimeSpan.FromMinutes(15), args);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("Data-parallel job: 2 ranks (mpiexec), 2 on this node; 1 thread(s) per rank", err);
        Assert.Contains("Batch: 2,048 tokens/step = 2 data-parallel × 8 × 128 × 1 accumulation", stdout);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(stdout, "Ziya2 tiny run plan"));   // rank 1's stdout is in its own file
        // Rank 0 ran the factory; rank 1 found every pipeline done (its log), and logged nothing on the console.
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(err, @"Data web/dp: [\d,]+ of [\d,]+ documents kept, \d+ rejected"));
        Assert.DoesNotContain("rank 1 of 2", err);
        var rank1Log = File.ReadAllText(Path.Combine(run, "logs", "ziya2.rank-00001.log"));
        Assert.Contains("Data factory web/dp", rank1Log);
        Assert.Contains("Stage math: trained, loss", rank1Log);                            // rank 1 evaluates nothing,
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"evaluation\s*$", System.Text.RegularExpressions.RegexOptions.Multiline), rank1Log);   // and says no empty "evaluation"
        var rank1 = File.ReadAllText(Path.Combine(run, "logs", "stdout.rank-00001.txt"));
        Assert.Contains("Ziya2 tiny run plan", rank1);
        Assert.Matches(@"2 shard\(s\), 2 already done", rank1);

        // One writer of everything written once: one record per logged step, one TensorBoard file, one report.
        var metrics = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var stage in new[] { "base", "general", "supervised", "math" })
        {
            var steps = metrics.Where(m => m.GetProperty("event").GetString() == stage).Select(m => m.GetProperty("step").GetInt64()).ToList();
            Assert.Equal(steps.Distinct().Count(), steps.Count);
            var losses = metrics.Where(m => m.GetProperty("event").GetString() == stage).Select(m => m.GetProperty("loss").GetDouble()).ToList();
            Assert.True(losses[^1] < losses[0], $"{stage}: loss {losses[0]:F3} → {losses[^1]:F3}");
            Assert.True(File.Exists(Path.Combine(run, "checkpoints", $"{stage}-final", "state.json")), stage);
        }
        // Evaluation points count the tokens of both ranks: every 10,240 tokens is every 5 steps of 2 × 1,024, and the
        // 100 steps of the three stages end at 204,800 (one process: 102,400).
        var evaluations = metrics.Where(m => m.GetProperty("event").GetString() == "eval" && m.TryGetProperty("heldout_general-zh", out _))
            .Select(m => m.GetProperty("step").GetInt64()).Distinct().ToList();
        Assert.Equal(Enumerable.Range(0, 21).Select(k => 10240L * k), evaluations);
        Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*"));
        Assert.True(File.Exists(Path.Combine(run, "report", "report.html")));
        Assert.Contains("\"status\": \"completed\"", File.ReadAllText(Path.Combine(run, "run.json")));

        // The same launch again says the run is complete; with --force both ranks resume every stage to "complete".
        (code, stdout, err, _) = Mpiexec(2, CliRunner.RepoRoot, TimeSpan.FromMinutes(2), args);
        Assert.True(code == 0, err + stdout);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(err, "holds this run, completed"));
        (code, stdout, err, _) = Mpiexec(2, CliRunner.RepoRoot, TimeSpan.FromMinutes(10), [.. args, "--force"]);
        Assert.True(code == 0, err + stdout);
        Assert.Equal(4, System.Text.RegularExpressions.Regex.Matches(err, "already complete").Count);
    }

    // A recipe that shows where each rank ran and what it saw; its failure or pause is chosen by the overrides.
    const string JobRecipe = """
        var mode = Config.Get<string?>("test.mode") ?? "ok";
        File.WriteAllText(Path.Combine(RunDirectory, $"pid.{Launch.Rank}"), Environment.ProcessId.ToString());
        if (mode == "alone" && Launch.Rank == 1) throw new InvalidOperationException("rank 1 cannot go on");
        var order = MainProcessFirst(() =>
        {
            if (mode == "rank0" && Launch.IsMain) throw new InvalidOperationException("rank 0's preparation failed");
            if (mode == "pause" && Launch.IsMain) { var until = DateTime.UtcNow.AddSeconds(8); while (DateTime.UtcNow < until) Thread.Sleep(20); }
            // Rank 0 comes first: the others find its file (a nested call runs in the same turn).
            var mark = Path.Combine(RunDirectory, "first");
            MainProcessFirst(() => { if (!File.Exists(mark)) File.WriteAllText(mark, Launch.Rank.ToString()); });
            return File.ReadAllText(mark);
        });
        File.WriteAllText(Path.Combine(RunDirectory, $"after.{Launch.Rank}"), $"{Launch.Rank} of {Launch.WorldSize}, first {order}");
        Log.LogInformation("rank {Rank} done", Launch.Rank);
        """;

    (int Code, string Out, string Err, TimeSpan Took) Job(string mode, TimeSpan limit, Action<string>? during = null)
    {
        File.WriteAllText(Path.Combine(_tmp, "job.csx"), JobRecipe);
        if (during is null) return Mpiexec(2, _tmp, limit, "run", "job.csx", "--set", $"test.mode={mode}");
        var job = Task.Run(() => Mpiexec(2, _tmp, limit, "run", "job.csx", "--set", $"test.mode={mode}"));
        during(Path.Combine(_tmp, "runs", "job"));
        return job.Result;
    }

    [SkippableFact]
    public void Ranks_share_the_run_directory_rank_0_chooses_and_rank_0_prepares_first()
    {
        RequireMpi();
        var (code, stdout, err, _) = Job("ok", TimeSpan.FromMinutes(3));
        Assert.True(code == 0, err + stdout);
        var run = Assert.Single(Directory.GetDirectories(Path.Combine(_tmp, "runs", "job")));   // one timestamped directory for both
        Assert.Equal("0 of 2, first 0", File.ReadAllText(Path.Combine(run, "after.0")));
        Assert.Equal("1 of 2, first 0", File.ReadAllText(Path.Combine(run, "after.1")));
        Assert.Contains("rank 0 done", err);
        Assert.DoesNotContain("rank 1 done", err);   // rank 1's information goes to its log
        Assert.Contains("rank 1 done", File.ReadAllText(Path.Combine(run, "logs", "ziya2.rank-00001.log")));
        Assert.Contains("\"status\": \"completed\"", File.ReadAllText(Path.Combine(run, "run.json")));
    }

    [SkippableFact]
    public void A_failure_in_rank_0s_preparation_stops_every_rank_with_one_message()
    {
        RequireMpi();
        var (code, stdout, err, took) = Job("rank0", TimeSpan.FromMinutes(3));
        Assert.True(code == 1, $"exit {code}\n{err}{stdout}");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(err, "rank 0's preparation failed"));
        Assert.Contains("job.csx:", err);   // where in the recipe
        var run = Assert.Single(Directory.GetDirectories(Path.Combine(_tmp, "runs", "job")));
        Assert.Empty(Directory.GetFiles(run, "after.*"));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.True(took < TimeSpan.FromMinutes(1), $"took {took}");
    }

    [SkippableFact]
    public void A_rank_that_fails_alone_ends_the_job_instead_of_leaving_the_others_waiting()
    {
        RequireMpi();
        var (code, stdout, err, took) = Job("alone", TimeSpan.FromMinutes(3));
        Assert.True(code is not (0 or -1), $"exit {code}\n{err}{stdout}");
        Assert.Contains("rank 1 cannot go on", err);
        Assert.Contains("This rank failed alone: ending every rank of the job", err);
        var run = Assert.Single(Directory.GetDirectories(Path.Combine(_tmp, "runs", "job")));
        Assert.Empty(Directory.GetFiles(run, "after.*"));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.Contains("rank 1 cannot go on", File.ReadAllText(Path.Combine(run, "run.json")));
        Assert.True(took < TimeSpan.FromMinutes(1), $"took {took}");
    }

    [SkippableFact]
    public void SIGTERM_to_rank_1_while_rank_0_prepares_stops_both_cleanly_at_the_same_point()
    {
        RequireMpi();
        var (code, stdout, err, _) = Job("pause", TimeSpan.FromMinutes(3), runs =>
        {
            var deadline = DateTime.UtcNow.AddMinutes(1);
            string? pid = null;
            while (DateTime.UtcNow < deadline && (pid = Directory.Exists(runs) ? Directory.GetDirectories(runs).Select(d => Path.Combine(d, "pid.1")).FirstOrDefault(File.Exists) : null) is null) Thread.Sleep(20);
            Assert.NotNull(pid);
            Thread.Sleep(500);
            Process.Start("kill", ["-TERM", File.ReadAllText(pid)]).WaitForExit();
        });
        Assert.True(code == 0, $"exit {code}\n{err}{stdout}");   // interrupted cleanly, as one process: resumable
        var run = Assert.Single(Directory.GetDirectories(Path.Combine(_tmp, "runs", "job")));
        Assert.Empty(Directory.GetFiles(run, "after.*"));            // neither went past the point where they stopped
        Assert.Contains("\"status\": \"interrupted\"", File.ReadAllText(Path.Combine(run, "run.json")));
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

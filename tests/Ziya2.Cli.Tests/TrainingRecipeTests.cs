using System.Text.Json;
namespace Ziya2.Cli.Tests;

/// <summary>
/// A recipe trains with the engine and the console shows it (headless: a line when the stage starts, periodic lines with
/// step, loss, tokens/s and ETA, a summary when it ends); SIGTERM stops it cleanly with a checkpoint and exit 0; the same
/// command resumes.
/// </summary>
public sealed class TrainingRecipeTests : IDisposable
{
    readonly string _tmp = Directory.CreateTempSubdirectory("ziya2-train-cli-").FullName;

    const string Recipe = """
        using Ziya2.Training;
        using Ziya2.Training.Data;

        var model = Model("llama");
        var rng = new Random(1);
        var file = TokenFileBuilder.Write(Path.Combine(RunDirectory, "tokens"),
            Enumerable.Range(0, 200).Select(_ => (Enumerable.Range(0, 60).Select(_ => rng.Next(3, model.VocabSize)).ToArray(), 0)), model.VocabSize, "synthetic");
        var optimizer = Optimizer("adamw").Create(model.GetParameterGroups());
        var options = Config.Get<TrainerOptions>("trainer");
        var started = Events.Subscribe(e => { if (e.Name == Ziya2.Events.RunEvents.StepEnd && e.Step == 2) File.WriteAllText(Path.Combine(RunDirectory, "started"), ""); });
        var runner = new StageRunner(model, optimizer, Scheduler("cosine"), options, RunDirectory, Config.Fingerprint("model", "optimizer", "scheduler", "trainer"), Events)
            { ExportFormat = null };
        var results = runner.Run([new StageSpec("general", new MixtureSampler([new("synthetic", file, PackingMode.Documents, 1)], options.SequenceLength, 1, 0, (ulong)Seed), 1200)], Cancellation);
        Log.LogInformation("stage {Stage}: interrupted={Interrupted} step={Step} resumed={Resumed}", results[^1].Stage, results[^1].Interrupted, results[^1].Steps, results[^1].Resumed);
        """;

    const string Config = """
        [model]
        preset = "tiny"
        [scheduler]
        lr = 1e-3
        [run]
        progress_seconds = 0.5
        [trainer]
        sequence_length = 32
        micro_batch = 2
        log_every = 1
        checkpoint_every = 100000
        """;

    [Fact]
    public void Sigterm_checkpoints_and_exits_0_and_the_same_command_resumes_to_the_end()
    {
        File.WriteAllText(Path.Combine(_tmp, "train.csx"), Recipe);
        File.WriteAllText(Path.Combine(_tmp, "train.toml"), Config);
        var run = Path.Combine(_tmp, "run");
        string[] args = ["run", Path.Combine(_tmp, "train.csx"), "-c", Path.Combine(_tmp, "train.toml"), "--run-dir", run];

        // A shell starts the run and sends SIGTERM once training is under way, as a batch scheduler would.
        var script = $"""
            dotnet "{CliRunner.CliAssembly}" {string.Join(' ', args.Select(a => $"'{a}'"))} &
            pid=$!
            for i in $(seq 1 1200); do [ -f '{run}/started' ] && break; sleep 0.1; done
            kill -TERM $pid
            wait $pid
            echo "exit=$?"
            """;
        var (code, output, errors) = CliRunner.Shell(script);
        Assert.True(code == 0, output + errors);
        Assert.Contains("exit=0", output);
        Assert.Contains("SIGTERM: stopping after the current step", output + errors);
        Assert.Contains("interrupted=True", output + errors);
        Assert.Contains($"Resume with the same command and --run-dir {run}", output + errors);
        var checkpoint = Assert.Single(Directory.GetDirectories(Path.Combine(run, "checkpoints"), "general-*"));
        Assert.Matches(@"general-\d{8}$", checkpoint);

        var (code2, stdout2, stderr2) = CliRunner.Run(args);
        Assert.True(code2 == 0, stdout2 + stderr2);
        Assert.Contains("interrupted=False step=1200 resumed=True", stdout2 + stderr2);

        // Progress, headless: the resumed stage announces where it restarts, reports as it goes, and sums up at its end.
        var lines = (stdout2 + stderr2).Split('\n');
        int start = Array.FindIndex(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"Stage general: \d+/1200 \(\d+%\)"));
        Assert.True(start >= 0, stdout2 + stderr2);
        Assert.Contains(lines.Skip(start + 1), l => System.Text.RegularExpressions.Regex.IsMatch(l, @"Stage general: \d+/1200 \(\d+%, ETA [\d:.]+\) step \d+, loss \d+\.\d{4}, lr [\d.eE+-]+, [\d,]+ tokens/s"));
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"Stage general: 1200 steps done; loss \d+\.\d{4} → \d+\.\d{4} in [\d.]+ s"));
        Assert.True(Directory.Exists(Path.Combine(run, "checkpoints", "general-final")));
    }

    [SkippableFact]
    public void Train_scaling_runs_the_engine_on_two_ranks_under_mpiexec_and_reports_the_ratio()
    {
        var missing = File.Exists("/usr/bin/mpiexec.hydra") ? null : "MPICH's mpiexec is not installed (apt-get install mpich; .ci/run does)";
        if (Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_MPI") == "1") Assert.True(missing is null, missing);
        Skip.If(missing is not null, missing);
        var (code, stdout, err) = CliRunner.Run(["train", "scaling", "--ranks", "2", "--preset", "tiny", "--steps", "2", "--zero-stage", "2"]);
        Assert.True(code == 0, err + stdout);
        Assert.Matches(@"tiny batch 2×128 per rank, 1 thread\(s\) per rank, ZeRO-2: 1 rank \d+ tok/s, 2 ranks \d+ tok/s; ratio \d+\.\d\d, efficiency \d+ %", stdout);
        (code, _, err) = CliRunner.Run(["train", "scaling", "--ranks", "1"]);
        Assert.Equal(2, code);
        Assert.Contains("--ranks must be >= 2", err);
        (code, _, err) = CliRunner.Run(["train", "scaling", "--zero-stage", "3"]);
        Assert.Equal(2, code);
        Assert.Contains("--zero-stage must be 0, 1 or 2", err);
    }

    [Fact]
    public void One_build_property_chooses_the_cuda_natives_for_the_host_and_the_tensor_tests()
    {
        // Evaluated, not restored: the CUDA package is not in this machine's feed (docs/training.md, "GPUs").
        foreach (var project in new[] { "src/Ziya2.Cli/Ziya2.Cli.csproj", "tests/Ziya2.Training.Tests/Ziya2.Training.Tests.csproj" })
        {
            string Natives(string flavour)
            {
                var (code, stdout, err) = CliRunner.Shell($"dotnet msbuild {project} -getItem:PackageReference {flavour}");
                Assert.True(code == 0, err + stdout);
                return string.Join(",", JsonDocument.Parse(stdout).RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
                    .Select(i => i.GetProperty("Identity").GetString()).Where(n => n!.StartsWith("libtorch", StringComparison.Ordinal)));
            }
            Assert.Equal("libtorch-cpu-linux-x64", Natives(""));
            Assert.Equal("libtorch-cuda-12.8-linux-x64", Natives("-p:Ziya2Torch=cuda"));
        }
        var (bad, output, error) = CliRunner.Shell("dotnet restore src/Ziya2.Cli/Ziya2.Cli.csproj -p:Ziya2Torch=rocm");
        Assert.NotEqual(0, bad);
        Assert.Contains("Ziya2Torch='rocm' is not cpu or cuda", output + error);
    }

    public void Dispose() { try { Directory.Delete(_tmp, recursive: true); } catch (IOException) { } }
}

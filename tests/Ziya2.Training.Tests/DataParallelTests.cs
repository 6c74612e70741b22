using System.Diagnostics;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Distributed;
using Ziya2.Training.Distributed;

namespace Ziya2.Training.Tests;

/// <summary>Data parallelism over MPI: MPICH's mpiexec starts this assembly as ranks (<see cref="DataParallelWorker"/>).</summary>
public sealed class DataParallelTests : IDisposable
{
    readonly TempDir _tmp = new();

    static string? MissingMpi() =>
        File.Exists("/usr/bin/mpiexec.hydra") || File.Exists("/usr/bin/mpiexec.mpich") ? null : "MPICH's mpiexec is not installed (apt-get install mpich; .ci/run does)";

    static (int Code, string Output) Launch(int ranks, string[] args)
    {
        var assembly = typeof(DataParallelWorker).Assembly.Location;
        var psi = ranks == 1 ? new ProcessStartInfo("dotnet", [assembly, .. args])
            : new ProcessStartInfo(File.Exists("/usr/bin/mpiexec.hydra") ? "/usr/bin/mpiexec.hydra" : "/usr/bin/mpiexec.mpich", ["-n", ranks.ToString(), "dotnet", assembly, .. args]);
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); return (-1, "timed out after 5 minutes\n" + stdout.Result + stderr.Result); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    float[] Weights(string dir, int rank) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(dir, $"weights.{rank}.bin"))).ToArray();

    static void RequireMpi()
    {
        var missing = MissingMpi();
        if (Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_MPI") == "1") Assert.True(missing is null, missing);
        Skip.If(missing is not null, missing);
    }

    static IEnumerable<string> Unsharded(IEnumerable<string> flags) => flags.Where(f => f is not ("--zero" or "--zero2"));

    [SkippableTheory]
    [InlineData("plain")]
    [InlineData("--zero")]
    [InlineData("--zero", "--lion")]
    [InlineData("--lion")]
    [InlineData("--zero2")]
    [InlineData("--zero2", "--lion")]
    [InlineData("--zero2", "--accumulate", "3")]
    public void Two_ranks_at_half_the_micro_batch_train_the_weights_one_process_trains(params string[] flags)
    {
        RequireMpi();
        flags = [.. flags.Where(f => f != "plain")];
        var (code, output) = Launch(1, ["train", _tmp.Combine("one"), "8", "20", .. Unsharded(flags)]);
        Assert.True(code == 0, output);
        (code, output) = Launch(2, ["train", _tmp.Combine("two"), "4", "20", .. flags]);
        Assert.True(code == 0, output);

        float[] one = Weights(_tmp.Combine("one"), 0), two = Weights(_tmp.Combine("two"), 0);
        Assert.Equal(two, Weights(_tmp.Combine("two"), 1));   // every rank holds the same weights, bit for bit
        double difference = Math.Sqrt(one.Zip(two).Sum(p => Math.Pow(p.First - p.Second, 2))), norm = Math.Sqrt(one.Sum(x => (double)x * x));
        Assert.True(difference / norm < 1e-5, $"relative difference {difference / norm:E2} after 20 steps");
        // Not vacuous: the weights moved far more over steps 2–20 than the ranks disagree with one process.
        var early = Launch(1, ["train", _tmp.Combine("early"), "8", "1", .. Unsharded(flags)]);
        Assert.True(early.Code == 0, early.Output);
        var moved = Math.Sqrt(Weights(_tmp.Combine("early"), 0).Zip(one).Sum(p => Math.Pow(p.First - p.Second, 2))) / norm;
        Assert.True(moved > 1e-2, $"the weights moved {moved:E2} relative");
        // One checkpoint per 3 steps, written once (by rank 0).
        Assert.Equal(Directory.GetDirectories(_tmp.Combine("one", "checkpoints")).Select(Path.GetFileName), Directory.GetDirectories(_tmp.Combine("two", "checkpoints")).Select(Path.GetFileName));
    }

    [SkippableTheory]
    [InlineData("plain")]
    [InlineData("--zero")]
    [InlineData("--zero2")]
    public void A_rank_killed_mid_run_stops_the_job_and_the_relaunch_resumes_bit_identically(string mode)
    {
        RequireMpi();
        string[] flags = mode == "plain" ? [] : [mode];
        var (code, output) = Launch(2, ["train", _tmp.Combine("straight"), "4", "12", .. flags]);
        Assert.True(code == 0, output);

        var clock = Stopwatch.StartNew();
        (code, output) = Launch(2, ["train", _tmp.Combine("killed"), "4", "12", "--kill-after", "6", .. flags]);
        Assert.True(code != 0, "the job went on with a rank dead:\n" + output);
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"the surviving rank took {clock.Elapsed} to stop");
        Assert.False(File.Exists(_tmp.Combine("killed", "weights.0.bin")));
        if (mode != "plain")
        {
            // Resharding is not supported: another world size is refused, naming both.
            (code, output) = Launch(1, ["train", _tmp.Combine("killed"), "8", "12", .. flags]);
            Assert.NotEqual(0, code);
            Assert.Contains("sharded over 2 ranks; this run has 1", output);
        }
        (code, output) = Launch(2, ["train", _tmp.Combine("killed"), "4", "12", .. flags]);
        Assert.True(code == 0, output);
        Assert.Equal(Weights(_tmp.Combine("straight"), 0), Weights(_tmp.Combine("killed"), 0));
        Assert.Equal(Weights(_tmp.Combine("straight"), 1), Weights(_tmp.Combine("killed"), 1));
        if (mode != "plain")   // each rank's shard, in the checkpoint
            Assert.Equal(["rank-00000-of-00002.master", "rank-00000-of-00002.optimizer", "rank-00001-of-00002.master", "rank-00001-of-00002.optimizer"],
                Directory.GetFiles(_tmp.Combine("killed", "checkpoints", "general-final", "optimizer")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public void Stages_run_on_every_rank_and_rank_0_alone_exports_and_evaluates()
    {
        RequireMpi();
        var dir = _tmp.Combine("stages");
        var (code, output) = Launch(2, ["train", dir, "4", "4", "--stages", "--zero"]);
        Assert.True(code == 0, output);
        Assert.Equal("general:4,second:4", File.ReadAllText(Path.Combine(dir, "result.0")));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "result.0")), File.ReadAllText(Path.Combine(dir, "result.1")));
        Assert.Equal(["evaluated.0.general", "evaluated.0.second"], Directory.GetFiles(dir, "evaluated.*").Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.True(File.Exists(Path.Combine(dir, "exports", "second", "config.json")), "no export of the second stage");
        Assert.Equal(Weights(dir, 0), Weights(dir, 1));
    }

    [SkippableFact]
    public void Collectives_over_several_buckets_give_every_rank_the_right_values()
    {
        RequireMpi();
        var (code, output) = Launch(3, ["collectives", _tmp.Combine("c")]);
        Assert.True(code == 0, output);
        Assert.All(Enumerable.Range(0, 3), r => Assert.Equal("ok", File.ReadAllText(_tmp.Combine("c", $"collectives.{r}"))));
    }

    [SkippableFact]
    public void SIGTERM_to_one_rank_stops_every_rank_at_the_same_step_with_a_checkpoint()
    {
        RequireMpi();
        var dir = _tmp.Combine("term");
        var job = Task.Run(() => Launch(2, ["train", dir, "4", "100000"]));
        var pid = Path.Combine(dir, "pid.1");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!(File.Exists(pid) && Directory.Exists(Path.Combine(dir, "checkpoints", "general-00000003"))) && DateTime.UtcNow < deadline && !job.IsCompleted) Thread.Sleep(10);
        Assert.True(File.Exists(pid), "rank 1 did not start: " + (job.IsCompleted ? job.Result.Output : "no pid file"));
        Process.Start("kill", ["-TERM", File.ReadAllText(pid)]).WaitForExit();
        var (code, output) = job.Result;
        Assert.True(code == 0, output);
        string r0 = File.ReadAllText(Path.Combine(dir, "result.0")), r1 = File.ReadAllText(Path.Combine(dir, "result.1"));
        Assert.Equal(r0, r1);                                   // the same step, both interrupted
        Assert.EndsWith(" True", r0);
        Assert.True(Directory.Exists(Path.Combine(dir, "checkpoints", $"general-{long.Parse(r0.Split(' ')[0]):D8}")), $"no checkpoint at {r0}");
    }

    [Fact]
    public void Zero_stage_is_0_1_or_2_and_shards_the_configured_optimizer()
    {
        Assert.Contains(new TrainerOptions { ZeroStage = 3 }.Validate(), m => m.Contains("zero_stage must be 0, 1 or 2"));
        Assert.Contains(new TrainerOptions { Collectives = "gloo" }.Validate(), m => m.Contains("collectives must be auto, mpi or nccl"));
        Assert.Empty(new TrainerOptions { ZeroStage = 2 }.Validate());
        var adamw = new AdamWFactory(new AdamWOptions());
        Assert.Same(adamw, ShardedOptimizer.For(adamw, new TrainerOptions()));
        using var model = new LlamaModel(new LlamaOptions { VocabSize = 29, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 4, NumKeyValueHeads = 2, MaxPositionEmbeddings = 32 });
        foreach (var stage in new[] { 1, 2 })
        {
            using var sharded = ShardedOptimizer.For(adamw, new TrainerOptions { ZeroStage = stage }).Create(((Ziya2.Models.ILanguageModel)model).GetParameterGroups());
            Assert.Equal(stage, Assert.IsType<ShardedOptimizer>(sharded).Stage);
            Assert.Equal(((Ziya2.Models.ILanguageModel)model).ParameterCount, ((ShardedOptimizer)sharded).SliceElements);   // one rank: the whole model
            // Its state is one file per rank: the single-file API says so instead of writing half a checkpoint.
            Assert.Throws<NotSupportedException>(() => sharded.SaveState(_tmp.Combine("optimizer.bin")));
        }
    }

    [Fact]
    public void The_job_is_read_from_the_launchers_environment()
    {
        static LaunchEnvironment From(params (string Name, string Value)[] variables) =>
            LaunchEnvironment.From(name => variables.FirstOrDefault(v => v.Name == name).Value);

        Assert.Equal(LaunchEnvironment.Single, From());
        Assert.Equal(new LaunchEnvironment(3, 4, 1, 2, "mpiexec"), From(("PMI_SIZE", "4"), ("PMI_RANK", "3"), ("MPI_LOCALRANKID", "1"), ("MPI_LOCALNRANKS", "2")));
        // srun: 2 tasks on each of 4 nodes, the local rank from SLURM_LOCALID.
        Assert.Equal(new LaunchEnvironment(5, 8, 1, 2, "srun"), From(("SLURM_STEP_NUM_TASKS", "8"), ("SLURM_PROCID", "5"), ("SLURM_LOCALID", "1"), ("SLURM_STEP_TASKS_PER_NODE", "2(x4)")));
        Assert.Equal(new LaunchEnvironment(2, 3, 2, 3, "mpirun"), From(("OMPI_COMM_WORLD_SIZE", "3"), ("OMPI_COMM_WORLD_RANK", "2"), ("OMPI_COMM_WORLD_LOCAL_RANK", "2"), ("OMPI_COMM_WORLD_LOCAL_SIZE", "3")));
        Assert.Equal(LaunchEnvironment.Single, From(("SLURM_STEP_NUM_TASKS", "1"), ("SLURM_PROCID", "0")));   // a batch step alone
        // A size without a rank, or a rank outside the size, is an error naming the variables, not a guess.
        Assert.Contains("PMI_RANK is not set", Assert.Throws<InvalidOperationException>(() => From(("PMI_SIZE", "2"))).Message);
        Assert.Contains("SLURM_PROCID=9 is outside SLURM_STEP_NUM_TASKS=4", Assert.Throws<InvalidOperationException>(() => From(("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_PROCID", "9"))).Message);
        // One GPU per process: "cuda" is this rank's.
        Assert.Equal("cuda:1", From(("PMI_SIZE", "4"), ("PMI_RANK", "3"), ("MPI_LOCALRANKID", "1")).PlaceDevice("cuda"));
        Assert.Equal("cuda:0", LaunchEnvironment.Single.PlaceDevice("cuda"));
        Assert.Equal("cuda:3", LaunchEnvironment.Single.PlaceDevice("cuda:3"));
        Assert.Equal(1, ProcessGroups.Current.WorldSize);   // the test host was started alone: no MPI
    }

    public void Dispose() => _tmp.Dispose();
}

// The short training run bench/kill-resume.sh kills and resumes: a tiny LLaMA, two stages (so a kill can land at the
// boundary, where the first stage is exported and evaluated), a checkpoint every few steps (so kills land inside
// checkpoint writes too), metrics every step. Deterministic: the same command gives the same bytes, however often it
// is stopped and started again.
using Ziya2.Training;
using Ziya2.Training.Data;
using Ziya2.Training.Evaluation;

var model = Model("llama");
var rng = new Random(1);
var file = TokenFileBuilder.Write(Path.Combine(RunDirectory, "tokens"),
    Enumerable.Range(0, 200).Select(_ => (Enumerable.Range(0, 60).Select(_ => rng.Next(3, model.VocabSize)).ToArray(), 0)), model.VocabSize, "synthetic");
var options = Config.Get<TrainerOptions>("trainer");
var optimizer = Optimizer("adamw").Create(model.GetParameterGroups());
var runner = new StageRunner(model, optimizer, Scheduler("cosine"), options, RunDirectory, Config.Fingerprint("model", "optimizer", "scheduler", "trainer"), Events)
{
    Schedule = ScheduleSpan.AllStages,
    Evaluate = _ => new Dictionary<string, double> { ["heldout"] = HeldOutLoss.Measure(model, file, options.SequenceLength, maxDocuments: 20).Loss },
};
MixtureSampler Data() => new([new("synthetic", file, PackingMode.Documents, 1)], options.SequenceLength, 1, 0, (ulong)Seed);
var results = runner.Run([new StageSpec("first", Data(), 40), new StageSpec("second", Data(), 40)], Cancellation);
Log.LogInformation("stages: {Stages}", string.Join(", ", results.Select(r => $"{r.Stage} {r.Steps}{(r.Interrupted ? " interrupted" : "")}")));

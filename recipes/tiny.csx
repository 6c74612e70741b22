// The tiny end-to-end recipe: filter shipped documents with two data filters, then train a tiny LLaMA on
// their UTF-8 bytes with AdamW and a warmup+cosine schedule, on CPU in well under a minute.
//   ziya2 run recipes/tiny.csx --config recipes/configs/tiny.toml
#load "lib/text.csx"

using TorchSharp;
using static TorchSharp.torch;

var train = Config.Get<TrainSettings>("train");

// ---- data: preprocessing + rule-based filtering --------------------------------------------------------
var filters = new[] { ("normalize-whitespace", Filter("normalize-whitespace")), ("min-length", Filter("min-length")) };
var kept = new List<Document>();
int input = 0;
var dropped = new Dictionary<string, int>();
foreach (var doc in ReadJsonl(RecipePath(train.Data)))
{
    input++;
    Document? current = doc;
    foreach (var (name, filter) in filters)
    {
        var outcome = new FilterOutcome(current, filter.Apply(current));
        current = outcome.Output;
        if (current is null) { var key = $"{name}:{outcome.Decision.Reason}"; dropped[key] = dropped.GetValueOrDefault(key) + 1; break; }
    }
    if (current is not null) kept.Add(current);
}
Log.LogInformation("Data: {Input} documents in, {Kept} kept, dropped {Dropped}", input, kept.Count,
    dropped.Count == 0 ? "none" : string.Join(", ", dropped.Select(kv => $"{kv.Key}={kv.Value}")));
var tokens = ByteTokens(kept);
if (tokens.Length <= train.SequenceLength + 1) throw new InvalidOperationException($"only {tokens.Length} tokens survived filtering; need more than {train.SequenceLength + 1}");

// ---- model, optimizer, schedule ------------------------------------------------------------------------
var model = Model("llama");              // owned by the run: disposed when it ends
var optimizer = Optimizer("adamw").Create(model.GetParameterGroups());
var schedule = Scheduler("cosine");
schedule.Configure(train.Steps);
Log.LogInformation("Model: {Params:N0} parameters, {Flops:N0} training FLOPs/token at T={T}; {Tokens:N0} training tokens",
    model.ParameterCount, model.TrainingFlopsPerToken(train.SequenceLength), train.SequenceLength, tokens.Length);

// ---- training loop (every step inside a dispose scope: TorchSharp frees native memory deterministically) ----
var rng = new Random((int)Seed);
var data = tensor(tokens);
double firstLoss = double.NaN, lastLoss = double.NaN;
using (var progress = Progress("train", train.Steps))
{
    for (int step = 0; step < train.Steps; step++)
    {
        Cancellation.ThrowIfCancellationRequested();
        optimizer.LearningRate = schedule.GetLearningRate(step);
        using var scope = NewDisposeScope();
        var starts = Enumerable.Range(0, train.BatchSize).Select(_ => (long)rng.Next(tokens.Length - train.SequenceLength - 1)).ToArray();
        var x = stack(starts.Select(s => data[TensorIndex.Slice(s, s + train.SequenceLength)]).ToArray());
        var y = stack(starts.Select(s => data[TensorIndex.Slice(s + 1, s + 1 + train.SequenceLength)]).ToArray());
        optimizer.ZeroGrad();
        var logits = model.Module.forward(x);
        var loss = nn.functional.cross_entropy(logits.view(-1, model.VocabSize).to_type(ScalarType.Float32), y.reshape(-1));
        loss.backward();
        var gradNorm = nn.utils.clip_grad_norm_(model.Module.parameters(), train.ClipGradNorm);
        optimizer.Step();
        lastLoss = loss.item<float>();
        if (step == 0) firstLoss = lastLoss;
        Metrics("batch_end", step, new Dictionary<string, double> { ["loss"] = lastLoss, ["lr"] = optimizer.LearningRate, ["grad_norm"] = gradNorm });
        progress.Advance(1, $"loss {lastLoss:F3}");
        if ((step + 1) % train.LogEvery == 0) Log.LogInformation("step {Step}/{Steps} loss {Loss:F4} lr {Lr:E2} grad_norm {Norm:F3}", step + 1, train.Steps, lastLoss, optimizer.LearningRate, gradNorm);
    }
}
data.Dispose();
optimizer.Dispose();

model.Save(Path.Combine(RunDirectory, "checkpoints", "final"));
Log.LogInformation("Loss {First:F3} -> {Last:F3} over {Steps} steps; checkpoint in {Dir}", firstLoss, lastLoss, train.Steps, Path.Combine(RunDirectory, "checkpoints", "final"));
if (!(lastLoss < firstLoss)) throw new InvalidOperationException($"training did not reduce the loss ({firstLoss:F3} -> {lastLoss:F3})");

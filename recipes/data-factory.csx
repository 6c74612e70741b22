// The data factory alone (paper §2), all five steps over the inputs the config names (see lib/factory.csx):
//   1 preprocessing → <out>/dp, 2 perplexity buckets → <out>/as, 3 rule-based filtering → <out>/rf, 4 deduplication → <out>/cd
//   (the paper's order; [factory] order = "rules-first" runs 1 + 3 in one pass → <out>/dp-rf, then 2 + 4 → <out>/as-cd);
//   5 evaluation and the quality gate → <out>/evaluation.
//   ziya2 run recipes/data-factory.csx -c recipes/configs/data-factory.toml --set 'factory.inputs=["my/shards"]'
// Output: <run dir>/data (or factory.output). Re-running resumes each pipeline where it stopped.
#load "lib/factory.csx"

var factory = Config.Get<FactorySettings>("factory");
if (factory.Inputs.Count == 0) throw new InvalidOperationException("factory.inputs names no input; set it in the config or with --set");
var output = factory.Output is { Length: > 0 } o ? Path.GetFullPath(o) : Path.Combine(RunDirectory, "data");
// Under mpiexec/srun, rank 0 runs the factory and the other ranks find it done (the factory's own scale-out is [factory] executor).
var outcome = MainProcessFirst(() => RunFactory(factory.Inputs, output, factory, Config.Get<EvaluationSettings>("evaluation")));
Log.LogInformation("Factory done: {Kept} documents in {Dir}", outcome.Funnel[^1].Documents, outcome.Kept);

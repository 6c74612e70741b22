// The regime's settings ([regime] in recipes/configs/*.toml) and helpers of recipes/ziya2.csx: reading factory output
// and the tokenizer extension of Ziya2 §3.2–3.3.
using Ziya2.DataFactory.Reading;
using Ziya2.Evaluation;
using Ziya2.Models;
using Ziya2.Tokenization;
using Ziya2.Training.Data;

/// <summary>Documents of files or directories (JSONL, compressed, Parquet), malformed records skipped (the factory counted them).</summary>
IEnumerable<Document> ReadDocuments(string input) =>
    InputShard.Expand([input]).SelectMany(new ShardReader(new FieldMapping()).Read).OfType<ParsedRecord>().Select(r => r.Document);

/// <summary>
/// The original text (before the factory's rewrites, T→S included) of the first <paramref name="limit"/> documents the
/// factory kept in <paramref name="kept"/> as <paramref name="language"/>, read back from the corpus's raw
/// <paramref name="inputs"/> by document id.
/// </summary>
IEnumerable<string> OriginalTexts(IReadOnlyList<string> inputs, string kept, string language, int limit)
{
    var ids = ReadDocuments(kept).Where(d => d.Language == language).Take(limit).Select(d => d.Id).ToHashSet(StringComparer.Ordinal);
    return inputs.SelectMany(ReadDocuments).Where(d => ids.Remove(d.Id)).Select(d => d.Text);   // Remove: each id once
}

/// <summary>Tokens per character of <paramref name="t"/> over <paramref name="texts"/>: the tokenizer-efficiency measure of §3.2.</summary>
double TokensPerChar(ITokenizer t, IEnumerable<string> texts)
{
    long tokens = 0, chars = 0;
    foreach (var s in texts) { tokens += t.Encode(s).Count; chars += s.Length; }
    return chars == 0 ? double.NaN : (double)tokens / chars;
}

/// <summary>
/// Ziya2 §3.2–3.3: adds the <paramref name="count"/> most frequent Chinese characters of <paramref name="chineseTexts"/>
/// that <paramref name="baseTokenizer"/> lacks, writes the extended tokenizer to <paramref name="directory"/>, and grows the
/// model's embedding and LM-head rows (rounded up to <paramref name="padTo"/>), each new row the mean of the rows the base
/// tokenizer splits its character into. Deterministic, so a resumed run extends identically.
/// </summary>
(ITokenizer Extended, int Added) ExtendVocabulary(ITokenizer baseTokenizer, ILanguageModel model, IEnumerable<string> chineseTexts, int count, int padTo, string directory)
{
    if (baseTokenizer is not IVocabularyExtender extender) throw new InvalidOperationException("the base tokenizer cannot be extended");
    var added = VocabularyExtension.SelectCharacters(baseTokenizer.Vocabulary, chineseTexts, count, VocabularyExtension.CjkRanges).Select(a => a.Character).ToList();
    var extended = extender.SaveExtended(added, directory);
    model.ExtendVocabulary(Math.Max(model.VocabSize, VocabularyExtension.PaddedRows(extended.VocabSize, padTo)), VocabularyExtension.InitialRows(extender, added));
    return (extended, added.Count);
}

/// <summary>
/// [regime]: the data, the base model, the stages and their evaluation — every scale, one schema. Checked when bound,
/// so <c>ziya2 validate</c> and <c>--dry-run</c> report every problem before anything runs.
/// </summary>
public sealed class RegimeSettings : IValidatableOptions
{
    /// <summary>Shown in the plan and the report.</summary>
    public string Title { get; set; } = "Ziya2 regime";
    public BaseSettings Base { get; set; } = new();
    /// <summary>config.json (relative to the recipe) that describes the architecture for the plan when the base checkpoint is not on this machine; empty: the [model] section's own.</summary>
    public string Architecture { get; set; } = "";
    /// <summary>Where data, tokenizer and token files go (default: the run directory).</summary>
    public string? WorkDirectory { get; set; }
    /// <summary>Chinese characters added to the base vocabulary (§3.2: 7,400).</summary>
    public int NewCharacters { get; set; } = 7400;
    /// <summary>Model rows are rounded up to a multiple of this (Ziya2: 128 → 39,424).</summary>
    public int PadVocabularyTo { get; set; } = 128;
    /// <summary>Documents per Chinese corpus read to count characters for the extension.</summary>
    public int ExtensionSampleDocuments { get; set; } = 1_000_000;
    /// <summary>Tokens per optimizer step across all devices; 0: the trainer's (one process).</summary>
    public long GlobalBatchTokens { get; set; }
    /// <summary>One learning-rate schedule over every stage (true) or a warmup and decay per stage (false).</summary>
    public bool OneSchedule { get; set; } = true;
    /// <summary>Supervised sources: loss on answers only.</summary>
    public bool MaskPrompt { get; set; } = true;
    /// <summary>Held-out documents scored per source after each stage.</summary>
    public long HeldOutDocuments { get; set; } = 2000;
    /// <summary>Evaluate the model before the first stage (the paper's step-0 point of Figure 6).</summary>
    public bool EvaluateBeforeTraining { get; set; } = true;
    /// <summary>Tokens between evaluations inside stages (the paper: ~100B); 0: at stage ends only.</summary>
    public double EvaluateEveryTokens { get; set; }
    /// <summary>Dtype of the Hugging Face export written after each stage.</summary>
    public string ExportDtype { get; set; } = "bf16";
    /// <summary>Raw inputs the data factory processes; a source either names one or gives its own inputs.</summary>
    public List<CorpusSettings> Corpora { get; set; } = [];
    public List<SourceSettings> Sources { get; set; } = [];
    /// <summary>The stages in order; a source's <c>stage</c> is its 1-based position here.</summary>
    public List<StageSettings> Stages { get; set; } = [];
    public List<BenchmarkSettings> Benchmarks { get; set; } = [];
    public ScalingSettings Scaling { get; set; } = new();

    /// <summary>The declared corpora and one per source that gives its own inputs.</summary>
    public IReadOnlyList<CorpusSettings> AllCorpora() =>
        [.. Corpora, .. Sources.Where(s => s.Inputs.Count > 0).Select(s => new CorpusSettings { Name = s.Name, Inputs = s.Inputs, Supervised = s.Supervised, Code = s.Code })];

    public SourceSettings Source(string name) => Sources.FirstOrDefault(s => s.Name == name)
        ?? throw new InvalidOperationException($"no source named '{name}' in [[regime.sources]] (has: {string.Join(", ", Sources.Select(s => s.Name))})");

    public IEnumerable<string> Validate()
    {
        if (Stages.Count == 0) yield return "stages is empty: list the stages ([[regime.stages]])";
        if (Sources.Count == 0) yield return "sources is empty: list the corpora ([[regime.sources]])";
        foreach (var dup in Sources.Select(s => s.Name).Concat(Corpora.Select(c => c.Name)).GroupBy(n => n).Where(g => g.Count() > 1))
            yield return $"the name '{dup.Key}' is used by more than one source or corpus";
        foreach (var s in Sources)
        {
            if (s.Stage < 1 || s.Stage > Stages.Count) yield return $"sources '{s.Name}': stage {s.Stage} is not one of the {Stages.Count} stage(s)";
            if ((s.Corpus is { Length: > 0 }) == (s.Inputs.Count > 0)) yield return $"sources '{s.Name}': give either corpus or inputs";
            else if (s.Corpus is { Length: > 0 } c && Corpora.All(x => x.Name != c)) yield return $"sources '{s.Name}': no corpus named '{c}' in [[regime.corpora]]";
            if (s.Tokens < 0) yield return $"sources '{s.Name}': tokens must be >= 0";
            if (s.Supervised && s.Code) yield return $"sources '{s.Name}': supervised or code, not both";
            if (s.OnlyLanguage && s.Language is not ("zh" or "en")) yield return $"sources '{s.Name}': only_language needs language = \"zh\" or \"en\"";
        }
        foreach (var name in Base.Sources.Where(n => Sources.All(s => s.Name != n))) yield return $"base.sources: no source named '{name}'";
        if (Base.Steps > 0 && Base.Sources.Count == 0) yield return "base: steps > 0 needs sources to train the base model on";
        if (Base.Steps < 0) yield return "base.steps must be >= 0";
        for (int i = 0; i < Stages.Count; i++)
        {
            var st = Stages[i];
            if (Sources.All(s => s.Stage != i + 1)) yield return $"stages '{st.Name}': no source has stage = {i + 1}";
            if (st.Steps < 0 || st.Tokens < 0 || st.ReplayRatio < 0 || st.ReplayTokensEach < 0 || st.ReplayShareEach < 0) yield return $"stages '{st.Name}': steps, tokens and replay amounts must be >= 0";
            if (new[] { st.ReplayRatio, st.ReplayTokensEach, st.ReplayShareEach }.Count(x => x > 0) > 1) yield return $"stages '{st.Name}': give one of replay_ratio, replay_tokens_each, replay_share_each";
            if (i == 0 && (st.ReplayRatio > 0 || st.ReplayTokensEach > 0 || st.ReplayShareEach > 0)) yield return $"stages '{st.Name}': the first stage has nothing to replay";
        }
        foreach (var b in Benchmarks.Where(b => !BenchmarkSettings.Formats.Contains(b.Format)))
            yield return $"benchmarks '{b.Name}': format '{b.Format}' is not one of {string.Join(", ", BenchmarkSettings.Formats)}";
        if (EvaluateEveryTokens < 0) yield return "evaluate_every_tokens must be >= 0";
        if (NewCharacters < 0 || PadVocabularyTo < 1) yield return "new_characters must be >= 0 and pad_vocabulary_to >= 1";
    }
}

/// <summary>[regime.base]: where the base model comes from.</summary>
public sealed class BaseSettings
{
    /// <summary>Hugging Face directory of the base model (LLaMA2-13B: config.json, *.safetensors); empty: the [model] initialisation.</summary>
    public string? Checkpoint { get; set; }
    /// <summary>Steps of stage "base": pre-training with the base tokenizer on <see cref="Sources"/> before the vocabulary is extended (0: none).</summary>
    public long Steps { get; set; }
    /// <summary>Sources the base stage trains on (the tiny config: the English part of the web corpus, an English-centric "LLaMA2").</summary>
    public List<string> Sources { get; set; } = [];
}

/// <summary>[[regime.corpora]]: raw inputs that go through the data factory once, shared by the sources that name them.</summary>
public sealed class CorpusSettings
{
    public string Name { get; set; } = "";
    /// <summary>Files or directories (JSONL, .gz, .zst, Parquet, text directories), relative to the recipe.</summary>
    public List<string> Inputs { get; set; } = [];
    /// <summary>Q/A records (question, answer) rendered with the prompt templates instead of the web-text factory.</summary>
    public bool Supervised { get; set; }
    /// <summary>Source files (with a <c>language</c> field per record) through the code path instead of the web-text factory.</summary>
    public bool Code { get; set; }
}

/// <summary>[[regime.sources]]: one entry of a stage's mixture (Table 2).</summary>
public sealed class SourceSettings
{
    public string Name { get; set; } = "";
    /// <summary>Main language (Table 2): <c>zh</c>, <c>en</c> or <c>multi</c>. Chinese sources supply the characters of the vocabulary extension.</summary>
    public string Language { get; set; } = "";
    /// <summary>Keep only the corpus's documents identified as <see cref="Language"/> (one web corpus split into zh and en sources).</summary>
    public bool OnlyLanguage { get; set; }
    /// <summary>First stage it is trained in (1-based); later stages may replay it.</summary>
    public int Stage { get; set; } = 1;
    /// <summary>Its tokens after the factory (Table 2): the mixture weight and the plan's budget; 0: its measured token count.</summary>
    public double Tokens { get; set; }
    /// <summary>A corpus of [[regime.corpora]] …</summary>
    public string? Corpus { get; set; }
    /// <summary>… or its own raw inputs (then it is its own corpus).</summary>
    public List<string> Inputs { get; set; } = [];
    /// <summary>With <see cref="Inputs"/>: Q/A records rendered with the prompt templates.</summary>
    public bool Supervised { get; set; }
    /// <summary>With <see cref="Inputs"/>: source files through the code path (fenced, code rules, no prose language ID or perplexity).</summary>
    public bool Code { get; set; }
    /// <summary>Held-out documents of this source, scored after every stage.</summary>
    public string? HeldOut { get; set; }

    public string CorpusName => Corpus is { Length: > 0 } c ? c : Name;
    public bool IsSupervised(RegimeSettings regime) => regime.AllCorpora().First(c => c.Name == CorpusName).Supervised;
}

/// <summary>[[regime.stages]]: one stage of continual pre-training (§4).</summary>
public sealed class StageSettings
{
    public string Name { get; set; } = "";
    /// <summary>Optimizer steps; 0: from <see cref="Tokens"/> and the global batch.</summary>
    public long Steps { get; set; }
    /// <summary>Token budget; 0: its sources' tokens plus the replay.</summary>
    public double Tokens { get; set; }
    /// <summary>Replay of every earlier stage's sources at this ratio to the stage's own data (stage 2: 1.0).</summary>
    public double ReplayRatio { get; set; }
    /// <summary>Tokens replayed from each earlier stage (stage 3: 0.1e9).</summary>
    public double ReplayTokensEach { get; set; }
    /// <summary>Share of the stage replayed from each earlier stage (the same idea when the budget is given in steps).</summary>
    public double ReplayShareEach { get; set; }
}

/// <summary>[[regime.benchmarks]]: a benchmark in its released layout, run after every stage.</summary>
public sealed class BenchmarkSettings
{
    public static readonly string[] Formats = ["mmlu", "cmmlu", "ceval", "gsm8k", "math", "humaneval"];
    /// <summary>Key in the evaluation table (the paper's names put Table 3 beside ours).</summary>
    public string Name { get; set; } = "";
    /// <summary>The file layout: mmlu, cmmlu, ceval (directories), gsm8k (train.jsonl + test.jsonl), math (train/, test/), humaneval (jsonl).</summary>
    public string Format { get; set; } = "";
    /// <summary>Where its files are, relative to the recipe.</summary>
    public string Path { get; set; } = "";
    public int Shots { get; set; } = 5;
    public int Limit { get; set; } = int.MaxValue;
    public int MaxNewTokens { get; set; } = 512;
    /// <summary>HumanEval without bubblewrap: run model-written code unconfined anyway (it can read files and use the network).</summary>
    public bool UnsafeExec { get; set; }

    /// <summary>Reads the files once: a function that scores a model, and the test questions (for the scaling law's similarity).</summary>
    public LoadedBenchmark Load(Func<string, string> resolve)
    {
        var root = resolve(Path);
        switch (Format)
        {
            case "mmlu" or "cmmlu" or "ceval":
                var choice = Format switch { "mmlu" => MultipleChoiceBenchmark.Mmlu(root), "cmmlu" => MultipleChoiceBenchmark.Cmmlu(root), _ => MultipleChoiceBenchmark.Ceval(root) };
                var named = new MultipleChoiceBenchmark { Name = Name, Chinese = choice.Chinese, Subjects = choice.Subjects };
                return new((scorer, ct) => named.Run(scorer, Shots, Limit, ct), [.. named.Subjects.SelectMany(s => s.Test).Select(q => q.Question)]);
            case "gsm8k" or "math":
                var maths = Format == "gsm8k"
                    ? MathBenchmark.Gsm8k(System.IO.Path.Combine(root, "test.jsonl"), System.IO.Path.Combine(root, "train.jsonl"))
                    : MathBenchmark.Math(System.IO.Path.Combine(root, "test"), System.IO.Path.Combine(root, "train"));
                var m = new MathBenchmark { Name = Name, Style = maths.Style, Test = maths.Test, Shots = maths.Shots };
                return new((scorer, ct) => m.Run(scorer, Shots, MaxNewTokens, Limit, ct), [.. m.Test.Select(p => p.Question)]);
            default:
                var code = HumanEvalBenchmark.Read(root, UnsafeExec);   // confined (bubblewrap), or skipped saying why
                return new((scorer, ct) => code.Run(scorer, MaxNewTokens, Limit, ct) with { Benchmark = Name }, [.. code.Problems.Select(p => p.Prompt)]);
        }
    }
}

/// <summary>A benchmark's files, read: <see cref="Run"/> scores a model; <see cref="Questions"/> are what it asks.</summary>
public sealed record LoadedBenchmark(Func<LanguageModelScorer, CancellationToken, BenchmarkResult> Run, IReadOnlyList<string> Questions);

/// <summary>[regime.scaling]: data-centric scaling-law samples (§7) after the stages.</summary>
public sealed class ScalingSettings
{
    /// <summary>Documents per stage and questions per benchmark embedded for the attributes; 0: no samples.</summary>
    public int Documents { get; set; }
}

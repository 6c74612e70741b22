using System.Text.Json;

namespace Ziya2.Evaluation;

/// <summary>How a generated answer is read: a number (GSM8K) or a LaTeX expression in <c>\boxed{}</c> (MATH).</summary>
public enum MathAnswerStyle { Number, Latex }

/// <summary>A word problem, its reference solution and its final answer.</summary>
public sealed record MathProblem(string Question, string Solution, string Answer, string Category);

/// <summary>
/// GSM8K (<c>test.jsonl</c>: question, answer ending "#### N") and MATH (a directory of <c>*.json</c> problems with
/// problem, level, type, solution holding <c>\boxed{}</c>, or a JSONL of them): few-shot prompts from a train split, greedy
/// generation up to a stop string, answer extraction and normalisation (<see cref="MathAnswers"/>), accuracy.
/// </summary>
public sealed class MathBenchmark
{
    public required string Name { get; init; }
    public required MathAnswerStyle Style { get; init; }
    public required IReadOnlyList<MathProblem> Test { get; init; }
    public required IReadOnlyList<MathProblem> Shots { get; init; }

    static readonly string[] Stops = ["\n\nQuestion:", "\n\nProblem:", "Question:", "\n\n\n"];

    public static MathBenchmark Gsm8k(string testJsonl, string? trainJsonl) => new()
    {
        Name = "gsm8k", Style = MathAnswerStyle.Number, Test = ReadGsm8k(testJsonl), Shots = trainJsonl is null ? [] : ReadGsm8k(trainJsonl),
    };

    static List<MathProblem> ReadGsm8k(string path) => Jsonl.Read(path, (e, where) =>
    {
        var answer = Jsonl.Field(e, "answer", where);
        int at = answer.LastIndexOf("####", StringComparison.Ordinal);
        // The reasoning becomes "… The answer is N." so few-shot examples show the format the extractor prefers.
        var solution = at < 0 ? answer : $"{answer[..at].Trim()}\nThe answer is {MathAnswers.Gsm8kReference(answer)}.";
        return new MathProblem(Jsonl.Field(e, "question", where), solution, MathAnswers.Gsm8kReference(answer), "");
    });

    public static MathBenchmark Math(string test, string? train) => new() { Name = "math", Style = MathAnswerStyle.Latex, Test = ReadMath(test), Shots = train is null ? [] : ReadMath(train) };

    static List<MathProblem> ReadMath(string path)
    {
        MathProblem Parse(JsonElement e, string where)
        {
            var solution = Jsonl.Field(e, "solution", where);
            var answer = MathAnswers.LastBoxed(solution) ?? throw new InvalidDataException($"{where}: solution has no \\boxed{{}} answer");
            return new MathProblem(Jsonl.Field(e, "problem", where), solution, answer, e.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "");
        }
        if (Directory.Exists(path))
            return Directory.EnumerateFiles(path, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(f => { using var d = JsonDocument.Parse(File.ReadAllText(f)); return Parse(d.RootElement, f); }).ToList();
        return Jsonl.Read(path, Parse);
    }

    /// <summary>The k-shot prompt: solved examples, then the question, ending where the model writes its solution.</summary>
    public string Prompt(MathProblem problem, int shots) =>
        string.Concat(Shots.Take(shots).Select(s => $"Question: {s.Question}\nAnswer: {s.Solution}\n\n")) + $"Question: {problem.Question}\nAnswer:";

    public bool IsCorrect(string generation, MathProblem problem) => Style == MathAnswerStyle.Number
        ? MathAnswers.Gsm8kPrediction(generation) == problem.Answer
        : MathAnswers.MathEquivalent(MathAnswers.MathPrediction(generation), problem.Answer);

    /// <summary>Questions whose answers are generated together (one batch: <see cref="LanguageModelScorer.GenerateMany"/>).</summary>
    public int GenerationBatch { get; init; } = 16;

    public BenchmarkResult Run(LanguageModelScorer scorer, int shots, int maxNewTokens = 256, int limit = int.MaxValue, CancellationToken cancellation = default)
    {
        int right = 0, total = 0;
        double nll = 0;
        long tokens = 0;
        var byCategory = new Dictionary<string, (int Right, int Total)>();
        foreach (var batch in Test.Take(limit).Chunk(System.Math.Max(1, GenerationBatch)))
        {
            cancellation.ThrowIfCancellationRequested();
            var prompts = batch.Select(p => Prompt(p, shots)).ToList();
            var generated = scorer.GenerateMany(prompts, maxNewTokens, Stops);
            for (int k = 0; k < batch.Length; k++)
            {
                var p = batch[k];
                bool ok = IsCorrect(generated[k], p);
                var gold = scorer.ContinuationLogLikelihoods(prompts[k], [" " + p.Solution])[0];
                nll -= gold.LogLikelihood; tokens += gold.Tokens;
                right += ok ? 1 : 0; total++;
                var c = byCategory.GetValueOrDefault(p.Category);
                byCategory[p.Category] = (c.Right + (ok ? 1 : 0), c.Total + 1);
            }
        }
        return new BenchmarkResult(Name, "accuracy", total > 0 ? (double)right / total : double.NaN, total, tokens > 0 ? nll / tokens : double.NaN,
            byCategory.Where(kv => kv.Key.Length > 0).ToDictionary(kv => kv.Key, kv => (double)kv.Value.Right / kv.Value.Total));
    }
}

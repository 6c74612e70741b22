namespace Ziya2.Evaluation;

/// <summary>A HumanEval task: the function signature and docstring to complete, its tests and entry point.</summary>
public sealed record CodeProblem(string TaskId, string Prompt, string CanonicalSolution, string Test, string EntryPoint);

/// <summary>How one program ran.</summary>
public sealed record ExecutionResult(bool Passed, string Outcome);

/// <summary>
/// HumanEval (<c>HumanEval.jsonl</c>: task_id, prompt, canonical_solution, test, entry_point): a greedy completion of each
/// prompt, cut at the next top-level statement, run with the task's tests (pass@1) in the <see cref="Sandbox"/> —
/// bubblewrap, with no network, no view of the machine and limits (<see cref="CodeSandbox"/>). Without one, the
/// benchmark is skipped and says why, unless an unconfined subprocess was asked for by name.
/// </summary>
public sealed class HumanEvalBenchmark
{
    static readonly string[] Stops = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert "];

    public required IReadOnlyList<CodeProblem> Problems { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Where completions run; null: nowhere (the benchmark is skipped with <see cref="Unavailable"/>).</summary>
    public CodeSandbox? Sandbox { get; init; }

    /// <summary>Why there is no <see cref="Sandbox"/> (shown when the benchmark is skipped).</summary>
    public string? Unavailable { get; init; }

    /// <summary>The problems of <paramref name="jsonl"/>, run in the bubblewrap sandbox when this machine has one, else (only with <paramref name="unsafeExec"/>) unconfined.</summary>
    public static HumanEvalBenchmark Read(string jsonl, bool unsafeExec = false)
    {
        var problems = Jsonl.Read(jsonl, (e, where) => new CodeProblem(Jsonl.Field(e, "task_id", where), Jsonl.Field(e, "prompt", where),
            Jsonl.Field(e, "canonical_solution", where), Jsonl.Field(e, "test", where), Jsonl.Field(e, "entry_point", where)));
        var (sandbox, why) = SandboxFor(unsafeExec);
        return new HumanEvalBenchmark { Problems = problems, Sandbox = sandbox, Unavailable = why };
    }

    /// <summary>The sandbox this machine offers, or the unconfined subprocess when <paramref name="unsafeExec"/>, or neither and why.</summary>
    public static (CodeSandbox? Sandbox, string? Why) SandboxFor(bool unsafeExec)
    {
        if (CodeSandbox.Find(out var why) is { } sandbox) return (sandbox, null);
        if (unsafeExec && FindPython() is { } python) return (CodeSandbox.Unconfined(python), null);
        return (null, unsafeExec ? "no python3 on PATH" : $"HumanEval runs code the model wrote, and it is only run confined: {why}. " +
                                                          "To run it unconfined anyway, pass --unsafe-exec (ziya2 eval) or set unsafe_exec = true ([[regime.benchmarks]])");
    }

    /// <summary>python3 on PATH, or null.</summary>
    public static string? FindPython() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    /// <summary>The program a completion is judged by: prompt + completion, the task's tests, then <c>check(entry_point)</c>.</summary>
    public static string Program(CodeProblem p, string completion) => $"{p.Prompt}{completion}\n\n{p.Test}\n\ncheck({p.EntryPoint})\n";

    /// <summary>Runs <paramref name="program"/> in the sandbox; passed when it exits 0 within the timeout.</summary>
    public ExecutionResult Execute(string program) =>
        (Sandbox ?? throw new InvalidOperationException(Unavailable ?? "no sandbox to run code in")).Run(program, Timeout);

    public BenchmarkResult Run(LanguageModelScorer scorer, int maxNewTokens = 384, int limit = int.MaxValue, CancellationToken cancellation = default)
    {
        if (Sandbox is null)
            return new BenchmarkResult("humaneval", "pass@1", double.NaN, 0, double.NaN, new Dictionary<string, double>()) { Skipped = Unavailable };
        int passed = 0, total = 0;
        double nll = 0;
        long tokens = 0;
        var outcomes = new Dictionary<string, double>();
        foreach (var p in Problems.Take(limit))
        {
            cancellation.ThrowIfCancellationRequested();
            var completion = scorer.Generate(p.Prompt, maxNewTokens, Stops);
            var result = Execute(Program(p, completion));
            outcomes[p.TaskId] = result.Passed ? 1 : 0;
            passed += result.Passed ? 1 : 0; total++;
            var gold = scorer.ContinuationLogLikelihoods(p.Prompt, [p.CanonicalSolution])[0];
            nll -= gold.LogLikelihood; tokens += gold.Tokens;
        }
        return new BenchmarkResult("humaneval", "pass@1", total > 0 ? (double)passed / total : double.NaN, total, tokens > 0 ? nll / tokens : double.NaN, outcomes);
    }
}

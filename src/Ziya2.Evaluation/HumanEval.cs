using System.Diagnostics;

namespace Ziya2.Evaluation;

/// <summary>A HumanEval task: the function signature and docstring to complete, its tests and entry point.</summary>
public sealed record CodeProblem(string TaskId, string Prompt, string CanonicalSolution, string Test, string EntryPoint);

/// <summary>How one program ran.</summary>
public sealed record ExecutionResult(bool Passed, string Outcome);

/// <summary>
/// HumanEval (<c>HumanEval.jsonl</c>: task_id, prompt, canonical_solution, test, entry_point): a greedy completion of each
/// prompt, cut at the next top-level statement, run with the task's tests in a separate Python process (pass@1).
/// The process gets a scratch directory, an empty environment, isolated mode (<c>-I</c>), CPU-time and memory limits and a
/// wall-clock timeout. That contains mistakes, not malice: it is not a security sandbox — evaluate untrusted models in a
/// container.
/// </summary>
public sealed class HumanEvalBenchmark
{
    static readonly string[] Stops = ["\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\nassert "];

    public required IReadOnlyList<CodeProblem> Problems { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public static HumanEvalBenchmark Read(string jsonl) => new()
    {
        Problems = Jsonl.Read(jsonl, (e, where) => new CodeProblem(Jsonl.Field(e, "task_id", where), Jsonl.Field(e, "prompt", where),
            Jsonl.Field(e, "canonical_solution", where), Jsonl.Field(e, "test", where), Jsonl.Field(e, "entry_point", where))),
    };

    /// <summary>python3 on PATH, or null.</summary>
    public static string? FindPython() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "python3")).FirstOrDefault(File.Exists);

    /// <summary>The program a completion is judged by: prompt + completion, the task's tests, then <c>check(entry_point)</c>.</summary>
    public static string Program(CodeProblem p, string completion) => $"{p.Prompt}{completion}\n\n{p.Test}\n\ncheck({p.EntryPoint})\n";

    /// <summary>Runs <paramref name="program"/>; passed when it exits 0 within the timeout.</summary>
    public ExecutionResult Execute(string program, string python)
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-humaneval-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "program.py"), program);
            int cpu = Math.Max(1, (int)Math.Ceiling(Timeout.TotalSeconds));
            var psi = new ProcessStartInfo("bash", ["-c", $"ulimit -t {cpu}; ulimit -v 4194304; exec \"$0\" -I -B program.py", python])
            {
                WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            };
            psi.Environment.Clear();
            psi.Environment["PATH"] = "/usr/bin:/bin";
            using var process = Process.Start(psi)!;
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            _ = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new ExecutionResult(false, "timed out");
            }
            if (process.ExitCode == 0) return new ExecutionResult(true, "passed");
            // A child the program left behind may still hold stderr open: wait for it briefly, never forever.
            var message = stderr.Wait(TimeSpan.FromSeconds(2)) ? stderr.Result : "";
            var last = message.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? $"exit {process.ExitCode}";
            return new ExecutionResult(false, last.Length > 200 ? last[..200] : last);
        }
        finally { try { Directory.Delete(dir, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } }
    }

    public BenchmarkResult Run(LanguageModelScorer scorer, int maxNewTokens = 384, int limit = int.MaxValue, CancellationToken cancellation = default)
    {
        if (FindPython() is not { } python)
            return new BenchmarkResult("humaneval", "pass@1", double.NaN, 0, double.NaN, new Dictionary<string, double>())
                { Skipped = "no python3 on PATH: HumanEval runs each completion's tests in Python; install python3 to score it" };
        int passed = 0, total = 0;
        double nll = 0;
        long tokens = 0;
        var outcomes = new Dictionary<string, double>();
        foreach (var p in Problems.Take(limit))
        {
            cancellation.ThrowIfCancellationRequested();
            var completion = scorer.Generate(p.Prompt, maxNewTokens, Stops);
            var result = Execute(Program(p, completion), python);
            outcomes[p.TaskId] = result.Passed ? 1 : 0;
            passed += result.Passed ? 1 : 0; total++;
            var gold = scorer.ContinuationLogLikelihoods(p.Prompt, [p.CanonicalSolution])[0];
            nll -= gold.LogLikelihood; tokens += gold.Tokens;
        }
        return new BenchmarkResult("humaneval", "pass@1", total > 0 ? (double)passed / total : double.NaN, total, tokens > 0 ? nll / tokens : double.NaN, outcomes);
    }
}

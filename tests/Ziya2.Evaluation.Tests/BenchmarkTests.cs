using Ziya2.Models;
using System.Reflection;
using Ziya2.Plugins.Llama;
using Ziya2.Plugins.Optimizers;
using Ziya2.Plugins.Tokenizers;
using Ziya2.Tokenization;
using static TorchSharp.torch;

namespace Ziya2.Evaluation.Tests;

/// <summary>A small LLaMA trained for a few steps on the fixture questions, with the real SentencePiece tokenizer; shared by the tests.</summary>
public sealed class TinyModel : IDisposable
{
    public static string Root { get; } = typeof(TinyModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
    public static string Fixture(params string[] parts) => Path.Combine([Root, "tests", "fixtures", "benchmarks", .. parts]);

    public ITokenizer Tokenizer { get; } = SentencePieceTokenizer.Load(Path.Combine(Root, "tests", "fixtures", "tokenizer", "mini.model"));
    public LlamaModel Model { get; }
    public LanguageModelScorer Scorer { get; }

    public TinyModel()
    {
        Model = new LlamaModel(new LlamaOptions
        {
            VocabSize = Tokenizer.VocabSize, HiddenSize = 48, IntermediateSize = 96, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 768, Seed = 11,
        });
        // "Trained": a few AdamW steps on the fixtures' text, so its preferences are not those of random weights.
        var text = string.Concat(File.ReadAllLines(Fixture("mmlu", "dev", "astronomy_dev.csv")).Select(l => l + "\n"));
        var ids = tensor(Tokenizer.Encode(text, addBos: true).Select(i => (long)i).ToArray()).unsqueeze(0);
        using var optimizer = new AdamWFactory(new AdamWOptions { Lr = 3e-3 }).Create(((ILanguageModel)Model).GetParameterGroups());
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            var logits = Model.Forward(ids[.., ..^1]);
            nn.functional.cross_entropy(logits.view(-1, logits.shape[^1]), ids[.., 1..].reshape(-1)).backward();
            optimizer.Step();
        }
        Scorer = new LanguageModelScorer(Model, Tokenizer);
    }

    /// <summary>log p(continuation | prompt) by hand: one forward over prompt + continuation, summing the continuation's tokens.</summary>
    public (double Sum, int Tokens) LogLikelihood(string prompt, string continuation)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var p = Tokenizer.Encode(prompt, addBos: true);
        var full = Tokenizer.Encode(prompt + continuation, addBos: true);
        int start = 0;
        while (start < p.Count && p[start] == full[start]) start++;
        var logp = nn.functional.log_softmax(Model.Forward(tensor(full.Select(i => (long)i).ToArray()).unsqueeze(0))[0], 1);
        double sum = 0;
        for (int t = start; t < full.Count; t++) sum += logp[t - 1, full[t]].item<float>();
        return (sum, full.Count - start);
    }

    public void Dispose() => Model.Dispose();
}

public sealed class MultipleChoiceTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    [Fact]
    public void Prompts_follow_the_opencompass_templates_with_dev_shots()
    {
        var mmlu = MultipleChoiceBenchmark.Mmlu(TinyModel.Fixture("mmlu"));
        var subject = Assert.Single(mmlu.Subjects);
        Assert.Equal(("astronomy", 3, 4), (subject.Name, subject.Dev.Count, subject.Test.Count));
        Assert.Equal(
            "The following are multiple choice questions (with answers) about astronomy.\n\n" +
            "Which planet is closest to the Sun?\nA. Venus\nB. Mercury\nC. Earth\nD. Mars\nAnswer: B\n\n" +
            "How many moons does the fictional planet Zorb have, if it has two more than Mars?\nA. 2\nB. 3\nC. 4\nD. 5\nAnswer: C\n\n" +
            "Which planet has the famous rings?\nA. Saturn\nB. Mercury\nC. Venus\nD. Mars\nAnswer:",
            mmlu.Prompt(subject, subject.Test[0], shots: 2));

        var cmmlu = MultipleChoiceBenchmark.Cmmlu(TinyModel.Fixture("cmmlu"));
        var history = Assert.Single(cmmlu.Subjects);
        Assert.Equal("以下是关于chinese history的单项选择题，请直接给出正确答案的选项。\n\n题目：中国的首都是哪里？\nA. 上海\nB. 北京\nC. 广州\nD. 深圳\n答案是: B\n\n" +
                     "题目：长城主要位于中国的哪个方向？\nA. 北方\nB. 南方\nC. 东方\nD. 西方\n答案是:", cmmlu.Prompt(history, history.Test[0], 1));
        var ceval = MultipleChoiceBenchmark.Ceval(TinyModel.Fixture("ceval"));
        Assert.Equal(["C", "B"], ceval.Subjects[0].Test.Select(i => i.Answer));   // the val split is scored: test answers are not public
    }

    [Fact]
    public void Letters_are_scored_by_their_log_likelihood_and_accuracy_and_answer_loss_follow()
    {
        var mmlu = MultipleChoiceBenchmark.Mmlu(TinyModel.Fixture("mmlu"));
        var subject = mmlu.Subjects[0];
        int right = 0, goldTokens = 0;
        double goldLoss = 0;
        foreach (var item in subject.Test)
        {
            var prompt = mmlu.Prompt(subject, item, 2);
            var byHand = MultipleChoiceBenchmark.Letters.Select(l => tiny.LogLikelihood(prompt, " " + l)).ToArray();
            var scored = tiny.Scorer.ContinuationLogLikelihoods(prompt, MultipleChoiceBenchmark.Letters.Select(l => " " + l).ToList());
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(byHand[i].Sum, scored[i].LogLikelihood, 4);
                Assert.Equal(byHand[i].Tokens, scored[i].Tokens);
            }
            var sums = byHand.Select(b => b.Sum).ToArray();
            if (MultipleChoiceBenchmark.Letters[Array.IndexOf(sums, sums.Max())] == item.Answer) right++;
            var gold = byHand[Array.IndexOf(MultipleChoiceBenchmark.Letters, item.Answer)];
            goldLoss -= gold.Sum; goldTokens += gold.Tokens;
        }
        var result = mmlu.Run(tiny.Scorer, shots: 2);
        Assert.Equal(4, result.Count);
        Assert.Equal(right / 4.0, result.Score);
        Assert.Equal(goldLoss / goldTokens, result.AnswerLoss, 4);   // nats per answer token
        Assert.Equal(result.Score, result.Breakdown["astronomy"]);
    }

    [Fact]
    public void Continuations_of_several_tokens_sum_each_tokens_log_likelihood_after_the_prompt()
    {
        const string prompt = "Question: Which star is nearest to the Earth?\nAnswer:";
        string[] continuations = [" The Sun, a star of middle age.", " Proxima Centauri", " B"];
        var scored = tiny.Scorer.ContinuationLogLikelihoods(prompt, continuations);
        for (int i = 0; i < continuations.Length; i++)
        {
            var byHand = tiny.LogLikelihood(prompt, continuations[i]);
            Assert.Equal(byHand.Tokens, scored[i].Tokens);
            Assert.Equal(byHand.Sum, scored[i].LogLikelihood, 5);
        }
        Assert.True(scored[0].Tokens > 3);
    }

    [Fact]
    public void A_prompt_longer_than_the_model_keeps_its_end()
    {
        var long_ = string.Concat(Enumerable.Repeat("The Sun is a star. ", 400)) + "Answer:";
        var scored = tiny.Scorer.ContinuationLogLikelihoods(long_, [" A", " B"]);
        Assert.All(scored, s => Assert.True(double.IsFinite(s.LogLikelihood) && s.LogLikelihood < 0));
    }

    [Fact]
    public void Malformed_files_name_the_row()
    {
        var dir = Directory.CreateTempSubdirectory("ziya2-mc-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "test"));
            File.WriteAllText(Path.Combine(dir, "test", "x_test.csv"), "Q,a,b,c,d,A\nQ2,a,b,c,d,E\n");
            Assert.Contains("x_test.csv:2: answer 'E' is not A, B, C or D", Assert.Throws<InvalidDataException>(() => MultipleChoiceBenchmark.Mmlu(dir)).Message);
            Assert.Throws<DirectoryNotFoundException>(() => MultipleChoiceBenchmark.Ceval(dir));
        }
        finally { Directory.Delete(dir, true); }
    }
}

public sealed class GenerationBenchmarkTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    [Theory]
    [InlineData("She has 3 + 4 = 7 pens. The answer is 7.", "7")]
    [InlineData("so 1,200 * 2 = 2,400 cups in total", "2400")]
    [InlineData("The answer is $1,234.50", "1234.5")]
    [InlineData("I think it is -3.", "-3")]
    [InlineData("no number here", null)]
    public void Gsm8k_answers_are_extracted_and_normalised(string text, string? expected) => Assert.Equal(expected, MathAnswers.Gsm8kPrediction(text));

    [Theory]
    [InlineData("\\frac12", "\\frac{1}{2}")]
    [InlineData("0.5", "\\frac{1}{2}")]
    [InlineData("\\dfrac{3}{4}", "\\frac{3}{4}")]
    [InlineData("3/4", "\\frac{3}{4}")]
    [InlineData("x = 5", "5")]
    [InlineData("90^\\circ", "90")]
    [InlineData("\\left( 1, 2 \\right)", "(1,2)")]
    [InlineData("10\\%", "10")]
    [InlineData("5\\text{ cm}", "5")]
    [InlineData("2.00", "2")]
    public void Math_answers_normalise_like_hendrycks(string answer, string normal) => Assert.Equal(normal, MathAnswers.NormalizeMath(answer));

    [Fact]
    public void Boxed_answers_keep_nested_braces_and_references_are_read()
    {
        Assert.Equal("\\frac{\\sqrt{3}}{2}", MathAnswers.LastBoxed("first \\boxed{1}, then $\\boxed{\\frac{\\sqrt{3}}{2}}$."));
        Assert.Null(MathAnswers.LastBoxed("\\boxed{unclosed"));
        Assert.Equal("7", MathAnswers.MathPrediction("So the final answer is 7."));
        var math = MathBenchmark.Math(TinyModel.Fixture("math", "test"), TinyModel.Fixture("math", "train"));
        Assert.Equal(["\\dfrac{3}{4}", "4"], math.Test.Select(p => p.Answer));
        Assert.True(math.IsCorrect("It is \\boxed{\\frac34}.", math.Test[0]));
        Assert.True(math.IsCorrect("0.75 is wrong but \\boxed{3/4} is right", math.Test[0]));
        Assert.False(math.IsCorrect("\\boxed{5}", math.Test[1]));
        // A \text{} that is the whole answer is kept (only units after a value go), and an empty answer matches nothing.
        Assert.False(MathAnswers.MathEquivalent("\\text{even}", "\\text{odd}"));
        Assert.True(MathAnswers.MathEquivalent("\\text{odd}", "\\text{ odd}"));
        Assert.False(MathAnswers.MathEquivalent("", "\\text{odd}"));
        Assert.False(MathAnswers.MathEquivalent(MathAnswers.MathPrediction("\\boxed{}"), "\\boxed{}"));
        var gsm = MathBenchmark.Gsm8k(TinyModel.Fixture("gsm8k", "test.jsonl"), TinyModel.Fixture("gsm8k", "train.jsonl"));
        Assert.Equal(["8", "2400"], gsm.Test.Select(p => p.Answer));
        Assert.Equal("Question: Ann has 3 pens and buys 4 more. How many pens does she have?\nAnswer: Ann has 3 + 4 = <<3+4=7>>7 pens.\nThe answer is 7.\n\n" +
                     "Question: Tom had 10 apples and ate 2. How many apples are left?\nAnswer:", gsm.Prompt(gsm.Test[0], 1));
    }

    [Fact]
    public void Generation_stops_at_stop_strings_and_is_what_greedy_decoding_gives()
    {
        var gsm = MathBenchmark.Gsm8k(TinyModel.Fixture("gsm8k", "test.jsonl"), TinyModel.Fixture("gsm8k", "train.jsonl"));
        var prompt = gsm.Prompt(gsm.Test[0], 2);
        var free = tiny.Scorer.Generate(prompt, 24, []);
        // By hand: greedy decoding without stops, then the text cut at the first stop string.
        var ids = tiny.Tokenizer.Encode(prompt, addBos: true).Select(i => (long)i).ToList();
        var raw = TextGeneration.Generate(tiny.Model, ids, new Ziya2.Models.GenerationOptions { MaxNewTokens = 24, StopTokens = [tiny.Tokenizer.Vocabulary.EosId!.Value] });
        Assert.Equal(tiny.Tokenizer.Decode(raw.Where(i => i != tiny.Tokenizer.Vocabulary.EosId).Select(i => (int)i).ToList()), free);
        var stop = free.Length > 3 ? free.Substring(2, 1) : "\n";
        var cut = tiny.Scorer.Generate(prompt, 24, [stop]);
        Assert.Equal(free.IndexOf(stop, StringComparison.Ordinal) is var at and >= 0 ? free[..at] : free, cut);

        // The questions' answers as one batch are the answers one at a time; the benchmark's accuracy is theirs.
        var prompts = gsm.Test.Select(p => gsm.Prompt(p, 2)).ToList();
        string[] stops = ["\n\nQuestion:", "\n\nProblem:", "Question:", "\n\n\n"];
        var alone = prompts.Select(p => tiny.Scorer.Generate(p, 16, stops)).ToList();
        Assert.Equal(alone, tiny.Scorer.GenerateMany(prompts, 16, stops));
        var result = gsm.Run(tiny.Scorer, shots: 2, maxNewTokens: 16);
        Assert.Equal(gsm.Test.Where((p, k) => gsm.IsCorrect(alone[k], p)).Count() / 2.0, result.Score);
        Assert.Equal(2, result.Count);
        Assert.InRange(result.Score, 0, 1);
        Assert.True(result.AnswerLoss > 0 && double.IsFinite(result.AnswerLoss));
    }
}

public sealed class HumanEvalTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    /// <summary>The bubblewrap sandbox; .ci/run installs bubblewrap and sets ZIYA2_REQUIRE_SANDBOX=1, so there it must exist.</summary>
    static CodeSandbox Sandbox()
    {
        var sandbox = CodeSandbox.Find(out var why);
        if (Environment.GetEnvironmentVariable("ZIYA2_REQUIRE_SANDBOX") == "1") Assert.True(sandbox is not null, why);
        Skip.If(sandbox is null, why);
        return sandbox!;
    }

    static HumanEvalBenchmark Bench(CodeSandbox sandbox, int seconds = 10) =>
        new() { Problems = HumanEvalBenchmark.Read(TinyModel.Fixture("humaneval", "HumanEval.jsonl")).Problems, Sandbox = sandbox, Timeout = TimeSpan.FromSeconds(seconds) };

    [SkippableFact]
    public void Completions_pass_or_fail_by_running_the_tests_in_the_sandbox()
    {
        var bench = Bench(Sandbox());
        var add = bench.Problems[0];
        Assert.True(bench.Execute(HumanEvalBenchmark.Program(add, add.CanonicalSolution)).Passed);
        var wrong = bench.Execute(HumanEvalBenchmark.Program(add, "    return a - b\n"));
        Assert.False(wrong.Passed);
        Assert.Contains("AssertionError", wrong.Outcome);

        var result = bench.Run(tiny.Scorer, maxNewTokens: 24);
        Assert.Equal(2, result.Count);
        Assert.Equal(["Fixture/0", "Fixture/1"], result.Breakdown.Keys);
        Assert.True(double.IsFinite(result.AnswerLoss));
    }

    [SkippableFact]
    public void Code_that_reads_writes_connects_forks_allocates_or_loops_is_contained_and_fails()
    {
        var sandbox = Sandbox();
        var bench = Bench(sandbox, seconds: 3);
        var home = Directory.CreateTempSubdirectory("ziya2-sandbox-").FullName;
        try
        {
            var secret = Path.Combine(home, "secret.txt");
            File.WriteAllText(secret, "the user's file");
            var pwned = Path.Combine(home, "pwned");
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var attempts = new Dictionary<string, string>
            {
                ["read a file outside"] = $"print(open({Py(secret)}).read())",
                ["read the system's files"] = "print(open('/etc/passwd').read())",
                ["write outside"] = $"open({Py(pwned)}, 'w').write('x')",
                ["connect to the host"] = $"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)",
                ["reach the network"] = "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=2)",
                ["fork without end"] = "import os\nwhile True:\n    os.fork()",
                ["allocate 10 GB"] = "x = bytearray(10 * 2**30)",
                ["loop forever"] = "while True:\n    pass",
                // Nothing of this process's environment (DOTNET_*, the user's HOME) reaches the code.
                ["read the environment"] = "import os, sys\nsys.exit(1 if os.environ.get('HOME') != '/tmp' or any(k.startswith(('DOTNET', 'ZIYA2', 'CI')) for k in os.environ) else 0)",
            };
            foreach (var (what, code) in attempts)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var outcome = bench.Execute(code + "\n");
                if (what == "read the environment") { Assert.True(outcome.Passed, $"{what}: {outcome.Outcome}"); continue; }   // nothing of ours is there
                Assert.False(outcome.Passed, $"{what} succeeded: {outcome.Outcome}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"{what}: {clock.Elapsed}");
            }
            Assert.False(File.Exists(pwned), "the sandbox wrote outside");
            Assert.False(listener.Pending(), "the sandbox reached the host's loopback");
            // Writing inside is allowed: its private /tmp, which is gone afterwards.
            Assert.True(bench.Execute("open('/tmp/scratch', 'w').write('ok')\nassert open('/tmp/scratch').read() == 'ok'\n").Passed);
            Assert.True(bench.Execute("import os\nassert not os.path.exists('/tmp/scratch')\n").Passed);
        }
        finally { Directory.Delete(home, recursive: true); }
        // The fork bomb's processes are gone with it. Only the sandbox's interpreter counts (`python3 -I -B -`): other test
        // projects run at the same time and start python3 scripts of their own.
        Thread.Sleep(500);
        static bool Sandboxed(System.Diagnostics.Process p)
        {
            try { return p.ProcessName == "python3" && File.ReadAllText($"/proc/{p.Id}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries)[1..] is ["-I", "-B", "-"]; }
            catch (Exception) { return false; }   // gone while we looked
        }
        Assert.DoesNotContain(System.Diagnostics.Process.GetProcesses(), Sandboxed);
    }

    [Fact]
    public void Without_a_sandbox_HumanEval_is_skipped_saying_why_unless_asked_to_run_unconfined()
    {
        var problems = HumanEvalBenchmark.Read(TinyModel.Fixture("humaneval", "HumanEval.jsonl")).Problems;
        var none = new HumanEvalBenchmark { Problems = problems, Unavailable = "bubblewrap (bwrap) is not installed" };
        var skipped = none.Run(tiny.Scorer, maxNewTokens: 4);
        Assert.Equal("bubblewrap (bwrap) is not installed", skipped.Skipped);
        Assert.Equal(0, skipped.Count);
        var (_, why) = HumanEvalBenchmark.SandboxFor(unsafeExec: false);
        if (why is not null) Assert.Contains("--unsafe-exec", why);
        // Unconfined on request: limited (time), but it is a plain subprocess and says so.
        var unconfined = CodeSandbox.Unconfined(HumanEvalBenchmark.FindPython() ?? "/usr/bin/python3");
        Assert.False(unconfined.Confined);
        Assert.Contains("--unsafe-exec", unconfined.Description);
        var quick = new HumanEvalBenchmark { Problems = problems, Sandbox = unconfined, Timeout = TimeSpan.FromSeconds(2) };
        Assert.True(quick.Execute(HumanEvalBenchmark.Program(problems[0], problems[0].CanonicalSolution)).Passed);
        Assert.Equal("timed out", quick.Execute("while True:\n    pass\n").Outcome);
    }

    static string Py(string path) => "'" + path.Replace("\\", "\\\\").Replace("'", "\\'") + "'";
}

public sealed class SimilarityTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    [Fact]
    public void Hidden_states_are_what_the_lm_head_reads_and_embeddings_mean_pool_them()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var ids = tensor(tiny.Tokenizer.Encode("The Sun is a star.", addBos: true).Select(i => (long)i).ToArray()).unsqueeze(0);
        var hidden = tiny.Model.HiddenStates(ids);
        var head = tiny.Model.Module.named_parameters().Single(p => p.name == "lm_head.weight").parameter;
        Assert.True(tiny.Model.Forward(ids).allclose(hidden.matmul(head.t()), rtol: 1e-4, atol: 1e-5));

        var embedder = new ModelEmbedder(tiny.Model, tiny.Tokenizer);
        var vector = embedder.Embed(["The Sun is a star."])[0];
        Assert.Equal(hidden[0].mean([0L]).data<float>().ToArray(), vector);
        Assert.Equal(48, embedder.Dimension);
    }

    [Fact]
    public void Average_cosine_is_the_mean_over_all_pairs()
    {
        var embedder = new ModelEmbedder(tiny.Model, tiny.Tokenizer);
        string[] data = ["Mercury is the closest planet.", "Saturn has rings.", "水在零度时会结冰。"], test = ["Which planet has rings?", "What is a comet?"];
        var x = embedder.Embed(data); var y = embedder.Embed(test);
        double Cos(float[] a, float[] b) => a.Zip(b).Sum(p => (double)p.First * p.Second) / Math.Sqrt(a.Sum(v => (double)v * v) * b.Sum(v => (double)v * v));
        double byHand = x.SelectMany(a => y.Select(b => Cos(a, b))).Average();
        Assert.Equal(byHand, DataSimilarity.AverageCosine(embedder, data, test, batch: 2), 6);
        Assert.Equal(1.0, DataSimilarity.AverageCosine(embedder, ["Saturn has rings."], ["Saturn has rings."]), 6);
    }
}

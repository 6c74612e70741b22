using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Ziya2.Evaluation;

/// <summary>One four-way multiple-choice question.</summary>
public sealed record ChoiceItem(string Question, IReadOnlyList<string> Choices, string Answer);

/// <summary>A subject's few-shot examples and its questions.</summary>
public sealed record ChoiceSubject(string Name, IReadOnlyList<ChoiceItem> Dev, IReadOnlyList<ChoiceItem> Test);

/// <summary>
/// MMLU, CMMLU and C-Eval in their released file layouts, scored as OpenCompass scores base models: a k-shot prompt of
/// the subject's dev questions with answers, then the question; the prediction is the letter whose continuation has
/// the highest log-likelihood.
/// </summary>
public sealed class MultipleChoiceBenchmark
{
    public static readonly string[] Letters = ["A", "B", "C", "D"];

    public required string Name { get; init; }
    public required bool Chinese { get; init; }
    public required IReadOnlyList<ChoiceSubject> Subjects { get; init; }

    /// <summary>
    /// MMLU (hendrycks/test): <c>dev/&lt;subject&gt;_dev.csv</c> and <c>test/&lt;subject&gt;_test.csv</c>, no header, columns
    /// question, A, B, C, D, answer.
    /// </summary>
    public static MultipleChoiceBenchmark Mmlu(string root) => new()
    {
        Name = "mmlu", Chinese = false,
        Subjects = ReadSubjects(root, "test", "_test.csv", s => ($"dev/{s}_dev.csv", $"test/{s}_test.csv"), header: false, offset: 0),
    };

    /// <summary>CMMLU (haonan-li/CMMLU): <c>dev/&lt;subject&gt;.csv</c>, <c>test/&lt;subject&gt;.csv</c>, header <c>,Question,A,B,C,D,Answer</c>.</summary>
    public static MultipleChoiceBenchmark Cmmlu(string root) => new()
    {
        Name = "cmmlu", Chinese = true,
        Subjects = ReadSubjects(root, "test", ".csv", s => ($"dev/{s}.csv", $"test/{s}.csv"), header: true, offset: 1),
    };

    /// <summary>
    /// C-Eval (ceval-exam): <c>dev/&lt;subject&gt;_dev.csv</c> and <c>val/&lt;subject&gt;_val.csv</c> (the test split has no public
    /// answers, so the validation split is scored, as OpenCompass does for local runs), header <c>id,question,A,B,C,D,answer[,explanation]</c>.
    /// </summary>
    public static MultipleChoiceBenchmark Ceval(string root) => new()
    {
        Name = "ceval", Chinese = true,
        Subjects = ReadSubjects(root, "val", "_val.csv", s => ($"dev/{s}_dev.csv", $"val/{s}_val.csv"), header: true, offset: 1),
    };

    static List<ChoiceSubject> ReadSubjects(string root, string split, string suffix, Func<string, (string Dev, string Test)> files, bool header, int offset)
    {
        var dir = Path.Combine(root, split);
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"{root}: no {split}/ directory (expected the benchmark's released layout)");
        return Directory.EnumerateFiles(dir, "*" + suffix).Order(StringComparer.Ordinal).Select(path =>
        {
            var subject = Path.GetFileName(path)[..^suffix.Length];
            var (dev, test) = files(subject);
            var devPath = Path.Combine(root, dev);
            return new ChoiceSubject(subject, File.Exists(devPath) ? Read(devPath, header, offset) : [], Read(Path.Combine(root, test), header, offset));
        }).ToList();
    }

    static List<ChoiceItem> Read(string path, bool header, int offset)
    {
        using var reader = new StreamReader(path);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { HasHeaderRecord = header, BadDataFound = null });
        if (header) { csv.Read(); csv.ReadHeader(); }
        var items = new List<ChoiceItem>();
        while (csv.Read())
        {
            var fields = Enumerable.Range(0, csv.Parser.Count).Select(i => csv.GetField(i) ?? "").ToArray();
            if (fields.Length < offset + 6) throw new InvalidDataException($"{path}:{csv.Parser.Row}: {fields.Length} columns, expected question, A, B, C, D, answer");
            var answer = fields[offset + 5].Trim();
            if (!Letters.Contains(answer)) throw new InvalidDataException($"{path}:{csv.Parser.Row}: answer '{answer}' is not A, B, C or D");
            items.Add(new ChoiceItem(fields[offset], fields[(offset + 1)..(offset + 5)], answer));
        }
        return items;
    }

    /// <summary>The question block as OpenCompass writes it (English or Chinese template), with the answer when given.</summary>
    public string Format(ChoiceItem item, string? answer)
    {
        var options = string.Concat(item.Choices.Select((c, i) => $"\n{Letters[i]}. {c}"));
        return Chinese ? $"题目：{item.Question}{options}\n答案是: {answer}" : $"{item.Question}{options}\nAnswer: {answer}";
    }

    /// <summary>k-shot prompt ending just before the answer letter (the letter is scored as the continuation " X" / "X").</summary>
    public string Prompt(ChoiceSubject subject, ChoiceItem item, int shots)
    {
        var name = subject.Name.Replace('_', ' ');
        var head = Chinese ? $"以下是关于{name}的单项选择题，请直接给出正确答案的选项。\n\n" : $"The following are multiple choice questions (with answers) about {name}.\n\n";
        var examples = string.Concat(subject.Dev.Take(shots).Select(d => Format(d, d.Answer) + "\n\n"));
        return head + examples + Format(item, null).TrimEnd();
    }

    /// <summary>What follows "Answer:" / "答案是:" for letter <paramref name="letter"/>.</summary>
    public static string Continuation(string letter) => " " + letter;

    /// <summary>
    /// Accuracy as OpenCompass summarises these benchmarks: the plain mean of per-subject accuracies (each subject over at
    /// most <paramref name="limit"/> questions; the breakdown lists them), and the mean answer loss over all questions.
    /// A subject without a dev file is scored with as many shots as it has (none).
    /// </summary>
    public BenchmarkResult Run(LanguageModelScorer scorer, int shots, int limit = int.MaxValue, CancellationToken cancellation = default)
    {
        int right = 0, total = 0;
        double nll = 0;
        long nllTokens = 0;
        var perSubject = new Dictionary<string, double>();
        foreach (var subject in Subjects)
        {
            int subjectRight = 0, subjectTotal = 0;
            foreach (var item in subject.Test.Take(limit))
            {
                cancellation.ThrowIfCancellationRequested();
                var scores = scorer.ContinuationLogLikelihoods(Prompt(subject, item, shots), Letters.Select(Continuation).ToList());
                int best = Enumerable.Range(0, scores.Count).MaxBy(i => scores[i].LogLikelihood);
                var gold = scores[Array.IndexOf(Letters, item.Answer)];
                nll -= gold.LogLikelihood; nllTokens += gold.Tokens;
                if (Letters[best] == item.Answer) subjectRight++;
                subjectTotal++;
            }
            if (subjectTotal > 0) perSubject[subject.Name] = (double)subjectRight / subjectTotal;
            right += subjectRight; total += subjectTotal;
        }
        return new BenchmarkResult(Name, "accuracy", perSubject.Count > 0 ? perSubject.Values.Average() : double.NaN, total, nllTokens > 0 ? nll / nllTokens : double.NaN, perSubject);
    }
}

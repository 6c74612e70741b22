using System.Reflection;
using Ziya2.Data;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>
/// Topic distribution by keywords (Table 1 "Topic: statistics"): a document's topic is the one whose keywords occur most
/// often in it (ties: the first topic in lexicon order), "other" when none occurs. Deliberately simple and inspectable;
/// the built-in zh/en lexicon covers eleven broad topics and can be replaced by a TSV file (topic, keyword).
/// </summary>
public sealed class TopicLexicon
{
    readonly List<(string Topic, PhraseMatcher Keywords)> _topics;

    TopicLexicon(List<(string, PhraseMatcher)> topics) => _topics = topics;

    public IReadOnlyList<string> Topics => [.. _topics.Select(t => t.Topic), "other"];

    public static TopicLexicon Load(string? path)
    {
        var lines = path is null ? ReadBuiltIn() : File.ReadAllLines(path);
        var topics = new List<(string, PhraseMatcher)>();
        foreach (var group in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split('\t', 2))
                     .Where(p => p.Length == 2).GroupBy(p => p[0].Trim()))
            topics.Add((group.Key, new PhraseMatcher(group.Select(p => p[1]))));
        if (topics.Count == 0) throw new InvalidDataException($"{path ?? "built-in lexicon"}: no 'topic<TAB>keyword' lines");
        return new TopicLexicon(topics);
    }

    static string[] ReadBuiltIn()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("Ziya2.DataFactory.Evaluation.topics.tsv")!;
        return new StreamReader(s).ReadToEnd().Split('\n');
    }

    public string Classify(string text) => ClassifyLowered(text.ToLowerInvariant());

    /// <summary>As <see cref="Classify"/> on text already lower-cased.</summary>
    public string ClassifyLowered(string lower)
    {
        string best = "other";
        int bestHits = 0;
        foreach (var (topic, keywords) in _topics)
        {
            int hits = keywords.HitsInLowered(lower);
            if (hits > bestHits) (best, bestHits) = (topic, hits);
        }
        return best;
    }
}

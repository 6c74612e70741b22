using System.Text;
using Ziya2.Data;
using Ziya2.DataFactory.Reading;

namespace Ziya2.DataFactory.Evaluation;

/// <summary>
/// Step 5 of the data factory (paper §2.1 DE): automatic metrics on a seeded sample of the processed data and a
/// uniform sample for human evaluation. Streams the shards once; memory is bounded by the samples.
/// </summary>
public sealed class DataEvaluator(EvaluationOptions options, FieldMapping? fields = null)
{
    static readonly (long Max, string Label)[] LengthBuckets =
        [(100, "<100"), (300, "100-300"), (1000, "300-1k"), (3000, "1k-3k"), (10000, "3k-10k"), (30000, "10k-30k"), (long.MaxValue, "≥30k")];

    /// <summary>
    /// Evaluates the documents of <paramref name="shards"/>; returns the report and the human-evaluation sample.
    /// <paramref name="each"/> sees every document read, for a caller that needs one more look without another pass
    /// (the gate's loop finds which judged documents are still kept).
    /// </summary>
    public (EvaluationReport Report, List<Document> Sheet) Run(IReadOnlyList<InputShard> shards, CancellationToken cancellation = default, Action<Document>? each = null)
    {
        // Toxic words as the RF step's word-list filter matches them with whole_words: the gate counts what it would remove.
        var toxic = PhraseMatcher.Load(options.ToxicLists, wholeWords: true);
        var ads = PhraseMatcher.Load(options.AdvertisingLists);
        var topics = TopicLexicon.Load(options.TopicLexicon);
        var report = new EvaluationReport { SampleRate = options.SampleRate, Seed = options.Seed };
        foreach (var t in topics.Topics) report.Topics[t] = 0;
        var lengthCounts = new long[LengthBuckets.Length];
        var hitDocs = new Dictionary<string, long> { ["privacy"] = 0, ["toxic"] = 0, ["advertising"] = 0, ["html_function"] = 0 };
        var hits = hitDocs.Keys.ToDictionary(k => k, _ => 0L);
        long sampledChars = 0;
        var perplexity = new Dictionary<string, List<double>>();
        List<double> informativeness = [], punctuated = [], sentenceChars = [], lengths = [];
        var sheet = new List<Document>();
        var rng = new Random((int)(options.Seed ^ (options.Seed >> 32)));
        var reader = new ShardReader(fields ?? new FieldMapping());

        foreach (var shard in shards)
            foreach (var record in reader.Read(shard))
            {
                cancellation.ThrowIfCancellationRequested();
                if (record is not ParsedRecord { Document: var d }) { report.Malformed++; continue; }
                report.Documents++;
                each?.Invoke(d);
                // Reservoir sample (Algorithm R) for the human sheet: uniform over all documents, fixed by the seed.
                if (sheet.Count < options.SheetSize) sheet.Add(d);
                else if (options.SheetSize > 0 && rng.NextInt64(report.Documents) is var j && j < options.SheetSize) sheet[(int)j] = d;

                if (!Sampled(d.Id)) continue;
                report.Sampled++;
                sampledChars += d.Text.Length;
                var lower = d.Text.ToLowerInvariant();   // once for the word lists and the topic lexicon
                var counts = new Dictionary<string, int>
                {
                    ["privacy"] = TextMeasures.PrivacyHits(d.Text), ["html_function"] = TextMeasures.HtmlFunctionHits(d.Text),
                    ["toxic"] = toxic.HitsInLowered(lower), ["advertising"] = ads.HitsInLowered(lower),
                };
                foreach (var (k, c) in counts) { hits[k] += c; if (c > 0) hitDocs[k]++; }
                var language = d.Language ?? "unknown";
                report.Languages[language] = report.Languages.GetValueOrDefault(language) + 1;
                if (d.Attributes.TryGetValue("perplexity", out var p) && p is IConvertible)
                    (perplexity.TryGetValue(language, out var list) ? list : perplexity[language] = []).Add(Convert.ToDouble(p, System.Globalization.CultureInfo.InvariantCulture));
                if (d.Attributes.TryGetValue("quality_bucket", out var bucket) && bucket?.ToString() is { } b)
                    report.QualityBuckets[b] = report.QualityBuckets.GetValueOrDefault(b) + 1;
                informativeness.Add(TextMeasures.Informativeness(d.Text));
                var (lines, sentence) = TextMeasures.Readability(d.Text);
                punctuated.Add(lines); sentenceChars.Add(sentence);
                int length = d.Text.EnumerateRunes().Count();
                lengths.Add(length);
                lengthCounts[Array.FindIndex(LengthBuckets, x => length < x.Max)]++;
                report.Topics[topics.ClassifyLowered(lower)]++;
            }

        bool measured(string k) => k switch { "toxic" => toxic.Count > 0, "advertising" => ads.Count > 0, _ => true };
        foreach (var k in hitDocs.Keys)
        {
            report.Rates[k] = measured(k) && report.Sampled > 0 ? Math.Round((double)hitDocs[k] / report.Sampled, 6) : null;
            report.HitsPerThousandChars[k] = measured(k) && sampledChars > 0 ? Math.Round(hits[k] * 1000.0 / sampledChars, 4) : null;
        }
        report.Perplexity = perplexity.OrderBy(kv => kv.Key).ToDictionary(kv => kv.Key, kv => Summary.Of(kv.Value));
        report.Informativeness = Summary.Of(informativeness);
        report.PunctuatedLines = Summary.Of(punctuated);
        report.SentenceChars = Summary.Of(sentenceChars);
        report.Length = Summary.Of(lengths);
        report.LengthHistogram = LengthBuckets.Select((b, i) => new KeyValuePair<string, long>(b.Label, lengthCounts[i])).ToList();
        return (report, sheet);
    }

    /// <summary>A stable, seeded hash of the id decides membership, so reruns and resumed runs sample the same documents.</summary>
    bool Sampled(string id)
    {
        ulong h = 0xCBF29CE484222325UL ^ (ulong)options.Seed;
        foreach (var b in Encoding.UTF8.GetBytes(id)) { h ^= b; h *= 0x100000001B3UL; }
        h ^= h >> 33; h *= 0xFF51AFD7ED558CCDUL; h ^= h >> 33;
        return options.SampleRate >= 1 || h < (ulong)(options.SampleRate * ulong.MaxValue);
    }
}

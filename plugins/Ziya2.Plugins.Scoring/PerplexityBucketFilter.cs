using System.Collections.Concurrent;
using System.Text.Json;
using Ziya2.Data;
using Ziya2.NGram;

namespace Ziya2.Plugins.Scoring;

/// <summary>
/// Automatic scoring as the paper does it (§2.1 AS, after CCNet): each document's perplexity under its language's n-gram
/// model, then a ranking per language over the whole corpus — the lowest-perplexity 30 % are <c>high</c>, the next 30 %
/// <c>medium</c>, the rest <c>low</c> (dropped as <c>perplexity_low</c> by default). Writes the attributes
/// <c>perplexity</c> and <c>quality_bucket</c>.
/// <para>The ranking is a corpus decision: pass 1 builds a histogram of log10 perplexity per language in 10⁻⁴-wide bins
/// (at most 80,000 counters per language whatever the corpus size — perplexities agree to 0.023 % inside a bin), the
/// cut-offs are read from it, and pass 2 labels. Documents in the bin that holds a cut-off all go to the better bucket,
/// so a bucket can exceed its share by one bin's worth.</para>
/// </summary>
public sealed class PerplexityBucketFilter : ICarryingCorpusDataFilter
{
    readonly PerplexityOptions o;

    /// <summary>The model files must exist now (options validation leaves them alone, so a recipe validates on a machine without them).</summary>
    public PerplexityBucketFilter(PerplexityOptions options)
    {
        o = options;
        foreach (var (key, path) in o.Models.Select(m => ($"models.{m.Key}", m.Value)).Concat(o.SentencepieceModels.Select(m => ($"sentencepiece_models.{m.Key}", m.Value))))
            if (!File.Exists(path)) throw new FileNotFoundException($"filters.perplexity {key}: no such file '{path}'", path);
    }

    const double BinWidth = 1e-4, MaxLog10 = 8;   // perplexity 1 .. 10^8; beyond is the last bin
    static readonly ConcurrentDictionary<string, Lazy<ArpaModel>> Models = new();
    static readonly ConcurrentDictionary<(LmTokenization, string?), Lazy<LmTokenizer>> Tokenizers = new();
    readonly Dictionary<string, Dictionary<int, long>> _histograms = [];
    Dictionary<string, Cutoffs> _cutoffs = [];

    sealed record Cutoffs(int HighBin, int MediumBin, long Documents);

    /// <summary>A model is read once per process and shared by every worker (they are read-only).</summary>
    static ArpaModel Model(string path) => Models.GetOrAdd(Path.GetFullPath(path), p => new Lazy<ArpaModel>(() => ArpaModel.Load(p))).Value;

    (string Language, double Perplexity)? Score(Document d)
    {
        var language = d.Language ?? "";
        if (!o.Models.TryGetValue(language, out var path)) return null;
        var mode = o.TokenizationFor(language);
        var spModel = mode == LmTokenization.SentencePiece ? Path.GetFullPath(o.SentencepieceModels[language]) : null;
        var tokenizer = Tokenizers.GetOrAdd((mode, spModel), k => new Lazy<LmTokenizer>(() => LmTokenizer.Create(k.Item1, k.Item2))).Value;
        var (log10, tokens) = Model(path).ScoreDocument(d.Text, tokenizer);
        return (language, ArpaModel.Perplexity(log10, tokens));
    }

    static int Bin(double perplexity) =>
        double.IsFinite(perplexity) ? (int)Math.Clamp(Math.Log10(Math.Max(1, perplexity)) / BinWidth, 0, MaxLog10 / BinWidth) : (int)(MaxLog10 / BinWidth);

    public void Observe(Document document, DocumentPosition position) => ObserveAndCarry(document, position);

    /// <summary>Pass 1: counts the document's bin and hands its perplexity to pass 2 (NaN: not scored), so each document is scored once.</summary>
    public double ObserveAndCarry(Document document, DocumentPosition position)
    {
        if (Score(document) is not { } s) return double.NaN;
        var h = _histograms.TryGetValue(s.Language, out var x) ? x : _histograms[s.Language] = [];
        var bin = Bin(s.Perplexity);
        h[bin] = h.GetValueOrDefault(bin) + 1;
        return s.Perplexity;
    }

    public byte[] SaveObservations() => JsonSerializer.SerializeToUtf8Bytes(_histograms);

    public byte[] Decide(IReadOnlyList<byte[]> observations)
    {
        var merged = new Dictionary<string, SortedDictionary<int, long>>();
        foreach (var bytes in observations)
            foreach (var (language, h) in JsonSerializer.Deserialize<Dictionary<string, Dictionary<int, long>>>(bytes)!)
            {
                var m = merged.TryGetValue(language, out var x) ? x : merged[language] = [];
                foreach (var (bin, count) in h) m[bin] = m.GetValueOrDefault(bin) + count;
            }
        var cutoffs = new Dictionary<string, Cutoffs>();
        foreach (var (language, h) in merged)
        {
            long total = h.Values.Sum(), seen = 0;
            int highBin = -1, mediumBin = -1;
            foreach (var (bin, count) in h)
            {
                seen += count;
                if (highBin < 0 && seen >= o.High * total) highBin = bin;
                if (mediumBin < 0 && seen >= o.Medium * total) { mediumBin = bin; break; }
            }
            cutoffs[language] = new Cutoffs(highBin, Math.Max(mediumBin, highBin), total);
        }
        return JsonSerializer.SerializeToUtf8Bytes(cutoffs);
    }

    public void UseDecision(byte[] decision) => _cutoffs = JsonSerializer.Deserialize<Dictionary<string, Cutoffs>>(decision)!;

    public FilterDecision Apply(Document document, DocumentPosition position) => Label(document, Score(document));

    /// <summary>Pass 2 with the perplexity pass 1 computed (NaN: the document was not scored).</summary>
    public FilterDecision Apply(Document document, DocumentPosition position, double carried) =>
        Label(document, double.IsNaN(carried) ? null : (document.Language ?? "", carried));

    FilterDecision Label(Document document, (string Language, double Perplexity)? score)
    {
        if (score is not { } s)
            return o.KeepUnscored ? FilterDecision.Rewrite(document.WithAttribute("quality_bucket", "unscored")) : FilterDecision.Drop("perplexity_unscored");
        var bin = Bin(s.Perplexity);
        var c = _cutoffs.GetValueOrDefault(s.Language);
        var bucket = c is null ? "low" : bin <= c.HighBin ? "high" : bin <= c.MediumBin ? "medium" : "low";
        if (bucket == "low" && o.DropLow) return FilterDecision.Drop("perplexity_low");
        var scored = document.WithAttribute("perplexity", Math.Round(s.Perplexity, 2)).WithAttribute("quality_bucket", bucket);
        return FilterDecision.Rewrite(scored);
    }
}

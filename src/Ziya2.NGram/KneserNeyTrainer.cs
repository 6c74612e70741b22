using System.Globalization;
using System.Text;

namespace Ziya2.NGram;

/// <summary>Discounts of one order (modified Kneser–Ney: for adjusted counts 1, 2 and 3+).</summary>
/// <param name="Order">The n-gram order.</param>
/// <param name="D1">Discount of n-grams seen once.</param>
/// <param name="D2">Discount of n-grams seen twice.</param>
/// <param name="D3Plus">Discount of n-grams seen three times or more.</param>
/// <param name="Fallback">True when the count-of-counts could not give valid discounts and lmplz's fallback (0.5, 1, 1.5) was used.</param>
public sealed record Discounts(int Order, double D1, double D2, double D3Plus, bool Fallback);

/// <summary>What training produced.</summary>
public sealed record TrainingSummary(int Order, long Sentences, long Tokens, int Vocabulary, IReadOnlyList<long> NGrams, IReadOnlyList<Discounts> Discounts);

/// <summary>
/// Interpolated modified Kneser–Ney estimation (Chen &amp; Goodman 1998, as KenLM's <c>lmplz</c> does it, without pruning):
/// the highest order uses raw counts, lower orders continuation counts (the number of distinct words seen before the
/// n-gram) except n-grams starting with <c>&lt;s&gt;</c>, which keep raw counts; three discounts per order from the
/// count-of-counts; unigrams interpolate with the uniform distribution over the vocabulary (<c>&lt;unk&gt;</c> included,
/// <c>&lt;s&gt;</c> excluded). Writes ARPA whose backoff weights are the interpolation weights, so ARPA's backoff rule
/// reproduces the interpolated distribution exactly. Holds all n-grams in memory (about 60 bytes each): for corpora
/// beyond one machine's memory use KenLM's <c>lmplz</c>, whose ARPA output <see cref="ArpaModel"/> reads the same way.
/// </summary>
public sealed class KneserNeyTrainer
{
    const int Bits = 24, MaxOrder = 5;   // n-grams packed into 128-bit keys: 5 ids of 24 bits
    readonly int _order;
    readonly Dictionary<string, int> _vocabulary = new(StringComparer.Ordinal);
    readonly List<string> _words = [];
    readonly Dictionary<UInt128, long>[] _raw;
    long _sentences, _tokens;

    public KneserNeyTrainer(int order)
    {
        if (order is < 1 or > MaxOrder) throw new ArgumentOutOfRangeException(nameof(order), order, $"order must be within 1..{MaxOrder}");
        _order = order;
        _raw = Enumerable.Range(0, order).Select(_ => new Dictionary<UInt128, long>()).ToArray();
        foreach (var w in new[] { ArpaModel.Unk, ArpaModel.Bos, ArpaModel.Eos }) Id(w);
    }

    const int UnkId = 0, BosId = 1, EosId = 2;

    int Id(string word)
    {
        if (_vocabulary.TryGetValue(word, out var id)) return id;
        if (_words.Count >= (1 << Bits) - 1) throw new InvalidOperationException($"vocabulary exceeds {(1 << Bits) - 1:N0} words");
        _vocabulary[word] = _words.Count;
        _words.Add(word);
        return _words.Count - 1;
    }

    /// <summary>Counts one sentence (its tokens; <c>&lt;s&gt;</c> and <c>&lt;/s&gt;</c> are added).</summary>
    public void AddSentence(IReadOnlyList<string> tokens)
    {
        if (tokens.Count == 0) return;
        var ids = new int[tokens.Count + 2];
        ids[0] = BosId; ids[^1] = EosId;
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i] is ArpaModel.Bos or ArpaModel.Eos or ArpaModel.Unk) throw new ArgumentException($"the corpus contains the reserved token '{tokens[i]}'");
            ids[i + 1] = Id(tokens[i]);
        }
        for (int i = 0; i < ids.Length; i++)
            for (int n = 1; n <= _order && i + n <= ids.Length; n++)
            {
                var key = Pack(ids.AsSpan(i, n));
                _raw[n - 1][key] = _raw[n - 1].GetValueOrDefault(key) + 1;
            }
        _sentences++; _tokens += tokens.Count;
    }

    /// <summary>Counts every non-empty line of a text.</summary>
    public void AddText(string text, LmTokenization tokenization) => AddText(text, LmTokenizer.Create(tokenization));

    /// <summary>Counts every non-empty line of a text, tokenised by <paramref name="tokenizer"/>.</summary>
    public void AddText(string text, LmTokenizer tokenizer)
    {
        foreach (var line in text.Split('\n')) AddSentence(tokenizer.Tokenize(line));
    }

    static UInt128 Pack(ReadOnlySpan<int> ids)
    {
        UInt128 key = 0;
        foreach (var id in ids) key = (key << Bits) | (uint)(id + 1);   // +1: no id packs to 0, so lengths never collide
        return key;
    }

    /// <summary>The first id of a packed n-gram, without unpacking (and allocating) the rest.</summary>
    static int FirstId(UInt128 key, int n) => (int)(uint)((key >> (Bits * (n - 1))) & ((1u << Bits) - 1)) - 1;

    static int[] Unpack(UInt128 key, int n)
    {
        var ids = new int[n];
        for (int k = n - 1; k >= 0; k--) { ids[k] = (int)(uint)(key & ((1u << Bits) - 1)) - 1; key >>= Bits; }
        return ids;
    }

    /// <summary>Estimates the model and writes it as ARPA to <paramref name="writer"/>.</summary>
    public TrainingSummary Write(TextWriter writer)
    {
        if (_sentences == 0) throw new InvalidOperationException("the corpus has no tokens");
        // Adjusted counts: raw at the highest order and for n-grams starting with <s>; continuation counts otherwise.
        var adjusted = new Dictionary<UInt128, long>[_order];
        adjusted[_order - 1] = _raw[_order - 1];
        for (int n = _order - 1; n >= 1; n--)
        {
            var a = new Dictionary<UInt128, long>();
            foreach (var (key, count) in _raw[n - 1])
                if (FirstId(key, n) == BosId) a[key] = count;
            foreach (var key in _raw[n].Keys)
            {
                var suffix = key & ((UInt128.One << (Bits * n)) - 1);
                a[suffix] = a.GetValueOrDefault(suffix) + 1;
            }
            adjusted[n - 1] = a;
        }

        var discounts = new Discounts[_order];
        for (int n = 1; n <= _order; n++)
        {
            var countOfCounts = new long[5];
            foreach (var (key, c) in adjusted[n - 1])
                if (c <= 4 && !(n == 1 && FirstId(key, 1) == BosId)) countOfCounts[c]++;
            discounts[n - 1] = EstimateDiscounts(n, countOfCounts);
        }

        // Per context: the sum of adjusted counts and how many continuations have count 1, 2, 3+.
        var probabilities = new Dictionary<UInt128, double>[_order];
        var gammas = new Dictionary<UInt128, double>[_order];   // gammas[n-1]: contexts of length n-1 … keyed by the context
        int vocabularyForUniform = _words.Count - 1;            // everything but <s>
        for (int n = 1; n <= _order; n++)
        {
            var d = discounts[n - 1];
            var stats = new Dictionary<UInt128, (double Sum, long N1, long N2, long N3)>();
            foreach (var (key, c) in adjusted[n - 1])
            {
                if (n == 1 && key == Pack([BosId])) continue;
                var context = key >> Bits;
                var s = stats.GetValueOrDefault(context);
                stats[context] = (s.Sum + c, s.N1 + (c == 1 ? 1 : 0), s.N2 + (c == 2 ? 1 : 0), s.N3 + (c >= 3 ? 1 : 0));
            }
            var gamma = stats.ToDictionary(kv => kv.Key, kv => (d.D1 * kv.Value.N1 + d.D2 * kv.Value.N2 + d.D3Plus * kv.Value.N3) / kv.Value.Sum);
            var p = new Dictionary<UInt128, double>(adjusted[n - 1].Count + 1);
            foreach (var (key, c) in adjusted[n - 1])
            {
                if (n == 1 && key == Pack([BosId])) continue;
                var context = key >> Bits;
                double u = (c - Discount(d, c)) / stats[context].Sum;
                double lower = n == 1 ? 1.0 / vocabularyForUniform : probabilities[n - 2][key & ((UInt128.One << (Bits * (n - 1))) - 1)];
                p[key] = u + gamma[context] * lower;
            }
            if (n == 1) p[Pack([UnkId])] = gamma[0] / vocabularyForUniform;   // never counted: only the uniform share
            probabilities[n - 1] = p;
            gammas[n - 1] = gamma;
        }

        WriteArpa(writer, probabilities, gammas);
        return new TrainingSummary(_order, _sentences, _tokens, _words.Count,
            probabilities.Select((p, i) => (long)p.Count + (i == 0 ? 1 : 0)).ToArray(), discounts);
    }

    static double Discount(Discounts d, long count) => count switch { 1 => d.D1, 2 => d.D2, _ => d.D3Plus };

    /// <summary>Chen &amp; Goodman's estimates from the count-of-counts; lmplz's fallback when they are undefined or invalid.</summary>
    static Discounts EstimateDiscounts(int order, long[] n)
    {
        if (n[1] > 0 && n[2] > 0 && n[3] > 0 && n[4] > 0)
        {
            double y = (double)n[1] / (n[1] + 2.0 * n[2]);
            double d1 = 1 - 2 * y * n[2] / n[1], d2 = 2 - 3 * y * n[3] / n[2], d3 = 3 - 4 * y * n[4] / n[3];
            if (d1 is > 0 and < 1 && d2 is > 0 and < 2 && d3 is > 0 and < 3) return new Discounts(order, d1, d2, d3, false);
        }
        return new Discounts(order, 0.5, 1.0, 1.5, true);
    }

    void WriteArpa(TextWriter w, Dictionary<UInt128, double>[] probabilities, Dictionary<UInt128, double>[] gammas)
    {
        var bos = Pack([BosId]);
        w.Write("\\data\\\n");
        for (int n = 1; n <= _order; n++) w.Write($"ngram {n}={probabilities[n - 1].Count + (n == 1 ? 1 : 0)}\n");
        for (int n = 1; n <= _order; n++)
        {
            w.Write($"\n\\{n}-grams:\n");
            var keys = probabilities[n - 1].Keys.ToList();
            if (n == 1) keys.Add(bos);
            keys.Sort();
            var contexts = n < _order ? gammas[n] : null;   // an n-gram's backoff is its weight as a context of order n+1
            foreach (var key in keys)
            {
                var line = new StringBuilder();
                line.Append(key == bos ? "-99" : Format(Math.Log10(probabilities[n - 1][key]))).Append('\t');
                line.AppendJoin(' ', Unpack(key, n).Select(id => _words[id]));
                if (contexts is not null && contexts.TryGetValue(key, out var g)) line.Append('\t').Append(Format(g > 0 ? Math.Log10(g) : -99));
                else if (contexts is not null && n < _order) line.Append("\t0");
                w.Write(line.Append('\n').ToString());
            }
        }
        w.Write("\n\\end\\\n");
    }

    static string Format(double x) => x.ToString("0.#######", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text;

namespace Ziya2.NGram;

/// <summary>
/// A backoff n-gram model in KenLM's ARPA format (the output of <c>lmplz</c>, and of <see cref="KneserNeyTrainer"/>),
/// queried with KenLM's semantics: log10 p(w | h) is the probability of the longest n-gram (h', w) in the model with h'
/// a suffix of h, plus the backoff weights of every longer suffix of h that is in the model (a missing one weighs 0).
/// Sentences start in the <c>&lt;s&gt;</c> context and end by predicting <c>&lt;/s&gt;</c>; words outside the vocabulary
/// are <c>&lt;unk&gt;</c> (log10 p = -100 if the model has none, as KenLM does).
/// </summary>
public sealed class ArpaModel
{
    /// <summary>log10 probability KenLM gives unknown words when the model has no <c>&lt;unk&gt;</c>.</summary>
    public const float MissingUnknownLog10 = -100f;
    public const string Bos = "<s>", Eos = "</s>", Unk = "<unk>";

    readonly Dictionary<string, int> _vocabulary;
    readonly ProbingTable[] _tables;   // _tables[n - 1] holds the n-grams
    // The id of every one-character word by its UTF-16 unit (UnknownId where none): character-level models (Chinese)
    // look up nearly every token here, and a 256 KB array answers where a string-keyed dictionary hashed each one.
    readonly int[] _singleCharacterIds;

    ArpaModel(Dictionary<string, int> vocabulary, ProbingTable[] tables, long[] counts, bool holdsEverySuffix)
    {
        _vocabulary = vocabulary; _tables = tables; Counts = counts; HoldsEverySuffix = holdsEverySuffix;
        BosId = vocabulary.TryGetValue(Bos, out var b) ? b : throw new InvalidDataException("the model has no <s>");
        EosId = vocabulary.TryGetValue(Eos, out var e) ? e : throw new InvalidDataException("the model has no </s>");
        UnknownId = vocabulary.TryGetValue(Unk, out var u) ? u : -1;
        _singleCharacterIds = new int[char.MaxValue + 1];
        Array.Fill(_singleCharacterIds, UnknownId);
        foreach (var (word, id) in vocabulary) if (word.Length == 1 && !char.IsSurrogate(word[0])) _singleCharacterIds[word[0]] = id;
    }

    /// <summary>The highest n-gram order.</summary>
    public int Order => _tables.Length;
    /// <summary>Number of n-grams per order (1-based order at index order-1).</summary>
    public IReadOnlyList<long> Counts { get; }
    public int VocabularySize => _vocabulary.Count;
    public int BosId { get; }
    public int EosId { get; }
    /// <summary>Id of <c>&lt;unk&gt;</c>, or -1 when the model has none.</summary>
    public int UnknownId { get; }

    /// <summary>
    /// Whether the suffix of every n-gram (its last n−1 words) is in the model, as in every model <c>lmplz</c> or
    /// <see cref="KneserNeyTrainer"/> estimates. Then no n-gram ending at a word is in the model once a shorter one ending
    /// there is missing, and scoring stops looking there, as KenLM's always does; ARPA does not promise it, so it is checked
    /// when the model is read (and recorded in the binary form).
    /// </summary>
    public bool HoldsEverySuffix { get; }

    /// <summary>The id of a word; <see cref="UnknownId"/> for words outside the vocabulary.</summary>
    public int WordId(string word) => _vocabulary.TryGetValue(word, out var id) ? id : UnknownId;

    /// <summary>log10 p(word | context), context oldest first (only its last Order-1 ids matter).</summary>
    public double LogProb(ReadOnlySpan<int> context, int word)
    {
        if (context.Length > Order - 1) context = context[^(Order - 1)..];
        Span<int> gram = stackalloc int[context.Length + 1];
        context.CopyTo(gram);
        gram[^1] = word;
        double backoff = 0;
        for (int n = gram.Length; n >= 1; n--)
        {
            var ngram = gram[^n..];
            if (word >= 0 && _tables[n - 1].TryGet(ProbingTable.Hash(ngram), out var prob, out _)) return prob + backoff;
            // Not found at this order: back off from its context (if the context is in the model).
            if (n > 1 && _tables[n - 2].TryGet(ProbingTable.Hash(ngram[..^1]), out _, out var bo)) backoff += bo;
        }
        return MissingUnknownLog10 + backoff;   // an unknown word in a model without <unk>
    }

    /// <summary>Total log10 probability of a tokenised sentence, as KenLM's <c>Model.score(sentence, bos, eos)</c>.</summary>
    public double Score(IReadOnlyList<string> tokens, bool bos = true, bool eos = true)
    {
        Span<int> ids = tokens.Count <= 512 ? stackalloc int[tokens.Count] : new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = WordId(tokens[i]);
        return ScoreIds(ids, bos, eos);
    }

    /// <summary>
    /// As <see cref="Score"/> for word ids (<see cref="UnknownId"/> for words outside the vocabulary): the sum of
    /// <see cref="LogProb"/> over the sentence, computed as KenLM's forward state does. Every n-gram ending at a word
    /// is looked up once — its probability serves that word, its backoff the next word's contexts — from hashes extended
    /// one id at a time, shortest first, stopping at the first missing one when the model <see cref="HoldsEverySuffix"/>
    /// (the longer ones cannot be there either); the sums equal <see cref="LogProb"/>'s bit for bit either way.
    /// </summary>
    double ScoreIds(ReadOnlySpan<int> words, bool bos, bool eos)
    {
        int length = words.Length + (bos ? 1 : 0) + (eos ? 1 : 0);
        Span<int> ids = length <= 514 ? stackalloc int[length] : new int[length];
        int first = bos ? 1 : 0;
        if (bos) ids[0] = BosId;
        words.CopyTo(ids[first..]);
        if (eos) ids[^1] = EosId;

        int order = Order;
        // [n] for the n-gram of length n ending at the current word; "previous" holds those ending at the word before.
        // The next word's hashes are made (and their slots prefetched) before the current word's lookups, so its cache
        // misses are already under way when its turn comes.
        Span<ulong> hashes = stackalloc ulong[order + 1], next = stackalloc ulong[order + 1];
        Span<bool> found = stackalloc bool[order + 1], previousFound = stackalloc bool[order + 1];
        Span<float> prob = stackalloc float[order + 1], backoff = stackalloc float[order + 1], previousBackoff = stackalloc float[order + 1];
        double total = 0;
        if (ids.Length > 0) Extend(hashes, hashes, ids[0], 1);
        for (int i = 0; i < ids.Length; i++)
        {
            int word = ids[i], grams = Math.Min(order, i + 1);
            if (i + 1 < ids.Length) Extend(hashes, next, ids[i + 1], Math.Min(order, i + 2));
            for (int n = 1; n <= grams; n++)
                if (!(found[n] = _tables[n - 1].TryGet(ProbingTable.HashEnd(hashes[n]), out prob[n], out backoff[n])) && HoldsEverySuffix)
                {
                    found[(n + 1)..(grams + 1)].Clear();
                    break;
                }
            if (i >= first)
            {
                // LogProb: the longest n-gram in the model (none for an unknown word without <unk>), plus the backoff of
                // every longer context in the model, added longest first.
                int longest = 0;
                if (word >= 0) for (int n = grams; n >= 1 && longest == 0; n--) if (found[n]) longest = n;
                double weights = 0;
                for (int k = grams - 1; k >= Math.Max(1, longest); k--) if (previousFound[k]) weights += previousBackoff[k];
                total += longest > 0 ? prob[longest] + weights : MissingUnknownLog10 + weights;
            }
            found.CopyTo(previousFound);
            backoff.CopyTo(previousBackoff);
            var done = hashes; hashes = next; next = done;
        }
        return total;
    }

    /// <summary>
    /// The hashes of the n-grams of lengths 1..<paramref name="grams"/> ending at <paramref name="word"/>, from those
    /// ending at the word before it (<paramref name="before"/>; may be <paramref name="into"/> itself, which is filled
    /// longest first), and a prefetch of each one's slot.
    /// </summary>
    void Extend(ReadOnlySpan<ulong> before, Span<ulong> into, int word, int grams)
    {
        for (int n = grams; n >= 2; n--) into[n] = ProbingTable.HashNext(before[n - 1], word);
        into[1] = ProbingTable.HashNext(ProbingTable.HashStart, word);
        for (int n = 1; n <= grams; n++) _tables[n - 1].Prefetch(ProbingTable.HashEnd(into[n]));
    }

    /// <summary>
    /// CCNet's document score: every non-empty line is a sentence with <c>&lt;s&gt;</c> and <c>&lt;/s&gt;</c>; returns the summed
    /// log10 probability and the number of predicted tokens (words + one <c>&lt;/s&gt;</c> per line).
    /// </summary>
    public (double Log10, int Tokens) ScoreDocument(string text, LmTokenization tokenization) => ScoreDocument(text, LmTokenizer.Create(tokenization));

    /// <inheritdoc cref="ScoreDocument(string, LmTokenization)"/>
    public (double Log10, int Tokens) ScoreDocument(string text, LmTokenizer tokenizer)
    {
        double log10 = 0; int tokens = 0;
        // Whitespace and character tokens go straight from the text to ids (no token strings: scoring is a hot loop of
        // the data factory), split where LmTokenizer splits them; SentencePiece pieces go through their strings.
        var mode = tokenizer.Mode;
        var ranges = new List<Range>();
        var ids = new List<int>();
        var lookup = _vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var range in text.AsSpan().Split('\n'))
        {
            var line = text.AsSpan(range);
            if (mode == LmTokenization.SentencePiece)
            {
                var words = tokenizer.Tokenize(line.ToString());
                if (words.Count == 0) continue;
                log10 += Score(words);
                tokens += words.Count + 1;
                continue;
            }
            LmTokenizer.Split(line, mode, ranges);
            if (ranges.Count == 0) continue;
            ids.Clear();
            foreach (var r in ranges)
            {
                var token = line[r];
                ids.Add(token.Length == 1 && !char.IsSurrogate(token[0]) ? _singleCharacterIds[token[0]]
                        : mode == LmTokenization.Characters && LmTokenizer.HasLoneSurrogate(token) ? WordId(LmTokenizer.Token(token, mode))
                        : lookup.TryGetValue(token, out var id) ? id : UnknownId);
            }
            log10 += ScoreIds(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(ids), bos: true, eos: true);
            tokens += ids.Count + 1;
        }
        return (log10, tokens);
    }

    /// <summary>CCNet's perplexity: 10^(-log10 / tokens); +∞ for a document without tokens.</summary>
    public static double Perplexity(double log10, int tokens) => tokens == 0 ? double.PositiveInfinity : Math.Pow(10, -log10 / tokens);

    /// <summary>First bytes of a binary model (<see cref="SaveBinary"/>): version 2 records <see cref="HoldsEverySuffix"/> after
    /// the order; version 1 files (without it) are still read, as models not known to hold every suffix.</summary>
    static ReadOnlySpan<byte> BinaryMagic => "ZIYA2LM2"u8;
    static ReadOnlySpan<byte> BinaryMagicVersion1 => "ZIYA2LM1"u8;
    static bool IsBinary(ReadOnlySpan<byte> head) => head.SequenceEqual(BinaryMagic) || head.SequenceEqual(BinaryMagicVersion1);

    /// <summary>
    /// Writes the model in this program's binary form — the probing tables as they lie in memory, as KenLM's
    /// <c>build_binary</c> does for its own — which <see cref="Load"/> reads in a fraction of the time the ARPA text takes
    /// (a 79 MB ARPA: 1.6 s as text, 0.1 s binary). Written atomically.
    /// </summary>
    public void SaveBinary(string path)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        using (var writer = new BinaryWriter(File.Create(tmp), Encoding.UTF8))
        {
            writer.Write(BinaryMagic);
            writer.Write(Order);
            writer.Write(HoldsEverySuffix);
            foreach (var c in Counts) writer.Write(c);
            writer.Write(_vocabulary.Count);
            foreach (var (word, _) in _vocabulary.OrderBy(kv => kv.Value)) writer.Write(word);
            foreach (var t in _tables) t.Write(writer);
        }
        File.Move(tmp, full, overwrite: true);
    }

    static ArpaModel ReadBinary(Stream stream, string name)
    {
        using var reader = new BinaryReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), leaveOpen: true);
        try
        {
            Span<byte> magic = stackalloc byte[8];
            if (stream.ReadAtLeast(magic, 8, throwOnEndOfStream: false) != 8 || !IsBinary(magic)) throw new InvalidDataException($"{name}: not a binary model");
            int order = reader.ReadInt32();
            if (order is < 1 or > 16) throw new InvalidDataException($"{name}: order {order} is not one this program writes");
            bool holdsEverySuffix = magic.SequenceEqual(BinaryMagic) && reader.ReadByte() switch
            {
                0 => false, 1 => true, var b => throw new InvalidDataException($"{name}: suffix flag {b} is not one this program writes"),
            };
            var counts = new long[order];
            for (int n = 0; n < order; n++) counts[n] = reader.ReadInt64();
            int words = reader.ReadInt32();
            if (words < 0 || words > counts[0] || words > stream.Length - stream.Position) throw new InvalidDataException($"{name}: {words} words for {counts[0]} unigrams");
            var vocabulary = new Dictionary<string, int>(words, StringComparer.Ordinal);
            for (int i = 0; i < words; i++)
                if (!vocabulary.TryAdd(reader.ReadString(), i)) throw new InvalidDataException($"{name}: word {i} is listed twice");
            var tables = new ProbingTable[order];
            for (int n = 0; n < order; n++) tables[n] = ProbingTable.Read(reader, name);
            if (stream.ReadByte() != -1) throw new InvalidDataException($"{name}: bytes after the last table");
            return new ArpaModel(vocabulary, tables, counts, holdsEverySuffix);
        }
        catch (EndOfStreamException) { throw new InvalidDataException($"{name}: the file ends early (truncated)"); }
        catch (DecoderFallbackException) { throw new InvalidDataException($"{name}: a word is not UTF-8"); }
        catch (IOException e) when (e is not FileNotFoundException) { throw new InvalidDataException($"{name}: {e.Message}"); }
    }

    /// <summary>
    /// Reads a model: ARPA text (plain or .gz; malformed input is refused with its line number) or the binary form
    /// <see cref="SaveBinary"/> writes (told apart by its first bytes).
    /// </summary>
    public static ArpaModel Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such ARPA model", path);
        using var raw = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        int got = raw.ReadAtLeast(head, 8, throwOnEndOfStream: false);
        raw.Position = 0;
        if (got == 8 && IsBinary(head)) return ReadBinary(raw, path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new Ziya2.IO.CheckedGzipStream(raw, path) : raw;
        using var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true));
        return Read(reader, path);
    }

    /// <summary>Reads ARPA text from <paramref name="reader"/>; <paramref name="name"/> is used in error messages.</summary>
    public static ArpaModel Read(TextReader reader, string name)
    {
        long lineNo = 0;
        string? line;
        string Fail(string why) => throw new InvalidDataException($"{name}:{lineNo}: {why}");
        string? Next() { lineNo++; return reader.ReadLine(); }

        while ((line = Next()) is not null && line.Trim() != "\\data\\") { }
        if (line is null) Fail("no \\data\\ header: not an ARPA file");
        var counts = new List<long>();
        while ((line = Next()) is not null && line.Trim().Length > 0)
        {
            var t = line.Trim();
            if (!t.StartsWith("ngram ", StringComparison.Ordinal)) Fail($"expected 'ngram N=count', got '{t}'");
            var eq = t.IndexOf('=');
            if (eq < 0 || !int.TryParse(t.AsSpan(6, eq - 6), CultureInfo.InvariantCulture, out var n) || n != counts.Count + 1 ||
                !long.TryParse(t.AsSpan(eq + 1), CultureInfo.InvariantCulture, out var c) || c < 0)
                Fail($"bad count line '{t}'");
            else counts.Add(c);
        }
        if (counts.Count == 0) Fail("no n-gram counts after \\data\\");

        // The declared counts size the tables only up to a bound: a header can claim anything, the lines below must prove it.
        var vocabulary = new Dictionary<string, int>((int)Math.Min(counts[0], ProbingTable.MaxInitial), StringComparer.Ordinal);
        var tables = counts.Select(c => new ProbingTable(c)).ToArray();
        var ids = new int[counts.Count];
        var parts = new Range[counts.Count + 2];
        var lookup = vocabulary.GetAlternateLookup<ReadOnlySpan<char>>();
        bool holdsEverySuffix = true;   // the orders come in sequence: an n-gram's suffix order is complete when it is read
        for (int n = 1; n <= counts.Count; n++)
        {
            while ((line = Next()) is not null && line.Trim().Length == 0) { }
            if (line?.Trim() != $"\\{n}-grams:") Fail($"expected \\{n}-grams:, got '{line}'");
            for (long i = 0; i < counts[n - 1]; i++)
            {
                line = Next() ?? Fail($"file ends inside the {n}-grams ({i:N0} of {counts[n - 1]:N0} read)");
                // KenLM's reader splits on ASCII space, tab and CR only: a no-break space (U+00A0, common in web text) is part of a word.
                // Fields are spans of the line (no strings but new unigrams): reading is most of a large model's load time.
                var text = line.AsSpan();
                int fields = 0;
                foreach (var range in text.SplitAny(ArpaSpaces))
                {
                    if (range.End.Value == range.Start.Value) continue;
                    if (fields < parts.Length) parts[fields] = range;
                    fields++;
                }
                if (fields != n + 1 && fields != n + 2) Fail($"expected a probability, {n} word(s) and an optional backoff, got '{line}'");
                if (!float.TryParse(text[parts[0]], NumberStyles.Float, CultureInfo.InvariantCulture, out var prob)) Fail($"bad probability '{text[parts[0]].ToString()}'");
                float backoff = 0;
                if (fields == n + 2 && !float.TryParse(text[parts[n + 1]], NumberStyles.Float, CultureInfo.InvariantCulture, out backoff)) Fail($"bad backoff '{text[parts[n + 1]].ToString()}'");
                for (int k = 0; k < n; k++)
                {
                    var word = text[parts[k + 1]];
                    if (n == 1)
                    {
                        var unigram = word.ToString();
                        if (!vocabulary.TryAdd(unigram, vocabulary.Count)) Fail($"unigram '{unigram}' listed twice");
                        ids[0] = vocabulary[unigram];
                    }
                    else if (!lookup.TryGetValue(word, out ids[k])) Fail($"word '{word.ToString()}' of a {n}-gram is not a unigram");
                }
                tables[n - 1].Set(ProbingTable.Hash(ids.AsSpan(0, n)), prob, backoff);
                if (n > 1 && holdsEverySuffix) holdsEverySuffix = tables[n - 2].TryGet(ProbingTable.Hash(ids.AsSpan(1, n - 1)), out _, out _);
            }
        }
        while ((line = Next()) is not null && line.Trim().Length == 0) { }
        if (line?.Trim() != "\\end\\") Fail($"expected \\end\\, got '{line}'");
        return new ArpaModel(vocabulary, tables, counts.ToArray(), holdsEverySuffix);
    }

    static readonly char[] ArpaSpaces = [' ', '\t', '\r'];
}

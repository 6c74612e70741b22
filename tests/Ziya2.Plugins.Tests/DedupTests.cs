using System.Text;
using Ziya2.Data;
using Ziya2.Plugins.Dedup;

namespace Ziya2.Plugins.Tests;

/// <summary>URL, exact and SimHash deduplication: what counts as the same, who survives, and the incremental index.</summary>
public sealed class DedupTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ziya2-dedup-").FullName;

    const string Article = "The city council approved the new budget on Tuesday after a long debate about school funding, road repairs " +
        "and the public library. The mayor said the plan balances the needs of families with the cost of maintaining old " +
        "buildings, and that work on the bridge will start in the spring. Critics argued that taxes would rise again next year.";

    static Document Doc(string id, string text, string? url = null, string? bucket = null)
    {
        var d = new Document(id, text) { Url = url };
        return bucket is null ? d : d.WithAttribute("quality_bucket", bucket);
    }

    /// <summary>Runs the corpus step through its plain corpus-filter face: one observer per shard, every round in turn, then apply; returns id → reason or "kept".</summary>
    static (Dictionary<string, string> Outcome, byte[] Decision) Run(DedupOptions o, params Document[][] shards)
    {
        var observations = shards.Select((docs, s) =>
        {
            ICorpusDataFilter f = new DedupFilter(o);
            for (int i = 0; i < docs.Length; i++) f.Observe(docs[i], new DocumentPosition(s, i));
            return f.SaveObservations();
        }).ToList();
        var decision = ((ICorpusDataFilter)new DedupFilter(o)).Decide(observations);
        ICorpusDataFilter apply = new DedupFilter(o);
        apply.UseDecision(decision);
        var outcome = new Dictionary<string, string>();
        for (int s = 0; s < shards.Length; s++)
            for (int i = 0; i < shards[s].Length; i++)
            {
                var r = apply.Apply(shards[s][i], new DocumentPosition(s, i));
                outcome[shards[s][i].Id] = r.Action == FilterAction.Drop ? r.Reason! : "kept";
            }
        return (outcome, decision);
    }

    [Fact]
    public void Urls_are_normalised_before_comparison()
    {
        var same = new[] { "https://www.Example.com/news/a?b=2&a=1&utm_source=x#top", "http://example.com/news/a/?a=1&b=2", "https://example.com:443/news/a?a=1&b=2&spm=123" };
        Assert.Single(same.Select(Normalization.Url).Distinct());
        Assert.NotEqual(Normalization.Url("https://example.com/news/a?a=2"), Normalization.Url("https://example.com/news/a?a=1"));
        Assert.Null(Normalization.Url("not a url"));
        Assert.Null(Normalization.Url("ftp://example.com/x"));
    }

    [Fact]
    public void Exact_text_ignores_punctuation_emoji_whitespace_and_case()
    {
        Assert.Equal(Normalization.Text("今天，天气 很好！😀"), Normalization.Text("今天天气很好"));
        Assert.Equal(Normalization.Text("Hello,   World!"), Normalization.Text("hello world"));
        Assert.NotEqual(Normalization.Text("今天天气很好"), Normalization.Text("今天天气不好"));
    }

    [Fact]
    public void SimHash_distance_grows_with_the_edit()
    {
        ulong a = SimHash.Compute(Article, 4);
        Assert.Equal(0, SimHash.Distance(a, SimHash.Compute(Article.ToUpperInvariant().Replace(".", " ."), 4)));   // same tokens
        int oneWord = SimHash.Distance(a, SimHash.Compute(Article.Replace("Tuesday", "Wednesday"), 4));
        int unrelated = SimHash.Distance(a, SimHash.Compute("A recipe for dumplings: mix flour and water, rest the dough, roll thin wrappers and fill them with pork and cabbage.", 4));
        Assert.InRange(oneWord, 1, 6);
        Assert.True(unrelated > 15, $"unrelated texts {unrelated} bits apart");
    }

    [Fact]
    public void SimHash_equals_its_definition_on_random_texts()
    {
        // The definition as first written (token strings, one string and byte array per shingle, 64 votes per
        // feature): the index files of earlier runs hold its values, so the fast form must give the same bits.
        static ulong Reference(string text, int shingle)
        {
            var tokens = new List<string>();
            var word = new StringBuilder();
            void Flush() { if (word.Length > 0) { tokens.Add(word.ToString()); word.Clear(); } }
            foreach (var r in text.EnumerateRunes())
            {
                if (r.Value is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FA1F or >= 0xF900 and <= 0xFAFF) { Flush(); tokens.Add(r.ToString()); }
                else if (Rune.IsLetterOrDigit(r)) word.Append(Rune.ToLowerInvariant(r).ToString());
                else Flush();
            }
            Flush();
            var votes = new int[64];
            int features = Math.Max(1, tokens.Count - shingle + 1);
            for (int i = 0; i < features; i++)
            {
                var shingleText = string.Concat(tokens.Skip(i).Take(shingle).Select(t => t + "\u0001"));
                ulong h = System.IO.Hashing.XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(shingleText));
                for (int bit = 0; bit < 64; bit++) votes[bit] += ((h >> bit) & 1) != 0 ? 1 : -1;
            }
            ulong result = 0;
            for (int bit = 0; bit < 64; bit++) if (votes[bit] > 0) result |= 1UL << bit;
            return result;
        }
        var rng = new Random(5);
        string[] pieces = ["的", "天", "𠀀", "𪚥", "Hello", "WORLD", "İstanbul", "Ǆ", "Straße", "ÉCOLE", "42", "x", " ", "\n", ",", "。", "😀",
                           "\ud800", "\udc00", "\u0001", "é", "e\u0301", "Ⅻ", "ｆｕｌｌ", "-", "ΣΑΣ"];
        for (int n = 0; n < 3000; n++)
        {
            // One text in ten has 600-1,500 tokens: a bit's count of ones passes 255, where the byte counters must
            // have been emptied.
            bool isLong = n % 10 == 0;
            var text = string.Join(isLong ? " " : "", Enumerable.Range(0, isLong ? rng.Next(600, 1500) : rng.Next(0, 40)).Select(_ => pieces[rng.Next(pieces.Length)]));
            int shingle = rng.Next(1, 6);
            Assert.Equal(Reference(text, shingle), SimHash.Compute(text, shingle));
        }
    }

    [Fact]
    public void The_first_seen_survives_in_the_papers_order_of_stages()
    {
        var nearText = Article.Replace("Tuesday", "Wednesday");
        int distance = SimHash.Distance(SimHash.Compute(Article, 4), SimHash.Compute(nearText, 4));
        var o = new DedupOptions { Hamming = Math.Max(3, distance) };
        var (outcome, _) = Run(o,
            [Doc("a", Article, "https://news.example.com/a"), Doc("b", "完全不同的一篇文章，讲的是城市里的新公园和周末的音乐会。", "https://news.example.com/b")],
            [Doc("c", "Totally different text about gardening in small balconies and which herbs grow well.", "http://news.example.com/a/?utm_source=feed"),
             Doc("d", "完全不同的一篇文章：讲的是城市里的新公园和周末的音乐会！", "https://mirror.example.org/b"),
             Doc("e", nearText, "https://other.example.org/e"),
             Doc("f", "A short unrelated note about the weather being fine today and tomorrow.")]);
        Assert.Equal("kept", outcome["a"]);
        Assert.Equal("kept", outcome["b"]);
        Assert.Equal("duplicate_url", outcome["c"]);     // same URL as a, different text: the URL stage comes first
        Assert.Equal("duplicate_exact", outcome["d"]);   // b's text with other punctuation
        Assert.Equal("near_duplicate", outcome["e"]);
        Assert.Equal("kept", outcome["f"]);              // no URL is not a duplicate URL

        // Below the measured distance the near duplicate is kept: the threshold is what decides.
        if (distance > 0) Assert.Equal("kept", Run(new DedupOptions { Hamming = distance - 1 }, [Doc("a", Article)], [Doc("e", nearText)]).Outcome["e"]);
    }

    [Fact]
    public void Best_bucket_policy_keeps_the_higher_quality_copy_and_decisions_are_deterministic()
    {
        Document[][] shards = [[Doc("low", Article, bucket: "medium")], [Doc("high", Article + " ", bucket: "high")]];
        Assert.Equal("duplicate_exact", Run(new DedupOptions(), shards).Outcome["high"]);
        var best = Run(new DedupOptions { Keep = KeepPolicy.BestBucket }, shards);
        Assert.Equal(("duplicate_exact", "kept"), (best.Outcome["low"], best.Outcome["high"]));
        Assert.Equal(best.Decision, Run(new DedupOptions { Keep = KeepPolicy.BestBucket }, shards).Decision);
    }

    [Fact]
    public void A_committed_run_makes_the_next_one_drop_its_duplicates()
    {
        var o = new DedupOptions { Index = Path.Combine(_dir, "index"), ExpectedDocuments = 1000 };
        var (first, decision) = Run(o, [Doc("a", Article, "https://example.com/a"), Doc("b", "第一批数据中的另一篇文章，内容和其他文章都不一样。")]);
        Assert.All(first.Values, v => Assert.Equal("kept", v));
        ((ICorpusDataFilter)new DedupFilter(o)).Commit(decision);
        Assert.True(File.Exists(Path.Combine(o.Index, "url.bloom")) && File.Exists(Path.Combine(o.Index, "exact.bloom")) && File.Exists(Path.Combine(o.Index, "simhash.db")));

        var (second, _) = Run(o, [Doc("x", "A new article that nobody has seen before, about trains.", "https://example.com/a?utm_medium=x"),
                                  Doc("y", "第一批数据中的另一篇文章：内容和其他文章都不一样！"),
                                  Doc("z", NearVariant(o.Hamming)),
                                  Doc("w", "Something genuinely new about mountain hiking routes in autumn.")]);
        Assert.Equal(("duplicate_url", "duplicate_exact", "near_duplicate", "kept"), (second["x"], second["y"], second["z"], second["w"]));

        // The index remembers its settings; a run with other SimHash settings is refused rather than silently wrong.
        var other = new DedupOptions { Index = o.Index, Hamming = 5 };
        var e = Assert.Throws<InvalidDataException>(() => Run(other, [Doc("q", Article)]));
        Assert.Contains("hamming=3", e.Message);
        File.WriteAllText(Path.Combine(o.Index, "url.bloom"), "garbage");
        Assert.Throws<InvalidDataException>(() => Run(o, [Doc("q", Article, "https://example.com/q")]));
    }

    [Fact]
    public void A_document_is_not_dropped_for_matching_one_that_was_itself_dropped()
    {
        // b loses its URL to a; c has b's text but its own URL: b is gone at the URL stage, so c is the first of its text.
        var (outcome, _) = Run(new DedupOptions(),
            [Doc("a", Article, "https://example.com/page"), Doc("b", "第二版的页面内容，和第一版完全不同。", "https://example.com/page")],
            [Doc("c", "第二版的页面内容：和第一版完全不同！", "https://mirror.example.org/page")]);
        Assert.Equal(("kept", "duplicate_url", "kept"), (outcome["a"], outcome["b"], outcome["c"]));
    }

    [Fact]
    public void Near_duplicates_form_clusters_whose_first_member_survives()
    {
        // b is one edit from a, c one more edit from b; a and c are further apart than the threshold, but c belongs to
        // a's cluster through b (datatrove's clustering), so only a survives — whatever order the links arrive in.
        string[] edits = ["Tuesday|Monday", "spring|summer", "library|museum", "Critics|Opponents", "school|hospital", "bridge|tunnel"];
        foreach (var first in edits)
            foreach (var second in edits.Where(e => e != first))
            {
                var b = Article.Replace(first.Split('|')[0], first.Split('|')[1]);
                var c = b.Replace(second.Split('|')[0], second.Split('|')[1]);
                ulong ha = SimHash.Compute(Article, 4), hb = SimHash.Compute(b, 4), hc = SimHash.Compute(c, 4);
                int h = Math.Max(SimHash.Distance(ha, hb), SimHash.Distance(hb, hc));
                if (h == 0 || h > 8 || SimHash.Distance(ha, hc) <= h) continue;
                var o = new DedupOptions { Hamming = h };
                var chain = Run(o, [Doc("c", c, bucket: "high")], [Doc("a", Article), Doc("b", b)]).Outcome;
                Assert.Equal(("kept", "near_duplicate", "near_duplicate"), (chain["c"], chain["b"], chain["a"]));
                var best = Run(new DedupOptions { Hamming = h, Keep = KeepPolicy.BestBucket }, [Doc("a", Article)], [Doc("b", b), Doc("c", c, bucket: "high")]).Outcome;
                Assert.Equal(("kept", "near_duplicate", "near_duplicate"), (best["c"], best["b"], best["a"]));
                return;
            }
        Assert.Fail("no pair of edits makes a chain a ~ b ~ c with a and c apart");
    }

    [Fact]
    public void Decisions_do_not_depend_on_the_partition_count()
    {
        var corpus = DuplicateRichCorpus(new Random(7), shards: 4, perShard: 80);
        foreach (var keep in new[] { KeepPolicy.First, KeepPolicy.BestBucket })
        {
            var one = Run(new DedupOptions { Keep = keep, Partitions = 1 }, corpus).Outcome;
            foreach (var partitions in new[] { 3, 8 })
                Assert.Equal(one, Run(new DedupOptions { Keep = keep, Partitions = partitions }, corpus).Outcome);
            // Not vacuous: every stage drops something and most documents survive.
            var reasons = one.Values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(new[] { "duplicate_url", "duplicate_exact", "near_duplicate", "kept" }, r => Assert.True(reasons.GetValueOrDefault(r) >= 5, $"{keep}: {r} x{reasons.GetValueOrDefault(r)}"));
        }
    }

    /// <summary>Documents drawn from a few articles: copies with other punctuation, one-word edits, reused URLs, random buckets.</summary>
    internal static Document[][] DuplicateRichCorpus(Random random, int shards, int perShard)
    {
        string[] words = ["river", "market", "winter", "station", "garden", "teacher", "harbor", "festival", "engine", "village", "orchard", "museum",
                          "bakery", "council", "library", "mountain", "theater", "factory", "meadow", "lantern", "故事", "城市", "天气", "学校"];
        var articles = Enumerable.Range(0, 12).Select(_ => string.Join(' ', Enumerable.Range(0, 60).Select(_ => words[random.Next(words.Length)]))).ToArray();
        string[] buckets = ["high", "medium", "low"];
        return Enumerable.Range(0, shards).Select(s => Enumerable.Range(0, perShard).Select(i =>
        {
            var text = articles[random.Next(articles.Length)];
            text = random.Next(4) switch
            {
                0 => text.Replace(" ", ", ", StringComparison.Ordinal),                                       // exact copy, other punctuation
                1 => text + " " + words[random.Next(words.Length)],                                              // one word more
                2 => $"unique {s}-{i}: " + string.Join(' ', Enumerable.Range(0, 40).Select(_ => words[random.Next(words.Length)])),
                _ => text,
            };
            var url = random.Next(3) == 0 ? null : $"https://site{random.Next(40)}.example.com/p";
            return Doc($"{s}-{i}", text, url, buckets[random.Next(3)]);
        }).ToArray()).ToArray();
    }

    [Fact]
    public void A_partitioned_index_keeps_one_set_of_files_per_partition_and_refuses_another_count()
    {
        var o = new DedupOptions { Index = Path.Combine(_dir, "parts"), ExpectedDocuments = 1000, Partitions = 4 };
        var (first, decision) = Run(o, [Doc("a", Article, "https://example.com/a"), Doc("b", "第一批数据中的另一篇文章，内容和其他文章都不一样。", "https://example.com/b")]);
        ((ICorpusDataFilter)new DedupFilter(o)).Commit(decision);
        var files = Directory.GetFiles(o.Index).Select(Path.GetFileName).ToList();
        Assert.Contains(files, f => f!.StartsWith("url-") && f.EndsWith("-of-0004.bloom"));
        Assert.Contains(files, f => f!.StartsWith("simhash-") && f.EndsWith("-of-0004.db"));
        Assert.DoesNotContain("url.bloom", files);

        var (second, _) = Run(o, [Doc("x", "Brand new text about trains.", "https://example.com/a"), Doc("y", "第一批数据中的另一篇文章：内容和其他文章都不一样！"),
                                  Doc("z", NearVariant(o.Hamming))]);
        Assert.Equal(("duplicate_url", "duplicate_exact", "near_duplicate"), (second["x"], second["y"], second["z"]));
        var e = Assert.Throws<InvalidDataException>(() => Run(new DedupOptions { Index = o.Index, Partitions = 2 }, [Doc("q", Article, "https://example.com/q")]));
        Assert.Contains("partitions = 4", e.Message);
    }

    /// <summary>A one-word edit of the article whose SimHash is within <paramref name="bits"/> of the original.</summary>
    static string NearVariant(int bits)
    {
        string[] edits = [Article.Replace("Tuesday", "Monday"), Article.Replace("spring", "summer"), Article.Replace("again", "sharply"),
                          Article.Replace("library", "museum"), Article + " Updated.", Article.Replace("Critics", "Opponents")];
        ulong original = SimHash.Compute(Article, 4);
        return edits.First(e => SimHash.Distance(original, SimHash.Compute(e, 4)) is > 0 and var d && d <= bits);
    }

    [Fact]
    public void The_simhash_carried_from_pass_1_gives_pass_2_the_decision_and_attribute_it_computes_afresh()
    {
        var o = new DedupOptions();
        Document[] docs = [Doc("a", Article, "https://a.example/x"), Doc("b", Article.Replace("Tuesday", "Monday"), "https://b.example/y"),
                           Doc("c", "A short note about the weather on the coast, which was calm and mild all week long."), Doc("d", Article, "https://a.example/x")];
        var (outcome, decision) = Run(o, docs);
        var observer = new DedupFilter(o);
        var carried = docs.Select((d, i) => observer.ObserveAndCarry(d, new DocumentPosition(0, i))).ToArray();
        var apply = new DedupFilter(o);
        ((ICorpusDataFilter)apply).UseDecision(decision);
        for (int i = 0; i < docs.Length; i++)
        {
            Assert.Equal(SimHash.Compute(docs[i].Text, o.Shingle), BitConverter.DoubleToUInt64Bits(carried[i]));
            var (withCarry, afresh) = (apply.Apply(docs[i], new DocumentPosition(0, i), carried[i]), apply.Apply(docs[i], new DocumentPosition(0, i)));
            Assert.Equal((afresh.Action, afresh.Reason), (withCarry.Action, withCarry.Reason));
            Assert.Equal(outcome[docs[i].Id], withCarry.Action == FilterAction.Drop ? withCarry.Reason : "kept");
            if (withCarry.Action != FilterAction.Drop)
                Assert.Equal(afresh.Document!.Attributes["simhash"], withCarry.Document!.Attributes["simhash"]);
        }
        Assert.Equal("duplicate_url", outcome["d"]);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Contains(new DedupOptions { Url = false, Exact = false, Near = false }.Validate(), m => m.Contains("at least one"));
        Assert.Contains(new DedupOptions { Hamming = 4, Bands = 3 }.Validate(), m => m.Contains("bands must be > hamming"));
        Assert.Empty(new DedupOptions { Hamming = 3, Bands = 6 }.Validate());
        Assert.Contains(new DedupOptions { Partitions = 0 }.Validate(), m => m.Contains("partitions"));
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

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

    /// <summary>Runs the corpus step as the engine does: one observer per shard, one decider, then apply; returns id → reason or "kept".</summary>
    static (Dictionary<string, string> Outcome, byte[] Decision) Run(DedupOptions o, params Document[][] shards)
    {
        var observations = shards.Select((docs, s) =>
        {
            var f = new DedupFilter(o);
            for (int i = 0; i < docs.Length; i++) f.Observe(docs[i], new DocumentPosition(s, i));
            return f.SaveObservations();
        }).ToList();
        var decision = new DedupFilter(o).Decide(observations);
        var apply = new DedupFilter(o);
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
        new DedupFilter(o).Commit(decision);
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

    /// <summary>A one-word edit of the article whose SimHash is within <paramref name="bits"/> of the original.</summary>
    static string NearVariant(int bits)
    {
        string[] edits = [Article.Replace("Tuesday", "Monday"), Article.Replace("spring", "summer"), Article.Replace("again", "sharply"),
                          Article.Replace("library", "museum"), Article + " Updated.", Article.Replace("Critics", "Opponents")];
        ulong original = SimHash.Compute(Article, 4);
        return edits.First(e => SimHash.Distance(original, SimHash.Compute(e, 4)) is > 0 and var d && d <= bits);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Contains(new DedupOptions { Url = false, Exact = false, Near = false }.Validate(), m => m.Contains("at least one"));
        Assert.Contains(new DedupOptions { Hamming = 4, Bands = 3 }.Validate(), m => m.Contains("bands must be > hamming"));
        Assert.Empty(new DedupOptions { Hamming = 3, Bands = 6 }.Validate());
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

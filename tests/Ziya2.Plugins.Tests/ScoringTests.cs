using Ziya2.Data;
using Ziya2.NGram;
using Ziya2.Plugins.Scoring;

namespace Ziya2.Plugins.Tests;

/// <summary>Perplexity buckets: ranked per language over all shards, the low bucket dropped, attributes written.</summary>
public sealed class ScoringTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("ziya2-scoring-").FullName;

    const string Clean = "数据工厂把原始网页变成训练文本。每一步都记录删除的原因，保证数量能够对上。持续预训练的关键在于数据的混合和顺序。";

    string TrainModel()
    {
        var trainer = new KneserNeyTrainer(3);
        for (int i = 0; i < 5; i++) trainer.AddText(Clean, LmTokenization.Characters);
        var path = Path.Combine(_dir, "zh.arpa");
        using (var w = new StreamWriter(path)) trainer.Write(w);
        return path;
    }

    /// <summary>Document i has i of its characters moved out of place: more noise, higher perplexity.</summary>
    static Document Noisy(int i)
    {
        var chars = Clean.ToCharArray();
        var rng = new Random(i);
        for (int k = 0; k < i * 4; k++) { int a = rng.Next(chars.Length), b = rng.Next(chars.Length); (chars[a], chars[b]) = (chars[b], chars[a]); }
        return new Document($"d{i}", new string(chars)) { Language = "zh" };
    }

    [Fact]
    public void Ranks_the_corpus_into_buckets_per_language_across_shards()
    {
        var options = new PerplexityOptions { Models = new() { ["zh"] = TrainModel() } };
        Assert.Empty(options.Validate());
        var docs = Enumerable.Range(0, 10).Select(Noisy).ToList();
        // Two shards observed by two instances, decided by a third, applied by a fourth — as the engine does.
        var shard0 = new PerplexityBucketFilter(options);
        var shard1 = new PerplexityBucketFilter(options);
        for (int i = 0; i < 10; i++) (i % 2 == 0 ? shard0 : shard1).Observe(docs[i], new DocumentPosition(i % 2, i / 2));
        shard0.Observe(new Document("en", "an English document without an English model") { Language = "en" }, new DocumentPosition(0, 9));
        var decision = new PerplexityBucketFilter(options).Decide([shard0.SaveObservations(), shard1.SaveObservations()]);
        var apply = new PerplexityBucketFilter(options);
        apply.UseDecision(decision);

        var outcomes = docs.Select((d, i) => apply.Apply(d, new DocumentPosition(i % 2, i / 2))).ToList();
        var buckets = outcomes.Select(o => o.Action == FilterAction.Drop ? o.Reason : (string)o.Document!.Attributes["quality_bucket"]).ToList();
        // Expected from the ranks of the perplexities the scorer itself gives: 3 lowest high, next 3 medium, 4 dropped.
        var model = ArpaModel.Load(options.Models["zh"]);
        var rank = docs.Select((d, i) => (i, p: model.ScoreDocument(d.Text, LmTokenization.Characters))).OrderBy(x => ArpaModel.Perplexity(x.p.Log10, x.p.Tokens))
            .Select((x, r) => (x.i, r)).ToDictionary(x => x.i, x => x.r);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => rank[i] < 3 ? "high" : rank[i] < 6 ? "medium" : "perplexity_low"), buckets);
        Assert.Equal("high", buckets[0]);   // the clean document
        var kept = outcomes.Where(o => o.Document is not null).ToList();
        Assert.All(kept, o => Assert.InRange((double)o.Document!.Attributes["perplexity"], 1, 1e4));
        Assert.Equal("unscored", apply.Apply(new Document("x", "no model for this language") { Language = "en" }, new DocumentPosition(0, 9)).Document!.Attributes["quality_bucket"]);

        // Pass 1 hands each perplexity to pass 2: deciding with it is deciding afresh, and NaN is "not scored".
        var observer = new PerplexityBucketFilter(options);
        for (int i = 0; i < 10; i++)
        {
            var position = new DocumentPosition(i % 2, i / 2);
            double carried = observer.ObserveAndCarry(docs[i], position);
            var again = apply.Apply(docs[i], position, carried);
            Assert.Equal((outcomes[i].Action, outcomes[i].Reason), (again.Action, again.Reason));
            Assert.Equal(outcomes[i].Document?.Attributes.OrderBy(kv => kv.Key), again.Document?.Attributes.OrderBy(kv => kv.Key));
        }
        var english = new Document("en", "an English document without an English model") { Language = "en" };
        Assert.True(double.IsNaN(observer.ObserveAndCarry(english, new DocumentPosition(0, 9))));
        Assert.Equal("unscored", apply.Apply(english, new DocumentPosition(0, 9), double.NaN).Document!.Attributes["quality_bucket"]);
    }

    [Fact]
    public void Options_are_checked()
    {
        Assert.Contains(new PerplexityOptions().Validate(), m => m.Contains("models must name"));
        // A missing model is not an options error (recipes validate where the files are absent) but stops the filter being built.
        Assert.Empty(new PerplexityOptions { Models = new() { ["zh"] = "/nope.arpa" } }.Validate());
        var missing = Assert.Throws<FileNotFoundException>(() => new PerplexityBucketFilter(new PerplexityOptions { Models = new() { ["zh"] = "/nope.arpa" } }));
        Assert.Contains("models.zh: no such file '/nope.arpa'", missing.Message);
        Assert.Contains(new PerplexityOptions { Models = new() { ["zh"] = TrainModel() }, High = 0.7, Medium = 0.5 }.Validate(), m => m.Contains("high <= medium"));
    }

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }
}

using Ziya2.Data;
using Ziya2.Plugins.DataFilters.Rules;

namespace Ziya2.Plugins.Tests;

/// <summary>Gopher's top n-gram repetition, against its definition written out the plain way.</summary>
public class NgramRepetitionRuleTests
{
    // The definition: units (non-space characters of mostly-Chinese text, else words), the most frequent 2/3/4-gram
    // (the earliest of those tied), the characters its occurrences cover against all the units' characters.
    static bool Dropped(string text, NgramRepetitionOptions o)
    {
        bool chinese = TextMetrics.IsMostlyChinese(text);
        var units = chinese ? text.EnumerateRunes().Where(r => !System.Text.Rune.IsWhiteSpace(r)).Select(r => r.ToString()).ToList() : TextMetrics.Words(text);
        long total = units.Sum(u => (long)u.Length);
        if (units.Count < 10 || total == 0) return false;
        foreach (var (n, max) in new[] { (2, o.MaxTop2), (3, o.MaxTop3), (4, o.MaxTop4) })
        {
            if (units.Count < n) break;
            var grams = Enumerable.Range(0, units.Count - n + 1).Select(i => (Key: string.Join("\u0001", units.Skip(i).Take(n)), Start: i)).ToList();
            var top = grams.GroupBy(g => g.Key).Select(g => (Count: g.Count(), g.First().Start)).OrderByDescending(g => g.Count).ThenBy(g => g.Start).First();
            if (top.Count < 2) continue;
            if ((double)top.Count * units.Skip(top.Start).Take(n).Sum(u => u.Length) / total > max) return true;
        }
        return false;
    }

    [Fact]
    public void Decides_as_the_definition_on_random_repetitive_text()
    {
        var rule = new NgramRepetitionRule(new NgramRepetitionOptions());
        var strict = new NgramRepetitionRule(new NgramRepetitionOptions { MaxTop2 = 0.05, MaxTop3 = 0.05, MaxTop4 = 0.05 });
        string[] zh = ["镇", "上", "的", "老", "磨", "坊", "，", "。", "𠀀", " "];
        string[] en = ["the", "mill", "wheel", "turns", "and", "the", "river", "runs", "on", "𝒜x", "12", "."];
        var rng = new Random(5);
        int drops = 0;
        for (int k = 0; k < 600; k++)
        {
            var pieces = k % 2 == 0 ? zh : en;
            int vocabulary = rng.Next(2, pieces.Length + 1);
            var text = string.Join(k % 2 == 0 ? "" : " ", Enumerable.Range(0, rng.Next(5, 80)).Select(_ => pieces[rng.Next(vocabulary)]));
            var d = new Document($"d{k}", text);
            bool expected = Dropped(text, new NgramRepetitionOptions());
            Assert.True(expected == (rule.Apply(d).Action == FilterAction.Drop), $"'{text}': expected dropped = {expected}");
            bool expectedStrict = Dropped(text, new NgramRepetitionOptions { MaxTop2 = 0.05, MaxTop3 = 0.05, MaxTop4 = 0.05 });
            Assert.Equal(expectedStrict, strict.Apply(d).Action == FilterAction.Drop);
            if (expected) drops++;
        }
        Assert.InRange(drops, 50, 550);   // the sample exercises both outcomes
    }
}

using Ziya2.Data;

namespace Ziya2.DataFactory.Tests;

/// <summary>The word-list matcher: one scan for every phrase, counting as phrase-by-phrase search does.</summary>
public class PhraseMatcherTests
{
    // The definition the single scan must reproduce: each phrase's non-overlapping occurrences from the left, the
    // whole-word rule applied to each (a phrase edge that is a letter or digit must not continue into one).
    static int Reference(IReadOnlyList<string> phrases, bool wholeWords, string text)
    {
        var lower = text.ToLowerInvariant();
        int hits = 0;
        foreach (var p in phrases.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct())
        {
            bool anywhere = !wholeWords || p.Any(c => c is >= '\u4E00' and <= '\u9FFF');
            for (int i = lower.IndexOf(p, StringComparison.Ordinal); i >= 0; i = lower.IndexOf(p, i + p.Length, StringComparison.Ordinal))
            {
                bool startOk = !char.IsLetterOrDigit(lower[i]) || i == 0 || !char.IsLetterOrDigit(lower[i - 1]);
                int end = i + p.Length;
                bool endOk = !char.IsLetterOrDigit(lower[end - 1]) || end == lower.Length || !char.IsLetterOrDigit(lower[end]);
                if (anywhere || startOk && endOk) hits++;
            }
        }
        return hits;
    }

    [Fact]
    public void Counts_agree_with_phrase_by_phrase_search_on_random_text()
    {
        string[] phrases = ["ass", "class", "aa", "aaa", "a a", "buy now", "sex", "13.", "广告", "广告位", "告", "点击", "  ", "Ab"];
        const string alphabet = "abcs ex13.广告位点击 \n,Aa";
        var rng = new Random(7);
        foreach (var wholeWords in new[] { false, true })
        {
            var matcher = new PhraseMatcher(phrases, wholeWords);
            for (int n = 0; n < 3000; n++)
            {
                var text = new string(Enumerable.Range(0, rng.Next(0, 60)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray());
                int expected = Reference(phrases, wholeWords, text);
                Assert.True(expected == matcher.Hits(text), $"'{text}' (whole words: {wholeWords}): expected {expected}, got {matcher.Hits(text)}");
                Assert.Equal(Math.Min(expected, 2), matcher.Hits(text, stopAt: 2));
            }
        }
    }

    [Fact]
    public void Whole_words_keep_toxic_words_out_of_longer_words_but_find_cjk_anywhere()
    {
        var m = new PhraseMatcher(["ass", "广告"], wholeWords: true);
        Assert.Equal(0, m.Hits("The class assessed it."));
        Assert.Equal(3, m.Hits("ASS, ass! 这是广告"));
        Assert.Equal(0, new PhraseMatcher([]).Hits("anything"));
    }
}

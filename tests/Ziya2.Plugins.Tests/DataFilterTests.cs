using Ziya2.Data;
using Ziya2.Plugins.DataFilters;

namespace Ziya2.Plugins.Tests;

public class DataFilterTests
{
    [Fact]
    public void Min_length_counts_characters_not_bytes_and_names_its_reason()
    {
        var filter = new MinLengthFilter(new MinLengthOptions { MinChars = 5 });
        Assert.Equal(FilterAction.Keep, filter.Apply(new Document("1", "数据工厂好")).Action);
        var drop = filter.Apply(new Document("2", "  数据  "));
        Assert.Equal(FilterAction.Drop, drop.Action);
        Assert.Equal("too_short", drop.Reason);
    }

    [Fact]
    public void Min_length_stops_counting_at_the_minimum_and_agrees_with_a_full_count()
    {
        var random = new Random(50);
        string[] pieces = ["a", "数", "e\u0301", "\U0001F600", "\U0001F469\u200D\U0001F4BB", "\r\n", " ", "\uD800", "\u0301"];
        for (int trial = 0; trial < 3000; trial++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 12)).Select(_ => pieces[random.Next(pieces.Length)]));
            int min = random.Next(0, 10);
            Assert.Equal(new System.Globalization.StringInfo(text.Trim()).LengthInTextElements >= min, MinLengthFilter.HasAtLeast(text.AsSpan().Trim(), min));
        }
    }

    [Fact]
    public void Negative_min_length_is_invalid() =>
        Assert.Single(new MinLengthOptions { MinChars = -1 }.Validate());

    [Fact]
    public void Whitespace_normalizer_knows_normalised_text_by_one_scan_exactly_when_normalising_would_change_nothing()
    {
        var random = new Random(51);
        string[] pieces = ["a", "b", "数", " ", "  ", "\t", "\n", "\n\n", "\n\n\n", "\r", "\r\n", "\u00a0", "\u3000", "\u2028", "\u0085"];
        for (int trial = 0; trial < 20000; trial++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(0, 10)).Select(_ => pieces[random.Next(pieces.Length)]));
            Assert.True(WhitespaceNormalizer.Normalize(text) == text == WhitespaceNormalizer.IsNormalized(text), $"'{text}'");
        }
    }

    [Fact]
    public void Whitespace_normalizer_rewrites_only_when_something_changes()
    {
        var filter = new WhitespaceNormalizer();
        var messy = filter.Apply(new Document("1", "  a \t b  \r\n\r\n\r\n  c\u3000\u3000d  ") with { });
        Assert.Equal(FilterAction.Rewrite, messy.Action);
        Assert.Equal("a b\n\nc d", messy.Document!.Text);
        Assert.Equal(FilterAction.Keep, filter.Apply(new Document("2", "a b\n\nc d")).Action);
    }
}

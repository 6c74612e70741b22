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
    public void Negative_min_length_is_invalid() =>
        Assert.Single(new MinLengthOptions { MinChars = -1 }.Validate());

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

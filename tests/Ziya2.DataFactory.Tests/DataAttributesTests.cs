using Ziya2.Data;
using Ziya2.DataFactory.Evaluation;

namespace Ziya2.DataFactory.Tests;

public sealed class DataAttributesTests
{
    [Fact]
    public void Judged_sheets_give_the_share_without_each_problem()
    {
        var a = DataAttributes.FromJudgements([new("a", 0, 0, 0), new("b", 1, 0, 0), new("c", 0, 1, 1), new("d", 0, 0, 0)]);
        Assert.Equal((0.75, 0.75, 4, "human"), (a.Coherence, a.Readability, a.Documents, a.Source));
        Assert.Throws<ArgumentException>(() => DataAttributes.FromJudgements([]));
    }

    [Fact]
    public void The_proxy_flags_what_figure_8_describes()
    {
        Document[] docs =
        [
            new("clean", "The river runs past the old mill. Farmers grow barley on both banks.\nThe bridge has five arches."),
            new("ad", "The river runs past the old mill. Click here to subscribe to our newsletter."),
            new("urls", "Links: https://a.example/x https://b.example/y https://c.example/z are all here."),
            new("unpunctuated", "Home\nNews\nSports\nContact us\nAbout"),
            new("garbled", "The cafÃ© was full. Everyone was there."),
            new("maths", "Question: Tom has 3 apples and buys 5 more. How many now? Answer: 3 + 5 = 8. The answer is: 8"),
        ];
        var a = DataAttributes.Proxy(docs, new PhraseMatcher(["click here to subscribe"]));
        Assert.Equal(6, a.Documents);
        Assert.Equal(1 - 2.0 / 6, a.Coherence, 9);    // ad, urls
        Assert.Equal(1 - 2.0 / 6, a.Readability, 9);  // unpunctuated menu, mojibake; a maths answer ending in its number is fine
        Assert.Equal("proxy", a.Source);
    }
}

using Ziya2.Data;
using Ziya2.Plugins.DataFilters.Rules;

namespace Ziya2.Plugins.Tests;

/// <summary>Rules for page structure and encoding noise, each on text it must keep and text it must drop or trim, in both languages.</summary>
public class StructureRuleTests
{
    static FilterDecision Run(IDataFilter f, string text) => RuleTests.Run(f, text);
    static void KeepsGoodText(IDataFilter f) => RuleTests.KeepsGoodText(f);
    const string GoodEnglish = RuleTests.GoodEnglish, GoodChinese = RuleTests.GoodChinese;

    [Fact]
    public void Navigation_lines_are_removed_in_both_languages()
    {
        var f = new NavigationLinesRule(new NavigationLinesOptions());
        KeepsGoodText(f);
        var d = Run(f, "Home | News | Sport | Contact us\n" + GoodEnglish + "\n首页 > 新闻 > 国内\n" + GoodChinese);
        Assert.Equal(GoodEnglish + "\n" + GoodChinese, d.Document!.Text);
        Assert.Equal(2, Convert.ToInt32(d.Document.Attributes["navigation_removed"]));
        // A sentence with one long clause on each side of a separator is prose, not a menu.
        Assert.Equal(FilterAction.Keep, Run(f, "The results were mixed | the committee will meet again next week to decide what comes next").Action);
        Assert.Equal(FilterAction.Drop, Run(f, "首页 | 新闻 | 体育 | 娱乐\nHome » Blog » 2023").Action);
    }

    [Fact]
    public void Truncated_sentences_are_removed()
    {
        var f = new TruncatedSentencesRule(new TruncatedSentencesOptions());
        KeepsGoodText(f);
        var d = Run(f, GoodChinese + "据报道，当地政府已经决定在明年…… " + "展开全文");
        Assert.Equal(GoodChinese, d.Document!.Text);
        var e = Run(f, GoodEnglish + " The mayor said that the city would Read more");
        Assert.Equal(GoodEnglish, e.Document!.Text);
        Assert.Equal("truncated", Run(f, "Top ten reasons to visit the coast this summer...").Reason);
    }

    [Fact]
    public void Word_count_counts_ideographs_as_words()
    {
        var f = new WordCountRule(new WordCountOptions { MinWords = 20, MaxWords = 60 });
        KeepsGoodText(f);
        Assert.Equal("too_few_words", Run(f, "Too short to be a document.").Reason);
        Assert.Equal("too_few_words", Run(f, "太短了，不是文章。").Reason);
        Assert.Equal("too_many_words", Run(f, string.Concat(Enumerable.Repeat("这是一个很长的句子。", 10))).Reason);
        Assert.Equal(5, WordCountRule.Count("don't stop e-mail 中文"));
    }

    [Fact]
    public void Code_remnants_drop_scripts_but_not_fenced_code_or_maths()
    {
        var f = new CodeRemnantsRule(new CodeRemnantsOptions());
        KeepsGoodText(f);
        Assert.Equal("code_remnants", Run(f, "欢迎访问本站\nvar _hmt = _hmt || [];\n(function() {\n  var hm = document.createElement(\"script\");\n})();").Reason);
        Assert.Equal(FilterAction.Keep, Run(f, "```python\ndef f(x):\n    return {x: 1};\n```").Action);
        Assert.Equal(FilterAction.Keep, Run(f, "The set {1, 2, 3} has three elements. " + GoodEnglish).Action);
    }

    [Fact]
    public void Line_punctuation_is_chinese_aware()
    {
        var f = new LinePunctuationRule(new LinePunctuationOptions());
        KeepsGoodText(f);
        Assert.Equal(FilterAction.Keep, Run(f, "第一章\n" + GoodChinese + "\n" + GoodChinese).Action);
        Assert.Equal("line_punctuation", Run(f, string.Join('\n', Enumerable.Repeat("热门文章标题 点击查看", 9).Append(GoodChinese))).Reason);
        Assert.Equal("line_punctuation", Run(f, string.Join('\n', Enumerable.Range(1, 10).Select(i => $"Best hotels in city number {i}"))).Reason);
    }

    [Fact]
    public void Mojibake_is_dropped()
    {
        var f = new MojibakeRule(new MojibakeOptions());
        KeepsGoodText(f);
        Assert.Equal("mojibake", Run(f, GoodChinese + "锟斤拷锟斤拷烫烫烫").Reason);
        Assert.Equal("mojibake", Run(f, "Itâ€™s the cafÃ© we talked about, itâ€™s great.").Reason);
        Assert.Equal("mojibake", Run(f, "\uFFFD\uFFFD\uFFFD " + GoodEnglish).Reason);
        Assert.Equal(FilterAction.Keep, Run(f, "Ça va? Él está en Zürich, außerdem — it’s fine.").Action);
    }

    [Fact]
    public void Metadata_lines_are_removed()
    {
        var f = new MetadataLinesRule(new MetadataLinesOptions { ExtraPatterns = ["^本文转载自"] });
        KeepsGoodText(f);
        var d = Run(f, "发布时间：2023-05-01 10:00\n来源：新华社\n" + GoodChinese + "\n责任编辑：王明\n本文转载自某网站");
        Assert.Equal(GoodChinese, d.Document!.Text);
        var e = Run(f, "Posted on March 3, 2021 by admin\n" + GoodEnglish + "\nShare this:\n12 comments");
        Assert.Equal(GoodEnglish, e.Document!.Text);
        // Prose that starts with such a word is longer than a metadata line.
        Assert.Equal(FilterAction.Keep, Run(f, "作者：这位作者在书中讲述了他童年时在乡村生活的经历，以及后来离开家乡到城市求学、工作和成家的过程，内容非常感人，值得每一个人仔细阅读和思考。").Action);
        Assert.Contains(new MetadataLinesOptions { ExtraPatterns = ["(unclosed"] }.Validate(), m => m.Contains("not a regular expression"));
    }

    [Fact]
    public void Numeric_lines_are_removed()
    {
        var f = new NumericLinesRule(new NumericLinesOptions());
        KeepsGoodText(f);
        var d = Run(f, GoodChinese + "\n2023-05-01 | 12.5 | 13.7 | +1.2%\n" + GoodEnglish);
        Assert.Equal(GoodChinese + "\n" + GoodEnglish, d.Document!.Text);
        Assert.Equal(FilterAction.Keep, Run(f, "1.\n" + GoodEnglish).Action);   // list numbers are too short to judge
        Assert.Equal("numeric_lines", Run(f, "1 2 3 4 5 6\n7 8 9 10 11 12").Reason);
    }

    [Fact]
    public void Hashtag_spam_is_dropped()
    {
        var f = new HashtagDensityRule(new HashtagDensityOptions());
        KeepsGoodText(f);
        Assert.Equal("hashtags", Run(f, "#sale #deals #fashion #style #ootd follow @shopnow @bestdeals").Reason);
        Assert.Equal("hashtags", Run(f, "#今日热搜# #明星八卦# #抽奖# 转发 @小明同学 @小红同学").Reason);
        Assert.Equal(FilterAction.Keep, Run(f, GoodEnglish + " Join us with #LibraryWeek, #ReadMore and @citylib for events.").Action);
    }
}

using Ziya2.Data;
using Ziya2.Plugins.DataFilters.Rules;

namespace Ziya2.Plugins.Tests;

/// <summary>Each document rule on text it must keep and text it must drop, in English and Chinese.</summary>
public class RuleTests
{
    internal const string GoodEnglish = "The committee met on Tuesday to review the budget. It agreed that the new library should open in the spring, and that the old building will be repaired with the remaining funds.";
    internal const string GoodChinese = "委员会在周二开会审议了预算。大家一致认为新图书馆应该在春天开放，旧楼也会用剩下的资金进行修缮，这是一个很好的决定。";

    static string? Reason(IDataFilter f, string text)
    {
        var d = f.Apply(new Document("t", text));
        return d.Action == FilterAction.Drop ? d.Reason : null;
    }

    internal static FilterDecision Run(IDataFilter f, string text) => f.Apply(new Document("t", text));

    /// <summary>Good prose passes untouched: neither dropped nor rewritten.</summary>
    internal static void KeepsGoodText(IDataFilter f)
    {
        Assert.Equal(FilterAction.Keep, Run(f, GoodEnglish).Action);
        Assert.Equal(FilterAction.Keep, Run(f, GoodChinese).Action);
    }

    [Fact]
    public void Max_length()
    {
        var f = new MaxLengthRule(new MaxLengthOptions { Threshold = 200 });
        KeepsGoodText(f);
        Assert.Equal("too_long", Reason(f, new string('长', 201)));
        Assert.Null(Reason(f, new string('长', 200)));   // characters, not UTF-8 bytes
    }

    [Fact]
    public void Digit_ratio()
    {
        var f = new DigitRatioRule(new DigitRatioOptions());
        KeepsGoodText(f);
        Assert.Equal("too_many_digits", Reason(f, "2023-01-01 12:00 1234 5678 9012 3456 price 99"));
        Assert.Equal("too_many_digits", Reason(f, "价格 12345678 元 87654321"));
    }

    [Fact]
    public void Symbol_ratio()
    {
        var f = new SymbolRatioRule(new SymbolRatioOptions());
        KeepsGoodText(f);
        Assert.Equal("too_many_symbols", Reason(f, "#tag #news #sale #hot #deal buy now ... more ... #win"));
        Assert.Equal("too_many_symbols", Reason(f, "热门……#话题#……#推荐#……#关注#……"));
    }

    [Fact]
    public void Bullet_lines()
    {
        var f = new BulletLinesRule(new BulletLinesOptions());
        KeepsGoodText(f);
        Assert.Equal("too_many_bullets", Reason(f, "• 首页\n• 新闻\n• 关于我们\n• 联系方式"));
        Assert.Null(Reason(f, "Shopping list:\n- eggs\n- milk\nThat is all for today, thanks."));
    }

    [Fact]
    public void Ellipsis_lines()
    {
        var f = new EllipsisLinesRule(new EllipsisLinesOptions());
        KeepsGoodText(f);
        Assert.Equal("too_many_ellipsis_lines", Reason(f, "Click to read the full story...\nYou won't believe what happened next…\nBreaking news today"));
        Assert.Equal("too_many_ellipsis_lines", Reason(f, "点击查看全文……\n精彩内容请关注…\n今日新闻"));
    }

    [Fact]
    public void Html_remnants()
    {
        var f = new HtmlRemnantsRule(new HtmlRemnantsOptions());
        KeepsGoodText(f);
        Assert.Equal("html_remnants", Reason(f, "<div class=\"nav\"><a href=\"/\">首页</a>&nbsp;|&nbsp;<a href=\"/news\">新闻</a></div>"));
        Assert.Null(Reason(f, "In C++ use std::vector<int> and List<T> in C#; compare a < b when x > y; that is fine."));
        Assert.Equal("html_remnants", Reason(f, "正文<br/>更多<BR>内容<script src=x></script>"));
    }

    [Fact]
    public void Url_density()
    {
        var f = new UrlDensityRule(new UrlDensityOptions());
        KeepsGoodText(f);
        Assert.Equal("url_dense", Reason(f, "下载地址 https://example.com/a/b/c/d.zip 备用 http://mirror.example.org/files/d.zip www.example.net/x"));
        Assert.Null(Reason(f, GoodEnglish + " More at https://example.com."));
    }

    [Fact]
    public void Content_ratio()
    {
        var f = new ContentRatioRule(new ContentRatioOptions());
        KeepsGoodText(f);
        Assert.Equal("low_content", Reason(f, "=== *** ### !!! ??? --- +++ ||| /// 123 456"));
        Assert.Equal("low_content", Reason(f, "【】【】（）——！！？？……12 34 ★★★ 好"));
    }

    [Fact]
    public void Line_and_paragraph_repetition()
    {
        var lines = new LineRepetitionRule(new RepetitionOptions());
        var paragraphs = new ParagraphRepetitionRule(new RepetitionOptions());
        KeepsGoodText(lines);
        KeepsGoodText(paragraphs);
        Assert.Equal("repeated_lines", Reason(lines, "版权所有\n欢迎光临\n版权所有\n欢迎光临\n正文一句话"));
        Assert.Equal("repeated_lines", Reason(lines, "Buy now\nBuy now\nBuy now\nReal sentence here."));
        Assert.Equal("repeated_paragraphs", Reason(paragraphs, "第一段。\n\n广告：点击购买\n\n第二段。\n\n广告：点击购买\n\n广告：点击购买"));
    }

    [Fact]
    public void Mean_word_length_applies_to_non_chinese_text_only()
    {
        var f = new MeanWordLengthRule(new MeanWordLengthOptions());
        KeepsGoodText(f);
        Assert.Equal("bad_word_length", Reason(f, "a b c d e f g h i j k l m n o p"));
        Assert.Equal("bad_word_length", Reason(f, "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c 0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"));
        Assert.Null(Reason(f, "数据工厂把原始网页变成训练文本"));
    }

    [Fact]
    public void Stop_words_in_both_languages()
    {
        var f = new StopWordsRule(new StopWordsOptions());
        KeepsGoodText(f);
        Assert.Equal("no_stop_words", Reason(f, "Cheap Flights Hotels Car Rental Deals Tickets"));
        Assert.Equal("no_stop_words", Reason(f, "特价机票 酒店预订 租车优惠 门票团购"));
    }

    [Fact]
    public void Thresholds_are_validated() =>
        Assert.Single(new DigitRatioOptions { Threshold = -1 }.Validate());
}

public class PartRemovalRuleTests
{
    static FilterDecision Run(IDataFilter f, string text) => RuleTests.Run(f, text);

    [Fact]
    public void Word_lists_remove_advertising_paragraphs_and_drop_documents_that_are_mostly_ads()
    {
        var f = new WordListRule(new WordListOptions { Lists = ["advertising.txt", "boilerplate.txt"], Reason = "advertising" });
        var d = Run(f, "新款手机今天发布，性能提升明显，续航也更长了。\n\n限时抢购！点击购买，全场包邮！\n\n评测显示它的相机在夜间表现很好。\n\n© 2024 版权所有");
        Assert.Equal(FilterAction.Rewrite, d.Action);
        Assert.Equal("新款手机今天发布，性能提升明显，续航也更长了。\n\n评测显示它的相机在夜间表现很好。", d.Document!.Text);
        Assert.Equal(2L, d.Document.Attributes["advertising_removed"]);
        Assert.Equal("advertising", Run(f, "Buy now! Free shipping on every order.\n\nShort note.").Reason);
        Assert.Equal(FilterAction.Keep, Run(f, "The committee met on Tuesday to review the budget.").Action);
    }

    [Fact]
    public void Word_lists_work_per_sentence_and_validate_their_files()
    {
        var f = new WordListRule(new WordListOptions { Lists = ["advertising.txt"], Unit = TextUnit.Sentence, MinRemaining = 0.2 });
        var d = Run(f, "这家店的面条很好吃。加微信领取优惠券！我们下次还会再来。");
        Assert.Equal("这家店的面条很好吃。我们下次还会再来。", d.Document!.Text);
        Assert.Contains(new WordListOptions { Lists = ["no-such-list.txt"] }.Validate(), m => m.Contains("not found"));
    }

    [Fact]
    public void The_shipped_toxic_lists_remove_toxic_sentences_as_whole_words_and_leave_ordinary_words_alone()
    {
        var f = new WordListRule(new WordListOptions { Lists = ["toxic-en.txt", "toxic-zh.txt"], WholeWords = true, Unit = TextUnit.Sentence, MinRemaining = 0.1, Reason = "sensitive" });
        // "fuck" (en list) and 他妈的 (zh list) go with their sentences; class/Essex/analysis/Scunthorpe contain listed words
        // but are other words, and 性能/可能性/乳制品 contain characters the zh list leaves out on purpose.
        var en = Run(f, "The class in Essex met today. Their analysis was fuck awful. Scunthorpe won the cup.");
        Assert.Equal("The class in Essex met today. Scunthorpe won the cup.", en.Document!.Text);
        var zh = Run(f, "这款手机性能很好，可能性很大。他妈的，真贵。乳制品销量上升。");
        Assert.Equal("这款手机性能很好，可能性很大。乳制品销量上升。", zh.Document!.Text);
        Assert.Equal(FilterAction.Keep, Run(f, "Sussex and Middlesex assessed the cocktail menu.").Action);
        // The lists carry their provenance and licence beside them.
        var dir = Path.Combine(Path.GetDirectoryName(typeof(WordListRule).Assembly.Location)!, "data", "wordlists");
        Assert.Contains("naughty-words 1.2.0", File.ReadAllText(Path.Combine(dir, "toxic-en.txt")));
        Assert.Contains("Attribution 4.0 International", File.ReadAllText(Path.Combine(dir, "LICENSE-naughty-words.txt")));
    }

    [Fact]
    public void Privacy_removes_or_masks_personal_data()
    {
        var remove = new PrivacyRule(new PrivacyOptions());
        var d = Run(remove, "会议定在周五下午举行。请联系张先生，电话 13812345678。地点在三楼会议室，欢迎大家参加。");
        Assert.Equal("会议定在周五下午举行。地点在三楼会议室，欢迎大家参加。", d.Document!.Text);
        var mask = new PrivacyRule(new PrivacyOptions { Mode = "mask" });
        Assert.Equal("Write to <EMAIL> or call <PHONE>; ID <ID>.",
            Run(mask, "Write to alice.smith@example.com or call +1 415 555 0134; ID 11010519491231002X.").Document!.Text);
        Assert.Equal(FilterAction.Keep, Run(mask, "Version 1.2.3 shipped on 2024-05-01 with 1381234 downloads.").Action);
    }

    [Fact]
    public void Terminal_punctuation_removes_menus_and_broken_lines_and_keeps_sentences()
    {
        var f = new TerminalPunctuationRule(new TerminalPunctuationOptions());
        var d = Run(f, "首页 新闻 体育 娱乐\n今天的比赛非常精彩，主队在最后一分钟扳平了比分。\nThe crowd cheered for ten minutes.\n点击查看更多\nRead more");
        Assert.Equal("今天的比赛非常精彩，主队在最后一分钟扳平了比分。\nThe crowd cheered for ten minutes.", d.Document!.Text);
        Assert.Equal("no_sentences", Run(f, "Home\nAbout us\nContact\nLogin\nRegister\nOk.").Reason);
    }
}

public class MoreRuleTests
{
    static FilterDecision Run(IDataFilter f, string text) => RuleTests.Run(f, text);
    static void KeepsGoodText(IDataFilter f) => RuleTests.KeepsGoodText(f);
    const string GoodEnglish = RuleTests.GoodEnglish;

    [Fact]
    public void Non_alpha_words()
    {
        var f = new NonAlphaWordsRule(new NonAlphaWordsOptions());
        KeepsGoodText(f);
        Assert.Equal("non_alpha_words", Run(f, "12 34 56 78 90 -- ++ 11 22 33 44 total").Reason);
    }

    [Fact]
    public void Short_lines()
    {
        var f = new ShortLinesRule(new ShortLinesOptions());
        KeepsGoodText(f);
        Assert.Equal("short_lines", Run(f, "首页\n新闻\n体育\n娱乐\n这一行足够长，是一个完整的句子，应该会被保留下来而不是被当作菜单。").Reason);
    }

    [Fact]
    public void Uppercase_ratio()
    {
        var f = new UppercaseRatioRule(new UppercaseRatioOptions());
        KeepsGoodText(f);
        Assert.Equal("uppercase", Run(f, "BUY NOW THE BEST DEALS OF THE YEAR ARE HERE FOR YOU").Reason);
    }

    [Fact]
    public void Ngram_repetition_in_both_languages()
    {
        var f = new NgramRepetitionRule(new NgramRepetitionOptions());
        KeepsGoodText(f);
        Assert.Equal("repeated_ngrams", Run(f, "best price best price best price best price best price on shoes today").Reason);
        Assert.Equal("repeated_ngrams", Run(f, "好消息好消息好消息好消息好消息，今天全场打折。").Reason);
    }

    [Fact]
    public void Lorem_ipsum_and_browser_notices()
    {
        Assert.Equal("lorem_ipsum", Run(new LoremIpsumRule(), "Lorem ipsum dolor sit amet, consectetur adipiscing elit.").Reason);
        KeepsGoodText(new LoremIpsumRule());
        var notices = new JavascriptNoticeRule(new JavascriptNoticeOptions());
        KeepsGoodText(notices);
        var d = Run(notices, "Please enable JavaScript to view this page.\n" + GoodEnglish + "\n您的浏览器不支持此功能，请升级浏览器。");
        Assert.Equal(GoodEnglish, d.Document!.Text);
    }

    [Fact]
    public void Char_runs_remove_noise_sentences_but_keep_separators()
    {
        var f = new CharRunsRule(new CharRunsOptions());
        KeepsGoodText(f);
        var d = Run(f, "今天的比赛非常精彩，主队最后赢了。哈哈哈哈哈哈哈哈哈哈！我们明天还会再来看比赛。");
        Assert.Equal("今天的比赛非常精彩，主队最后赢了。我们明天还会再来看比赛。", d.Document!.Text);
        Assert.Equal(FilterAction.Keep, Run(f, "Title\n\n==========\n\nSome text follows here.").Action);
    }
}

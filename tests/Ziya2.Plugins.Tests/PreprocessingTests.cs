using Ziya2.Data;
using Ziya2.Plugins.DataFilters;
using Ziya2.Plugins.Tests.Llama;

namespace Ziya2.Plugins.Tests;

public class PreprocessingTests
{
    static string Fixture(string name) => Path.Combine(Fixtures.RepoRoot, "tests", "fixtures", "opencc", name);

    [Fact]
    public void T2s_matches_opencc_line_for_line()
    {
        var filter = new TraditionalToSimplified(new TraditionalToSimplifiedOptions());
        var input = File.ReadAllLines(Fixture("input.txt"));
        var expected = File.ReadAllLines(Fixture("expected.txt"));
        Assert.Equal(expected.Length, input.Length);
        for (int i = 0; i < input.Length; i++)
        {
            var d = filter.Apply(new Document($"{i}", input[i]));
            Assert.Equal(expected[i], d.Document?.Text ?? input[i]);
        }
    }

    [Fact]
    public void T2s_leaves_simplified_and_english_text_alone_and_counts_changes()
    {
        var filter = new TraditionalToSimplified(new TraditionalToSimplifiedOptions());
        Assert.Equal(FilterAction.Keep, filter.Apply(new Document("1", "数据工厂 data factory")).Action);
        var rewritten = filter.Apply(new Document("2", "資料與模型"));
        Assert.Equal("资料与模型", rewritten.Document!.Text);
        Assert.Equal(2L, rewritten.Document.Attributes["t2s_changed"]);   // 資→资, 與→与
    }

    [Fact]
    public void Normalize_text_converts_full_width_alphanumerics_newlines_and_spaces_but_keeps_cjk_punctuation()
    {
        var filter = new TextNormalizer(new TextNormalizerOptions());
        var d = filter.Apply(new Document("1", "ＡＢＣ１２３　test\r\nline2\rline3\u00A0x\u2003y 数据，真好！e\u0301"));
        Assert.Equal("ABC123 test\nline2\nline3 x y 数据，真好！é", d.Document!.Text);
        Assert.Equal(FilterAction.Keep, filter.Apply(new Document("2", "已经规范的文本，没有问题。\nplain")).Action);
        var punctuation = new TextNormalizer(new TextNormalizerOptions { FullWidthPunctuation = true });
        Assert.Equal("数据,真好!", punctuation.Apply(new Document("3", "数据，真好！")).Document!.Text);
        Assert.Throws<ArgumentException>(() => new TextNormalizer(new TextNormalizerOptions { Form = "nfd" }));
    }

    [Fact]
    public void Remove_invisible_drops_controls_format_characters_and_emoji_but_not_code_math_or_cjk()
    {
        var filter = new InvisibleAndEmojiRemover(new InvisibleAndEmojiRemoverOptions());
        var d = filter.Apply(new Document("1", "a\u200Bb\uFEFFc\u0007d 😀 👍🏽 👨‍👩‍👧 🇨🇳 ✨❤️ 数据\uE000end"));
        Assert.Equal("abcd      数据end", d.Document!.Text);
        Assert.True((long)d.Document.Attributes["removed_chars"] > 10);
        const string code = "def f(x):\n\treturn x ** 2  # ≤ ∑ ¥ € → ─┐ 「引号」『』《书名》，。！？";
        Assert.Equal(FilterAction.Keep, filter.Apply(new Document("2", code)).Action);
        var keepEmoji = new InvisibleAndEmojiRemover(new InvisibleAndEmojiRemoverOptions { Emoji = false });
        Assert.Equal("ok 😀", keepEmoji.Apply(new Document("3", "ok\u200B 😀")).Document!.Text);
    }
}

public class FormattingTests
{
    [Fact]
    public void Code_is_fenced_with_its_language_tag_once()
    {
        var f = new CodeFormatter(new CodeFormatterOptions());
        var d = f.Apply(new Document("1", "SELECT 1;\n") { Language = "SQL" });
        Assert.Equal("```sql\nSELECT 1;\n```", d.Document!.Text);
        Assert.Equal(FilterAction.Keep, f.Apply(d.Document with { }).Action);                       // already fenced
        Assert.Equal(FilterAction.Keep, f.Apply(new Document("2", "普通文本") { Language = "zh" }).Action);
    }

    [Fact]
    public void Supervised_records_get_a_deterministic_template_in_their_language()
    {
        var f = new SupervisedFormatter(new SupervisedFormatterOptions());
        var zh = f.Apply(new Document("q1", "").WithAttribute("question", "三皇五帝指的是谁？").WithAttribute("answer", "伏羲、女娲、神农等。"));
        Assert.Contains(zh.Document!.Text, new[] { "问题:三皇五帝指的是谁？ 回答:伏羲、女娲、神农等。", "问:三皇五帝指的是谁？ 答:伏羲、女娲、神农等。", "问题：三皇五帝指的是谁？\n回答：伏羲、女娲、神农等。" });
        var en = f.Apply(new Document("q2", "").WithAttribute("question", "What is 2+2?").WithAttribute("answer", "4"));
        Assert.Contains(en.Document!.Text, new[] { "Question:What is 2+2? Answer:4", "Q:What is 2+2? A:4", "Problem:What is 2+2? Solution:4" });
        Assert.Equal(en.Document.Text, f.Apply(new Document("q2", "x").WithAttribute("question", "What is 2+2?").WithAttribute("answer", "4")).Document!.Text);
        var used = Enumerable.Range(0, 60).Select(i => f.Apply(new Document($"id{i}", "").WithAttribute("question", "Why?").WithAttribute("answer", "Because.")).Document!.Attributes["template"]).Distinct().Count();
        Assert.Equal(3, used);                                                                        // all templates in use
        var rendered = f.Apply(new Document("x", "").WithAttribute("question", "Why?").WithAttribute("answer", "Because.")).Document!;
        Assert.Equal("Because.", rendered.Text[Convert.ToInt32(rendered.Attributes["prompt_chars"])..]);                // where the loss starts
        Assert.Equal(FilterAction.Keep, f.Apply(new Document("3", "plain text")).Action);
        Assert.NotEmpty(new SupervisedFormatterOptions { EnglishTemplates = ["no placeholders"] }.Validate());
    }
}

public class LanguageFilterTests
{
    static readonly LanguageFilter Filter = new(new LanguageFilterOptions());

    [Fact]
    public void Keeps_chinese_and_english_with_language_and_confidence()
    {
        var zh = Filter.Apply(new Document("1", "数据工厂把原始网页变成训练文本，每一步都记录删除的原因。"));
        Assert.Equal(("zh", FilterAction.Rewrite), (zh.Document!.Language, zh.Action));
        var en = Filter.Apply(new Document("2", "The data factory turns raw web pages into training text and records why documents are removed."));
        Assert.Equal("en", en.Document!.Language);
        Assert.InRange((double)en.Document.Attributes["language_confidence"], 0.5, 1.0);
    }

    [Fact]
    public void Drops_other_languages_and_undecidable_text()
    {
        Assert.Equal("language_not_kept", Filter.Apply(new Document("3", "Die Datenfabrik verwandelt rohe Webseiten in Trainingstexte und protokolliert jeden Schritt.")).Reason);
        Assert.Equal("language_not_kept", Filter.Apply(new Document("4", "東京で会議があります。明日は雨が降るでしょう。")).Reason);   // kana: Japanese
        Assert.Equal("language_uncertain", Filter.Apply(new Document("5", "12345 !!! ???")).Reason);
        Assert.Contains(new LanguageFilterOptions { Keep = ["xx"] }.Validate(), m => m.Contains("unknown language code 'xx'"));
    }

    [Fact]
    public void Tells_the_eight_default_candidates_apart_on_one_sentence()
    {
        var all = new LanguageFilter(new LanguageFilterOptions { Keep = ["zh", "en", "ja", "ko", "fr", "de", "es", "ru"] });
        string[] samples =
        [
            "The committee will publish its report on the new railway line before the end of the year.",
            "Der Ausschuss wird seinen Bericht über die neue Bahnstrecke noch vor Ende des Jahres veröffentlichen.",
            "Le comité publiera son rapport sur la nouvelle ligne de chemin de fer avant la fin de l'année.",
            "El comité publicará su informe sobre la nueva línea de ferrocarril antes de que termine el año.",
            "Комитет опубликует свой доклад о новой железнодорожной линии до конца этого года.",
            "위원회는 올해가 끝나기 전에 새 철도 노선에 관한 보고서를 발표할 예정입니다.",
            "委员会将在年底之前发布关于新铁路线的报告。",
            "委員会は年末までに新しい鉄道路線についての報告書を公表する予定です。",
        ];
        string[] expected = ["en", "de", "fr", "es", "ru", "ko", "zh", "ja"];
        Assert.Equal(expected, samples.Select(t => all.Apply(new Document("s", t)).Document!.Language));
    }
}

using Ziya2;
using Ziya2.Plugins;
using Ziya2.Plugins.DataFilters.Rules;
using Ziya2.Plugins.DataFilters.Rules.Code;

[assembly: Ziya2Plugin(Ziya2Sdk.Version)]

namespace Ziya2.Plugins.DataFilters;

/// <summary>Built-in data filters (paper §2: preprocessing and rule-based filtering).</summary>
public sealed class DataFiltersPlugin : IZiya2Plugin
{
    public void Register(IPluginRegistrar registrar) => registrar
        .AddDataFilter<MinLengthFilter, MinLengthOptions>("min-length", "Drops documents shorter than min_chars characters")
        .AddDataFilter<WhitespaceNormalizer, NoOptions>("normalize-whitespace", "Collapses runs of spaces/tabs, trims lines, limits blank lines to one")
        .AddDataFilter<LanguageFilter, LanguageFilterOptions>("language", "Lingua language identification: keeps the configured languages (zh, en)")
        .AddDataFilter<TextNormalizer, TextNormalizerOptions>("normalize-text", "Unicode NFC, full-width alphanumerics to ASCII, one newline convention, plain spaces")
        .AddDataFilter<InvisibleAndEmojiRemover, InvisibleAndEmojiRemoverOptions>("remove-invisible", "Removes control/format/private-use characters and emoji")
        .AddDataFilter<TraditionalToSimplified, TraditionalToSimplifiedOptions>("t2s", "Traditional to Simplified Chinese, identical to OpenCC t2s")
        .AddDataFilter<CodeFormatter, CodeFormatterOptions>("format-code", "Wraps code documents as ```lang fenced Markdown (Ziya2 Appendix A)")
        // The code path (code sources skip the prose rules, language ID and perplexity): StarCoder-style file filters.
        .AddDataFilter<GeneratedCodeRule, GeneratedCodeOptions>("code-generated", "Drops generated source files (auto-generated / do not edit headers)")
        .AddDataFilter<CodeLineLengthRule, CodeLineLengthOptions>("code-line-length", "Drops minified or data-like source: longest line > 1,000 or mean > 100 characters")
        .AddDataFilter<CodeAlphanumericRule, CodeAlphanumericOptions>("code-alphanumeric", "Drops files with under 25 % letters and digits (ASCII art, hex dumps)")
        .AddDataFilter<CommentOnlyCodeRule, CommentOnlyCodeOptions>("code-comment-only", "Drops files that are a licence header or comments with next to no code")
        .AddDataFilter<SupervisedFormatter, SupervisedFormatterOptions>("format-supervised", "Renders question/answer records with the bilingual prompt templates")
        // Rule-based filtering, document level (paper §2.1 RF); each rule is its own component with its own options.
        .AddDataFilter<MaxLengthRule, MaxLengthOptions>("max-length", "Drops documents longer than threshold characters")
        .AddDataFilter<DigitRatioRule, DigitRatioOptions>("digit-ratio", "Drops documents whose characters are mostly digits")
        .AddDataFilter<SymbolRatioRule, SymbolRatioOptions>("symbol-ratio", "Gopher symbol (#, ellipsis) to word ratio, Chinese-aware")
        .AddDataFilter<BulletLinesRule, BulletLinesOptions>("bullet-lines", "Drops documents that are mostly bullet lines")
        .AddDataFilter<EllipsisLinesRule, EllipsisLinesOptions>("ellipsis-lines", "Drops documents whose lines mostly end in an ellipsis")
        .AddDataFilter<HtmlRemnantsRule, HtmlRemnantsOptions>("html-remnants", "Drops documents with HTML tags/entities left over")
        .AddDataFilter<UrlDensityRule, UrlDensityOptions>("url-density", "Drops documents made mostly of URLs")
        .AddDataFilter<ContentRatioRule, ContentRatioOptions>("content-ratio", "Drops documents with too few letters/ideographs among their characters")
        .AddDataFilter<LineRepetitionRule, RepetitionOptions>("line-repetition", "Drops documents with many repeated lines")
        .AddDataFilter<ParagraphRepetitionRule, RepetitionOptions>("paragraph-repetition", "Drops documents with many repeated paragraphs")
        .AddDataFilter<MeanWordLengthRule, MeanWordLengthOptions>("mean-word-length", "Gopher mean word length for non-Chinese documents")
        .AddDataFilter<StopWordsRule, StopWordsOptions>("stop-words", "Requires English or Chinese function words (running text)")
        .AddDataFilter<NonAlphaWordsRule, NonAlphaWordsOptions>("non-alpha-words", "Gopher: too many words without a letter (non-Chinese)")
        .AddDataFilter<ShortLinesRule, ShortLinesOptions>("short-lines", "FineWeb: too many short lines")
        .AddDataFilter<UppercaseRatioRule, UppercaseRatioOptions>("uppercase-ratio", "Too many capital Latin letters")
        .AddDataFilter<NgramRepetitionRule, NgramRepetitionOptions>("ngram-repetition", "Gopher top 2/3/4-gram share, character n-grams for Chinese")
        .AddDataFilter<LoremIpsumRule, NoOptions>("lorem-ipsum", "C4: drops placeholder text")
        .AddDataFilter<WordCountRule, WordCountOptions>("word-count", "Gopher: 50 to 100,000 words (one per ideograph in Chinese)")
        .AddDataFilter<CodeRemnantsRule, CodeRemnantsOptions>("code-remnants", "Drops prose pages whose lines are mostly program text (C4's curly-brace rule, refined)")
        .AddDataFilter<LinePunctuationRule, LinePunctuationOptions>("line-punctuation", "FineWeb: too few lines end in terminal punctuation, Chinese-aware")
        .AddDataFilter<MojibakeRule, MojibakeOptions>("mojibake", "Drops text garbled by a wrong decoding (U+FFFD, Ã©, 锟斤拷)")
        .AddDataFilter<HashtagDensityRule, HashtagDensityOptions>("hashtag-density", "Drops social-media spam made of #tags and @mentions")
        // Paragraph and sentence level: remove the offending part, drop the document when too little remains.
        .AddDataFilter<WordListRule, WordListOptions>("word-list", "Removes lines/paragraphs/sentences with listed phrases (advertising, boilerplate, toxic …)")
        .AddDataFilter<PrivacyRule, PrivacyOptions>("privacy", "Removes or masks sentences with e-mails, phone numbers, ID numbers")
        .AddDataFilter<TerminalPunctuationRule, TerminalPunctuationOptions>("terminal-punctuation", "C4: removes short lines without terminal punctuation (menus, broken sentences)")
        .AddDataFilter<JavascriptNoticeRule, JavascriptNoticeOptions>("browser-notices", "C4: removes JavaScript/cookie/browser notice lines")
        .AddDataFilter<CharRunsRule, CharRunsOptions>("char-runs", "Removes sentences with long runs of one character")
        .AddDataFilter<NavigationLinesRule, NavigationLinesOptions>("navigation-lines", "Removes menu and breadcrumb lines (Home | News, 首页 > 新闻)")
        .AddDataFilter<TruncatedSentencesRule, TruncatedSentencesOptions>("truncated-sentences", "Removes cut-off sentences and teasers (… / read more / 展开全文)")
        .AddDataFilter<MetadataLinesRule, MetadataLinesOptions>("metadata-lines", "Removes publication time, source, editor, counter and share lines")
        .AddDataFilter<NumericLinesRule, NumericLinesOptions>("numeric-lines", "Removes lines made of numbers and symbols (table rows, scores)");
}

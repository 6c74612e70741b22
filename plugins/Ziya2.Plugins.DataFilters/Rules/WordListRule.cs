using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="WordListRule"/>.</summary>
public sealed class WordListOptions : PartRemovalOptions
{
    /// <summary>Word-list files (one phrase per line, <c>#</c> comments); relative paths are looked up beside the plugin's <c>data/wordlists</c> first.</summary>
    public List<string> Lists { get; set; } = [];
    /// <summary>A unit is removed when it contains at least this many listed phrases.</summary>
    public int MinHits { get; set; } = 1;
    /// <summary>Reason recorded when the document is dropped (and prefix of the removal counter).</summary>
    public string Reason { get; set; } = "word_list";
    /// <summary>
    /// Non-CJK phrases match only as whole words (the toxic list's <c>ass</c> not inside <c>class</c>); CJK phrases match
    /// anywhere either way. Off: every phrase is a plain substring (advertising and boilerplate lists).
    /// </summary>
    public bool WholeWords { get; set; }

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (Lists.Count == 0) yield return "lists must name at least one word-list file";
        if (MinHits < 1) yield return "min_hits must be >= 1";
        foreach (var l in Lists) if (WordListRule.Resolve(l) is null) yield return $"word list '{l}' not found";
    }
}

/// <summary>
/// Removes lines, paragraphs or sentences containing listed phrases — advertising, boilerplate, toxic or sensitive
/// words, whichever lists the config selects (paper §2.1 RF, paragraph and sentence level). Matching is
/// case-insensitive (<see cref="PhraseMatcher"/>): CJK phrases anywhere, other phrases as substrings or, with
/// <c>whole_words</c>, as whole words. The plugin ships <c>advertising.txt</c>, <c>boilerplate.txt</c> and the toxic lists
/// <c>toxic-en.txt</c> and <c>toxic-zh.txt</c> (data/wordlists/README.md: their source, licence and what was changed).
/// </summary>
public sealed class WordListRule : IDataFilter
{
    readonly WordListOptions _o;
    readonly PhraseMatcher _phrases;

    public WordListRule(WordListOptions o)
    {
        _o = o;
        _phrases = PhraseMatcher.Load(o.Lists.Select(l => Resolve(l) ?? throw new FileNotFoundException($"word list '{l}' not found", l)), o.WholeWords);
    }

    internal static string? Resolve(string path)
    {
        if (Path.IsPathRooted(path)) return File.Exists(path) ? path : null;
        var bundled = Path.Combine(Path.GetDirectoryName(typeof(WordListRule).Assembly.Location)!, "data", "wordlists", path);
        return File.Exists(bundled) ? bundled : File.Exists(path) ? Path.GetFullPath(path) : null;
    }

    public FilterDecision Apply(Document d) => PartRemoval.Apply(d, _o, _o.Reason, part => _phrases.Hits(part, _o.MinHits) >= _o.MinHits);
}

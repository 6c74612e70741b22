using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="TraditionalToSimplified"/>.</summary>
public sealed class TraditionalToSimplifiedOptions
{
    /// <summary>Directory with <c>TSPhrases.txt</c> and <c>TSCharacters.txt</c>; default: the OpenCC 1.1.6 copies shipped with the plugin.</summary>
    public string? Dictionaries { get; set; }
}

/// <summary>
/// Traditional → Simplified Chinese exactly as OpenCC's <c>t2s</c> configuration converts (paper §2.1 DP): at each
/// position the longest <c>TSPhrases</c> entry wins, else the character's <c>TSCharacters</c> entry, else the character
/// is copied; the first listed value is used. This is what OpenCC's maximum-match segmentation over TSPhrases followed
/// by the [TSPhrases, TSCharacters] conversion group amounts to.
/// </summary>
public sealed class TraditionalToSimplified : IDataFilter
{
    static readonly Lazy<OpenCcDictionary> Bundled = new(() => OpenCcDictionary.Load(Path.Combine(Path.GetDirectoryName(typeof(TraditionalToSimplified).Assembly.Location)!, "data", "opencc")));
    readonly OpenCcDictionary _dictionary;

    public TraditionalToSimplified(TraditionalToSimplifiedOptions options) =>
        _dictionary = options.Dictionaries is { } dir ? OpenCcDictionary.Load(dir) : Bundled.Value;

    public FilterDecision Apply(Document document)
    {
        var converted = _dictionary.Convert(document.Text, out int changed);
        return changed == 0 ? FilterDecision.Keep() : FilterDecision.Rewrite((document with { Text = converted }).WithAttribute("t2s_changed", changed));
    }
}

/// <summary>The two OpenCC dictionaries t2s uses, as maps keyed by the traditional text.</summary>
sealed class OpenCcDictionary
{
    readonly Dictionary<string, string> _phrases, _characters;
    readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _phraseLookup, _characterLookup;
    readonly int _maxPhraseLength;
    readonly HashSet<char> _phraseStarts;   // most positions start no phrase: skip the per-length lookups there

    OpenCcDictionary(Dictionary<string, string> phrases, Dictionary<string, string> characters)
    {
        _phrases = phrases; _characters = characters;
        _phraseLookup = phrases.GetAlternateLookup<ReadOnlySpan<char>>();
        _characterLookup = characters.GetAlternateLookup<ReadOnlySpan<char>>();
        _maxPhraseLength = phrases.Keys.Select(k => k.Length).DefaultIfEmpty(0).Max();
        _phraseStarts = phrases.Keys.Select(k => k[0]).ToHashSet();
    }

    public static OpenCcDictionary Load(string directory) => new(Read(Path.Combine(directory, "TSPhrases.txt")), Read(Path.Combine(directory, "TSCharacters.txt")));

    static Dictionary<string, string> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"OpenCC dictionary not found: {path}", path);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var tab = line.IndexOf('\t');
            if (tab <= 0) throw new InvalidDataException($"{path}:{lineNumber}: expected key<TAB>values");
            var values = line[(tab + 1)..];
            var space = values.IndexOf(' ');
            map.TryAdd(line[..tab], space < 0 ? values : values[..space]);
        }
        return map;
    }

    public string Convert(string text, out int changed)
    {
        changed = 0;
        var sb = new System.Text.StringBuilder(text.Length);
        var span = text.AsSpan();
        for (int i = 0; i < span.Length;)
        {
            if (span[i] < 0x80) { sb.Append(span[i]); i++; continue; }   // ASCII never converts
            int charLength = char.IsHighSurrogate(span[i]) && i + 1 < span.Length && char.IsLowSurrogate(span[i + 1]) ? 2 : 1;
            int matched = 0;
            string? value = null;
            if (_phraseStarts.Contains(span[i]))
                for (int n = Math.Min(_maxPhraseLength, span.Length - i); n > 0; n--)
                    if (_phraseLookup.TryGetValue(span.Slice(i, n), out value)) { matched = n; break; }
            if (matched == 0 && _characterLookup.TryGetValue(span.Slice(i, charLength), out value)) matched = charLength;
            if (matched == 0) { sb.Append(span.Slice(i, charLength)); i += charLength; continue; }
            if (!span.Slice(i, matched).SequenceEqual(value)) changed++;
            sb.Append(value);
            i += matched;
        }
        return sb.ToString();
    }
}

using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

public sealed class MojibakeOptions : ThresholdOptions { public MojibakeOptions() => Threshold = 0.005; }

/// <summary>
/// Drops documents garbled by a wrong decoding (<c>mojibake</c>): replacement characters U+FFFD, UTF-8 read as
/// Latin-1 (<c>Ã©</c>, <c>â€™</c>), and the classic Chinese failures (<c>锟斤拷</c> from U+FFFD in GBK, <c>烫烫烫</c> and
/// <c>屯屯屯</c> from uninitialised memory), when they make up more than <c>threshold</c> of the characters.
/// </summary>
public sealed class MojibakeRule(MojibakeOptions o) : IDataFilter
{
    static readonly string[] Sequences = ["锟斤拷", "烫烫烫", "屯屯屯", "â€™", "â€œ", "â€", "Ã©", "Ã¨", "Ã¶", "Ã¼", "Ã¤", "Ã ", "Â ", "Ã±", "Ã§"];

    public FilterDecision Apply(Document d)
    {
        int length = d.Text.Length;
        if (length == 0) return FilterDecision.Keep();
        long bad = d.Text.Count(c => c == '\uFFFD');
        foreach (var s in Sequences)
            for (int i = d.Text.IndexOf(s, StringComparison.Ordinal); i >= 0; i = d.Text.IndexOf(s, i + s.Length, StringComparison.Ordinal))
                bad += s.Length;
        return (double)bad / length > o.Threshold ? FilterDecision.Drop("mojibake") : FilterDecision.Keep();
    }
}

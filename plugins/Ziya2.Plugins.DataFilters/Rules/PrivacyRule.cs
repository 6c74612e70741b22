using System.Text.RegularExpressions;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters.Rules;

/// <summary>Options of <see cref="PrivacyRule"/>.</summary>
public sealed class PrivacyOptions : PartRemovalOptions
{
    public PrivacyOptions() => Unit = TextUnit.Sentence;
    /// <summary><c>remove</c> the sentence (or unit) holding personal data, or <c>mask</c> the data in place.</summary>
    public string Mode { get; set; } = "remove";

    public override IEnumerable<string> Validate()
    {
        foreach (var m in base.Validate()) yield return m;
        if (Mode is not ("remove" or "mask")) yield return "mode must be remove or mask";
    }
}

/// <summary>
/// Personal data (paper Table 1, "Privacy Word Rate"): e-mail addresses, mainland-China mobile numbers, international
/// phone numbers and 18-digit resident ID numbers. Removes the units holding them (reason <c>privacy</c> when too little
/// remains) or masks them as <c>&lt;EMAIL&gt;</c>, <c>&lt;PHONE&gt;</c>, <c>&lt;ID&gt;</c>.
/// </summary>
public sealed partial class PrivacyRule(PrivacyOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        if (o.Mode == "remove") return PartRemoval.Apply(d, o, "privacy", part => Email().IsMatch(part) || Phone().IsMatch(part) || IdNumber().IsMatch(part));
        int count = 0;
        string masked = IdNumber().Replace(Phone().Replace(Email().Replace(d.Text, _ => { count++; return "<EMAIL>"; }), _ => { count++; return "<PHONE>"; }), _ => { count++; return "<ID>"; });
        return count == 0 ? FilterDecision.Keep() : FilterDecision.Rewrite((d with { Text = masked }).WithAttribute("privacy_masked", count));
    }

    [GeneratedRegex(@"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")] private static partial Regex Email();
    [GeneratedRegex(@"(?<![0-9])(\+?86[ -]?)?1[3-9][0-9]{9}(?![0-9])|\+[1-9][0-9]{0,2}[ -]?\(?[0-9]{2,4}\)?[ -]?[0-9]{3,4}[ -]?[0-9]{3,4}")] private static partial Regex Phone();
    [GeneratedRegex(@"(?<![0-9])[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9])")] private static partial Regex IdNumber();
}

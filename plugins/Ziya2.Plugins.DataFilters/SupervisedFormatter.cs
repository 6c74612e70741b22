using System.Text;
using Ziya2.Configuration;
using Ziya2.Data;

namespace Ziya2.Plugins.DataFilters;

/// <summary>Options of <see cref="SupervisedFormatter"/>.</summary>
public sealed class SupervisedFormatterOptions : IValidatableOptions
{
    /// <summary>Attribute holding the question (map it with <c>[input] attributes = ["question", "answer"]</c>).</summary>
    public string QuestionAttribute { get; set; } = "question";
    public string AnswerAttribute { get; set; } = "answer";
    /// <summary>Chinese templates; <c>{q}</c> and <c>{a}</c> are replaced.</summary>
    public List<string> ChineseTemplates { get; set; } = ["问题:{q} 回答:{a}", "问:{q} 答:{a}", "问题：{q}\n回答：{a}"];
    /// <summary>English templates.</summary>
    public List<string> EnglishTemplates { get; set; } = ["Question:{q} Answer:{a}", "Q:{q} A:{a}", "Problem:{q} Solution:{a}"];

    public IEnumerable<string> Validate()
    {
        if (ChineseTemplates.Count == 0 || EnglishTemplates.Count == 0) yield return "both template lists need at least one template";
        foreach (var t in ChineseTemplates.Concat(EnglishTemplates))
            if (!t.Contains("{q}") || !t.Contains("{a}")) yield return $"template '{t}' must contain {{q}} and {{a}}";
    }
}

/// <summary>
/// Renders supervised records (question + answer attributes) with the paper's bilingual prompt templates
/// (Appendix A: <c>问题:… 回答:…</c>, <c>Question:… Answer:…</c>, Q/A, problem/solution). The template is chosen by a
/// stable hash of the document id, so output is deterministic and templates are spread evenly; Chinese questions get
/// Chinese templates. Records without both attributes pass unchanged. The attribute <c>prompt_chars</c> marks where the
/// answer begins, so training can put the loss on answers only.
/// </summary>
public sealed class SupervisedFormatter(SupervisedFormatterOptions o) : IDataFilter
{
    public FilterDecision Apply(Document d)
    {
        if (!d.Attributes.TryGetValue(o.QuestionAttribute, out var q) || !d.Attributes.TryGetValue(o.AnswerAttribute, out var a)) return FilterDecision.Keep();
        var question = q.ToString()!; var answer = a.ToString()!;
        var templates = Rules.TextMetrics.IsMostlyChinese(question) ? o.ChineseTemplates : o.EnglishTemplates;
        var template = templates[(int)(Fnv1a(d.Id) % (uint)templates.Count)];
        // The answer starts where {a} lands; training masks the loss before it (prompt_chars, in UTF-16 code units).
        var beforeAnswer = template[..template.IndexOf("{a}", StringComparison.Ordinal)].Replace("{q}", question);
        var text = template.Replace("{q}", question).Replace("{a}", answer);
        return FilterDecision.Rewrite((d with { Text = text }).WithAttribute("template", template).WithAttribute("prompt_chars", beforeAnswer.Length));
    }

    /// <summary>FNV-1a over UTF-8: stable across processes and .NET versions, unlike <c>string.GetHashCode</c>.</summary>
    static uint Fnv1a(string s)
    {
        uint h = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 16777619; }
        return h;
    }
}

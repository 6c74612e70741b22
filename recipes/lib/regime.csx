// Helpers shared by the stage recipes (tiny.csx, ziya2-13b.csx): reading factory output, the tokenizer extension
// of Ziya2 §3.2–3.3, and mixtures.
using Ziya2.DataFactory.Reading;
using Ziya2.Models;
using Ziya2.Tokenization;
using Ziya2.Training.Data;

/// <summary>Documents of files or directories (JSONL, compressed, Parquet), malformed records skipped (the factory counted them).</summary>
IEnumerable<Document> ReadDocuments(string input) =>
    InputShard.Expand([input]).SelectMany(new ShardReader(new FieldMapping()).Read).OfType<ParsedRecord>().Select(r => r.Document);

/// <summary>Tokens per character of <paramref name="t"/> over <paramref name="texts"/>: the tokenizer-efficiency measure of §3.2.</summary>
double TokensPerChar(ITokenizer t, IEnumerable<string> texts)
{
    long tokens = 0, chars = 0;
    foreach (var s in texts) { tokens += t.Encode(s).Count; chars += s.Length; }
    return chars == 0 ? double.NaN : (double)tokens / chars;
}

/// <summary>
/// Ziya2 §3.2–3.3: adds the <paramref name="count"/> most frequent Chinese characters of <paramref name="chineseTexts"/>
/// that <paramref name="baseTokenizer"/> lacks, writes the extended tokenizer to <paramref name="directory"/>, and grows the
/// model's embedding and LM-head rows (rounded up to <paramref name="padTo"/>), each new row the mean of the rows the base
/// tokenizer splits its character into. Deterministic, so a resumed run extends identically.
/// </summary>
(ITokenizer Extended, int Added) ExtendVocabulary(ITokenizer baseTokenizer, ILanguageModel model, IEnumerable<string> chineseTexts, int count, int padTo, string directory)
{
    if (baseTokenizer is not IVocabularyExtender extender) throw new InvalidOperationException("the base tokenizer cannot be extended");
    var added = VocabularyExtension.SelectCharacters(baseTokenizer.Vocabulary, chineseTexts, count, VocabularyExtension.CjkRanges).Select(a => a.Character).ToList();
    var extended = extender.SaveExtended(added, directory);
    model.ExtendVocabulary(Math.Max(model.VocabSize, VocabularyExtension.PaddedRows(extended.VocabSize, padTo)), VocabularyExtension.InitialRows(extender, added));
    return (extended, added.Count);
}

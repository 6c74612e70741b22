using System.Text.Json;
using Ziya2.Training.Data;

namespace Ziya2.Training.Tests;

/// <summary>Token files, packing layouts, mixtures with replay, and the sampler's exact resume.</summary>
public class DataTests
{
    static string Jsonl(TempDir tmp, string name, params (string Text, int? PromptChars)[] docs)
    {
        var path = tmp.Combine(name);
        File.WriteAllLines(path, docs.Select((d, i) => JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = $"{name}-{i}", ["text"] = d.Text,
            ["attributes"] = d.PromptChars is { } p ? new Dictionary<string, object> { ["prompt_chars"] = p } : null,
        })));
        return path;
    }

    [Fact]
    public void Token_files_hold_documents_and_prompts_and_refuse_another_tokenizer()
    {
        using var tmp = new TempDir();
        var input = Jsonl(tmp, "a.jsonl", ("abc", null), ("qa", 1), ("", null), ("de", null));
        using var file = TokenFileBuilder.Build([input], new LetterTokenizer(), tmp.Combine("tok"));
        Assert.Equal((3L, 7L, 1L), (file.Documents, file.Tokens, file.Manifest.SupervisedDocuments));   // the empty document is skipped
        Assert.Equal("abc", LetterTokenizer.Text(file.Document(0)));
        Assert.Equal((1, "qa"), (file.PromptLength(1), LetterTokenizer.Text(file.Document(1))));
        Assert.Equal(0, file.PromptLength(2));
        // Built once: a second build opens what is there; a damaged directory is refused.
        using (var again = TokenFileBuilder.Build([input], new LetterTokenizer(), tmp.Combine("tok"))) Assert.Equal(7, again.Tokens);
        Assert.Throws<InvalidDataException>(() => TokenFile.Open(tmp.Combine("tok"), "0123456789abcdef"));
        File.WriteAllBytes(tmp.Combine("tok", "offsets.bin"), new byte[8]);
        Assert.Throws<InvalidDataException>(() => TokenFile.Open(tmp.Combine("tok")));
    }

    [Fact]
    public void Token_files_built_on_several_threads_hold_the_bytes_one_thread_writes()
    {
        using var tmp = new TempDir();
        // More documents than one block (4,096), prompts among them, so blocks and their order both matter.
        var rng = new Random(5);
        var docs = Enumerable.Range(0, 9000).Select(i => (string.Concat(Enumerable.Range(0, rng.Next(0, 40)).Select(_ => (char)('a' + rng.Next(26)))), i % 7 == 0 ? (int?)1 : null)).ToArray();
        var input = Jsonl(tmp, "many.jsonl", docs);
        using var one = TokenFileBuilder.Build([input], new LetterTokenizer(), tmp.Combine("one"), threads: 1);
        using var four = TokenFileBuilder.Build([input], new LetterTokenizer(), tmp.Combine("four"), threads: 4);
        foreach (var f in new[] { "tokens.bin", "offsets.bin", "prompts.bin" })
            Assert.Equal(File.ReadAllBytes(tmp.Combine("one", f)), File.ReadAllBytes(tmp.Combine("four", f)));
        Assert.True(one.Documents > 8000);
    }

    [Fact]
    public void Document_packing_joins_with_eos_and_cuts_windows_that_overlap_by_one()
    {
        using var tmp = new TempDir();
        using var file = TokenFileBuilder.Build([Jsonl(tmp, "d.jsonl", ("abcde", null))], new LetterTokenizer(), tmp.Combine("tok"));
        var sampler = new MixtureSampler([new MixtureSource("web", file, PackingMode.Documents, 1)], 4, LetterTokenizer.Eos, LetterTokenizer.Pad, 7);
        var (a, _) = sampler.Next();
        var (b, _) = sampler.Next();
        Assert.Equal(("abcd", "bcde"), (LetterTokenizer.Text(a.Inputs), LetterTokenizer.Text(a.Targets)));
        Assert.Equal(("e|ab", "|abc"), (LetterTokenizer.Text(b.Inputs), LetterTokenizer.Text(b.Targets)));   // the only document again, after its eos
        Assert.Equal([0, 0, 1, 1], b.DocumentIds);
    }

    [Fact]
    public void Sample_packing_never_splits_masks_prompts_and_pads()
    {
        using var tmp = new TempDir();
        using var file = TokenFileBuilder.Build([Jsonl(tmp, "s.jsonl", ("qqaa", 2), ("xyzab", 3))], new LetterTokenizer(), tmp.Combine("tok"));
        var sampler = new MixtureSampler([new MixtureSource("sft", file, PackingMode.Samples, 1)], 8, LetterTokenizer.Eos, LetterTokenizer.Pad, 3);
        var seen = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var (s, _) = sampler.Next();
            seen.Add(LetterTokenizer.Text(s.Inputs) + " " + LetterTokenizer.Text(s.Targets));
            Assert.Equal(8, s.Inputs.Length);
        }
        // Either sample fits alone (5 or 6 tokens with eos) but two never fit in 9: each sequence is one sample + pads.
        // Targets: prompt tokens are not predicted; the answer and its eos are; padding never is.
        Assert.All(seen, s => Assert.True(s is "qqaa|___ .aa|...." or "xyzab|__ ..ab|...", s));
        Assert.Contains("qqaa|___ .aa|....", seen);
        var unmasked = new MixtureSampler([new MixtureSource("sft", file, PackingMode.Samples, 1, MaskPrompt: false)], 8, LetterTokenizer.Eos, LetterTokenizer.Pad, 3);
        Assert.Contains(Enumerable.Range(0, 4).Select(_ => LetterTokenizer.Text(unmasked.Next().Sequence.Targets)), t => t is "qaa|...." or "yzab|...");
    }

    [Fact]
    public void Replay_weights_follow_the_papers_ratios_over_many_draws()
    {
        using var tmp = new TempDir();
        using var general = TokenFileBuilder.Build([Jsonl(tmp, "g.jsonl", ("generaltext", null))], new LetterTokenizer(), tmp.Combine("g"));
        using var sft = TokenFileBuilder.Build([Jsonl(tmp, "s.jsonl", ("qa", 1))], new LetterTokenizer(), tmp.Combine("s"));
        using var math = TokenFileBuilder.Build([Jsonl(tmp, "m.jsonl", ("math", 2))], new LetterTokenizer(), tmp.Combine("m"));
        // Stage 2: supervised data with Stage 1 replayed 1:1.
        var stage2 = Replay.ByRatio([new("sft", sft, PackingMode.Samples, 1)], [new("general", general, PackingMode.Documents, 1)], 1.0);
        var sampler = new MixtureSampler(stage2, 8, LetterTokenizer.Eos, LetterTokenizer.Pad, 11);
        for (int i = 0; i < 20000; i++) sampler.Next();
        Assert.InRange(sampler.Drawn["general"] / 20000.0, 0.48, 0.52);
        // Stage 3: 0.1B tokens from each earlier stage in a 1B-token stage → 10 % each, 80 % math.
        var stage3 = Replay.ByTokens([new("math", math, PackingMode.Samples, 1)],
            [new("general", general, PackingMode.Documents, 1), new("sft", sft, PackingMode.Samples, 1)], 0.1e9, 1e9);
        Assert.Equal([0.8, 0.1, 0.1], stage3.Select(s => Math.Round(s.Weight, 12)));
        var s3 = new MixtureSampler(stage3, 8, LetterTokenizer.Eos, LetterTokenizer.Pad, 5);
        for (int i = 0; i < 20000; i++) s3.Next();
        Assert.InRange(s3.Drawn["math"] / 20000.0, 0.785, 0.815);
        Assert.Throws<ArgumentException>(() => Replay.ByTokens(stage3, stage3, 0.5e9, 1e9));
    }

    [Fact]
    public void A_restored_sampler_draws_exactly_what_the_original_would_have()
    {
        using var tmp = new TempDir();
        using var a = TokenFileBuilder.Build([Jsonl(tmp, "a.jsonl", ("alpha", null), ("beta", null), ("gamma", null), ("delta", null))], new LetterTokenizer(), tmp.Combine("a"));
        using var b = TokenFileBuilder.Build([Jsonl(tmp, "b.jsonl", ("qqanswer", 2), ("qqqok", 3), ("qlonger", 1))], new LetterTokenizer(), tmp.Combine("b"));
        MixtureSampler Make() => new([new("a", a, PackingMode.Documents, 2), new("b", b, PackingMode.Samples, 1)], 6, LetterTokenizer.Eos, LetterTokenizer.Pad, 99);
        var original = Make();
        for (int i = 0; i < 37; i++) original.Next();
        var json = JsonSerializer.Serialize(original.SaveState());     // what a checkpoint stores
        var expected = Enumerable.Range(0, 50).Select(_ => original.Next()).Select(x => x.Source + LetterTokenizer.Text(x.Sequence.Inputs) + LetterTokenizer.Text(x.Sequence.Targets)).ToList();
        var restored = Make();
        restored.LoadState(JsonSerializer.Deserialize<MixtureState>(json)!);
        var got = Enumerable.Range(0, 50).Select(_ => restored.Next()).Select(x => x.Source + LetterTokenizer.Text(x.Sequence.Inputs) + LetterTokenizer.Text(x.Sequence.Targets)).ToList();
        Assert.Equal(expected, got);
        Assert.NotEqual(expected, Enumerable.Range(0, 50).Select(_ => Make().Next()).Select(x => x.Source + LetterTokenizer.Text(x.Sequence.Inputs) + LetterTokenizer.Text(x.Sequence.Targets)).ToList());
    }
}

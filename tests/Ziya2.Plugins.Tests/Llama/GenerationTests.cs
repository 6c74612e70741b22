using Ziya2.Models;
using Ziya2.Plugins.Llama;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Tests.Llama;

public class GenerationTests
{
    [Fact]
    public void Greedy_decoding_with_the_kv_cache_equals_recomputing_the_whole_prefix()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var prompt = new long[] { 4, 8, 15, 16, 23 };
        var cached = TextGeneration.Generate(model, prompt, new GenerationOptions { MaxNewTokens = 12 });
        var sequence = prompt.ToList();
        using (no_grad())
            for (int i = 0; i < 12; i++)
            {
                using var scope = NewDisposeScope();
                sequence.Add(model.Forward(tensor(sequence.ToArray()).unsqueeze(0))[0, -1].argmax().item<long>());
            }
        Assert.Equal(sequence.Skip(prompt.Length), cached);
    }

    [Fact]
    public void A_left_padded_batch_decodes_each_prompt_as_it_decodes_alone_and_stops_each_row_on_its_own()
    {
        using var model = new LlamaModel(TinyModels.Options());
        IReadOnlyList<long>[] prompts = [[4, 8, 15, 16, 23], [42], [7, 7, 1, 2, 9, 30, 11, 3], [5, 6]];
        var options = new GenerationOptions { MaxNewTokens = 10 };
        var alone = prompts.Select(p => TextGeneration.Generate(model, p, options)).ToList();
        var batch = TextGeneration.GenerateBatch(model, prompts, options);
        Assert.Equal(alone, batch);
        // A stop token ends the rows that emit it; a row's own test ends only that row.
        var stop = alone[0][3];
        var stopped = TextGeneration.GenerateBatch(model, prompts, options with { StopTokens = [stop] }, (row, tokens) => row == 2 && tokens.Count == 4);
        for (int r = 0; r < prompts.Length; r++)
        {
            var expected = alone[r].ToList();
            int at = expected.IndexOf(stop);
            if (at >= 0) expected = expected.Take(at + 1).ToList();
            if (r == 2) expected = expected.Take(4).ToList();
            Assert.Equal(expected, stopped[r]);
        }
        Assert.True(stopped[0].Count <= 4 && stopped[2].Count == 4);
        // Sampling goes one prompt at a time, so each row is what Generate samples for it.
        var sampled = options with { Temperature = 1.2, Seed = 9 };
        Assert.Equal(prompts.Select(p => TextGeneration.Generate(model, p, sampled)), TextGeneration.GenerateBatch(model, prompts, sampled));
    }

    [Fact]
    public void Sampling_is_reproducible_per_seed_and_stops_at_stop_tokens()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var o = new GenerationOptions { MaxNewTokens = 20, Temperature = 1.5, TopP = 0.9, Seed = 3 };
        var a = TextGeneration.Generate(model, [1, 2, 3], o);
        Assert.Equal(a, TextGeneration.Generate(model, [1, 2, 3], o));
        Assert.NotEqual(a, TextGeneration.Generate(model, [1, 2, 3], o with { Seed = 4 }));
        var stopped = TextGeneration.Generate(model, [1, 2, 3], o with { StopTokens = [a[2]] });
        Assert.Equal(a.Take(stopped.Count), stopped);
        Assert.Equal(a[2], stopped[^1]);
        Assert.True(stopped.Count <= 3);
    }

    [Fact]
    public void Tiny_top_p_keeps_only_the_most_likely_token()
    {
        using var model = new LlamaModel(TinyModels.Options());
        var greedy = TextGeneration.Generate(model, [9, 9, 9], new GenerationOptions { MaxNewTokens = 8 });
        Assert.Equal(greedy, TextGeneration.Generate(model, [9, 9, 9], new GenerationOptions { MaxNewTokens = 8, Temperature = 1.0, TopP = 1e-6 }));
    }
}

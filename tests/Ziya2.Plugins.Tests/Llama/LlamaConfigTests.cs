using Ziya2.Plugins.Llama;

namespace Ziya2.Plugins.Tests.Llama;

/// <summary>
/// config.json as strangers write it: Hugging Face's own files read, and every value of the wrong type or range refused
/// with the key named — the shapes bench/fuzz.sh config-json found escaping as InvalidOperationException,
/// FormatException or DivideByZeroException (kept in tests/fixtures/fuzz/config-json/).
/// </summary>
public sealed class LlamaConfigTests
{
    const string Llama2 = """
        {"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 5120,
         "initializer_range": 0.02, "intermediate_size": 13824, "max_position_embeddings": 4096, "model_type": "llama",
         "num_attention_heads": 40, "num_hidden_layers": 40, "num_key_value_heads": 40, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": null, "tie_word_embeddings": false, "torch_dtype": "float16", "transformers_version": "4.32.0.dev0",
         "use_cache": true, "vocab_size": 32000}
        """;

    static string Refusal(string json) => Assert.Throws<InvalidDataException>(() => LlamaConfig.FromJson(json, "config.json")).Message;

    static string With(string key, string value) => Llama2.Replace($"\"{key}\": ", $"\"{key}\": {value}, \"was_{key}\": ");

    [Fact]
    public void Reads_hugging_faces_llama2_13b_config()
    {
        var c = LlamaConfig.FromJson(Llama2, "config.json");
        Assert.Equal((32000, 5120, 13824, 40, 40, 40, 2), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.EosTokenId));
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Null(c.PadTokenId);
    }

    [Fact]
    public void Eos_may_be_a_list_as_llama3_writes_it() =>
        Assert.Equal(128001, LlamaConfig.FromJson(With("eos_token_id", "[128001, 128009]"), "config.json").EosTokenId);

    [Theory]
    [InlineData("hidden_size", "\"5120\"", "'hidden_size' must be an integer (found \"5120\")")]
    [InlineData("hidden_size", "5120.5", "'hidden_size' must be an integer (found 5120.5)")]
    [InlineData("max_position_embeddings", "40111111111196", "'max_position_embeddings' must be an integer")]
    [InlineData("vocab_size", "null, \"x\": 0", "")]   // null is absent: the default applies, and the rest still reads
    [InlineData("rms_norm_eps", "\"small\"", "'rms_norm_eps' must be a number")]
    [InlineData("tie_word_embeddings", "1", "'tie_word_embeddings' must be true or false")]
    [InlineData("model_type", "20", "'model_type' must be a string")]
    [InlineData("hidden_act", "[\"silu\"]", "'hidden_act' must be a string")]
    [InlineData("eos_token_id", "[]", "'eos_token_id' must be an integer or a non-empty array")]
    [InlineData("eos_token_id", "[\"2\"]", "'eos_token_id[0]' must be an integer")]
    [InlineData("num_attention_heads", "0", "must be > 0")]
    public void Values_of_the_wrong_type_or_range_name_their_key(string key, string value, string expected)
    {
        var json = With(key, value);
        if (expected.Length == 0) { _ = LlamaConfig.FromJson(json, "config.json"); return; }
        var message = Refusal(json);
        Assert.StartsWith("config.json: ", message);
        Assert.Contains(expected, message);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("[1, 2]")]
    [InlineData("\"llama\"")]
    public void A_config_that_is_not_an_object_is_refused(string json) => Assert.Contains("not a JSON object", Refusal(json));
}

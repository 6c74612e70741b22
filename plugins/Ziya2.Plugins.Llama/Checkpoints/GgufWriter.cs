using System.Text;
using TorchSharp;
using Ziya2.Tokenization;
using Ziya2.Models.Checkpoints;
using static TorchSharp.torch;

namespace Ziya2.Plugins.Llama.Checkpoints;

/// <summary>Vocabularies for GGUF files.</summary>
static class GgufVocabulary
{
    /// <summary>
    /// A byte-fallback-only vocabulary: 0 &lt;unk&gt;, 1 &lt;s&gt;, 2 &lt;/s&gt;, 3..258 &lt;0x00&gt;..&lt;0xFF&gt;, then unused
    /// fillers — the layout of the tiny byte-level models. Models with a tokenizer export its vocabulary instead.
    /// </summary>
    public static TokenizerVocabulary ByteFallback(int vocabSize)
    {
        if (vocabSize < 259) throw new ArgumentException($"a byte-fallback GGUF vocabulary needs at least 259 ids, the model has {vocabSize}; export with the model's tokenizer");
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(TokenType.Byte); }
        for (int i = tokens.Count; i < vocabSize; i++) { tokens.Add($"<extra_{i}>"); types.Add(TokenType.Unused); }
        return new TokenizerVocabulary(tokens, Enumerable.Repeat(0f, vocabSize).ToList(), types, 0, 1, 2, null);
    }

    /// <summary>A tokenizer's vocabulary padded with unused fillers to the model's row count (Ziya2 pads to 39,424).</summary>
    public static TokenizerVocabulary PadTo(TokenizerVocabulary v, int vocabSize)
    {
        if (v.Pieces.Count > vocabSize) throw new ArgumentException($"the tokenizer has {v.Pieces.Count} pieces but the model only {vocabSize} rows");
        if (v.Pieces.Count == vocabSize) return v;
        var extra = Enumerable.Range(v.Pieces.Count, vocabSize - v.Pieces.Count).ToList();
        return v with
        {
            Pieces = [.. v.Pieces, .. extra.Select(i => $"<extra_{i}>")],
            Scores = [.. v.Scores, .. extra.Select(_ => 0f)],
            Types = [.. v.Types, .. extra.Select(_ => TokenType.Unused)],
        };
    }
}

/// <summary>
/// Writes llama-architecture GGUF v3 files for llama.cpp. Q and K rows are permuted from HF's rotate-half layout to
/// the adjacent-pair layout llama.cpp's RoPE (type NORM) expects; K uses the KV head count (notes/llamacpp.md §2).
/// </summary>
static class GgufWriter
{
    const uint TypeU32 = 4, TypeI32 = 5, TypeF32 = 6, TypeBool = 7, TypeString = 8, TypeArray = 9;
    const int Alignment = 32;

    static readonly Dictionary<ScalarType, (uint GgmlType, uint FileType)> Types = new()
    {
        [ScalarType.Float32] = (0, 0), [ScalarType.Float16] = (1, 1), [ScalarType.BFloat16] = (30, 32),
    };

    /// <summary>HF names (without <c>model.</c>) → GGUF names.</summary>
    static string GgufName(string name)
    {
        if (name == "embed_tokens.weight") return "token_embd.weight";
        if (name == "norm.weight") return "output_norm.weight";
        if (name == "lm_head.weight") return "output.weight";
        var parts = name.Split('.');                         // layers.N.<module>.<proj>.weight
        var suffix = string.Join('.', parts[2..]) switch
        {
            "input_layernorm.weight" => "attn_norm.weight", "post_attention_layernorm.weight" => "ffn_norm.weight",
            "self_attn.q_proj.weight" => "attn_q.weight", "self_attn.k_proj.weight" => "attn_k.weight",
            "self_attn.v_proj.weight" => "attn_v.weight", "self_attn.o_proj.weight" => "attn_output.weight",
            "mlp.gate_proj.weight" => "ffn_gate.weight", "mlp.up_proj.weight" => "ffn_up.weight", "mlp.down_proj.weight" => "ffn_down.weight",
            var other => throw new ArgumentException($"no GGUF name for '{name}' ({other})"),
        };
        return $"blk.{parts[1]}.{suffix}";
    }

    /// <summary>HF rotate-half rows → llama.cpp adjacent pairs: <c>gguf[h·hd + 2i + j] = hf[h·hd + j·hd/2 + i]</c>.</summary>
    internal static Tensor PermuteForRope(Tensor w, int heads)
    {
        long outDim = w.shape[0], inDim = w.shape[1];
        return w.reshape(heads, 2, outDim / heads / 2, inDim).swapaxes(1, 2).reshape(outDim, inDim);
    }

    public static void Write(string path, LlamaConfig c, IReadOnlyList<(string Name, Tensor Tensor)> parameters, ScalarType dtype, TokenizerVocabulary vocab, string modelName)
    {
        if (!Types.TryGetValue(dtype, out var type)) throw new ArgumentException($"GGUF export supports f32, f16, bf16, not {dtype}");
        if (vocab.Pieces.Count != c.VocabSize) throw new ArgumentException($"vocabulary has {vocab.Pieces.Count} tokens, the model {c.VocabSize}");
        var tmp = path + ".tmp-" + Environment.ProcessId;
        using (var scope = NewDisposeScope())
        {
            var tensors = new List<(string Name, Tensor Data)>();
            foreach (var (name, p) in parameters)
            {
                var t = p.detach().cpu();
                if (name.EndsWith("q_proj.weight", StringComparison.Ordinal)) t = PermuteForRope(t, c.NumAttentionHeads);
                else if (name.EndsWith("k_proj.weight", StringComparison.Ordinal)) t = PermuteForRope(t, c.NumKeyValueHeads);
                // llama.cpp keeps 1-D tensors (norms) in F32 whatever the file type.
                t = (t.dim() == 1 ? t.to_type(ScalarType.Float32) : t.to_type(dtype)).contiguous();
                tensors.Add((GgufName(name), t));
            }
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write);
            using var w = new BinaryWriter(stream, Encoding.UTF8);
            var kv = new List<Action>();
            void Str(string key, string v) => kv.Add(() => { Key(w, key, TypeString); GgufString(w, v); });
            void U32(string key, uint v) => kv.Add(() => { Key(w, key, TypeU32); w.Write(v); });
            void F32(string key, float v) => kv.Add(() => { Key(w, key, TypeF32); w.Write(v); });
            void Bool(string key, bool v) => kv.Add(() => { Key(w, key, TypeBool); w.Write(v); });
            Str("general.architecture", "llama"); Str("general.name", modelName); U32("general.file_type", type.FileType);
            U32("general.alignment", Alignment);
            U32("llama.vocab_size", (uint)c.VocabSize); U32("llama.context_length", (uint)c.MaxPositionEmbeddings);
            U32("llama.embedding_length", (uint)c.HiddenSize); U32("llama.block_count", (uint)c.NumHiddenLayers);
            U32("llama.feed_forward_length", (uint)c.IntermediateSize); U32("llama.attention.head_count", (uint)c.NumAttentionHeads);
            U32("llama.attention.head_count_kv", (uint)c.NumKeyValueHeads); F32("llama.attention.layer_norm_rms_epsilon", (float)c.RmsNormEps);
            F32("llama.rope.freq_base", (float)c.RopeTheta); U32("llama.rope.dimension_count", (uint)c.HeadDim);
            Str("tokenizer.ggml.model", "llama");
            kv.Add(() => { Key(w, "tokenizer.ggml.tokens", TypeArray); w.Write(TypeString); w.Write((ulong)vocab.Pieces.Count); foreach (var s in vocab.Pieces) GgufString(w, s); });
            kv.Add(() => { Key(w, "tokenizer.ggml.scores", TypeArray); w.Write(TypeF32); w.Write((ulong)vocab.Scores.Count); foreach (var s in vocab.Scores) w.Write(s); });
            kv.Add(() => { Key(w, "tokenizer.ggml.token_type", TypeArray); w.Write(TypeI32); w.Write((ulong)vocab.Types.Count); foreach (var s in vocab.Types) w.Write((int)s); });
            if (vocab.BosId is { } bos) U32("tokenizer.ggml.bos_token_id", (uint)bos);
            if (vocab.EosId is { } eos) U32("tokenizer.ggml.eos_token_id", (uint)eos);
            if (vocab.PadId is { } pad) U32("tokenizer.ggml.padding_token_id", (uint)pad);
            U32("tokenizer.ggml.unknown_token_id", (uint)vocab.UnknownId);
            Bool("tokenizer.ggml.add_bos_token", true); Bool("tokenizer.ggml.add_eos_token", false);

            w.Write(Encoding.ASCII.GetBytes("GGUF")); w.Write(3u); w.Write((ulong)tensors.Count); w.Write((ulong)kv.Count);
            foreach (var write in kv) write();
            ulong offset = 0;
            foreach (var (name, t) in tensors)
            {
                GgufString(w, name);
                w.Write((uint)t.dim());
                for (int d = (int)t.dim() - 1; d >= 0; d--) w.Write((ulong)t.shape[d]);   // ne[0] is the contiguous dimension
                w.Write(t.dtype == ScalarType.Float32 ? 0u : type.GgmlType);
                w.Write(offset);
                offset += Align((ulong)(t.numel() * t.ElementSize));
            }
            w.Flush();
            Pad(stream);
            foreach (var (_, t) in tensors) { TensorBytes.WriteFrom(stream, t); Pad(stream); }
        }
        File.Move(tmp, path, overwrite: true);
    }

    static ulong Align(ulong n) => (n + Alignment - 1) / Alignment * Alignment;
    static void Pad(Stream s) { while (s.Position % Alignment != 0) s.WriteByte(0); }
    static void Key(BinaryWriter w, string key, uint type) { GgufString(w, key); w.Write(type); }
    static void GgufString(BinaryWriter w, string s) { var b = Encoding.UTF8.GetBytes(s); w.Write((ulong)b.Length); w.Write(b); }
}

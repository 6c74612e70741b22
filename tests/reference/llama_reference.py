#!/usr/bin/env python3
"""Independent float64 NumPy reference of the Hugging Face LLaMA forward pass, written from the published
equations (RMSNorm, rotate-half RoPE, grouped-query causal attention, SwiGLU), plus the fixtures it produces.

Each case directory holds a Hugging Face checkpoint written here without torch or transformers
(config.json + safetensors, one case sharded with an index) and expected.json with inputs and logits.
The C# tests load the checkpoint with the llama plugin and compare logits (relative error <= 1e-4 in FP32).

Regenerate: /usr/bin/python3 tests/reference/llama_reference.py   (Debian: apt-get install python3-numpy)
"""
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope_tables(head_dim, positions, theta):
    inv_freq = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    freqs = np.outer(positions.astype(np.float64), inv_freq)          # [T, hd/2]
    emb = np.concatenate([freqs, freqs], axis=-1)                     # [T, hd]
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(cfg, w, ids):
    """Logits [T, V] for one sequence of token ids, positions 0..T-1, causal attention."""
    d, H, KV = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, T, eps = d // H, len(ids), cfg["rms_norm_eps"]
    h = w["model.embed_tokens.weight"][ids]                           # [T, d]
    cos, sin = rope_tables(hd, np.arange(T), cfg["rope_theta"])
    causal = np.tril(np.ones((T, T), dtype=bool))
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = (x @ w[p + "self_attn.q_proj.weight"].T).reshape(T, H, hd).transpose(1, 0, 2)
        k = (x @ w[p + "self_attn.k_proj.weight"].T).reshape(T, KV, hd).transpose(1, 0, 2)
        v = (x @ w[p + "self_attn.v_proj.weight"].T).reshape(T, KV, hd).transpose(1, 0, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = np.repeat(k, H // KV, axis=0)                             # head i uses KV head i // (H/KV)
        v = np.repeat(v, H // KV, axis=0)
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
        scores = np.where(causal, scores, -np.inf)
        attn = (softmax(scores) @ v).transpose(1, 0, 2).reshape(T, H * hd)
        h = h + attn @ w[p + "self_attn.o_proj.weight"].T
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = x @ w[p + "mlp.gate_proj.weight"].T
        up = x @ w[p + "mlp.up_proj.weight"].T
        h = h + (silu(gate) * up) @ w[p + "mlp.down_proj.weight"].T
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w["model.embed_tokens.weight"] if cfg["tie_word_embeddings"] else w["lm_head.weight"]
    return h @ head.T


def random_weights(cfg, rng):
    d, H, KV, ff, V = (cfg[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size", "vocab_size"))
    hd = d // H
    w = {"model.embed_tokens.weight": rng.normal(0, 0.5, (V, d)), "model.norm.weight": 1 + 0.1 * rng.normal(size=d)}
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.normal(size=d)
        w[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.2, (H * hd, d))
        w[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.2, (KV * hd, d))
        w[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.2, (KV * hd, d))
        w[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.2, (d, H * hd))
        w[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.2, (ff, d))
        w[p + "mlp.up_proj.weight"] = rng.normal(0, 0.2, (ff, d))
        w[p + "mlp.down_proj.weight"] = rng.normal(0, 0.2, (d, ff))
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = rng.normal(0, 0.2, (V, d))
    # The checkpoint stores float32; the reference computes in float64 from exactly those values.
    return {k: v.astype(np.float32) for k, v in w.items()}


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def write_case(name, cfg, documents_per_row, shards=1, seed=0):
    rng = np.random.default_rng(seed)
    w = random_weights(cfg, rng)
    case = os.path.join(OUT, name)
    os.makedirs(case, exist_ok=True)
    hf_cfg = dict(cfg, model_type="llama", architectures=["LlamaForCausalLM"], hidden_act="silu",
                  bos_token_id=1, eos_token_id=2, max_position_embeddings=64, initializer_range=0.02)
    with open(os.path.join(case, "config.json"), "w") as f:
        json.dump(hf_cfg, f, indent=2)
    names = sorted(w)
    if shards == 1:
        write_safetensors(os.path.join(case, "model.safetensors"), w)
    else:
        weight_map = {}
        for i in range(shards):
            part = names[i::shards]
            file = f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
            write_safetensors(os.path.join(case, file), {k: w[k] for k in part})
            weight_map.update({k: file for k in part})
        with open(os.path.join(case, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": sum(v.nbytes for v in w.values())}, "weight_map": weight_map}, f, indent=2)

    w64 = {k: v.astype(np.float64) for k, v in w.items()}
    rows_ids, rows_docs, rows_logits = [], [], []
    for row, lengths in enumerate(documents_per_row):
        ids, docs, logits = [], [], []
        for doc, length in enumerate(lengths):
            seq = rng.integers(0, cfg["vocab_size"], size=length).tolist()
            ids += seq
            docs += [doc] * length
            logits.append(forward(cfg, w64, np.array(seq)))   # each document alone: positions restart, no cross attention
        rows_ids.append(ids)
        rows_docs.append(docs)
        rows_logits.append(np.concatenate(logits).astype(np.float32).tolist())
    packed = any(len(l) > 1 for l in documents_per_row)
    with open(os.path.join(case, "expected.json"), "w") as f:
        json.dump({"ids": rows_ids, "document_ids": rows_docs if packed else None, "logits": rows_logits}, f)


BASE = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=4, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False)

if __name__ == "__main__":
    write_case("mha", BASE, [[11], [11]], seed=1)
    write_case("gqa", dict(BASE, num_key_value_heads=2), [[13]], shards=3, seed=2)
    write_case("tied", dict(BASE, num_key_value_heads=1, tie_word_embeddings=True, rope_theta=500000.0), [[9], [9]], seed=3)
    write_case("packed", dict(BASE, num_key_value_heads=2), [[3, 5, 4], [12]], seed=4)
    print("fixtures written to", OUT)

#!/usr/bin/env python3
"""Writes a tiny dense `qwen3` GGUF with random weights using llama.cpp's own gguf-py, and the logits
that Hugging Face's Qwen3 computes for a fixed token sequence from those weights, as an interop
fixture for Behemoth's qwen3 loader (Qwen3GgufFixtureTest; nothing of llama.cpp is kept here).

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 tools/make_random_qwen3_gguf.py OUT.gguf

writes OUT.gguf and OUT.json ({"tokens": [...], "logits": [[...], ...]}). Tensor names and shapes
are llama.cpp's for qwen3 (src/llama-arch.cpp): numpy shapes are the reverse of ggml dims; Q and K
rows as Hugging Face stores them (qwen3 uses NeoX RoPE, which rotates halves, so no permutation);
attn_q_norm / attn_k_norm hold one weight per head dimension; the output shares the embedding.

The reference forward is written here in float64 numpy from Hugging Face modeling_qwen3.py's
definitions: pre-norm RMSNorm, q/k RMSNorm per head before RoPE (rotate_half), grouped-query causal
attention scaled by 1/sqrt(head_dim), SwiGLU MLP, final norm, tied head.
"""
import sys

import numpy as np
import gguf

from gguf_fixtures import (RandomTensors, add_byte_vocabulary, causal_attention, logit_rows, rms_norm,
                           rope_rotate_half, swiglu, write_gguf, write_json_beside)

N_VOCAB, N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_CTX = 258, 32, 2, 4, 2, 16, 64, 64
ROPE_THETA, EPS = 1e6, float(np.float32(1e-6))  # the reference uses the FLOAT32 value the file holds
TOKENS = [72, 101, 108, 108, 111, 32, 113, 119, 101, 110, 51, 33]


def forward(t, tokens):
    inv_freq = ROPE_THETA ** (-np.arange(HEAD_DIM // 2) * 2.0 / HEAD_DIM)
    x = t["token_embd.weight"][tokens]
    n = len(tokens)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        h = rms_norm(x, EPS, t[p + "attn_norm.weight"])
        q = (h @ t[p + "attn_q.weight"].T).reshape(n, N_HEAD, HEAD_DIM)
        k = (h @ t[p + "attn_k.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        v = (h @ t[p + "attn_v.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        q = rope_rotate_half(rms_norm(q, EPS, t[p + "attn_q_norm.weight"]), inv_freq)
        k = rope_rotate_half(rms_norm(k, EPS, t[p + "attn_k_norm.weight"]), inv_freq)
        x = x + causal_attention(q, k, v).reshape(n, -1) @ t[p + "attn_output.weight"].T
        h = rms_norm(x, EPS, t[p + "ffn_norm.weight"])
        x = x + swiglu(h, t[p + "ffn_gate.weight"], t[p + "ffn_up.weight"], t[p + "ffn_down.weight"])
    return rms_norm(x, EPS, t["output_norm.weight"]) @ t["token_embd.weight"].T


def main(path):
    tensors = RandomTensors(np.random.default_rng(2025))
    add = tensors.add
    add("token_embd.weight", N_VOCAB, N_EMBD, std=1.0)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        add(p + "attn_norm.weight", N_EMBD, std=0.1, around=1)
        add(p + "attn_q.weight", N_HEAD * HEAD_DIM, N_EMBD)
        add(p + "attn_k.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        add(p + "attn_v.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        add(p + "attn_output.weight", N_EMBD, N_HEAD * HEAD_DIM)
        add(p + "attn_q_norm.weight", HEAD_DIM, std=0.2, around=1)
        add(p + "attn_k_norm.weight", HEAD_DIM, std=0.2, around=1)
        add(p + "ffn_norm.weight", N_EMBD, std=0.1, around=1)
        add(p + "ffn_gate.weight", N_FF, N_EMBD)
        add(p + "ffn_up.weight", N_FF, N_EMBD)
        add(p + "ffn_down.weight", N_EMBD, N_FF)
    add("output_norm.weight", N_EMBD, std=0.1, around=1)

    g = gguf.GGUFWriter(path, "qwen3")
    g.add_name("behemoth-random-qwen3")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD_KV)
    g.add_key_length(HEAD_DIM)
    g.add_value_length(HEAD_DIM)
    g.add_rope_freq_base(ROPE_THETA)
    g.add_layer_norm_rms_eps(EPS)
    g.add_file_type(0)
    add_byte_vocabulary(g, "qwen2", "<|endoftext|>")
    write_gguf(g, tensors)

    logits = forward({n: v.astype(np.float64) for n, v in tensors.items()}, np.array(TOKENS))
    write_json_beside(path, {"tokens": TOKENS, "logits": logit_rows(logits)})
    print("wrote", path, "and its logits; max |logit|", float(np.abs(logits).max()))


if __name__ == "__main__":
    main(sys.argv[1])

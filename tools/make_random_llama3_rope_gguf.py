#!/usr/bin/env python3
"""Writes a tiny dense `llama` GGUF with random weights and Llama 3.1-style RoPE scaling, using
llama.cpp's own gguf-py, and the logits that Hugging Face's Llama computes from those weights with
rope_scaling {"rope_type": "llama3"} (RopeFreqsGgufTest; nothing of llama.cpp is kept here).

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 tools/make_random_llama3_rope_gguf.py OUT.gguf

writes OUT.gguf and OUT.json: the tokens, the reference logits, and the logits without the scaling
(plain RoPE), which Behemoth's must be far from. As llama.cpp's converter does for such a model, the
file holds `rope_freqs.weight`: one F32 factor per rotated pair, by which llama.cpp divides that
pair's frequency θ^(-2i/hd); the factors are computed here from the wavelength rule of the
converter's docs (1 for short wavelengths, `factor` for long ones, 1/((1 - s)/factor + s) between).
Q and K rows are permuted from Hugging Face's rotate-half order into llama.cpp's adjacent pairs, as
the converter does.

The reference forward is float64 numpy from Hugging Face modeling_llama.py and
modeling_rope_utils.py (_compute_llama3_parameters): the inverse frequencies themselves are
rescaled (long wavelengths divided by `factor`, the middle band interpolated with the smooth
factor), rotate_half RoPE, GQA causal attention scaled by 1/sqrt(head_dim), SwiGLU, untied output.
"""
import math
import sys

import numpy as np
import gguf

from gguf_fixtures import (RandomTensors, add_byte_vocabulary, causal_attention, logit_rows, rms_norm,
                           rope_rotate_half, swiglu, write_gguf, write_json_beside)

N_VOCAB, N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_CTX = 258, 32, 2, 2, 1, 16, 64, 128
ROPE_THETA, EPS = 10000.0, float(np.float32(1e-5))  # the reference uses the FLOAT32 value the file holds
# rope_scaling as in Llama 3.1's config.json, with an original context small enough that the tiny
# head's pairs fall in all three bands (wavelengths 6.3, 20, 63, 199, ...: high band below 16, low above 64)
FACTOR, LOW_FREQ_FACTOR, HIGH_FREQ_FACTOR, ORIGINAL_CONTEXT = 8.0, 1.0, 4.0, 64
N_TOKENS = 48


def inverse_frequencies(scaled):
    """Hugging Face's inv_freq for the head: plain, or rescaled by the llama3 rule."""
    inv_freq = 1.0 / ROPE_THETA ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM)
    if not scaled:
        return inv_freq
    low_freq_wavelen, high_freq_wavelen = ORIGINAL_CONTEXT / LOW_FREQ_FACTOR, ORIGINAL_CONTEXT / HIGH_FREQ_FACTOR
    wavelen = 2 * math.pi / inv_freq
    llama = np.where(wavelen > low_freq_wavelen, inv_freq / FACTOR, inv_freq)
    smooth = (ORIGINAL_CONTEXT / wavelen - LOW_FREQ_FACTOR) / (HIGH_FREQ_FACTOR - LOW_FREQ_FACTOR)
    smoothed = (1 - smooth) * llama / FACTOR + smooth * llama
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return np.where(medium, smoothed, llama)


def rope_freq_factors():
    """The per-pair divisors llama.cpp's converter stores as rope_freqs.weight."""
    factors = []
    for freq in 1.0 / ROPE_THETA ** (np.arange(0, HEAD_DIM, 2) / HEAD_DIM):
        wavelen = 2 * math.pi / freq
        if wavelen < ORIGINAL_CONTEXT / HIGH_FREQ_FACTOR:
            factors.append(1.0)
        elif wavelen > ORIGINAL_CONTEXT / LOW_FREQ_FACTOR:
            factors.append(FACTOR)
        else:
            s = (ORIGINAL_CONTEXT / wavelen - LOW_FREQ_FACTOR) / (HIGH_FREQ_FACTOR - LOW_FREQ_FACTOR)
            factors.append(1 / ((1 - s) / FACTOR + s))
    return np.array(factors, dtype=np.float32)


def forward(t, tokens, scaled):
    inv_freq = inverse_frequencies(scaled)
    x = t["token_embd.weight"][tokens]
    n = len(tokens)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        h = rms_norm(x, EPS, t[p + "attn_norm.weight"])
        q = rope_rotate_half((h @ t[p + "attn_q.weight"].T).reshape(n, N_HEAD, HEAD_DIM), inv_freq)
        k = rope_rotate_half((h @ t[p + "attn_k.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM), inv_freq)
        v = (h @ t[p + "attn_v.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        x = x + causal_attention(q, k, v).reshape(n, -1) @ t[p + "attn_output.weight"].T
        h = rms_norm(x, EPS, t[p + "ffn_norm.weight"])
        x = x + swiglu(h, t[p + "ffn_gate.weight"], t[p + "ffn_up.weight"], t[p + "ffn_down.weight"])
    return rms_norm(x, EPS, t["output_norm.weight"]) @ t["output.weight"].T


def to_pairs(w, heads):
    """Rows of a Q or K matrix from rotate-half order to adjacent pairs (the converter's permute)."""
    return w.reshape(heads, 2, HEAD_DIM // 2, w.shape[1]).swapaxes(1, 2).reshape(w.shape)


def main(path):
    rng = np.random.default_rng(3131)
    hf = RandomTensors(rng)
    add = hf.add
    add("token_embd.weight", N_VOCAB, N_EMBD, std=1.0)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        add(p + "attn_norm.weight", N_EMBD, std=0.1, around=1)
        add(p + "attn_q.weight", N_HEAD * HEAD_DIM, N_EMBD, std=0.6)
        add(p + "attn_k.weight", N_HEAD_KV * HEAD_DIM, N_EMBD, std=0.6)
        add(p + "attn_v.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        add(p + "attn_output.weight", N_EMBD, N_HEAD * HEAD_DIM)
        add(p + "ffn_norm.weight", N_EMBD, std=0.1, around=1)
        add(p + "ffn_gate.weight", N_FF, N_EMBD)
        add(p + "ffn_up.weight", N_FF, N_EMBD)
        add(p + "ffn_down.weight", N_EMBD, N_FF)
    add("output_norm.weight", N_EMBD, std=0.1, around=1)
    add("output.weight", N_VOCAB, N_EMBD)

    stored = dict(hf)
    for l in range(N_LAYER):
        stored[f"blk.{l}.attn_q.weight"] = to_pairs(hf[f"blk.{l}.attn_q.weight"], N_HEAD)
        stored[f"blk.{l}.attn_k.weight"] = to_pairs(hf[f"blk.{l}.attn_k.weight"], N_HEAD_KV)
    stored["rope_freqs.weight"] = rope_freq_factors()

    g = gguf.GGUFWriter(path, "llama")
    g.add_name("behemoth-random-llama3-rope")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD_KV)
    g.add_rope_dimension_count(HEAD_DIM)
    g.add_rope_freq_base(ROPE_THETA)
    g.add_layer_norm_rms_eps(EPS)
    g.add_vocab_size(N_VOCAB)
    g.add_file_type(0)
    add_byte_vocabulary(g, "llama-bpe", "<|end_of_text|>")
    write_gguf(g, stored)

    weights = {n: v.astype(np.float64) for n, v in hf.items()}
    tokens = rng.integers(0, 256, N_TOKENS)
    scaled, plain = forward(weights, tokens, True), forward(weights, tokens, False)
    write_json_beside(path, {"tokens": tokens.tolist(), "factors": [float(v) for v in stored["rope_freqs.weight"]],
                             "logits": logit_rows(scaled), "logits_without_scaling": logit_rows(plain)})
    scale = np.abs(scaled).max()
    print("wrote", path, "and its logits; factors", stored["rope_freqs.weight"].tolist(),
          "| max |logit|", float(scale), "| effect of the scaling", float(np.abs(scaled - plain).max() / scale))


if __name__ == "__main__":
    main(sys.argv[1])

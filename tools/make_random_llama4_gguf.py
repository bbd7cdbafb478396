#!/usr/bin/env python3
"""Writes a tiny `llama4` GGUF with random weights using llama.cpp's own gguf-py, and the logits that
Hugging Face's Llama 4 text model computes from those weights over 8200 positions, past llama.cpp's
fixed chunk of 8192 and temperature floor of 8192 (Llama4GgufFixtureTest; nothing of llama.cpp is
kept here).

    PYTHONPATH=/path/to/llama.cpp/gguf-py /usr/bin/python3 tools/make_random_llama4_gguf.py OUT.gguf [--llama3-rope]

writes OUT.gguf and OUT.json: the tokens, and for the last positions the logits with Llama 4's
long-context attention, without its chunks, and without its temperature (so the test can tell
either rule ignored). Tensor names and shapes are llama.cpp's for llama4 (numpy shapes reverse the
ggml dims). Q and K rows are stored as Hugging Face keeps them: Llama 4 rotates adjacent pairs
(x[2i], x[2i+1]), as llama.cpp's RoPE does, so its converter permutes nothing.

With --llama3-rope, the model has Llama 4 Scout's RoPE scaling (rope_type "llama3", factor 16,
low_freq_factor = high_freq_factor = 1) over an original context of 64 instead of 8192, so that it
acts within the 64 positions run: the file holds llama.cpp's `rope_freqs.weight` (1 for pairs whose
wavelength is below 64, 16 above), the reference uses Hugging Face's rescaled inverse frequencies on
the RoPE layers (the NoPE layer has none to scale), and OUT.json has the logits of the last 24 of
the 64 positions, with and without the scaling.

The reference forward is float64 numpy from Hugging Face modeling_llama4.py's definitions: layer i
skips RoPE when (i + 1) % 4 == 0; RoPE layers attend within chunks (key // 8192 == query // 8192)
and RMS-normalise q and k (no weight) after RoPE; NoPE layers scale the query at position p by
log1p(floor((p + 1) / 8192)) * 0.1 + 1; MoE on every 2nd layer with a sigmoid top-1 router whose
score multiplies the expert's input, plus a shared expert; SwiGLU everywhere; untied output.
"""
import sys

import numpy as np
import gguf

from gguf_fixtures import (RandomTensors, add_byte_vocabulary, causal_attention, logit_rows, rms_norm, swiglu,
                           write_gguf, write_json_beside)

N_VOCAB, N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, HEAD_DIM, N_FF, N_EXPERT, N_FF_EXP = 258, 32, 4, 1, 1, 16, 48, 2, 32
MOE_STEP, NOPE_STEP, CHUNK, FLOOR, SCALE = 2, 4, 8192, 8192, 0.1
N_POS, N_CTX, KEPT = 8200, 8256, 10  # logits kept for positions N_POS - KEPT .. N_POS - 1
ROPE_THETA, EPS = 500000.0, float(np.float32(1e-5))  # the reference uses the FLOAT32 value the file holds
SCOUT_FACTOR, SCOUT_LOW_FREQ_FACTOR, SCOUT_HIGH_FREQ_FACTOR, SCALED_ORIGINAL_CONTEXT = 16.0, 1.0, 1.0, 64
SCALED_POS, SCALED_KEPT = 64, 24


def inverse_frequencies(scaled):
    """HF's inv_freq: plain, or rescaled by the llama3 rule (_compute_llama3_parameters) with Scout's factors."""
    inv_freq = ROPE_THETA ** (-np.arange(HEAD_DIM // 2) * 2.0 / HEAD_DIM)
    if not scaled:
        return inv_freq
    wavelen = 2 * np.pi / inv_freq
    low_freq_wavelen = SCALED_ORIGINAL_CONTEXT / SCOUT_LOW_FREQ_FACTOR
    high_freq_wavelen = SCALED_ORIGINAL_CONTEXT / SCOUT_HIGH_FREQ_FACTOR
    llama = np.where(wavelen > low_freq_wavelen, inv_freq / SCOUT_FACTOR, inv_freq)
    medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)  # empty when the two factors are equal
    assert not medium.any()
    return llama


def rope_freq_factors():
    """llama.cpp's converter's divisors for Scout's rule: 1 below the original context's wavelength, the factor above."""
    wavelen = 2 * np.pi / inverse_frequencies(False)
    return np.where(wavelen < SCALED_ORIGINAL_CONTEXT / SCOUT_HIGH_FREQ_FACTOR, 1.0, SCOUT_FACTOR).astype(np.float32)


def rope_pairs(x, inv_freq):
    """x [T, heads, hd]: RoPE on adjacent pairs (x[2i], x[2i+1]) at positions 0..T-1 (HF Llama 4's complex form)."""
    t = x.shape[0]
    angles = np.arange(t)[:, None] * inv_freq[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2], out[..., 1::2] = a * cos - b * sin, a * sin + b * cos
    return out


def forward(t, tokens, chunks=True, temperature=True, scaled=False, kept=KEPT):
    inv_freq = inverse_frequencies(scaled)
    x = t["token_embd.weight"][tokens]
    n = len(tokens)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        use_rope = (l + 1) % NOPE_STEP != 0
        h = rms_norm(x, EPS, t[p + "attn_norm.weight"])
        q = (h @ t[p + "attn_q.weight"].T).reshape(n, N_HEAD, HEAD_DIM)
        k = (h @ t[p + "attn_k.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        v = (h @ t[p + "attn_v.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        if use_rope:
            q, k = rms_norm(rope_pairs(q, inv_freq), EPS), rms_norm(rope_pairs(k, inv_freq), EPS)
        elif temperature:
            q = q * (np.log1p(np.floor((np.arange(n) + 1.0) / FLOOR)) * SCALE + 1)[:, None, None]
        y = causal_attention(q, k, v, chunk=CHUNK if use_rope and chunks else None)
        x = x + y.reshape(n, -1) @ t[p + "attn_output.weight"].T
        h = rms_norm(x, EPS, t[p + "ffn_norm.weight"])
        if (l + 1) % MOE_STEP == 0:
            logits = h @ t[p + "ffn_gate_inp.weight"].T
            chosen = logits.argmax(-1)  # top-1
            score = 1 / (1 + np.exp(-logits[np.arange(n), chosen]))
            out = swiglu(h, t[p + "ffn_gate_shexp.weight"], t[p + "ffn_up_shexp.weight"], t[p + "ffn_down_shexp.weight"])
            for e in range(N_EXPERT):
                rows = np.nonzero(chosen == e)[0]
                out[rows] += swiglu(h[rows] * score[rows, None], t[p + "ffn_gate_exps.weight"][e],
                                    t[p + "ffn_up_exps.weight"][e], t[p + "ffn_down_exps.weight"][e])
            x = x + out
        else:
            x = x + swiglu(h, t[p + "ffn_gate.weight"], t[p + "ffn_up.weight"], t[p + "ffn_down.weight"])
    last = rms_norm(x[-kept:], EPS, t["output_norm.weight"])
    return last @ t["output.weight"].T


def main(path, scaled=False):
    rng = np.random.default_rng(4004)
    tensors = RandomTensors(rng)
    add = tensors.add
    add("token_embd.weight", N_VOCAB, N_EMBD, std=1.0)
    for l in range(N_LAYER):
        p = f"blk.{l}."
        add(p + "attn_norm.weight", N_EMBD, std=0.1, around=1)
        add(p + "attn_q.weight", N_HEAD * HEAD_DIM, N_EMBD, std=0.6)
        add(p + "attn_k.weight", N_HEAD_KV * HEAD_DIM, N_EMBD, std=0.6)
        add(p + "attn_v.weight", N_HEAD_KV * HEAD_DIM, N_EMBD)
        add(p + "attn_output.weight", N_EMBD, N_HEAD * HEAD_DIM)
        add(p + "ffn_norm.weight", N_EMBD, std=0.1, around=1)
        if (l + 1) % MOE_STEP == 0:
            add(p + "ffn_gate_inp.weight", N_EXPERT, N_EMBD, std=0.5)
            add(p + "ffn_gate_exps.weight", N_EXPERT, N_FF_EXP, N_EMBD)
            add(p + "ffn_up_exps.weight", N_EXPERT, N_FF_EXP, N_EMBD)
            add(p + "ffn_down_exps.weight", N_EXPERT, N_EMBD, N_FF_EXP)
            add(p + "ffn_gate_shexp.weight", N_FF_EXP, N_EMBD)
            add(p + "ffn_up_shexp.weight", N_FF_EXP, N_EMBD)
            add(p + "ffn_down_shexp.weight", N_EMBD, N_FF_EXP)
        else:
            add(p + "ffn_gate.weight", N_FF, N_EMBD)
            add(p + "ffn_up.weight", N_FF, N_EMBD)
            add(p + "ffn_down.weight", N_EMBD, N_FF)
    add("output_norm.weight", N_EMBD, std=0.1, around=1)
    add("output.weight", N_VOCAB, N_EMBD)

    g = gguf.GGUFWriter(path, "llama4")
    g.add_name("behemoth-random-llama4")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_expert_feed_forward_length(N_FF_EXP)
    g.add_uint32("llama4.interleave_moe_layer_step", MOE_STEP)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD_KV)
    g.add_key_length(HEAD_DIM)
    g.add_value_length(HEAD_DIM)
    g.add_rope_dimension_count(HEAD_DIM)
    g.add_rope_freq_base(ROPE_THETA)
    g.add_layer_norm_rms_eps(EPS)
    g.add_expert_count(N_EXPERT)
    g.add_expert_used_count(1)
    g.add_file_type(0)
    add_byte_vocabulary(g, "llama-bpe", "<|end_of_text|>")
    stored = dict(tensors)
    if scaled:
        stored["rope_freqs.weight"] = rope_freq_factors()
    write_gguf(g, stored)

    weights = {n: v.astype(np.float64) for n, v in tensors.items()}
    if scaled:
        tokens = rng.integers(0, 256, SCALED_POS)
        full = forward(weights, tokens, scaled=True, kept=SCALED_KEPT)
        plain = forward(weights, tokens, kept=SCALED_KEPT)
        write_json_beside(path, {"tokens": tokens.tolist(), "first_kept": SCALED_POS - SCALED_KEPT,
                                 "factors": rope_freq_factors().tolist(), "logits": logit_rows(full),
                                 "logits_without_scaling": logit_rows(plain)})
        print("wrote", path, "and its logits; factors", rope_freq_factors().tolist(),
              "| effect of the scaling", float(np.abs(full - plain).max() / np.abs(full).max()))
        return
    tokens = rng.integers(0, 256, N_POS)
    full = forward(weights, tokens)
    no_chunks = forward(weights, tokens, chunks=False)
    no_temperature = forward(weights, tokens, temperature=False)
    write_json_beside(path, {"tokens": tokens.tolist(), "first_kept": N_POS - KEPT, "logits": logit_rows(full),
                             "logits_without_chunks": logit_rows(no_chunks),
                             "logits_without_temperature": logit_rows(no_temperature)})
    scale = np.abs(full).max()
    print("wrote", path, "and its logits; max |logit|", float(scale),
          "| effect of chunks", float(np.abs(full - no_chunks).max() / scale),
          "| effect of temperature", float(np.abs(full - no_temperature).max() / scale))


if __name__ == "__main__":
    main(sys.argv[1], scaled="--llama3-rope" in sys.argv[2:])

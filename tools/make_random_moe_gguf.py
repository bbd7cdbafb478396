#!/usr/bin/env python3
"""Writes a tiny Mixtral-style `llama` GGUF with random weights using llama.cpp's own gguf-py,
as an interop fixture for Behemoth's GGUF loader (nothing of llama.cpp is kept in this repository).

    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 tools/make_random_moe_gguf.py OUT.gguf [--large]

Then quantise it with llama.cpp's tool: llama-quantize OUT.gguf OUT-q8_0.gguf q8_0 (or q4_0).
`--large` writes instead a 1.7B-parameter model in F16 (dim 2048, 8 layers, 8 experts of 4096; 3.4 GB)
for the benchmarks on weights far larger than the caches, where decoding is bound by memory.
Tensors are laid out the way llama.cpp's converter stores a Hugging Face Mixtral: numpy shapes are
the reverse of ggml dims, Q/K rows already in llama.cpp's pair-rotating order (random, so no
permutation is needed), experts stacked as [n_expert, rows, cols].
"""
import sys

import numpy as np
import gguf

from gguf_fixtures import add_byte_vocabulary, write_gguf

N_VOCAB, N_EXPERT_USED = 258, 2
# embedding width, layers, heads, KV heads, expert width, experts, context
FIXTURE = 64, 2, 4, 2, 64, 4, 128
LARGE = 2048, 8, 16, 4, 4096, 8, 4096


def main(path, large):
    N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, N_FF, N_EXPERT, N_CTX = LARGE if large else FIXTURE
    HEAD_DIM = N_EMBD // N_HEAD
    rng = np.random.default_rng(1234)

    def w(*shape, std=0.3):
        if not large:
            return (rng.standard_normal(shape) * std).astype(np.float32)
        # matrices in F16, scaled so activations keep their size through the layers; vectors in F32
        scale = std / np.sqrt(shape[-1] / 64) if len(shape) > 1 else std
        value = rng.standard_normal(shape, dtype=np.float32) * np.float32(scale)
        return value.astype(np.float16 if len(shape) > 1 else np.float32)

    # norm weights are 1 plus a float32 draw, added in float32 (not RandomTensors' float64 sum: the
    # committed fixture and its llama-quantize copies were made this way)
    tensors = {"token_embd.weight": w(N_VOCAB, N_EMBD, std=1.0)}
    for l in range(N_LAYER):
        p = f"blk.{l}."
        tensors[p + "attn_norm.weight"] = 1 + w(N_EMBD, std=0.1)
        tensors[p + "attn_q.weight"] = w(N_HEAD * HEAD_DIM, N_EMBD)
        tensors[p + "attn_k.weight"] = w(N_HEAD_KV * HEAD_DIM, N_EMBD)
        tensors[p + "attn_v.weight"] = w(N_HEAD_KV * HEAD_DIM, N_EMBD)
        tensors[p + "attn_output.weight"] = w(N_EMBD, N_HEAD * HEAD_DIM)
        tensors[p + "ffn_norm.weight"] = 1 + w(N_EMBD, std=0.1)
        tensors[p + "ffn_gate_inp.weight"] = w(N_EXPERT, N_EMBD, std=0.5)
        tensors[p + "ffn_gate_exps.weight"] = w(N_EXPERT, N_FF, N_EMBD)
        tensors[p + "ffn_up_exps.weight"] = w(N_EXPERT, N_FF, N_EMBD)
        tensors[p + "ffn_down_exps.weight"] = w(N_EXPERT, N_EMBD, N_FF)
    tensors["output_norm.weight"] = 1 + w(N_EMBD, std=0.1)
    tensors["output.weight"] = w(N_VOCAB, N_EMBD, std=1.0)

    g = gguf.GGUFWriter(path, "llama")
    g.add_name("behemoth-random-moe")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD_KV)
    g.add_rope_dimension_count(HEAD_DIM)
    g.add_rope_freq_base(10000.0)
    g.add_layer_norm_rms_eps(1e-5)
    g.add_expert_count(N_EXPERT)
    g.add_expert_used_count(N_EXPERT_USED)
    g.add_file_type(1 if large else 0)
    add_byte_vocabulary(g, "llama-bpe", "<|end_of_text|>")
    write_gguf(g, tensors)


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or (len(sys.argv) == 3 and sys.argv[2] != "--large"):
        sys.exit("usage: make_random_moe_gguf.py OUT.gguf [--large]")
    main(sys.argv[1], len(sys.argv) == 3)

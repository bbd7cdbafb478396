#!/usr/bin/env python3
"""Writes a tiny Mixtral-style `llama` GGUF with random weights using llama.cpp's own gguf-py,
as an interop fixture for Behemoth's GGUF loader (nothing of llama.cpp is kept in this repository).

    PYTHONPATH=/path/to/llama.cpp/gguf-py python3 tools/make_random_moe_gguf.py OUT.gguf

Then quantise it with llama.cpp's tool: llama-quantize OUT.gguf OUT-q8_0.gguf q8_0 (or q4_0).
Tensors are laid out the way llama.cpp's converter stores a Hugging Face Mixtral: numpy shapes are
the reverse of ggml dims, Q/K rows already in llama.cpp's pair-rotating order (random, so no
permutation is needed), experts stacked as [n_expert, rows, cols].
"""
import sys

import numpy as np
import gguf

N_VOCAB, N_EMBD, N_LAYER, N_HEAD, N_HEAD_KV, N_FF, N_EXPERT, N_EXPERT_USED, N_CTX = 258, 64, 2, 4, 2, 64, 4, 2, 128
HEAD_DIM = N_EMBD // N_HEAD


def byte_symbols():
    """GPT-2's byte-to-unicode table: printable Latin-1 bytes map to themselves, the others from U+0100 up."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    out, extra = {}, 0
    for b in range(256):
        if b in printable:
            out[b] = chr(b)
        else:
            out[b] = chr(0x100 + extra)
            extra += 1
    return [out[b] for b in range(256)]


def main(path):
    rng = np.random.default_rng(1234)

    def w(*shape, std=0.3):
        return (rng.standard_normal(shape) * std).astype(np.float32)

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
    g.add_file_type(0)

    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("llama-bpe")
    # llama.cpp needs at least one merge (gguf-py drops an empty list): two spaces make one token.
    space = byte_symbols()[32]
    g.add_token_list(byte_symbols() + ["<|end_of_text|>", space + space])
    g.add_token_types([1] * 256 + [3, 1])
    g.add_token_merges([space + " " + space])
    g.add_eos_token_id(256)
    g.add_add_bos_token(False)

    g.add_tensor("token_embd.weight", w(N_VOCAB, N_EMBD, std=1.0))
    for l in range(N_LAYER):
        p = f"blk.{l}."
        g.add_tensor(p + "attn_norm.weight", (1 + w(N_EMBD, std=0.1)))
        g.add_tensor(p + "attn_q.weight", w(N_HEAD * HEAD_DIM, N_EMBD))
        g.add_tensor(p + "attn_k.weight", w(N_HEAD_KV * HEAD_DIM, N_EMBD))
        g.add_tensor(p + "attn_v.weight", w(N_HEAD_KV * HEAD_DIM, N_EMBD))
        g.add_tensor(p + "attn_output.weight", w(N_EMBD, N_HEAD * HEAD_DIM))
        g.add_tensor(p + "ffn_norm.weight", (1 + w(N_EMBD, std=0.1)))
        g.add_tensor(p + "ffn_gate_inp.weight", w(N_EXPERT, N_EMBD, std=0.5))
        g.add_tensor(p + "ffn_gate_exps.weight", w(N_EXPERT, N_FF, N_EMBD))
        g.add_tensor(p + "ffn_up_exps.weight", w(N_EXPERT, N_FF, N_EMBD))
        g.add_tensor(p + "ffn_down_exps.weight", w(N_EXPERT, N_EMBD, N_FF))
    g.add_tensor("output_norm.weight", (1 + w(N_EMBD, std=0.1)))
    g.add_tensor("output.weight", w(N_VOCAB, N_EMBD, std=1.0))

    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


if __name__ == "__main__":
    main(sys.argv[1])

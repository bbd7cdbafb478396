"""What the make_random_*_gguf.py fixture scripts share: seeded random float32 tensors, the byte-level
vocabulary and the writing of a GGUF with llama.cpp's gguf-py, the logits JSON beside it, and the
float64 numpy pieces of their reference forwards (RMS norm, rotate-half RoPE, causal attention, SwiGLU).
What tells one model from another (hyperparameters, tensor list, layer rules) stays in each script.
"""
import json

import numpy as np


class RandomTensors(dict):
    """Float32 tensors by GGUF name, drawn in order from one seeded generator; kept in the order added,
    which is the order the GGUF stores them."""

    def __init__(self, rng):
        super().__init__()
        self.rng = rng

    def add(self, name, *shape, std=0.3, around=0.0):
        self[name] = (around + self.rng.standard_normal(shape) * std).astype(np.float32)


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


def add_byte_vocabulary(g, pre, end_of_text):
    """A `gpt2` BPE vocabulary of the 256 byte symbols, then `end_of_text` (id 256, control, the EOS),
    then two spaces as one token: llama.cpp needs at least one merge (gguf-py drops an empty list)."""
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre(pre)
    space = byte_symbols()[32]
    g.add_token_list(byte_symbols() + [end_of_text, space + space])
    g.add_token_types([1] * 256 + [3, 1])
    g.add_token_merges([space + " " + space])
    g.add_eos_token_id(256)
    g.add_add_bos_token(False)


def write_gguf(g, tensors):
    """Adds the tensors in order, writes the file and closes the writer."""
    for name, value in tensors.items():
        g.add_tensor(name, value)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def logit_rows(logits):
    """Logits as JSON rows, rounded to 7 decimals."""
    return [[round(float(v), 7) for v in row] for row in logits]


def write_json_beside(gguf_path, fields):
    """Writes `fields` to OUT.json beside OUT.gguf, one line."""
    with open(gguf_path.removesuffix(".gguf") + ".json", "w") as f:
        json.dump(fields, f)
        f.write("\n")


def rms_norm(x, eps, weight=None):
    y = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return y if weight is None else y * weight


def rope_rotate_half(x, inv_freq):
    """x [T, heads, hd]: Hugging Face's rotate_half RoPE (pair i is x[i], x[i + hd/2]) at positions 0..T-1."""
    half = x.shape[-1] // 2
    angles = np.arange(x.shape[0])[:, None] * inv_freq[None, :]
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
    a, b = x[..., :half], x[..., half:]
    return np.concatenate([a * cos - b * sin, a * sin + b * cos], -1)


def causal_attention(q, k, v, chunk=None, block=512):
    """Causal softmax attention scaled by 1/sqrt(head_dim), q [T, H, hd], k/v [T, KV, hd], query head h
    reading key/value head h // (H / KV); with `chunk`, a query sees only the keys of its own chunk
    (key // chunk == query // chunk). Query rows go `block` at a time, to bound memory."""
    t, n_head, head_dim = q.shape
    group = n_head // k.shape[1]
    out = np.zeros_like(q)
    positions = np.arange(t)
    for start in range(0, t, block):
        rows = positions[start:start + block]
        visible = positions[None, :] <= rows[:, None]
        if chunk is not None:
            visible &= positions[None, :] // chunk == rows[:, None] // chunk
        for head in range(n_head):
            scores = q[rows, head] @ k[:, head // group].T / np.sqrt(head_dim)
            scores = np.where(visible, scores, -np.inf)
            weights = np.exp(scores - scores.max(-1, keepdims=True))
            out[rows, head] = (weights / weights.sum(-1, keepdims=True)) @ v[:, head // group]
    return out


def swiglu(x, gate, up, down):
    g = x @ gate.T
    return (g / (1 + np.exp(-g)) * (x @ up.T)) @ down.T

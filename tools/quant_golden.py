#!/usr/bin/env python3
"""Golden blocks for Behemoth's quantised rows, computed by llama.cpp's gguf-py (numpy), not by Behemoth.

Run with llama.cpp's gguf-py on the path (it is not part of this repository; it needs Debian's
python3-numpy, and imports python3-sentencepiece, which these scripts never use):
    PYTHONPATH=/tmp/llama.cpp/gguf-py /usr/bin/python3 tools/quant_golden.py src/test/resources/quant

For every type it writes TYPE.bin (the encoded row) and TYPE.f32 (the row gguf-py decodes from it,
little-endian float32). For the types Behemoth can quantise (F32, F16, BF16, Q8_0, Q4_0) it also
writes TYPE.src.f32, the input floats, and TYPE.bin is gguf-py's encoding of them, so the test checks
the quantiser and the dequantiser. Q4_K, Q6_K and Q5_K rows are random bytes with sane half-float scales
(Q5_K comes last so that the rows written before it keep their random bytes).
"""
import sys
from pathlib import Path

import numpy as np
from gguf.constants import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(20260601)


def source_row() -> np.ndarray:
    """Four blocks of 32: random normals, a block with exact halves (rounding ties), zeros, a negative extreme."""
    random = rng.standard_normal(32).astype(np.float32)
    ties = np.array([127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 126.5] + [3.0] * 24, dtype=np.float32)
    zeros = np.zeros(32, dtype=np.float32)
    negative = (rng.standard_normal(32) * 0.01).astype(np.float32)
    negative[7] = -5.0
    return np.concatenate([random, ties, zeros, negative])


def write(name: str, encoded: np.ndarray, decoded: np.ndarray, source: np.ndarray | None = None) -> None:
    (out / f"{name}.bin").write_bytes(np.ascontiguousarray(encoded).view(np.uint8).tobytes())
    (out / f"{name}.f32").write_bytes(decoded.astype("<f4").tobytes())
    if source is not None:
        (out / f"{name}.src.f32").write_bytes(source.astype("<f4").tobytes())


src = source_row()
write("F32", src.astype("<f4"), src, src)
half = src.astype(np.float16)
write("F16", half, half.astype(np.float32), src)
for qtype in (T.BF16, T.Q8_0, T.Q4_0):
    encoded = quantize(src, qtype)
    write(qtype.name, encoded, dequantize(encoded, qtype), src)


def random_k_blocks(n_blocks: int, block_bytes: int, half_at: list[int]) -> np.ndarray:
    blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    for at in half_at:
        scales = (rng.standard_normal(n_blocks) * 0.05).astype(np.float16).view(np.uint8).reshape(n_blocks, 2)
        blocks[:, at:at + 2] = scales
    return blocks


for qtype, block_bytes, half_at in ((T.Q4_K, 144, [0, 2]), (T.Q6_K, 210, [208]), (T.Q5_K, 176, [0, 2])):
    encoded = random_k_blocks(3, block_bytes, half_at)
    write(qtype.name, encoded, dequantize(encoded.reshape(-1), qtype).reshape(-1))
print("wrote golden rows to", out)

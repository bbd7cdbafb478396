#!/usr/bin/env python3
"""Reads a GGUF file (for instance one Behemoth wrote) with llama.cpp's gguf-py: every metadata field
with its type and value, and every tensor dequantised by gguf-py, with its range and a check that
all values are finite. If FILE.f32 exists (row-major float32 source values, as many as each tensor
holds), each tensor is also compared with gguf-py's own quantisation of them: same bytes or not.

    PYTHONPATH=/tmp/llama.cpp/gguf-py /usr/bin/python3 tools/gguf_py_check.py FILE
"""
import sys
from pathlib import Path

import numpy as np
from gguf.constants import GGMLQuantizationType as T
from gguf.gguf_reader import GGUFReader
from gguf.quants import dequantize, quantize

path = sys.argv[1]
reader = GGUFReader(path)
source = np.fromfile(path + ".f32", dtype="<f4") if Path(path + ".f32").exists() else None


def contents(field):
    """The field's value(s): gguf-py of this vintage keeps raw parts; strings are UTF-8 bytes."""
    items = [field.parts[i] for i in field.data]
    if field.types[-1].name == "STRING":
        items = [bytes(p).decode("utf-8") for p in items]
    else:
        items = [p.tolist()[0] if len(p) == 1 else p.tolist() for p in items]
    return items if field.types[0].name == "ARRAY" else items[0]


for name, field in reader.fields.items():
    print(f"{name:40s} {'/'.join(t.name for t in field.types):24s} {contents(field)!r:.100}")
ok = True
for t in reader.tensors:
    values = dequantize(t.data, t.tensor_type)
    finite = bool(np.isfinite(values).all())
    ok &= finite
    line = f"{t.name:32s} {t.tensor_type.name:5s} {list(map(int, t.shape))} min {values.min():.4g} max {values.max():.4g} finite {finite}"
    if source is not None and source.size == values.size:
        src = source.reshape(values.shape)
        ours = np.asarray(t.data).view(np.uint8).reshape(-1)
        if t.tensor_type == T.F32:
            theirs = src.view(np.uint8).reshape(-1)
        elif t.tensor_type == T.F16:
            theirs = src.astype(np.float16).view(np.uint8).reshape(-1)
        else:
            theirs = quantize(src, t.tensor_type).view(np.uint8).reshape(-1)
        same = np.array_equal(ours, theirs)
        ok &= same
        line += f" same bytes as gguf-py's encoding {same}"
    print(line)
print("OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)

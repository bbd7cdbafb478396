#!/usr/bin/env python3
"""Compares the tensors of two GGUF files (types and bytes, by name) with llama.cpp's gguf-py:
    PYTHONPATH=/tmp/llama.cpp/gguf-py /usr/bin/python3 tools/gguf_compare.py A.gguf B.gguf
"""
import sys
import numpy as np
from gguf.gguf_reader import GGUFReader
a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
tb = {t.name: t for t in b.tensors}
for t in a.tensors:
    u = tb.get(t.name)
    if u is None:
        print(f"{t.name:28s} missing in B"); continue
    same = t.tensor_type == u.tensor_type and np.array_equal(np.asarray(t.data).view(np.uint8).reshape(-1), np.asarray(u.data).view(np.uint8).reshape(-1))
    print(f"{t.name:28s} A {t.tensor_type.name:5s} B {u.tensor_type.name:5s} identical bytes: {same}")
for k in ("general.file_type", "general.quantization_version"):
    fa, fb = a.fields.get(k), b.fields.get(k)
    print(k, fa.parts[fa.data[0]].tolist() if fa else None, fb.parts[fb.data[0]].tolist() if fb else None)

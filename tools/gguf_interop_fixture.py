#!/usr/bin/env python3
"""A GGUF file written by llama.cpp's own gguf-py, for Behemoth's reader to parse (GgufInteropTest).

Run with llama.cpp's gguf-py on the path (not part of this repository; needs Debian's python3-numpy,
and gguf-py imports python3-sentencepiece):
    PYTHONPATH=/tmp/llama.cpp/gguf-py /usr/bin/python3 tools/gguf_interop_fixture.py src/test/resources/gguf/llama_cpp_written.gguf

Metadata: one key of every scalar type, and the arrays gguf-py can write (INT32, FLOAT32, BOOL,
STRING, UINT8 from bytes, arrays of string arrays); a custom alignment of 64. Tensors of shape
[3, 64] (PyTorch order; ggml dims [64, 3]) in F32, F16, BF16, Q8_0 and Q4_0 from the values
((37·i) mod 101 − 50) / 16, exact in float32, which the Java test recomputes and quantises itself.
"""
import sys

import numpy as np
from gguf.constants import GGMLQuantizationType as T
from gguf.gguf_writer import GGUFWriter
from gguf.quants import quantize

out = sys.argv[1]
w = GGUFWriter(out, "llama")
w.add_custom_alignment(64)
w.add_name("interop")
w.add_uint8("t.uint8", 200)
w.add_int8("t.int8", -100)
w.add_uint16("t.uint16", 60000)
w.add_int16("t.int16", -30000)
w.add_uint32("t.uint32", 4000000000)
w.add_int32("t.int32", -2000000000)
w.add_uint64("t.uint64", 18000000000000000000)
w.add_int64("t.int64", -9000000000000000000)
w.add_float32("t.float32", 0.1)
w.add_float64("t.float64", 0.1)
w.add_bool("t.bool", True)
w.add_string("t.string", "héllo ▁world")
w.add_array("t.array.int32", [1, -2, 3])
w.add_array("t.array.float32", [0.5, -1.25])
w.add_array("t.array.bool", [True, False])
w.add_array("t.array.string", ["a", "bc", ""])
w.add_array("t.array.uint8", b"\x00\x7f\xff")
w.add_array("t.array.nested", [["x", "y"], ["z"]])

values = ((np.arange(3 * 64) * 37 % 101 - 50) / 16).astype(np.float32).reshape(3, 64)
w.add_tensor("w.F32", values)
w.add_tensor("w.F16", values.astype(np.float16))
for qtype in (T.BF16, T.Q8_0, T.Q4_0):
    w.add_tensor(f"w.{qtype.name}", quantize(values, qtype), raw_dtype=qtype)

w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", out)

#!/usr/bin/env bash
# Interop of Behemoth's GGUF writer and quantiser with llama.cpp (built outside the repository):
# a tiny F32 llama model written by Behemoth is read by ggml's own GGUF reader (llama-gguf),
# quantised by llama-quantize and by `behemoth quantize` to Q8_0 and Q4_0 (tensor bytes compared
# with gguf-py), and each file is run by llama-cli.
#   tools/gguf-llama-cpp-check.sh [LLAMA_CPP_DIR (default /tmp/llama.cpp, built in build/)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
llama="${1:-/tmp/llama.cpp}"
bin="$llama/build/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PYTHONPATH="$llama/gguf-py${PYTHONPATH:+:$PYTHONPATH}"

"$root/behemoth" --version >/dev/null   # builds the jar when the sources changed
java="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
"$java" --add-modules jdk.incubator.vector -cp "$root/target/behemoth-all.jar" "$root/tools/TinyLlamaGguf.java" "$work/f32.gguf" 2>/dev/null

echo "== llama-gguf reads Behemoth's file"
"$bin/llama-gguf" "$work/f32.gguf" r n 2>&1 | grep -E "version|n_kv|n_tensors|ctx_data size"
for type in q8_0 q4_0; do
  echo "== $type: llama-quantize (A) against behemoth quantize (B)"
  "$bin/llama-quantize" "$work/f32.gguf" "$work/llama-$type.gguf" "$type" >/dev/null 2>&1
  "$root/behemoth" quantize "$work/f32.gguf" "$work/behemoth-$type.gguf" --type "$type" >/dev/null 2>&1
  /usr/bin/python3 "$root/tools/gguf_compare.py" "$work/llama-$type.gguf" "$work/behemoth-$type.gguf"
done
for f in f32 behemoth-q8_0 behemoth-q4_0; do
  echo "== llama-cli runs $f.gguf"
  "$bin/llama-cli" -m "$work/$f.gguf" -p "the cat" -n 8 -no-cnv --temp 0 -t 1 -c 64 2>&1 | grep -E "file type|eval time" | head -3
done

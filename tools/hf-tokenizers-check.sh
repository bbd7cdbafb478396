#!/usr/bin/env bash
# Checks Behemoth's tokenizer.json files against the Hugging Face tokenizers library: the library
# must load them and encode the same texts to the same ids. Debian has no python3-tokenizers, so
# this uses the library's npm binding (the same Rust core), installed into a temporary folder.
#
#   tools/hf-tokenizers-check.sh
#
# Writes src/test/resources/tokenizer/golden-sample.hf-ids.txt (the library's ids for the golden
# sample, which TokenizerJsonTest compares against) and hf-check.txt (this run's report).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures="$root/src/test/resources/tokenizer"
version="${HF_TOKENIZERS_VERSION:-0.23.2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

npm install --silent --prefix "$work" "tokenizers@$version" >/dev/null
cp "$root/tools/hf-tokenizers-check.js" "$work/"
behemoth="$root/behemoth"

# Texts: the golden sample; the bundled Shakespeare; random Unicode (any code point, CJK, emoji, combining marks).
cp "$fixtures/golden-sample.txt" "$work/golden-sample.txt"
gzip -dc "$root/src/main/resources/ai/behemoth/data/tinyshakespeare.txt.gz" > "$work/tinyshakespeare.txt"
node -e '
  // Random text from a fixed seed: stock pieces (words, CJK, emoji, combining marks, white space) and random code points.
  let seed = 20260101;
  const next = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const pieces = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "the", " cat", "don\u0027t", "I\u0027LL", "12345", "3.14",
    "!", "...", " (", "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\ud55c\uad6d\uc5b4", "\ud83d\ude00", "\ud83d\udc4d\ud83c\udffd",
    "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "e\u0301", "a\u0308\u0323", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629"];
  let out = "";
  for (let i = 0; i < 20000; i++) {
    const kind = next(4);
    if (kind < 2) out += pieces[next(pieces.length)];
    else {
      let cp;
      do { cp = kind === 2 ? next(0x3000) : next(0x110000); } while (cp >= 0xd800 && cp <= 0xdfff);
      out += String.fromCodePoint(cp);
    }
  }
  require("fs").writeFileSync(process.argv[1], out);
' "$work/random-unicode.txt"

"$behemoth" tokenizer train --data "$work/tinyshakespeare.txt" --vocab 4096 --out "$work/shakespeare-4096.json" >/dev/null

report="$work/report.txt"
{
  echo "# tools/hf-tokenizers-check.sh: Hugging Face tokenizers $version (npm binding of the Rust library), node $(node --version)"
  check() { # TOKENIZER TEXT [HF_IDS_OUT]
    "$behemoth" tokenizer encode --tokenizer "$1" < "$2" > "$work/behemoth-ids.txt"
    node "$work/hf-tokenizers-check.js" "$1" "$2" "$work/behemoth-ids.txt" ${3:+"$3"}
  }
  check "$fixtures/golden-tokenizer.json" "$work/golden-sample.txt" "$work/golden-sample.hf-ids.txt"
  check "$fixtures/golden-tokenizer.json" "$work/random-unicode.txt"
  check "$work/shakespeare-4096.json" "$work/tinyshakespeare.txt"
  check "$work/shakespeare-4096.json" "$work/random-unicode.txt"
  "$behemoth" tokenizer train --data "$fixtures/golden-corpus.txt" --vocab 261 --out "$work/no-merges.json" >/dev/null
  check "$work/no-merges.json" "$work/random-unicode.txt"
} | tee "$report"

cp "$work/golden-sample.hf-ids.txt" "$fixtures/golden-sample.hf-ids.txt"
cp "$report" "$fixtures/hf-check.txt"

#!/usr/bin/env python3
"""Writes the pre-token splits of Llama 4's pre-tokenizer expression (its tokenizer.json Split
pattern, which llama.cpp names `llama4`, the same as GPT-4o's o200k), computed by Python's `regex`
module: an engine independent of java.util.regex, with Unicode categories of its own. The splits are
Hugging Face's Split(behavior="isolated"): the matches, and any text between them as pieces too.

    /usr/bin/python3 tools/make_llama4_pretokenizer_cases.py OUT.json

Cases: hand-picked tricky text (contractions after words and alone, case changes inside words,
digits, CJK, combining marks, newlines, slashes, white space runs) and seeded random strings drawn
from the same kinds of pieces (PreTokenizerTest's RandomText has the Java twin of this pool).
"""
import json
import random
import sys

import regex

PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
           r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CASES = [
    "Hello world", "I'm sure he's done; they'll go, we'd've", "DON'T SHOUT'S", "'s alone and 'T", "o'clock",
    "HTTPServer parseJSONString iPhone McDonald", "ÉCOLE école Ñandú", "camelCaseWord XMLHttpRequest",
    "12345 3.14159 1,000,000 x2 2x", "٣٤٥ Ⅷ ½", "中文字符 日本語のテキスト 한국어", "e\u0301te\u0301 a\u0308\u0323 \u0301x",
    "line one\nline two\r\n\r\nthree\n\n\n", "path/to/file.txt and a/b//c", "  leading   spaces   and trailing  ",
    "tabs\tand\u00a0nbsp\u3000ideographic", "emoji 😀👍🏽 flags 🇫🇷", "!!! ??? ... --- (x) [y] {z}", "end with newline\n",
    "mixed: Hello, WORLD! It's 2025.\n  Done?",
]

PIECES = [" ", "  ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000", "'s", "'T", "'re", "'VE", "'m", "'ll", "'D", "'", "\"",
          "the", " cat", "Hello", "WORLD", "McDonald", "don't", "1", "12345", "3.14", "\u0663\u0664", "\u2167", "\u00bd", "/", "//",
          "!", "...", "?!", " (", ")", "--", "#", "\u00e9", "\u00c9", "e\u0301", "a\u0308\u0323", "\u0301", "\u01c5", "\u02b0",
          "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\ud55c\uad6d\uc5b4", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "😀", "👍🏽"]


def split(text):
    pieces, at = [], 0
    for m in regex.finditer(PATTERN, text):
        if m.start() > at:
            pieces.append(text[at:m.start()])
        pieces.append(m.group())
        at = m.end()
    if at < len(text):
        pieces.append(text[at:])
    return pieces


def main(path):
    rng = random.Random(44)
    texts = list(CASES) + ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 24))) for _ in range(300)]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"pattern": PATTERN, "cases": [{"text": t, "pieces": split(t)} for t in texts]}, f, ensure_ascii=True, indent=0)
        f.write("\n")
    for t in CASES[:8]:
        print(repr(t), split(t))


if __name__ == "__main__":
    main(sys.argv[1])

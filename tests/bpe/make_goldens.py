#!/usr/bin/python3
"""Writes the Python-made goldens of the bpe tests into tests/fixtures/bpe/ (run by hand, not by the tests).

    /usr/bin/python3 tests/bpe/make_goldens.py

Needs Debian's python3-regex (the `regex` module that tiktoken's and CS336's pre-tokenizer
pattern is written for). Outputs:
  unicode_classes.json    the code point ranges of \\p{L}, \\p{N} and \\s in `regex`
  pretokenize_golden.json random strings and their GPT-2 pre-tokens by regex.findall
  utf8_repair_golden.json invalid byte strings and bytes.decode("utf-8", "replace") of them
"""
import json
import os
import random

import regex

GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "bpe")


def ranges(pattern):
    """Inclusive [first, last] ranges of the code points that `pattern` matches."""
    compiled = regex.compile(pattern)
    result = []
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000 or not compiled.fullmatch(chr(cp)):
            continue
        if result and result[-1][1] == cp - 1:
            result[-1][1] = cp
        else:
            result.append([cp, cp])
    return result


# Pools the random strings draw from: every class, the characters where engines differ, and the
# pieces of the pattern (contractions, single spaces before words).
POOLS = [
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    list("0123456789"),
    list(" " * 8 + "\t\n\r\v\f"),
    ["\u0085", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"],
    ["\x1c", "\x1d", "\x1e", "\x1f", "\u200b", "\u200d", "\u180e", "\ufeff", "\x00", "\x7f"],
    list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"),
    ["'s", "'d", "'m", "'t", "'ll", "'ve", "'re", "'S", "'LL", "'", "'x", " 's", "''"],
    list("éèêëçñßøåæœÀÉÎÕÜ"),
    list("ﬁǅǈ") + ["\u02b0", "\u02c6", "\u3005"],          # Lt/Lm letters, a ligature
    ["\u0301", "\u0308", "\u094d", "\u20dd"],              # combining marks (Mn, Me): other
    list("中文字日本語한국어ひらがなカタカナ"),
    list("٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２"),                      # Nd of other scripts
    list("ⅠⅡⅫↂ〇") + list("²³¹¼½¾①②⑳"),                    # Nl and No
    ["🙃", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\U0001F600", "\U0010FFFD", "\U000E0001"],
    ["\ufffd", "\u00ad", "\u2019", "\u201c", "\u2014", "€", "©"],
    ["\U0001E030", "\U00031350", "\U00011F04"],          # Unicode 15.0 additions
]


def write_lines(path, header, key, items):
    """JSON object `header` plus `key`: items, one item per line (UTF-8)."""
    with open(path, "w") as f:
        f.write("{\n")
        for name, value in header.items():
            f.write(f"{json.dumps(name)}: {json.dumps(value)},\n")
        f.write(f"{json.dumps(key)}: [\n")
        f.write(",\n".join(json.dumps(item, separators=(",", ":"), ensure_ascii=False) for item in items))
        f.write("\n]}\n")


def random_string(rng):
    length = rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40])
    return "".join(rng.choice(rng.choice(POOLS)) for _ in range(length))


def main():
    rng = random.Random(20240611)
    classes = {
        "unicode_version_note": "python3-regex 2022.10.31 (Unicode 15.0)",
        "letter": ranges(r"\p{L}"),
        "number": ranges(r"\p{N}"),
        "space": ranges(r"\s"),
    }
    with open(os.path.join(OUT, "unicode_classes.json"), "w") as f:
        json.dump(classes, f, separators=(",", ":"))
        f.write("\n")

    pattern = regex.compile(GPT2_PATTERN)
    cases = []
    for _ in range(1500):
        text = random_string(rng)
        cases.append({"text": text, "pieces": pattern.findall(text)})
    write_lines(os.path.join(OUT, "pretokenize_golden.json"), {"pattern": GPT2_PATTERN}, "cases", cases)

    invalid = [
        b"\x80", b"\xbf", b"\xc0\xaf", b"\xc1\xbf", b"\xc2", b"\xc2A", b"\xe0\x80\x80", b"\xe0\xa0",
        b"\xe2\x82", b"\xe2\x82A", b"\xed\xa0\x80", b"\xef\xbf\xbd", b"\xf0\x80\x80\x80", b"\xf0\x90\x80",
        b"\xf0\x9f\x99", b"\xf0\x9f\x99\x83", b"\xf4\x90\x80\x80", b"\xf5\x80", b"\xff\xfe", b"a\xffb",
        b"\xe2\x82\xe2\x82\xac", b"\xf0\x9f\x99\x83\x83", b"caf\xe9", b"\xc3\xa9\xc3",
    ]
    for _ in range(200):
        length = rng.randint(1, 12)
        invalid.append(bytes(rng.choice([rng.randint(0, 255), rng.randint(0x80, 0xFF), 0x41]) for _ in range(length)))
    repairs = [{"bytes": b.hex(), "repaired": b.decode("utf-8", "replace").encode("utf-8").hex()} for b in invalid]
    write_lines(os.path.join(OUT, "utf8_repair_golden.json"), {}, "cases", repairs)


if __name__ == "__main__":
    main()

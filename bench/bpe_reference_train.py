#!/usr/bin/python3
"""The Python peer of bench/bpe_bench: a byte-level BPE trainer as CS336 teaches it, written well.

    /usr/bin/python3 bench/bpe_reference_train.py --input FILE --vocab-size N \
        [--special-token TOK]... [--processes P] [--merges-out FILE]

Design (the seed notebook's): split the file into P chunks at special-token boundaries; count
pre-tokens per chunk in P processes with the `regex` module's GPT-2 pattern (special tokens split
out first); then merge with incremental pair counts (only the words holding the merged pair are
touched, through a pair -> words index) and a max-heap with lazy deletion. Ties go to the
lexicographically greater pair of byte strings. Prints one JSON line:
    {"ms": total, "count_ms": ..., "merge_ms": ..., "merges": n, "vocab": n}
and, with --merges-out, writes the merges as "hexA hexB" lines (to check they equal ours).
"""
import argparse
import collections
import heapq
import json
import multiprocessing
import os
import time

import regex

PATTERN = regex.compile(r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def chunk_boundaries(path, parts, specials):
    """Byte offsets cutting the file into about `parts` chunks, each cut at the start of a special token."""
    size = os.path.getsize(path)
    if not specials or parts <= 1:
        return [0, size]
    first = specials[0].encode("utf-8")
    bounds = [size * k // parts for k in range(parts)] + [size]
    with open(path, "rb") as f:
        for k in range(1, parts):
            f.seek(bounds[k])
            found = -1
            while found < 0:
                block = f.read(1 << 16)
                if not block:
                    found = size
                    break
                at = block.find(first)
                if at >= 0:
                    found = f.tell() - len(block) + at
            bounds[k] = found
    return sorted(set(bounds))


def count_chunk(job):
    path, start, end, specials = job
    with open(path, "rb") as f:
        f.seek(start)
        text = f.read(end - start).decode("utf-8", errors="replace")
    counts = collections.Counter()
    if specials:
        split = regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)))
        segments = split.split(text)
    else:
        segments = [text]
    for segment in segments:
        counts.update(m.group().encode("utf-8") for m in PATTERN.finditer(segment))
    return counts


class Greater:
    """Reverses the order of a pair of byte strings, so heapq (a min-heap) pops the greatest."""

    __slots__ = ("pair",)

    def __init__(self, pair):
        self.pair = pair

    def __lt__(self, other):
        return self.pair > other.pair


def train(word_counts, vocab_size, specials):
    vocab = [bytes([b]) for b in range(256)] + [s.encode("utf-8") for s in specials]
    words = [list(w) for w in word_counts]
    counts = list(word_counts.values())
    pair_counts = collections.defaultdict(int)
    pair_words = collections.defaultdict(set)
    for w, (symbols, count) in enumerate(zip(words, counts)):
        for pair in zip(symbols, symbols[1:]):
            pair_counts[pair] += count
            pair_words[pair].add(w)
    heap = [(-c, Greater((vocab[a], vocab[b])), (a, b)) for (a, b), c in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(vocab) < vocab_size and heap:
        negative, _, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative or negative == 0:
            continue  # outdated entry
        a, b = pair
        c = len(vocab)
        vocab.append(vocab[a] + vocab[b])
        merges.append((vocab[a], vocab[b]))
        changed = set()
        for w in pair_words.pop(pair):
            symbols, count = words[w], counts[w]
            merged = []
            i = 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    merged.append(c)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            if len(merged) == len(symbols):
                continue
            for old in zip(symbols, symbols[1:]):
                pair_counts[old] -= count
                changed.add(old)
            for new in zip(merged, merged[1:]):
                pair_counts[new] += count
                pair_words[new].add(w)
                changed.add(new)
            words[w] = merged
        pair_counts.pop(pair, None)
        for p in changed:
            count = pair_counts.get(p, 0)
            if count > 0:
                heapq.heappush(heap, (-count, Greater((vocab[p[0]], vocab[p[1]])), p))
            else:
                pair_counts.pop(p, None)
    return vocab, merges


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True)
    parser.add_argument("--vocab-size", type=int, required=True)
    parser.add_argument("--special-token", action="append", default=[])
    parser.add_argument("--processes", type=int, default=os.cpu_count())
    parser.add_argument("--merges-out")
    args = parser.parse_args()

    start = time.perf_counter()
    bounds = chunk_boundaries(args.input, args.processes, args.special_token)
    jobs = [(args.input, s, e, args.special_token) for s, e in zip(bounds, bounds[1:])]
    with multiprocessing.Pool(args.processes) as pool:
        word_counts = collections.Counter()
        for counts in pool.imap_unordered(count_chunk, jobs):
            word_counts.update(counts)
    counted = time.perf_counter()
    vocab, merges = train(word_counts, args.vocab_size, args.special_token)
    end = time.perf_counter()
    if args.merges_out:
        with open(args.merges_out, "w") as f:
            f.writelines(f"{a.hex()} {b.hex()}\n" for a, b in merges)
    print(json.dumps({"ms": (end - start) * 1e3, "count_ms": (counted - start) * 1e3,
                      "merge_ms": (end - counted) * 1e3, "merges": len(merges), "vocab": len(vocab)}))


if __name__ == "__main__":
    main()

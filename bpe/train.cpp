// train.cpp: counting pre-tokens in parallel, and the incremental merge loop (see train.h).
#include "bpe/train.h"

#include "bpe/error.h"
#include "bpe/pretokenize.h"
#include "bpe/utf8.h"

#include <algorithm>
#include <limits>

namespace strata::bpe {

namespace {

// Adds the pre-tokens of `text` (any bytes; invalid UTF-8 is repaired) to `counts`.
void count_into(PretokenCounts& counts, std::string_view text, const SpecialTokens& specials) {
  with_valid_utf8(text, [&](std::string_view valid) {
    specials.split(
        valid,
        [&](std::string_view segment) {
          for_each_pretoken(segment, [&](std::string_view piece) { ++counts.get_or_insert(piece, 0); });
        },
        [](int) {});
  });
}

// Counts `block` split among the per-thread tables.
void count_block(std::vector<PretokenCounts>& tables, std::string_view block, const SpecialTokens& specials) {
  const std::vector<std::string_view> parts = split_at_safe_cuts(block, static_cast<int>(tables.size()), specials);
  run_parallel(static_cast<int>(parts.size()), [&](int k) { count_into(tables[k], parts[k], specials); });
}

// Sums the per-thread tables into the first one.
PretokenCounts merge_tables(std::vector<PretokenCounts>& tables) {
  PretokenCounts& total = tables[0];
  for (size_t t = 1; t < tables.size(); ++t) {
    for (const auto& e : tables[t].entries()) total.get_or_insert(tables[t].key(e), 0) += e.value;
  }
  return std::move(total);
}

void check_options(const TrainOptions& options) {
  const size_t minimum = 256 + options.special_tokens.size();
  check(options.vocab_size >= 0 && static_cast<size_t>(options.vocab_size) >= minimum,
        "train_bpe: vocab_size {} is below the 256 single bytes + {} special tokens = {}; hint: ask for at "
        "least {} tokens",
        options.vocab_size, options.special_tokens.size(), minimum, minimum);
  for (const std::string& token : options.special_tokens) {
    check(token.size() > 1,
          "train_bpe: special token '{}' is a single byte, which is already a token; hint: special tokens "
          "are multi-byte strings like <|endoftext|>",
          token);
  }
}

// The merge loop. Words are stored back to back in `symbols_`; a merge rewrites a word in place.
class Merger {
 public:
  Merger(const PretokenCounts& counts, const TrainOptions& options) : options_(options) {
    for (int b = 0; b < 256; ++b) vocab_.emplace_back(1, static_cast<char>(b));
    for (const std::string& token : options.special_tokens) vocab_.push_back(token);
    words_.reserve(counts.size());
    for (const auto& e : counts.entries()) {
      const std::string_view bytes = counts.key(e);
      const auto length = static_cast<uint32_t>(bytes.size());
      words_.push_back(Word{static_cast<uint32_t>(symbols_.size()), length, length, e.value});
      for (unsigned char byte : bytes) symbols_.push_back(byte);
    }
    word_seen_at_.assign(words_.size(), 0);
  }

  BpeModel run() {
    BpeModel model;
    step_ = 1;
    for (uint32_t w = 0; w < words_.size(); ++w) {
      const Word& word = words_[w];
      const int32_t* s = &symbols_[word.begin];
      for (uint32_t i = 0; i + 1 < word.length; ++i) add(s[i], s[i + 1], word.count, w);
    }
    push_touched();
    const int target = options_.vocab_size;
    while (static_cast<int>(vocab_.size()) < target) {
      const uint32_t best = pop_best();
      if (best == kNone) break;  // no pair left: every word is a single token
      ++step_;
      const int32_t a = pairs_[best].left;
      const int32_t b = pairs_[best].right;
      const auto c = static_cast<int32_t>(vocab_.size());
      model.merges.emplace_back(vocab_[a], vocab_[b]);
      vocab_.push_back(vocab_[a] + vocab_[b]);
      const std::vector<uint32_t> words = std::move(pairs_[best].words);
      for (uint32_t w : words) {
        if (word_seen_at_[w] == step_) continue;  // listed twice
        word_seen_at_[w] = step_;
        merge_in_word(w, a, b, c);
      }
      push_touched();
      if (options_.progress && (model.merges.size() % 256 == 0)) {
        options_.progress("merge", vocab_.size(), static_cast<uint64_t>(target));
      }
    }
    if (options_.progress) options_.progress("merge", vocab_.size(), vocab_.size());
    if (options_.stats) {
      *options_.stats = TrainStats{};
      options_.stats->distinct_pretokens = words_.size();
      for (const Word& word : words_) {
        options_.stats->bytes += static_cast<uint64_t>(word.count) * word.bytes;
        options_.stats->tokens += static_cast<uint64_t>(word.count) * word.length;
      }
    }
    model.vocab = std::move(vocab_);
    model.special_tokens = options_.special_tokens;
    return model;
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  struct Word {
    uint32_t begin;   // into symbols_
    uint32_t length;  // tokens now
    uint32_t bytes;   // tokens at the start
    int64_t count;    // occurrences in the corpus
  };
  struct Pair {
    int32_t left;
    int32_t right;
    int64_t count = 0;            // occurrences, weighted by word counts
    std::vector<uint32_t> words;  // words that contained it when it was counted (may be stale)
    uint32_t touched_at = 0;      // step of the last count change
  };
  // A heap entry is valid while its count equals the pair's count (lazy deletion: every change
  // pushes a new entry, outdated ones are dropped when they reach the top).
  struct HeapEntry {
    int64_t count;
    uint32_t pair;
  };

  // Heap order: count, then the pair's bytes (left first), greater wins.
  bool lower(const HeapEntry& x, const HeapEntry& y) const {
    if (x.count != y.count) return x.count < y.count;
    const Pair& p = pairs_[x.pair];
    const Pair& q = pairs_[y.pair];
    if (const int c = vocab_[p.left].compare(vocab_[q.left]); c != 0) return c < 0;
    return vocab_[p.right].compare(vocab_[q.right]) < 0;
  }

  uint32_t pop_best() {
    const auto cmp = [this](const HeapEntry& x, const HeapEntry& y) { return lower(x, y); };
    while (!heap_.empty()) {
      std::pop_heap(heap_.begin(), heap_.end(), cmp);
      const HeapEntry top = heap_.back();
      heap_.pop_back();
      if (top.count > 0 && top.count == pairs_[top.pair].count) return top.pair;
    }
    return kNone;
  }

  void push_touched() {
    const auto cmp = [this](const HeapEntry& x, const HeapEntry& y) { return lower(x, y); };
    for (uint32_t i : touched_) {
      Pair& p = pairs_[i];
      if (p.count > 0) {
        heap_.push_back(HeapEntry{p.count, i});
        std::push_heap(heap_.begin(), heap_.end(), cmp);
      } else {
        std::vector<uint32_t>().swap(p.words);  // gone for good: free its word list
      }
    }
    touched_.clear();
  }

  // Changes the count of pair (left, right) by `delta` occurrences in word w.
  void add(int32_t left, int32_t right, int64_t delta, uint32_t w) {
    uint32_t& slot = index_.get_or_insert(pair_key(left, right), kNone);
    if (slot == kNone) {
      slot = static_cast<uint32_t>(pairs_.size());
      pairs_.push_back(Pair{left, right, 0, {}, 0});
    }
    Pair& p = pairs_[slot];
    p.count += delta;
    if (delta > 0 && (p.words.empty() || p.words.back() != w)) p.words.push_back(w);
    if (p.touched_at != step_) {
      p.touched_at = step_;
      touched_.push_back(slot);
    }
  }

  // Replaces each (a, b) in word w by c, left to right, updating the counts of the pairs around
  // each occurrence: (x, a) -> (x, c) on the left, (b, y) -> (c, y) on the right. With two
  // occurrences in a row, the right neighbour of the first is the `a` of the second; the second
  // then sees c on its left and undoes the (c, a) just added, adding (c, c) instead.
  void merge_in_word(uint32_t w, int32_t a, int32_t b, int32_t c) {
    Word& word = words_[w];
    int32_t* s = &symbols_[word.begin];
    const uint32_t n = word.length;
    const int64_t count = word.count;
    uint32_t out = 0;
    for (uint32_t i = 0; i < n;) {
      if (i + 1 < n && s[i] == a && s[i + 1] == b) {
        if (out > 0) {
          add(s[out - 1], a, -count, w);
          add(s[out - 1], c, count, w);
        }
        if (i + 2 < n) {
          add(b, s[i + 2], -count, w);
          add(c, s[i + 2], count, w);
        }
        add(a, b, -count, w);
        s[out++] = c;
        i += 2;
      } else {
        s[out++] = s[i++];
      }
    }
    word.length = out;
  }

  const TrainOptions& options_;
  std::vector<std::string> vocab_;
  std::vector<int32_t> symbols_;
  std::vector<Word> words_;
  std::vector<uint32_t> word_seen_at_;  // step at which a word was last merged
  PairMap<uint32_t> index_;             // pair -> index into pairs_
  std::vector<Pair> pairs_;
  std::vector<HeapEntry> heap_;
  std::vector<uint32_t> touched_;  // pairs whose count changed in this step
  uint32_t step_ = 0;
};

}  // namespace

PretokenCounts count_pretokens_in_file(const std::string& path, const TrainOptions& options) {
  const SpecialTokens specials(options.special_tokens);
  const int threads = resolve_threads(options.threads);
  std::vector<PretokenCounts> tables(threads);
  Progress progress;
  if (options.progress) progress = [&](uint64_t done, uint64_t total) { options.progress("count", done, total); };
  for_each_file_block(
      path, specials, options.block_bytes * threads,
      [&](std::string_view block) { count_block(tables, block, specials); }, progress);
  return merge_tables(tables);
}

PretokenCounts count_pretokens(std::string_view text, const TrainOptions& options) {
  const SpecialTokens specials(options.special_tokens);
  std::vector<PretokenCounts> tables(resolve_threads(options.threads));
  count_block(tables, text, specials);
  return merge_tables(tables);
}

BpeModel train_bpe_from_counts(const PretokenCounts& counts, const TrainOptions& options) {
  check_options(options);
  return Merger(counts, options).run();
}

// The options are checked before counting, so bad ones fail before the corpus is read.
BpeModel train_bpe(const std::string& path, const TrainOptions& options) {
  check_options(options);
  return Merger(count_pretokens_in_file(path, options), options).run();
}

BpeModel train_bpe_on_text(std::string_view text, const TrainOptions& options) {
  check_options(options);
  return Merger(count_pretokens(text, options), options).run();
}

}  // namespace strata::bpe

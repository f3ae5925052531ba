// train.h: learning byte-level BPE merges from a corpus (CS336 assignment 1, train_bpe).
//
// The vocabulary starts as the 256 single bytes (ids 0..255) followed by the special tokens. The
// corpus is split at special tokens and pre-tokenized (pretokenize.h); each distinct pre-token is
// a "word", a sequence of tokens with a count. Then, until the vocabulary has `vocab_size` entries
// or no pair is left: the adjacent pair (a, b) with the highest count, summed over words weighted
// by their counts, becomes a new token a+b and every occurrence is merged. Ties go to the
// lexicographically greater pair of byte strings (compare a, then b).
//
// Two things make this fast (docs/internals/bpe.md):
//   * Pre-tokens are counted once, in parallel over blocks cut at safe positions (chunking.h),
//     reading the file a block at a time, so memory holds one block, not the corpus.
//   * Pair counts are updated incrementally: a merge of (a, b) touches only the words that contain
//     the pair (an index from pair to words), changing the counts of the pairs around each
//     occurrence; the best pair is taken from a max-heap with lazy deletion.
#pragma once

#include "bpe/chunking.h"
#include "bpe/hash_map.h"
#include "bpe/model.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// What training saw, for reports: the bytes of all pre-tokens (special tokens excluded), the
// distinct pre-tokens, and the number of tokens those bytes become with the learned merges.
struct TrainStats {
  uint64_t bytes = 0;
  uint64_t distinct_pretokens = 0;
  uint64_t tokens = 0;
};

struct TrainOptions {
  int vocab_size = 0;
  std::vector<std::string> special_tokens;
  int threads = 0;                 // 0: all cores
  size_t block_bytes = 16u << 20;  // text read per thread at a time
  // Called with ("count", bytes read, file size) while counting and ("merge", merges, target)
  // while merging.
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)> progress;
  TrainStats* stats = nullptr;  // filled in when given
};

// Distinct pre-tokens and how often each occurs.
using PretokenCounts = StringMap<int64_t>;

// Counts the pre-tokens of a file / of a text, on `threads` threads (0: all cores).
PretokenCounts count_pretokens_in_file(const std::string& path, const TrainOptions& options);
PretokenCounts count_pretokens(std::string_view text, const TrainOptions& options);

// The merge loop on counted pre-tokens.
BpeModel train_bpe_from_counts(const PretokenCounts& counts, const TrainOptions& options);

// The whole training: count, then merge.
BpeModel train_bpe(const std::string& path, const TrainOptions& options);
BpeModel train_bpe_on_text(std::string_view text, const TrainOptions& options);

}  // namespace strata::bpe

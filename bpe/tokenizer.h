// tokenizer.h: encoding text to token ids with learned BPE merges, and decoding ids to text.
//
// encode(text):
//   1. split out special tokens (special_tokens.h), each becomes its id;
//   2. pre-tokenize the rest (pretokenize.h);
//   3. in each pre-token, start from its bytes as single-byte tokens and apply merges: repeatedly
//      join the adjacent pair with the lowest merge rank (leftmost first), until no adjacent pair
//      is a merge. This equals applying the merge list in order, as CS336 specifies, and gives
//      tiktoken's gpt2 ids.
// Step 3 is memoized per pre-token (PieceCache): natural text repeats a few thousand words, so
// most pre-tokens are one hash lookup.
//
// Invalid UTF-8 in the input is read as Python's errors="replace" does (utf8.h): each maximal
// invalid subpart becomes U+FFFD, so decode(encode(text)) == repair_utf8(text). decode() joins the
// token bytes and repairs the result the same way (a prefix of ids may end inside a character).
//
// Large inputs: StreamEncoder takes text in any slices (lines, file reads) and emits ids in bounded
// memory; encode_file reads a file block by block and encodes each block on N threads. Both cut the
// text only at safe positions (chunking.h), so their ids equal encode(whole text).
#pragma once

#include "bpe/chunking.h"
#include "bpe/hash_map.h"
#include "bpe/model.h"
#include "bpe/special_tokens.h"

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// Memo of pre-token -> ids for one thread. Cleared when it outgrows max_bytes, so memory stays
// bounded on any input.
class PieceCache {
 public:
  explicit PieceCache(size_t max_bytes = 64u << 20) : max_bytes_(max_bytes) {}

 private:
  friend class Tokenizer;
  // The ids of a cached pre-token: ids_[offset, offset + length), or the id itself when length
  // is 1 (most pre-tokens are one token; this saves a memory access).
  struct Span {
    uint32_t offset_or_id;
    uint32_t length;
  };
  StringMap<Span> map_;
  std::vector<int32_t> ids_;
  size_t max_bytes_;
};

// Receives ids as they are produced.
using IdSink = std::function<void(std::span<const int32_t> ids)>;

class Tokenizer {
 public:
  // `vocab` must hold all 256 single bytes; each merge (a, b) needs a, b and a+b in `vocab`.
  // Special tokens not in `vocab` get new ids after it. Throws BpeError naming the bad entry.
  Tokenizer(std::vector<std::string> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
            std::vector<std::string> special_tokens = {});
  explicit Tokenizer(BpeModel model);  // moved in when given a temporary
  // GPT-2 vocab.json + merges.txt (gpt2_files.h).
  static Tokenizer from_files(const std::string& vocab_path, const std::string& merges_path,
                              std::vector<std::string> special_tokens = {});
  void save(const std::string& vocab_path, const std::string& merges_path) const;

  size_t vocab_size() const { return model_.vocab.size(); }
  const std::string& token_bytes(int32_t id) const;
  std::optional<int32_t> token_id(std::string_view bytes) const;
  const std::vector<std::string>& special_tokens() const { return specials_.tokens(); }
  const BpeModel& model() const { return model_; }

  std::vector<int32_t> encode(std::string_view text) const;
  // Appends the ids of `text` to `out`, memoizing in `cache`.
  void encode(std::string_view text, PieceCache& cache, std::vector<int32_t>& out) const;
  // Ids of one pre-token by the merge loop, without cache (appended to `out`).
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  // Token bytes joined; invalid UTF-8 replaced by U+FFFD. Throws BpeError for an unknown id.
  std::string decode(std::span<const int32_t> ids) const;
  // Token bytes joined, as they are.
  std::string decode_bytes(std::span<const int32_t> ids) const;

  struct FileOptions {
    int threads = 0;                // 0: all cores
    size_t block_bytes = 4u << 20;  // text per thread per round
    Progress progress;              // (bytes read, file size)
  };
  // Encodes a file in blocks, each shared among threads; ids arrive at `sink` in order.
  void encode_file(const std::string& path, const IdSink& sink, const FileOptions& options) const;
  std::vector<int32_t> encode_file(const std::string& path, const FileOptions& options) const;

  // Encodes the concatenation of `pieces` (e.g. the lines of a file) in bounded memory.
  template <class Range>
  void encode_iterable(const Range& pieces, const IdSink& sink) const;

 private:
  friend class StreamEncoder;
  static constexpr int kShortPiece = 32;  // bytes; see encode_piece
  static constexpr int32_t kNoMerge = std::numeric_limits<int32_t>::max();
  void merge_short(std::string_view piece, std::vector<int32_t>& out) const;
  void merge_long(std::string_view piece, std::vector<int32_t>& out) const;
  void build();
  void encode_text_segment(std::string_view segment, PieceCache& cache, std::vector<int32_t>& out) const;

  BpeModel model_;  // as given, special tokens appended to its vocab
  SpecialTokens specials_;
  std::vector<int32_t> special_ids_;  // by index in specials_
  std::array<int32_t, 256> byte_ids_{};
  struct Merge {
    int32_t rank;
    int32_t id;  // of the merged token
  };
  PairMap<Merge> merges_;
  StringMap<int32_t> ids_by_bytes_;
};

// Encodes text that arrives in slices, emitting ids for every complete block.
class StreamEncoder {
 public:
  StreamEncoder(const Tokenizer& tokenizer, IdSink sink, size_t block_bytes = 1u << 20);
  void push(std::string_view text);
  // Encodes what is left; call once at the end.
  void finish();

 private:
  const Tokenizer& tokenizer_;
  IdSink sink_;
  PieceCache cache_;
  std::vector<int32_t> ids_;
  BlockCutter cutter_;
};

template <class Range>
void Tokenizer::encode_iterable(const Range& pieces, const IdSink& sink) const {
  StreamEncoder stream(*this, sink);
  for (const auto& piece : pieces) stream.push(std::string_view(piece));
  stream.finish();
}

}  // namespace strata::bpe

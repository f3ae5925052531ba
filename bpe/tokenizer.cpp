// tokenizer.cpp: encoding with merge ranks and a pre-token cache; decoding; streaming and parallel
// file encoding (see tokenizer.h).
#include "bpe/tokenizer.h"

#include "bpe/error.h"
#include "bpe/gpt2_files.h"
#include "bpe/pretokenize.h"
#include "bpe/utf8.h"

#include <algorithm>
#include <limits>

namespace strata::bpe {

Tokenizer::Tokenizer(std::vector<std::string> vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                     std::vector<std::string> special_tokens)
    : Tokenizer(BpeModel{std::move(vocab), merges, std::move(special_tokens)}) {}

Tokenizer::Tokenizer(BpeModel model) : model_(std::move(model)) { build(); }

Tokenizer Tokenizer::from_files(const std::string& vocab_path, const std::string& merges_path,
                                std::vector<std::string> special_tokens) {
  return Tokenizer(load_gpt2_files(vocab_path, merges_path, special_tokens));
}

void Tokenizer::save(const std::string& vocab_path, const std::string& merges_path) const {
  save_gpt2_files(model_, vocab_path, merges_path);
}

void Tokenizer::build() {
  std::vector<std::string>& vocab = model_.vocab;
  check(vocab.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()),
        "Tokenizer: {} tokens do not fit 32-bit ids", vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    int32_t& slot = ids_by_bytes_.get_or_insert(vocab[id], -1);
    check(slot < 0, "Tokenizer: ids {} and {} are the same token '{}'; hint: each byte string may appear once", slot,
          id, gpt2_encode_token(vocab[id]));
    slot = static_cast<int32_t>(id);
  }
  for (int b = 0; b < 256; ++b) {
    const int32_t* id = ids_by_bytes_.find(std::string(1, static_cast<char>(b)));
    check(id != nullptr,
          "Tokenizer: byte 0x{:02x} is not in the vocabulary; hint: a byte-level BPE vocabulary holds all 256 "
          "single bytes",
          b);
    byte_ids_[b] = *id;
  }
  specials_ = SpecialTokens(model_.special_tokens);
  for (const std::string& token : model_.special_tokens) {
    int32_t& slot = ids_by_bytes_.get_or_insert(token, -1);
    if (slot < 0) {  // not in the vocabulary yet: append it
      slot = static_cast<int32_t>(vocab.size());
      vocab.push_back(token);
    }
    special_ids_.push_back(slot);
  }
  for (size_t rank = 0; rank < model_.merges.size(); ++rank) {
    const auto& [left, right] = model_.merges[rank];
    const int32_t* a = ids_by_bytes_.find(left);
    const int32_t* b = ids_by_bytes_.find(right);
    const int32_t* c = ids_by_bytes_.find(left + right);
    check(a && b && c, "Tokenizer: merge {} ('{}' '{}'): token '{}' is not in the vocabulary", rank,
          gpt2_encode_token(left), gpt2_encode_token(right),
          gpt2_encode_token(!a   ? left
                            : !b ? right
                                 : left + right));
    // A repeated merge can never apply again: the first (lowest rank) one is kept.
    merges_.get_or_insert(pair_key(*a, *b), Merge{static_cast<int32_t>(rank), *c});
  }
}

const std::string& Tokenizer::token_bytes(int32_t id) const {
  check(id >= 0 && static_cast<size_t>(id) < model_.vocab.size(),
        "Tokenizer::token_bytes: id {} is outside the vocabulary of {} tokens", id, model_.vocab.size());
  return model_.vocab[id];
}

std::optional<int32_t> Tokenizer::token_id(std::string_view bytes) const {
  const int32_t* id = ids_by_bytes_.find(bytes);
  return id ? std::optional<int32_t>(*id) : std::nullopt;
}

// The merge loop on one pre-token: repeatedly join the adjacent pair with the lowest merge rank,
// the leftmost among equal ranks (the same pair twice, as in "a a a"). Two implementations of that
// one rule, chosen by length and checked against each other and against applying the merge list in
// order (test_tokenizer.cpp):
//   * up to kShortPiece bytes (nearly every pre-token): the tokens and the rank of each adjacent
//     pair in small arrays; each step scans for the lowest rank and shifts the tail left. O(n^2),
//     but n is small and everything stays in registers and L1;
//   * longer: positions in a linked list and candidate pairs in a min-heap of (rank, position), so
//     a megabyte-long run of letters costs O(n log n). Each candidate remembers the two ids it
//     joins; one whose neighbours have changed since it was pushed is skipped when popped.
// Both look up each new adjacent pair once.
void Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  const int n = static_cast<int>(piece.size());
  if (n == 1) {
    out.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
  } else if (n <= kShortPiece) {
    merge_short(piece, out);
  } else {
    merge_long(piece, out);
  }
}

void Tokenizer::merge_short(std::string_view piece, std::vector<int32_t>& out) const {
  int32_t ids[kShortPiece];
  int32_t ranks[kShortPiece];   // ranks[k]: rank of the pair (ids[k], ids[k + 1]), kNoMerge if none
  int32_t merged[kShortPiece];  // merged[k]: the id it merges into
  int m = static_cast<int>(piece.size());
  const auto look_up = [&](int k) {
    const Merge* merge = merges_.find(pair_key(ids[k], ids[k + 1]));
    ranks[k] = merge ? merge->rank : kNoMerge;
    merged[k] = merge ? merge->id : -1;
  };
  for (int i = 0; i < m; ++i) ids[i] = byte_ids_[static_cast<unsigned char>(piece[i])];
  for (int k = 0; k + 1 < m; ++k) look_up(k);
  for (;;) {
    int best = 0;
    for (int k = 1; k + 1 < m; ++k) {
      if (ranks[k] < ranks[best]) best = k;  // strict: the leftmost of equal ranks
    }
    if (m < 2 || ranks[best] == kNoMerge) break;
    ids[best] = merged[best];
    for (int k = best + 1; k + 1 < m; ++k) {  // drop position best + 1
      ids[k] = ids[k + 1];
      ranks[k] = ranks[k + 1];
      merged[k] = merged[k + 1];
    }
    --m;
    if (best > 0) look_up(best - 1);
    if (best + 1 < m) look_up(best);
  }
  out.insert(out.end(), ids, ids + m);
}

void Tokenizer::merge_long(std::string_view piece, std::vector<int32_t>& out) const {
  const int n = static_cast<int>(piece.size());
  struct Candidate {
    int32_t rank;
    int32_t position;             // of the left token
    int32_t left, right, merged;  // ids
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : position > o.position; }
  };
  std::vector<int32_t> ids(n), next(n), prev(n);
  std::vector<Candidate> heap;  // min first
  for (int i = 0; i < n; ++i) {
    ids[i] = byte_ids_[static_cast<unsigned char>(piece[i])];
    next[i] = i + 1;  // n = end
    prev[i] = i - 1;  // -1 = none
  }
  const auto greater = [](const Candidate& x, const Candidate& y) { return x > y; };
  const auto push = [&](int i) {  // the pair starting at position i, if it is a merge
    if (const Merge* m = merges_.find(pair_key(ids[i], ids[next[i]]))) {
      heap.push_back(Candidate{m->rank, i, ids[i], ids[next[i]], m->id});
      std::push_heap(heap.begin(), heap.end(), greater);
    }
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const Candidate c = heap.back();
    heap.pop_back();
    const int i = c.position;
    const int j = next[i];
    if (ids[i] != c.left || j >= n || ids[j] != c.right) continue;  // outdated
    ids[i] = c.merged;
    ids[j] = -1;
    next[i] = next[j];
    if (next[i] < n) prev[next[i]] = i;
    if (prev[i] >= 0) push(prev[i]);
    if (next[i] < n) push(i);
  }
  for (int i = 0; i < n; i = next[i]) out.push_back(ids[i]);
}

void Tokenizer::encode_text_segment(std::string_view segment, PieceCache& cache, std::vector<int32_t>& out) const {
  for_each_pretoken(segment, [&](std::string_view piece) {
    if (piece.size() == 1) {
      out.push_back(byte_ids_[static_cast<unsigned char>(piece[0])]);
      return;
    }
    const uint64_t hash = hash_bytes(piece);
    if (const PieceCache::Span* hit = cache.map_.find(piece, hash)) {
      if (hit->length == 1) {
        out.push_back(static_cast<int32_t>(hit->offset_or_id));
      } else {
        const auto first = cache.ids_.begin() + hit->offset_or_id;
        out.insert(out.end(), first, first + hit->length);
      }
      return;
    }
    const size_t first = out.size();
    encode_piece(piece, out);
    if (cache.map_.memory_bytes() + cache.ids_.capacity() * sizeof(int32_t) > cache.max_bytes_) {
      cache.map_.clear();
      cache.ids_.clear();
    }
    const auto length = static_cast<uint32_t>(out.size() - first);
    if (length == 1) {
      cache.map_.get_or_insert(piece, hash, PieceCache::Span{static_cast<uint32_t>(out[first]), 1});
    } else {
      cache.map_.get_or_insert(piece, hash, PieceCache::Span{static_cast<uint32_t>(cache.ids_.size()), length});
      cache.ids_.insert(cache.ids_.end(), out.begin() + first, out.end());
    }
  });
}

void Tokenizer::encode(std::string_view text, PieceCache& cache, std::vector<int32_t>& out) const {
  with_valid_utf8(text, [&](std::string_view valid) {
    specials_.split(
        valid, [&](std::string_view segment) { encode_text_segment(segment, cache, out); },
        [&](int index) { out.push_back(special_ids_[index]); });
  });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  PieceCache cache;
  std::vector<int32_t> ids;
  encode(text, cache, ids);
  return ids;
}

std::string Tokenizer::decode_bytes(std::span<const int32_t> ids) const {
  std::string bytes;
  for (size_t k = 0; k < ids.size(); ++k) {
    const int32_t id = ids[k];
    check(id >= 0 && static_cast<size_t>(id) < model_.vocab.size(),
          "decode: id {} at position {} is outside the vocabulary of {} tokens (0..{})", id, k, model_.vocab.size(),
          model_.vocab.size() - 1);
    bytes += model_.vocab[id];
  }
  return bytes;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes = decode_bytes(ids);
  return is_valid_utf8(bytes) ? bytes : repair_utf8(bytes);
}

void Tokenizer::encode_file(const std::string& path, const IdSink& sink, const FileOptions& options) const {
  const int threads = resolve_threads(options.threads);
  std::vector<PieceCache> caches(threads);
  std::vector<std::vector<int32_t>> ids(threads);
  for_each_file_block(
      path, specials_, options.block_bytes * threads,
      [&](std::string_view block) {
        const std::vector<std::string_view> parts = split_at_safe_cuts(block, threads, specials_);
        const int n = static_cast<int>(parts.size());
        run_parallel(n, [&](int k) {
          ids[k].clear();
          encode(parts[k], caches[k], ids[k]);
        });
        for (int k = 0; k < n; ++k) sink(ids[k]);
      },
      options.progress);
}

std::vector<int32_t> Tokenizer::encode_file(const std::string& path, const FileOptions& options) const {
  std::vector<int32_t> all;
  encode_file(
      path, [&](std::span<const int32_t> ids) { all.insert(all.end(), ids.begin(), ids.end()); }, options);
  return all;
}

StreamEncoder::StreamEncoder(const Tokenizer& tokenizer, IdSink sink, size_t block_bytes)
    : tokenizer_(tokenizer),
      sink_(std::move(sink)),
      cutter_(tokenizer.specials_, block_bytes, [this](std::string_view block) {
        ids_.clear();
        tokenizer_.encode(block, cache_, ids_);
        sink_(ids_);
      }) {}

void StreamEncoder::push(std::string_view text) { cutter_.push(text); }

void StreamEncoder::finish() { cutter_.finish(); }

}  // namespace strata::bpe

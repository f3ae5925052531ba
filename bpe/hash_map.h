// hash_map.h: two small open-addressing hash maps for the hot loops of training and encoding.
//
// StringMap<V> maps byte strings to V: the counts of pre-tokens while training, and the cache of
// pre-token -> ids while encoding. Keys are copied into one arena (up to 4 GiB); a slot is 8 bytes,
// 32 bits of the hash and the entry index, so a probe compares bytes only when those bits agree
// and the table stays small enough for the caches. PairMap<V> maps a pair
// of token ids (packed in 64 bits) to V: merge ranks while encoding, pair indices while training.
// Both use linear probing in a power-of-two table kept at most half full, with no allocation per
// entry and no pointer chasing per probe (as std::unordered_map has).
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// A fast 64-bit hash of a byte string: 8 bytes at a time through a multiply-xorshift mix.
inline uint64_t hash_bytes(std::string_view bytes) {
  constexpr uint64_t k = 0x9E3779B97F4A7C15ULL;
  const char* p = bytes.data();
  size_t n = bytes.size();
  uint64_t h = n * k;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    h = (h ^ word) * k;
    h ^= h >> 29;
  }
  if (n > 0) {
    uint64_t word = 0;
    std::memcpy(&word, p, n);
    h = (h ^ word) * k;
    h ^= h >> 29;
  }
  h *= 0xBF58476D1CE4E5B9ULL;  // splitmix64 finalizer
  return h ^ (h >> 31);
}

// a[0, n) == b[0, n), inlined for the short keys of pre-tokens: two overlapping word loads instead
// of a call to memcmp (never reading outside either range).
inline bool bytes_equal(const char* a, const char* b, size_t n) {
  const auto load = [](const char* p, auto word) {
    std::memcpy(&word, p, sizeof word);
    return word;
  };
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    return load(a, uint64_t{}) == load(b, uint64_t{}) && load(a + n - 8, uint64_t{}) == load(b + n - 8, uint64_t{});
  }
  if (n >= 4) {
    return load(a, uint32_t{}) == load(b, uint32_t{}) && load(a + n - 4, uint32_t{}) == load(b + n - 4, uint32_t{});
  }
  if (n >= 2) {
    return load(a, uint16_t{}) == load(b, uint16_t{}) && a[n - 1] == b[n - 1];
  }
  return n == 0 || a[0] == b[0];
}

template <class V>
class StringMap {
 public:
  struct Entry {
    uint32_t key_offset;  // into the key arena
    uint32_t key_length;
    V value;
  };

  size_t size() const { return entries_.size(); }
  // Bytes held by keys and entries (for the memory bounds of caches).
  size_t memory_bytes() const {
    return keys_.capacity() + entries_.capacity() * sizeof(Entry) + slots_.capacity() * sizeof(Slot);
  }

  std::string_view key(const Entry& e) const { return std::string_view(keys_).substr(e.key_offset, e.key_length); }
  const std::vector<Entry>& entries() const { return entries_; }
  std::vector<Entry>& entries() { return entries_; }

  // The value of `key`, or nullptr.
  const V* find(std::string_view key, uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    const uint32_t tag = tag_of(hash);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.index == 0) return nullptr;
      if (s.tag == tag && key_equals(entries_[s.index - 1], key)) return &entries_[s.index - 1].value;
    }
  }
  const V* find(std::string_view key) const { return find(key, hash_bytes(key)); }

  // The value of `key`, inserting `initial` first when the key is new. The pointer is valid until
  // the next insertion.
  V& get_or_insert(std::string_view key, uint64_t hash, const V& initial) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    const uint32_t tag = tag_of(hash);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.index == 0) {
        if (keys_.size() + key.size() > std::numeric_limits<uint32_t>::max()) {
          throw std::length_error("StringMap: more than 4 GiB of distinct keys");
        }
        entries_.push_back(Entry{static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()), initial});
        keys_.append(key);
        s = Slot{tag, static_cast<uint32_t>(entries_.size())};
        return entries_.back().value;
      }
      if (s.tag == tag && key_equals(entries_[s.index - 1], key)) return entries_[s.index - 1].value;
    }
  }
  V& get_or_insert(std::string_view key, const V& initial) { return get_or_insert(key, hash_bytes(key), initial); }

  // Empties the map, keeping its memory for reuse.
  void clear() {
    slots_.assign(slots_.size(), Slot{});
    entries_.clear();
    keys_.clear();
  }

 private:
  // 8 bytes: the high half of the key's hash (the low half picks the slot) and the entry.
  struct Slot {
    uint32_t tag = 0;
    uint32_t index = 0;  // entry index + 1; 0 = empty
  };
  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  bool key_equals(const Entry& e, std::string_view key) const {
    return e.key_length == key.size() && bytes_equal(keys_.data() + e.key_offset, key.data(), key.size());
  }

  void grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    std::vector<Slot> slots(capacity);
    mask_ = capacity - 1;
    for (const Slot& s : slots_) {  // the slot of an entry needs its full hash again
      if (s.index == 0) continue;
      const Entry& e = entries_[s.index - 1];
      size_t i = hash_bytes(std::string_view(keys_).substr(e.key_offset, e.key_length)) & mask_;
      while (slots[i].index != 0) i = (i + 1) & mask_;
      slots[i] = s;
    }
    slots_.swap(slots);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  std::vector<Entry> entries_;
  std::string keys_;
};

// Packs a pair of token ids into one 64-bit key.
inline uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

template <class V>
class PairMap {
 public:
  size_t size() const { return size_; }

  const V* find(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == kEmpty) return nullptr;
      if (s.key == key) return &s.value;
    }
  }

  // The value of `key`, inserting `initial` first when the key is new. The reference is valid
  // until the next insertion.
  V& get_or_insert(uint64_t key, const V& initial) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    for (size_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) return s.value;
      if (s.key == kEmpty) {
        s.key = key;
        s.value = initial;
        ++size_;
        return s.value;
      }
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~0ULL;  // ids are below 2^31, so no pair packs to this
  struct Slot {
    uint64_t key = kEmpty;
    V value{};
  };

  static uint64_t mix(uint64_t key) {
    key *= 0x9E3779B97F4A7C15ULL;
    return key ^ (key >> 32);
  }

  void grow() {
    const size_t capacity = slots_.empty() ? 64 : slots_.size() * 2;
    std::vector<Slot> slots(capacity);
    mask_ = capacity - 1;
    for (Slot& s : slots_) {
      if (s.key == kEmpty) continue;
      size_t i = mix(s.key) & mask_;
      while (slots[i].key != kEmpty) i = (i + 1) & mask_;
      slots[i] = std::move(s);
    }
    slots_.swap(slots);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace strata::bpe

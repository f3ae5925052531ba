// special_tokens.cpp: leftmost-longest search for special tokens (see special_tokens.h).
//
// Candidates are found by their first byte (memchr when all tokens share it, as <|...|> tokens
// do), then each token is compared in order of decreasing length, so the first hit is the longest.
#include "bpe/special_tokens.h"

#include "bpe/error.h"
#include "bpe/utf8.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <set>

namespace strata::bpe {

SpecialTokens::SpecialTokens(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  std::set<std::string_view> seen;
  for (const std::string& token : tokens_) {
    check(!token.empty(), "SpecialTokens: a special token is empty");
    check(is_valid_utf8(token), "SpecialTokens: special token '{}' is not valid UTF-8 (byte {})", token,
          find_invalid_utf8(token));
    check(seen.insert(token).second, "SpecialTokens: special token '{}' is given twice", token);
    const auto first = static_cast<unsigned char>(token[0]);
    if (!is_first_byte_[first]) {
      is_first_byte_[first] = true;
      ++first_bytes_;
      only_first_byte_ = first;
    }
    max_length_ = std::max(max_length_, token.size());
  }
  by_length_.resize(tokens_.size());
  std::iota(by_length_.begin(), by_length_.end(), 0);
  std::stable_sort(by_length_.begin(), by_length_.end(),
                   [&](int a, int b) { return tokens_[a].size() > tokens_[b].size(); });
}

SpecialTokens::Match SpecialTokens::find(std::string_view text, size_t from) const {
  const char* data = text.data();
  const size_t size = text.size();
  const Match none{npos, -1, 0};
  if (tokens_.empty()) return none;
  for (size_t pos = from; pos < size; ++pos) {
    if (first_bytes_ == 1) {
      const void* hit = std::memchr(data + pos, only_first_byte_, size - pos);
      if (hit == nullptr) return none;
      pos = static_cast<size_t>(static_cast<const char*>(hit) - data);
    } else if (!is_first_byte_[static_cast<unsigned char>(data[pos])]) {
      continue;
    }
    for (int index : by_length_) {
      const std::string& token = tokens_[index];
      if (token.size() <= size - pos && std::memcmp(data + pos, token.data(), token.size()) == 0) {
        return {pos, index, token.size()};
      }
    }
  }
  return none;
}

}  // namespace strata::bpe

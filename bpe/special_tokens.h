// special_tokens.h: finding special tokens (e.g. <|endoftext|>) in text.
//
// Special tokens are cut out of the text before pre-tokenization: they become one id each, and no
// merge ever crosses them. Matches are found left to right; where several special tokens start at
// the same position the longest wins (so with both <|endoftext|> and <|endoftext|><|endoftext|>,
// a doubled separator is one token). This is what a regex alternation of the tokens sorted
// longest first does, as CS336 and tiktoken do.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

class SpecialTokens {
 public:
  struct Match {
    size_t pos;  // byte offset, or npos
    int index;   // into tokens(), or -1
    size_t length;
  };
  static constexpr size_t npos = std::string_view::npos;

  SpecialTokens() = default;
  // Throws BpeError for an empty, duplicated or invalid-UTF-8 token.
  explicit SpecialTokens(std::vector<std::string> tokens);

  const std::vector<std::string>& tokens() const { return tokens_; }
  bool empty() const { return tokens_.empty(); }
  size_t max_length() const { return max_length_; }

  // The first match at or after byte `from` (longest at that position); pos == npos if none.
  Match find(std::string_view text, size_t from = 0) const;

  // Walks `text` in order: on_text(std::string_view) for each non-empty stretch between matches,
  // on_special(int index) for each match.
  template <class OnText, class OnSpecial>
  void split(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const {
    size_t from = 0;
    while (from < text.size()) {
      const Match m = find(text, from);
      const size_t stop = m.pos == npos ? text.size() : m.pos;
      if (stop > from) on_text(text.substr(from, stop - from));
      if (m.pos == npos) break;
      on_special(m.index);
      from = m.pos + m.length;
    }
  }

 private:
  std::vector<std::string> tokens_;
  std::vector<int> by_length_;  // indices into tokens_, longest first
  std::array<bool, 256> is_first_byte_{};
  int first_bytes_ = 0;                // how many distinct first bytes
  unsigned char only_first_byte_ = 0;  // the first byte when there is just one (memchr)
  size_t max_length_ = 0;
};

}  // namespace strata::bpe

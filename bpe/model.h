// model.h: what a byte-level BPE tokenizer is made of.
//
// vocab[id] is the byte string of token `id`. merges[r] = (a, b) says that the r-th merge learned
// joins adjacent tokens with bytes a and b into the token a + b; a lower r is applied first.
// special_tokens are strings that are never split or merged (each is also in vocab).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace strata::bpe {

struct BpeModel {
  std::vector<std::string> vocab;
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<std::string> special_tokens;
};

}  // namespace strata::bpe

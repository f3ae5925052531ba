// pretokenize.cpp: the list form of the hand-written GPT-2 pre-tokenizer (pretokenize.h).
#include "bpe/pretokenize.h"

namespace strata::bpe {

std::vector<std::string_view> pretokenize(std::string_view text) {
  std::vector<std::string_view> pieces;
  for_each_pretoken(text, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

}  // namespace strata::bpe

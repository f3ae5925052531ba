// pretokenize_regex.h: the reference GPT-2 pre-tokenizer, a Boost.Regex u32regex (ICU) search.
//
// It is slow (a few MB/s) and exists so the tests can check the hand-written pre-tokenizer
// (pretokenize.h) against a regex engine. Boost 1.74 needs the GPT-2 pattern respelled for
// Python `regex` semantics (each spelling checked on all 0x110000 code points against Python):
//   \p{L}   -> [[:L*:]]              (\p{L}, \pL and [[:L:]] silently mean Ll, lower case only)
//   \p{N}   -> [[:Nd:][:Nl:][:No:]]  (\p{N} is rejected)
//   \s      -> the White_Space list  (Boost's \s adds U+001C..U+001F)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// The pattern above as Boost spells it.
extern const char* const kGpt2PatternBoost;

// The pre-tokens of `text` found by regex search; `text` must be valid UTF-8 (repair_utf8).
std::vector<std::string> pretokenize_regex(std::string_view text);

}  // namespace strata::bpe

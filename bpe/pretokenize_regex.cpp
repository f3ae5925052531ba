// pretokenize_regex.cpp: the Boost.Regex reference pre-tokenizer (see pretokenize_regex.h).
#include "bpe/pretokenize_regex.h"

#include "bpe/error.h"
#include "bpe/utf8.h"

#include <boost/regex/icu.hpp>

namespace strata::bpe {

// clang-format off
#define STRATA_WS "\\t\\n\\v\\f\\r \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
#define STRATA_L "[:L*:]"
#define STRATA_N "[:Nd:][:Nl:][:No:]"

const char* const kGpt2PatternBoost =
    "'(?:[sdmt]|ll|ve|re)"
    "| ?[" STRATA_L "]+"
    "| ?[" STRATA_N "]+"
    "| ?[^" STRATA_WS STRATA_L STRATA_N "]+"
    "|[" STRATA_WS "]+(?![^" STRATA_WS "])"
    "|[" STRATA_WS "]+";
// clang-format on

#undef STRATA_WS
#undef STRATA_L
#undef STRATA_N

std::vector<std::string> pretokenize_regex(std::string_view text) {
  check(is_valid_utf8(text), "pretokenize_regex: invalid UTF-8 at byte {}; hint: repair_utf8 the text first",
        find_invalid_utf8(text));
  static const boost::u32regex pattern = boost::make_u32regex(kGpt2PatternBoost);
  std::vector<std::string> pieces;
  const char* begin = text.data();
  const char* end = begin + text.size();
  const char* expected = begin;  // where the next match must start: the pieces tile the text
  using Iterator = boost::u32regex_iterator<const char*>;
  for (Iterator it(begin, end, pattern); it != Iterator(); ++it) {
    const char* first = (*it)[0].first;
    const char* last = (*it)[0].second;
    check(first == expected && last > first, "pretokenize_regex: no match at byte {} of {}", expected - begin,
          text.size());
    pieces.emplace_back(first, last);
    expected = last;
  }
  check(expected == end, "pretokenize_regex: no match at byte {} of {}", expected - begin, text.size());
  return pieces;
}

}  // namespace strata::bpe

// unicode_class.h: the four character classes the GPT-2 pre-tokenization pattern distinguishes.
//
//   letter  \p{L}  general categories Lu Ll Lt Lm Lo
//   number  \p{N}  general categories Nd Nl No
//   space   \s     Python `regex` (and Rust `regex`, used by tiktoken) take the Unicode White_Space
//                  property: TAB LF VT FF CR SPACE U+0085 U+00A0 U+1680 U+2000..U+200A U+2028
//                  U+2029 U+202F U+205F U+3000. (Not U+001C..U+001F, which Python's `re`, ICU's
//                  u_isspace and Boost's \s also count.)
//   other   everything else, including unassigned code points and invalid UTF-8.
// The classes are disjoint. Non-ASCII code points are looked up in a two-level table built once
// from ICU (Unicode 15.0 with ICU 72, the version of Debian 12's python3-regex).
#pragma once

#include <array>
#include <cstdint>

namespace strata::bpe {

enum class CharClass : uint8_t { letter, number, space, other };

namespace detail {

constexpr std::array<CharClass, 128> make_ascii_classes() {
  std::array<CharClass, 128> classes{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      classes[c] = CharClass::letter;
    } else if (c >= '0' && c <= '9') {
      classes[c] = CharClass::number;
    } else if (c == ' ' || (c >= '\t' && c <= '\r')) {
      classes[c] = CharClass::space;
    } else {
      classes[c] = CharClass::other;
    }
  }
  return classes;
}
inline constexpr std::array<CharClass, 128> kAsciiClass = make_ascii_classes();

// Class of a code point >= 128 (table lookup; the table is built on first use, thread-safely).
CharClass unicode_class(char32_t cp);

}  // namespace detail

// The class of code point `cp`; values above U+10FFFF (e.g. kInvalidSequence) are `other`.
inline CharClass char_class(char32_t cp) { return cp < 128 ? detail::kAsciiClass[cp] : detail::unicode_class(cp); }

}  // namespace strata::bpe

// utf8.h: decoding, checking and repairing UTF-8.
//
// Well-formed UTF-8 (Unicode 15, table 3-7) encodes a code point in 1 to 4 bytes:
//   U+0000..U+007F     0xxxxxxx
//   U+0080..U+07FF     110xxxxx 10xxxxxx                      (lead C2..DF)
//   U+0800..U+FFFF     1110xxxx 10xxxxxx 10xxxxxx             (lead E0..EF; no surrogates D800..DFFF)
//   U+10000..U+10FFFF  11110xxx 10xxxxxx 10xxxxxx 10xxxxxx    (lead F0..F4)
// The second byte of E0, ED, F0 and F4 sequences has a narrower range (no overlong forms, no
// surrogates, nothing above U+10FFFF).
//
// Invalid input is repaired the way Python's bytes.decode("utf-8", errors="replace") does it (the
// Unicode "maximal subpart" practice): each maximal prefix of a well-formed sequence that cannot be
// completed, and each byte that cannot start one, becomes one U+FFFD REPLACEMENT CHARACTER.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strata::bpe {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// What decode_utf8 stores for an invalid sequence: above U+10FFFF, so no character has it.
inline constexpr char32_t kInvalidSequence = 0x110000;

// Decodes the code point that starts at p (p < end) into `cp` and returns its length in bytes.
// On invalid input `cp` is kInvalidSequence and the length is that of the maximal subpart (>= 1).
inline int decode_utf8(const unsigned char* p, const unsigned char* end, char32_t& cp) {
  const unsigned lead = p[0];
  if (lead < 0x80) {
    cp = lead;
    return 1;
  }
  int continuation;    // bytes after the lead
  unsigned lo = 0x80;  // allowed range of the second byte
  unsigned hi = 0xBF;
  char32_t value;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation = 1;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation = 2;
    value = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;  // no overlong 3-byte forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation = 3;
    value = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;  // no overlong 4-byte forms
    if (lead == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    cp = kInvalidSequence;  // 80..C1 or F5..FF cannot start a sequence
    return 1;
  }
  int length = 1;
  for (int k = 0; k < continuation; ++k, ++length) {
    if (p + length >= end || p[length] < lo || p[length] > hi) {
      cp = kInvalidSequence;
      return length;
    }
    value = (value << 6) | (p[length] & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  cp = value;
  return length;
}

// Byte offset of the first invalid sequence, or std::string_view::npos when `text` is valid.
size_t find_invalid_utf8(std::string_view text);
inline bool is_valid_utf8(std::string_view text) { return find_invalid_utf8(text) == std::string_view::npos; }

// `text` with every invalid maximal subpart replaced by U+FFFD (bytes EF BF BD).
std::string repair_utf8(std::string_view text);

// Calls f(valid) with `text` itself when it is valid UTF-8, else with repair_utf8(text).
template <class F>
decltype(auto) with_valid_utf8(std::string_view text, F&& f) {
  if (is_valid_utf8(text)) return f(text);
  const std::string repaired = repair_utf8(text);
  return f(std::string_view(repaired));
}

// Appends the UTF-8 encoding of `cp` (a Unicode scalar value) to `out`.
void append_utf8(std::string& out, char32_t cp);

}  // namespace strata::bpe

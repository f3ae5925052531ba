// utf8.cpp: validity check and repair of UTF-8 (see utf8.h for the rules).
#include "bpe/utf8.h"

#include <cstdint>
#include <cstring>

namespace strata::bpe {

namespace {

// True when the 8 bytes at p are all ASCII: the common case, checked a word at a time.
bool ascii_word(const unsigned char* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return (word & 0x8080808080808080ULL) == 0;
}

}  // namespace

size_t find_invalid_utf8(std::string_view text) {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  const auto* p = begin;
  while (p < end) {
    if (end - p >= 8 && ascii_word(p)) {
      p += 8;
      continue;
    }
    char32_t cp;
    const int length = decode_utf8(p, end, cp);
    if (cp == kInvalidSequence) return static_cast<size_t>(p - begin);
    p += length;
  }
  return std::string_view::npos;
}

std::string repair_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    char32_t cp;
    const int length = decode_utf8(p, end, cp);
    if (cp == kInvalidSequence) {
      append_utf8(out, kReplacementChar);
    } else {
      out.append(reinterpret_cast<const char*>(p), length);
    }
    p += length;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace strata::bpe

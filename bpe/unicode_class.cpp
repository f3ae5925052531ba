// unicode_class.cpp: the two-level class table for non-ASCII code points, built from ICU.
//
// The 0x110000 code points are cut into 4352 blocks of 256. Most blocks are uniform (all `other`,
// all `letter` in CJK ...), so identical blocks are stored once: `block_of[cp >> 8]` names a block
// and `classes[block * 256 + (cp & 255)]` holds the class. 127 distinct blocks: 41 KB in all.
#include "bpe/unicode_class.h"

#include <unicode/uchar.h>

#include <map>
#include <vector>

namespace strata::bpe::detail {

namespace {

constexpr char32_t kCodePoints = 0x110000;
constexpr int kBlockBits = 8;
constexpr int kBlockSize = 1 << kBlockBits;

CharClass icu_class(char32_t cp) {
  if (u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE)) return CharClass::space;
  switch (u_charType(static_cast<UChar32>(cp))) {
    case U_UPPERCASE_LETTER:
    case U_LOWERCASE_LETTER:
    case U_TITLECASE_LETTER:
    case U_MODIFIER_LETTER:
    case U_OTHER_LETTER:
      return CharClass::letter;
    case U_DECIMAL_DIGIT_NUMBER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
      return CharClass::number;
    default:
      return CharClass::other;
  }
}

struct ClassTable {
  std::vector<uint16_t> block_of;  // (kCodePoints / kBlockSize)
  std::vector<CharClass> classes;  // (distinct blocks * kBlockSize)

  ClassTable() {
    std::map<std::vector<CharClass>, uint16_t> seen;
    std::vector<CharClass> block(kBlockSize);
    for (char32_t first = 0; first < kCodePoints; first += kBlockSize) {
      for (int k = 0; k < kBlockSize; ++k) block[k] = icu_class(first + k);
      auto [it, inserted] = seen.try_emplace(block, static_cast<uint16_t>(seen.size()));
      if (inserted) classes.insert(classes.end(), block.begin(), block.end());
      block_of.push_back(it->second);
    }
  }
};

const ClassTable& table() {
  static const ClassTable instance;
  return instance;
}

}  // namespace

CharClass unicode_class(char32_t cp) {
  if (cp >= kCodePoints) return CharClass::other;
  const ClassTable& t = table();
  return t.classes[(static_cast<size_t>(t.block_of[cp >> kBlockBits]) << kBlockBits) | (cp & (kBlockSize - 1))];
}

}  // namespace strata::bpe::detail

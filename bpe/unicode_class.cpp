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

// The class of a general category. White_Space is a property, not a category; every White_Space
// character is a control (Cc: TAB LF VT FF CR U+0085) or a separator (Zs Zl Zp), checked one by one.
CharClass category_class(int8_t category) {
  switch (category) {
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

bool may_be_white_space(int8_t category) {
  return category == U_CONTROL_CHAR || category == U_SPACE_SEPARATOR || category == U_LINE_SEPARATOR ||
         category == U_PARAGRAPH_SEPARATOR;
}

struct ClassTable {
  std::vector<uint16_t> block_of;  // (kCodePoints / kBlockSize)
  std::vector<CharClass> classes;  // (distinct blocks * kBlockSize)

  ClassTable() {
    // Every code point's class, from ICU's ranges of equal general category.
    std::vector<CharClass> all(kCodePoints, CharClass::other);
    u_enumCharTypes(
        [](const void* context, UChar32 start, UChar32 limit, UCharCategory category) -> UBool {
          auto& all = *static_cast<std::vector<CharClass>*>(const_cast<void*>(context));
          for (UChar32 cp = start; cp < limit; ++cp) {
            const bool space = may_be_white_space(category) && u_hasBinaryProperty(cp, UCHAR_WHITE_SPACE);
            all[cp] = space ? CharClass::space : category_class(category);
          }
          return true;
        },
        &all);
    // Identical blocks stored once.
    std::map<std::vector<CharClass>, uint16_t> seen;
    for (char32_t first = 0; first < kCodePoints; first += kBlockSize) {
      std::vector<CharClass> block(all.begin() + first, all.begin() + first + kBlockSize);
      auto [it, inserted] = seen.try_emplace(std::move(block), static_cast<uint16_t>(seen.size()));
      if (inserted) classes.insert(classes.end(), it->first.begin(), it->first.end());
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

// test_unicode_class.cpp: the letter/number/space/other class of every code point equals what
// Python's `regex` module matches with \p{L}, \p{N} and \s (tests/fixtures/bpe/unicode_classes.json).
#include "bpe/unicode_class.h"

#include "bpe/utf8.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vector>

using namespace strata::bpe;
using namespace strata::bpe::testing;

TEST_CASE("char_class agrees with Python regex on all 0x110000 code points") {
  const auto golden = nlohmann::json::parse(read_file(fixture("unicode_classes.json")));
  std::vector<CharClass> expected(0x110000, CharClass::other);
  const std::pair<const char*, CharClass> classes[] = {
      {"letter", CharClass::letter}, {"number", CharClass::number}, {"space", CharClass::space}};
  for (const auto& [name, cls] : classes) {
    for (const auto& range : golden[name]) {
      for (char32_t cp = range[0].get<char32_t>(); cp <= range[1].get<char32_t>(); ++cp) expected[cp] = cls;
    }
  }
  int mismatches = 0;
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;  // surrogates never come out of valid UTF-8
    if (char_class(cp) != expected[cp] && ++mismatches <= 10) {
      FAIL_CHECK(fmt::format("U+{:04X}: class {} expected {}", static_cast<uint32_t>(cp),
                             static_cast<int>(char_class(cp)), static_cast<int>(expected[cp])));
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("char_class: spot checks, and invalid input is `other`") {
  CHECK(char_class(U'a') == CharClass::letter);
  CHECK(char_class(U'中') == CharClass::letter);
  CHECK(char_class(U'٣') == CharClass::number);  // Arabic-Indic digit (Nd)
  CHECK(char_class(U'Ⅻ') == CharClass::number);  // Roman numeral (Nl)
  CHECK(char_class(U'½') == CharClass::number);  // vulgar fraction (No)
  CHECK(char_class(U'\u3000') == CharClass::space);
  CHECK(char_class(U'\u0085') == CharClass::space);
  CHECK(char_class(U'\x1c') == CharClass::other);    // \s in Python's re and ICU, not in regex
  CHECK(char_class(U'\u200b') == CharClass::other);  // zero width space is not White_Space
  CHECK(char_class(U'\u0301') == CharClass::other);  // combining mark
  CHECK(char_class(kReplacementChar) == CharClass::other);
  CHECK(char_class(kInvalidSequence) == CharClass::other);
}

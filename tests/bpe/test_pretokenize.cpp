// test_pretokenize.cpp: the hand-written GPT-2 pre-tokenizer against Python's `regex` (goldens)
// and against the Boost.Regex reference (differential test on random strings), and the
// invalid-UTF-8 policy.
#include "bpe/pretokenize.h"

#include "bpe/error.h"
#include "bpe/pretokenize_regex.h"
#include "bpe/utf8.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <random>

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

std::vector<std::string> fast_pieces(std::string_view text) {
  std::vector<std::string> pieces;
  for (std::string_view piece : pretokenize(text)) pieces.emplace_back(piece);
  return pieces;
}

using Pieces = std::vector<std::string>;

}  // namespace

TEST_CASE("pretokenize: the six rules of the GPT-2 pattern (expected pieces from Python regex)") {
  const std::vector<std::pair<std::string, Pieces>> cases = {
      {"Hello, world!", {"Hello", ",", " world", "!"}},
      {"I'll don't", {"I", "'ll", " don", "'t"}},  // rule 1: contractions, lower case only
      {"It'S", {"It", "'", "S"}},
      {"'s's", {"'s", "'s"}},
      {" 's", {" '", "s"}},                              // a space then "other": rule 4
      {"123abc", {"123", "abc"}},                        // runs of one class
      {" \u0661\u0662\u0663", {" \u0661\u0662\u0663"}},  // optional space + numbers
      {"hi!?", {"hi", "!?"}},
      {"a  b", {"a", " ", " b"}},          // rule 5 leaves the last space to " b"
      {"a\n\nb", {"a", "\n", "\n", "b"}},  // rule 5, then rule 6 for the last "\n"
      {"\r\n\r\nX", {"\r\n\r", "\n", "X"}},
      {"x\t y", {"x", "\t", " y"}},
      {"a   ", {"a", "   "}},  // a whitespace run at the end is whole
      {" \n", {" \n"}},
      {"  \u3000x", {"  ", "\u3000", "x"}},  // U+3000 is whitespace but not " "
      {"a \u00a0b", {"a", " ", "\u00a0", "b"}},
      {"", {}},
  };
  for (const auto& [text, expected] : cases) {
    INFO("text: '", text, "'");
    CHECK(fast_pieces(text) == expected);
    CHECK(pretokenize_regex(text) == expected);
  }
}

TEST_CASE("pretokenize equals Python regex.findall on 1500 golden random strings") {
  const auto golden = nlohmann::json::parse(read_file(fixture("pretokenize_golden.json")));
  REQUIRE(golden["cases"].size() == 1500);
  for (const auto& c : golden["cases"]) {
    const std::string text = c["text"].get<std::string>();
    INFO("text (hex): ", to_hex(text));
    CHECK(fast_pieces(text) == c["pieces"].get<Pieces>());
  }
}

TEST_CASE("pretokenize equals the Boost.Regex reference on 20000 random strings") {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    const std::string text = random_text(rng, 40);
    INFO("text (hex): ", to_hex(text));
    REQUIRE(fast_pieces(text) == pretokenize_regex(text));
  }
}

TEST_CASE("pretokenize equals the Boost.Regex reference on the CS336 texts") {
  for (const char* name : {"corpus.en", "tinystories_sample.txt", "german.txt", "address.txt"}) {
    const std::string text = read_file(fixture(name));
    INFO(name);
    CHECK(fast_pieces(text) == pretokenize_regex(text));
  }
}

// Policy: invalid UTF-8 is replaced by U+FFFD (as Python's errors="replace") before pre-tokenizing
// (the trainer and the tokenizer call repair_utf8). The pre-tokenizer itself never crashes on raw
// invalid bytes: it treats each invalid maximal subpart as one `other` character, like the U+FFFD
// that replaces it, so raw and repaired text have the same pieces up to that replacement.
TEST_CASE("pretokenize on invalid UTF-8: never crashes, same pieces as the repaired text") {
  std::mt19937 rng(11);
  for (int i = 0; i < 5000; ++i) {
    const std::string raw = corrupt(rng, random_text(rng, 30), 1 + i % 4);
    const std::string repaired = repair_utf8(raw);
    INFO("raw (hex): ", to_hex(raw));
    Pieces raw_repaired;
    std::string joined;
    for (std::string_view piece : pretokenize(raw)) {
      raw_repaired.push_back(repair_utf8(piece));
      joined += piece;
    }
    REQUIRE(joined == raw);  // the pieces tile the input
    REQUIRE(raw_repaired == fast_pieces(repaired));
    REQUIRE(fast_pieces(repaired) == pretokenize_regex(repaired));
  }
  CHECK(fast_pieces(repair_utf8("a\xff"
                                "b")) == Pieces{"a", "\xef\xbf\xbd", "b"});
  CHECK(fast_pieces(repair_utf8(" \xe2\x82!")) == Pieces{" \xef\xbf\xbd!"});
}

TEST_CASE("pretokenize_regex refuses invalid UTF-8 with the byte offset") {
  CHECK_THROWS_WITH_AS(pretokenize_regex("ab\xff"), doctest::Contains("invalid UTF-8 at byte 2"), BpeError);
}

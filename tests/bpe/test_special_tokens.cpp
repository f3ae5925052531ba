// test_special_tokens.cpp: leftmost-longest matching of special tokens.
#include "bpe/special_tokens.h"

#include "bpe/error.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace strata::bpe;

namespace {

// The text split into stretches and "[index]" markers for matches.
std::vector<std::string> parts(const SpecialTokens& specials, std::string_view text) {
  std::vector<std::string> out;
  specials.split(
      text, [&](std::string_view t) { out.emplace_back(t); },
      [&](int index) { out.push_back(fmt::format("[{}]", index)); });
  return out;
}

}  // namespace

TEST_CASE("SpecialTokens: leftmost match, longest at the same position") {
  const SpecialTokens specials({"<|endoftext|>", "<|endoftext|><|endoftext|>"});
  CHECK(parts(specials, "a<|endoftext|>b") == std::vector<std::string>{"a", "[0]", "b"});
  CHECK(parts(specials, "a<|endoftext|><|endoftext|>b") == std::vector<std::string>{"a", "[1]", "b"});
  CHECK(parts(specials, "<|endoftext|><|endoftext|><|endoftext|>") == std::vector<std::string>{"[1]", "[0]"});
  CHECK(parts(specials, "<|endoftext|") == std::vector<std::string>{"<|endoftext|"});
  CHECK(parts(specials, "") == std::vector<std::string>{});
  // Leftmost wins over longest: "ab" starts before "bcd".
  const SpecialTokens overlapping({"bcd", "ab"});
  CHECK(parts(overlapping, "xabcd") == std::vector<std::string>{"x", "[1]", "cd"});
  CHECK(parts(overlapping, "xbcd") == std::vector<std::string>{"x", "[0]"});
}

TEST_CASE("SpecialTokens: no tokens, and tokens with different first bytes") {
  CHECK(parts(SpecialTokens(), "a<|endoftext|>b") == std::vector<std::string>{"a<|endoftext|>b"});
  const SpecialTokens specials({"[SEP]", "<s>", "\n\n"});
  CHECK(parts(specials, "a<s>b[SEP]c\n\nd") == std::vector<std::string>{"a", "[1]", "b", "[0]", "c", "[2]", "d"});
  const SpecialTokens::Match m = specials.find("xx<s>", 0);
  CHECK(m.pos == 2);
  CHECK(m.index == 1);
  CHECK(m.length == 3);
  CHECK(specials.find("xx<s>", 3).pos == SpecialTokens::npos);
  CHECK(specials.max_length() == 5);
}

TEST_CASE("SpecialTokens: bad tokens are refused with the token named") {
  CHECK_THROWS_WITH_AS(SpecialTokens({"<a>", "<a>"}), "SpecialTokens: special token '<a>' is given twice", BpeError);
  CHECK_THROWS_WITH_AS(SpecialTokens({""}), "SpecialTokens: a special token is empty", BpeError);
  CHECK_THROWS_WITH_AS(SpecialTokens({"<\xff>"}), doctest::Contains("is not valid UTF-8 (byte 1)"), BpeError);
}

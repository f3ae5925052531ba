// test_utf8.cpp: decoding, validity and the U+FFFD repair policy, against Python's
// bytes.decode("utf-8", "replace") (tests/fixtures/bpe/utf8_repair_golden.json).
#include "bpe/utf8.h"

#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

char32_t decode_one(std::string_view bytes, int& length) {
  char32_t cp;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  length = decode_utf8(p, p + bytes.size(), cp);
  return cp;
}

}  // namespace

TEST_CASE("decode_utf8: one to four bytes, and the maximal subpart of invalid input") {
  int length = 0;
  CHECK(decode_one("A", length) == U'A');
  CHECK(length == 1);
  CHECK(decode_one("\xc3\xa9", length) == U'é');
  CHECK(length == 2);
  CHECK(decode_one("\xe2\x82\xac", length) == U'€');
  CHECK(length == 3);
  CHECK(decode_one("\xf0\x9f\x99\x83", length) == U'🙃');
  CHECK(length == 4);
  CHECK(decode_one("\xef\xbf\xbd", length) == kReplacementChar);  // a real U+FFFD is valid
  CHECK(length == 3);
  // Invalid: the length is that of the maximal prefix of a well-formed sequence.
  CHECK(decode_one("\xe2\x82"
                   "A",
                   length) == kInvalidSequence);
  CHECK(length == 2);
  CHECK(decode_one("\xf0\x9f\x99", length) == kInvalidSequence);  // truncated at the end
  CHECK(length == 3);
  CHECK(decode_one("\xc0\xaf", length) == kInvalidSequence);  // overlong lead
  CHECK(length == 1);
  CHECK(decode_one("\xed\xa0\x80", length) == kInvalidSequence);  // surrogate
  CHECK(length == 1);
  CHECK(decode_one("\xf4\x90\x80\x80", length) == kInvalidSequence);  // above U+10FFFF
  CHECK(length == 1);
  CHECK(decode_one("\x80", length) == kInvalidSequence);
  CHECK(length == 1);
}

TEST_CASE("append_utf8 and decode_utf8 round-trip every scalar value") {
  for (char32_t cp = 0; cp < 0x110000; ++cp) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    std::string bytes;
    append_utf8(bytes, cp);
    int length = 0;
    REQUIRE(decode_one(bytes, length) == cp);
    REQUIRE(length == static_cast<int>(bytes.size()));
  }
}

TEST_CASE("find_invalid_utf8 gives the byte offset of the first invalid sequence") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII text that is longer than eight bytes"));
  CHECK(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x99\x83"));
  CHECK(find_invalid_utf8("abcdefghij\xffxyz") == 10);
  CHECK(find_invalid_utf8("caf\xe9") == 3);
  CHECK(find_invalid_utf8("\xe2\x82") == 0);
}

TEST_CASE("repair_utf8 equals Python's decode(errors='replace') on the golden cases") {
  const auto golden = nlohmann::json::parse(read_file(fixture("utf8_repair_golden.json")));
  REQUIRE(golden["cases"].size() > 200);
  for (const auto& c : golden["cases"]) {
    const std::string bytes = from_hex(c["bytes"].get<std::string>());
    const std::string expected = from_hex(c["repaired"].get<std::string>());
    INFO("bytes: ", c["bytes"].get<std::string>());
    CHECK(to_hex(repair_utf8(bytes)) == to_hex(expected));
    CHECK(is_valid_utf8(bytes) == (bytes == expected));
  }
}

// test_hash_map.cpp: StringMap and PairMap against std::map on many keys, and bytes_equal at every
// length and difference position around its word-load cases.
#include "bpe/hash_map.h"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace strata::bpe;

TEST_CASE("bytes_equal: every length 0..40, a difference at every position") {
  std::string a(40, 'x');
  for (size_t n = 0; n <= 40; ++n) {
    for (size_t i = 0; i < 40; ++i) a[i] = static_cast<char>('a' + i % 26);
    std::string b = a;
    REQUIRE(bytes_equal(a.data(), b.data(), n));
    for (size_t at = 0; at < n; ++at) {
      b[at] ^= 0x20;
      INFO("n ", n, " difference at ", at);
      REQUIRE(!bytes_equal(a.data(), b.data(), n));
      b[at] ^= 0x20;
    }
    b[n < 40 ? n : 39] = '!';  // a difference just past the range does not count
    if (n < 40) REQUIRE(bytes_equal(a.data(), b.data(), n));
  }
}

TEST_CASE("StringMap: same contents as std::map through growth and clear") {
  std::mt19937 rng(37);
  StringMap<int64_t> map;
  std::map<std::string, int64_t> reference;
  for (int i = 0; i < 200000; ++i) {
    std::string key(rng() % 24, '\0');  // many short keys that share prefixes, and the empty key
    for (char& c : key) c = static_cast<char>('a' + rng() % 3);
    map.get_or_insert(key, 0) += i;
    reference[key] += i;
  }
  REQUIRE(map.size() == reference.size());
  for (const auto& [key, value] : reference) {
    const int64_t* found = map.find(key);
    REQUIRE(found != nullptr);
    CHECK(*found == value);
  }
  CHECK(map.find("zzz") == nullptr);
  for (const auto& e : map.entries()) CHECK(reference.at(std::string(map.key(e))) == e.value);
  map.clear();
  CHECK(map.size() == 0);
  CHECK(map.find("a") == nullptr);
  map.get_or_insert("a", 5);
  CHECK(*map.find("a") == 5);
}

TEST_CASE("PairMap: pairs of ids as keys") {
  PairMap<int32_t> map;
  for (int32_t a = 0; a < 300; ++a) {
    for (int32_t b = 0; b < 300; b += 7) map.get_or_insert(pair_key(a, b), a * 1000 + b);
  }
  CHECK(map.size() == 300 * 43);
  CHECK(*map.find(pair_key(12, 35)) == 12035);
  CHECK(map.find(pair_key(35, 12)) == nullptr);  // order matters
  CHECK(map.find(pair_key(12, 36)) == nullptr);
  CHECK(map.get_or_insert(pair_key(1, 7), -1) == 1007);  // existing keys keep their value
}

// test_chunking.cpp: safe cuts never change the pieces; block cutting and parallel splitting keep
// every byte in order.
#include "bpe/chunking.h"

#include "bpe/error.h"
#include "bpe/pretokenize.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

// What training and encoding see: pre-tokens, and "[i]" for special token i.
std::vector<std::string> pieces(const SpecialTokens& specials, std::string_view text) {
  std::vector<std::string> out;
  specials.split(
      text, [&](std::string_view t) { for_each_pretoken(t, [&](std::string_view p) { out.emplace_back(p); }); },
      [&](int index) { out.push_back(fmt::format("[{}]", index)); });
  return out;
}

std::vector<std::string> pieces_of_parts(const SpecialTokens& specials, const std::vector<std::string_view>& parts) {
  std::vector<std::string> out;
  for (std::string_view part : parts) {
    const auto p = pieces(specials, part);
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

// Random text with special tokens (and pieces of them) mixed in.
std::string random_text_with_specials(std::mt19937& rng) {
  static const char* extras[] = {"<|endoftext|>",
                                 "<|endoftext|><|endoftext|>",
                                 "<|endoftext|",
                                 "<|pad|>",
                                 " <|pad|>",
                                 "\n<|endoftext|>\n",
                                 "xyz",
                                 "xy",
                                 "<",
                                 "|"};
  std::string text;
  const int n = 1 + static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) {
    text += random_text(rng, 12);
    if (rng() % 2 == 0) text += extras[rng() % std::size(extras)];
  }
  return text;
}

const std::vector<std::vector<std::string>> kSpecialSets = {
    {}, {"<|endoftext|>"}, {"<|endoftext|>", "<|endoftext|><|endoftext|>", "<|pad|>", "xyz"}, {" <|pad|>", "y"}};

}  // namespace

TEST_CASE("last_safe_cut: cutting there never changes the pieces, whatever follows") {
  std::mt19937 rng(3);
  int cuts_found = 0;
  for (const auto& tokens : kSpecialSets) {
    const SpecialTokens specials(tokens);
    for (int i = 0; i < 3000; ++i) {
      const std::string text = random_text_with_specials(rng);
      const auto whole = pieces(specials, text);
      // Cut a prefix of the text as if only that much had arrived so far.
      const size_t seen = std::uniform_int_distribution<size_t>(0, text.size())(rng);
      const size_t cut = last_safe_cut(std::string_view(text).substr(0, seen), specials);
      if (cut == 0) continue;
      ++cuts_found;
      INFO("text (hex): ", to_hex(text), " seen ", seen, " cut ", cut);
      REQUIRE(cut < seen);
      const std::string_view view(text);
      REQUIRE(pieces_of_parts(specials, {view.substr(0, cut), view.substr(cut)}) == whole);
    }
  }
  CHECK(cuts_found > 5000);  // most random prefixes have a safe cut
}

TEST_CASE("last_safe_cut: finds none inside whitespace runs or too close to the end") {
  const SpecialTokens none;
  CHECK(last_safe_cut("abc", none) == 0);
  CHECK(last_safe_cut("ab c", none) == 2);
  CHECK(last_safe_cut("ab  \n\n", none) == 2);         // never inside the run
  CHECK(last_safe_cut("\u4e2d\u3000x y", none) == 7);  // U+3000 is not an ASCII cut point
  const SpecialTokens eot({"<|endoftext|>"});
  // A match is a cut only when 13 bytes (the longest token) fit after its start.
  CHECK(last_safe_cut("ab<|endoftext|>", eot) == 2);
  CHECK(last_safe_cut("ab<|endoftext|", eot) == 0);
  CHECK(last_safe_cut("a b<|endoftext|>cd", eot) == 3);
}

TEST_CASE("split_at_safe_cuts: parts tile the text and keep its pieces") {
  std::mt19937 rng(5);
  for (const auto& tokens : kSpecialSets) {
    const SpecialTokens specials(tokens);
    for (int i = 0; i < 500; ++i) {
      std::string text;
      for (int k = 0; k < 8; ++k) text += random_text_with_specials(rng);
      for (int parts = 1; parts <= 5; ++parts) {
        const auto split = split_at_safe_cuts(text, parts, specials);
        REQUIRE(split.size() <= static_cast<size_t>(parts));
        std::string joined;
        for (std::string_view part : split) joined += part;
        REQUIRE(joined == text);
        REQUIRE(pieces_of_parts(specials, split) == pieces(specials, text));
      }
    }
  }
}

TEST_CASE("BlockCutter: blocks of about block_bytes, ending at safe cuts, in order") {
  std::mt19937 rng(9);
  const SpecialTokens specials({"<|endoftext|>"});
  std::string text;
  while (text.size() < 200000) text += random_text_with_specials(rng);
  std::vector<std::string> blocks;
  BlockCutter cutter(specials, 4096, [&](std::string_view block) { blocks.emplace_back(block); });
  for (size_t at = 0; at < text.size();) {  // slices of random size, as reads or lines arrive
    const size_t n = std::min<size_t>(text.size() - at, rng() % 3000);
    cutter.push(std::string_view(text).substr(at, n));
    at += n;
  }
  cutter.finish();
  CHECK(blocks.size() > 30);
  std::string joined;
  for (const auto& b : blocks) joined += b;
  REQUIRE(joined == text);
  std::vector<std::string_view> views(blocks.begin(), blocks.end());
  CHECK(pieces_of_parts(specials, views) == pieces(specials, text));
}

TEST_CASE("for_each_file_block: reads a file in blocks; a missing file is an error") {
  const std::string path = temp_path("blocks.txt");
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "word " + std::to_string(i) + (i % 50 == 0 ? "<|endoftext|>\n" : " ");
  write_file(path, text);
  const SpecialTokens specials({"<|endoftext|>"});
  std::string joined;
  uint64_t last_done = 0, last_total = 0;
  int blocks = 0;
  for_each_file_block(
      path, specials, 1000, [&](std::string_view block) { joined += block, ++blocks; },
      [&](uint64_t done, uint64_t total) { last_done = done, last_total = total; });
  CHECK(joined == text);
  CHECK(blocks > 20);
  CHECK(last_done == text.size());
  CHECK(last_total == text.size());
  std::remove(path.c_str());
  CHECK_THROWS_WITH_AS(for_each_file_block("/nonexistent/x.txt", specials, 100, [](std::string_view) {}),
                       "read '/nonexistent/x.txt': cannot open: No such file or directory", BpeError);
}

TEST_CASE("run_parallel: each task runs once, and a task's exception reaches the caller") {
  std::vector<int> runs(5, 0);
  run_parallel(5, [&](int k) { ++runs[k]; });
  CHECK(runs == std::vector<int>(5, 1));
  CHECK_THROWS_WITH_AS(run_parallel(3, [](int k) { check(k != 2, "task {} failed", k); }), "task 2 failed", BpeError);
  run_parallel(0, [](int) { FAIL("no task expected"); });
}

// test_train.cpp: the trainer reproduces CS336's reference merges and agrees with a plain,
// obviously correct trainer on random corpora; thread counts and block sizes do not matter.
#include "bpe/train.h"

#include "bpe/error.h"
#include "bpe/pretokenize_regex.h"
#include "bpe/tokenizer.h"
#include "bpe/utf8.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <set>

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

// The textbook algorithm, quadratic and independent of the fast code: words by the Boost regex,
// special tokens split by brute force, all pair counts recounted from scratch after each merge.
BpeModel plain_train(const std::string& raw, int vocab_size, const std::vector<std::string>& specials) {
  const std::string text = repair_utf8(raw);
  std::map<std::string, int64_t> word_counts;
  std::string segment;
  auto flush = [&] {
    for (const std::string& piece : pretokenize_regex(segment)) ++word_counts[piece];
    segment.clear();
  };
  for (size_t i = 0; i < text.size();) {
    size_t longest = 0;
    for (const std::string& s : specials) {
      if (text.compare(i, s.size(), s) == 0) longest = std::max(longest, s.size());
    }
    if (longest > 0) {
      flush();
      i += longest;
    } else {
      segment += text[i++];
    }
  }
  flush();

  BpeModel model;
  for (int b = 0; b < 256; ++b) model.vocab.emplace_back(1, static_cast<char>(b));
  for (const std::string& s : specials) model.vocab.push_back(s);
  std::vector<std::pair<std::vector<std::string>, int64_t>> words;
  for (const auto& [word, count] : word_counts) words.emplace_back(byte_tokens(word), count);
  while (static_cast<int>(model.vocab.size()) < vocab_size) {
    std::map<std::pair<std::string, std::string>, int64_t> pair_counts;
    for (const auto& [tokens, count] : words) {
      for (size_t i = 0; i + 1 < tokens.size(); ++i) pair_counts[{tokens[i], tokens[i + 1]}] += count;
    }
    if (pair_counts.empty()) break;
    auto best = pair_counts.begin();
    for (auto it = pair_counts.begin(); it != pair_counts.end(); ++it) {
      if (std::tie(it->second, it->first) > std::tie(best->second, best->first)) best = it;
    }
    const auto [a, b] = best->first;
    model.merges.emplace_back(a, b);
    model.vocab.push_back(a + b);
    for (auto& [tokens, count] : words) tokens = merge_pair(tokens, a, b);
  }
  return model;
}

Merges read_hex_merges(const std::string& path) {
  Merges merges;
  std::istringstream in(read_file(path));
  std::string a, b;
  while (in >> a >> b) merges.emplace_back(from_hex(a), from_hex(b));
  return merges;
}

std::set<std::string> read_hex_vocab(const std::string& path) {
  std::set<std::string> vocab;
  std::istringstream in(read_file(path));
  int id;
  std::string hex;
  while (in >> id >> hex) vocab.insert(from_hex(hex));
  return vocab;
}

std::string hex_merges(const Merges& merges) {
  std::string out;
  for (const auto& [a, b] : merges) out += to_hex(a) + " " + to_hex(b) + "\n";
  return out;
}

}  // namespace

TEST_CASE("train_bpe on corpus.en, vocab 500 + <|endoftext|>, equals the CS336 reference") {
  TrainOptions options;
  options.vocab_size = 500;
  options.special_tokens = {"<|endoftext|>"};
  TrainStats stats;
  options.stats = &stats;
  const BpeModel model = train_bpe(fixture("corpus.en"), options);
  const Merges expected = read_hex_merges(fixture("train_bpe_reference_merges.hex.txt"));
  REQUIRE(expected.size() == 243);
  CHECK(hex_merges(model.merges) == hex_merges(expected));  // in order
  CHECK(model.vocab.size() == 500);
  const std::set<std::string> vocab(model.vocab.begin(), model.vocab.end());
  CHECK(vocab.size() == 500);
  CHECK(vocab == read_hex_vocab(fixture("train_bpe_reference_vocab.hex.tsv")));  // as sets
  // Layout: bytes, then special tokens, then merges in order.
  CHECK(model.vocab[10] == "\n");
  CHECK(model.vocab[256] == "<|endoftext|>");
  CHECK(model.vocab[257] == model.merges[0].first + model.merges[0].second);
  // corpus.en has no special token: every byte is in a pre-token, and the learned merges turn the
  // text into exactly as many tokens as the tokenizer produces.
  CHECK(stats.bytes == 133027);
  CHECK(stats.distinct_pretokens > 1000);
  CHECK(stats.tokens == Tokenizer(model).encode(read_file(fixture("corpus.en"))).size());
}

TEST_CASE("train_bpe agrees with the plain trainer on random corpora") {
  std::mt19937 rng(17);
  // Small alphabets make many ties, which the lexicographic rule must break.
  const std::vector<std::string> alphabets[] = {
      {"a", "b", " a", " b", "ab", " ", "\n"},
      {"x", "y", "z", " ", "xy", "zz", "<|eot|>", "\n\n", "'s", "1", "22"},
      {"é", "ü", "日", "本", " ", "é", "ab", "\xff", "🙃", "  "},
  };
  int round = 0;
  for (const auto& alphabet : alphabets) {
    for (int trial = 0; trial < 12; ++trial, ++round) {
      std::string text;
      const int length = 50 + static_cast<int>(rng() % 400);
      for (int i = 0; i < length; ++i) text += alphabet[rng() % alphabet.size()];
      if (round % 3 == 0) text += random_text(rng, 60);
      const std::vector<std::string> specials =
          round % 2 == 0 ? std::vector<std::string>{"<|eot|>"} : std::vector<std::string>{};
      const int vocab_size = 256 + static_cast<int>(specials.size()) + 1 + static_cast<int>(rng() % 80);
      TrainOptions options;
      options.vocab_size = vocab_size;
      options.special_tokens = specials;
      options.threads = 1 + round % 3;
      const BpeModel fast = train_bpe_on_text(text, options);
      const BpeModel plain = plain_train(text, vocab_size, specials);
      INFO("round ", round, " text (hex): ", to_hex(text));
      REQUIRE(hex_merges(fast.merges) == hex_merges(plain.merges));
      REQUIRE(fast.vocab == plain.vocab);
    }
  }
}

TEST_CASE("train_bpe stops when no pair is left") {
  TrainOptions options;
  options.vocab_size = 1000;
  const BpeModel model = train_bpe_on_text("ab ab ab", options);
  // Pieces "ab", " ab", " ab": (a, b) occurs 3 times, then (' ', ab) twice; then each word is one
  // token and training stops short of 1000.
  CHECK(hex_merges(model.merges) == hex_merges({{"a", "b"}, {" ", "ab"}}));
  CHECK(model.vocab.size() == 258);
}

TEST_CASE("train_bpe: special tokens are never merged across, and never part of a merge") {
  TrainOptions options;
  options.vocab_size = 300;
  options.special_tokens = {"<|endoftext|>"};
  std::string text;
  for (int i = 0; i < 200; ++i) text += "story " + std::to_string(i % 7) + "<|endoftext|>";
  const BpeModel model = train_bpe_on_text(text, options);
  for (const auto& [a, b] : model.merges) {
    CHECK((a + b).find("<|") == std::string::npos);
    CHECK((a + b).find("|>") == std::string::npos);
  }
}

TEST_CASE("train_bpe: threads, block size and file vs text give the same model") {
  const std::string text = read_file(fixture("tinystories_sample.txt")) + read_file(fixture("german.txt")) +
                           read_file(fixture("address.txt"));
  const std::string path = temp_path("train.txt");
  write_file(path, text);
  TrainOptions options;
  options.vocab_size = 600;
  options.special_tokens = {"<|endoftext|>"};
  options.threads = 1;
  const BpeModel reference = train_bpe_on_text(text, options);
  for (int threads : {1, 2, 3, 8}) {
    for (size_t block : {size_t{64}, size_t{1000}, size_t{1} << 20}) {
      options.threads = threads;
      options.block_bytes = block;
      const BpeModel model = train_bpe(path, options);
      INFO("threads ", threads, " block ", block);
      CHECK(hex_merges(model.merges) == hex_merges(reference.merges));
      CHECK(model.vocab == reference.vocab);
    }
  }
  std::remove(path.c_str());
}

TEST_CASE("train_bpe: progress is reported for counting and merging") {
  TrainOptions options;
  options.vocab_size = 400;
  std::vector<std::string> stages;
  uint64_t counted = 0;
  options.progress = [&](std::string_view stage, uint64_t done, uint64_t) {
    if (stages.empty() || stages.back() != stage) stages.emplace_back(stage);
    if (stage == "count") counted = done;
  };
  train_bpe(fixture("corpus.en"), options);
  CHECK(stages == std::vector<std::string>{"count", "merge"});
  CHECK(counted == 133027);  // bytes of corpus.en
}

TEST_CASE("train_bpe: bad options and inputs give clear errors") {
  TrainOptions options;
  options.vocab_size = 256;
  options.special_tokens = {"<|endoftext|>"};
  CHECK_THROWS_WITH_AS(train_bpe_on_text("abc", options),
                       "train_bpe: vocab_size 256 is below the 256 single bytes + 1 special tokens = 257; hint: "
                       "ask for at least 257 tokens",
                       BpeError);
  options.vocab_size = 300;
  options.special_tokens = {"#"};
  CHECK_THROWS_WITH_AS(train_bpe_on_text("abc", options), doctest::Contains("special token '#' is a single byte"),
                       BpeError);
  options.special_tokens = {};
  CHECK_THROWS_WITH_AS(train_bpe("/nonexistent/corpus.txt", options),
                       "read '/nonexistent/corpus.txt': cannot open: No such file or directory", BpeError);
}

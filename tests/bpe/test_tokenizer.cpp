// test_tokenizer.cpp: GPT-2 ids equal tiktoken's on every CS336 tokenizer case; round trips;
// streaming and parallel file encoding equal one-shot encoding; errors.
#include "bpe/tokenizer.h"

#include "bpe/error.h"
#include "bpe/train.h"
#include "bpe/utf8.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <random>

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

// GPT-2 tokenizers by special-token list (loading one takes ~0.1 s).
const Tokenizer& gpt2(const std::vector<std::string>& specials) {
  static std::map<std::vector<std::string>, Tokenizer> cache;
  auto it = cache.find(specials);
  if (it == cache.end()) {
    it =
        cache.emplace(specials, Tokenizer::from_files(fixture("gpt2_vocab.json"), fixture("gpt2_merges.txt"), specials))
            .first;
  }
  return it->second;
}

// A tokenizer trained on the TinyStories sample (vocab 400).
const Tokenizer& small() {
  static const Tokenizer tokenizer = [] {
    TrainOptions options;
    options.vocab_size = 400;
    options.special_tokens = {"<|endoftext|>"};
    return Tokenizer(train_bpe(fixture("tinystories_sample.txt"), options));
  }();
  return tokenizer;
}

}  // namespace

TEST_CASE("encode equals tiktoken gpt2 ids on every CS336 tokenizer case, and decode inverts it") {
  const auto expected = nlohmann::json::parse(read_file(fixture("expected_ids.json")));
  REQUIRE(expected["cases"].size() == 15);
  for (const auto& c : expected["cases"]) {
    const std::string name = c["name"].get<std::string>();
    const std::vector<std::string> specials = c["special_tokens"].is_null()
                                                  ? std::vector<std::string>{}
                                                  : c["special_tokens"].get<std::vector<std::string>>();
    std::string text;
    if (c["fixture"].is_null()) {
      text = c["text"].get<std::string>();
    } else {
      const std::string path = c["fixture"].get<std::string>();
      text = read_file(fixture(path.substr(path.rfind('/') + 1)));
    }
    const Tokenizer& tokenizer = gpt2(specials);
    const std::vector<int32_t> ids = tokenizer.encode(text);
    INFO("case ", name);
    CHECK(ids == c["ids"].get<std::vector<int32_t>>());
    CHECK(tokenizer.decode(ids) == text);
    if (c.contains("added_special_ids")) {
      for (const auto& [token, id] : c["added_special_ids"].items())
        CHECK(tokenizer.token_id(token) == id.get<int32_t>());
    }
    if (c.contains("decoded_pieces") && c["decoded_pieces"].size() == ids.size()) {
      for (size_t k = 0; k < ids.size(); ++k) {
        CHECK(tokenizer.decode(std::span<const int32_t>(&ids[k], 1)) == c["decoded_pieces"][k].get<std::string>());
      }
    }
  }
}

TEST_CASE("decode(encode(s)) == s on random text; invalid UTF-8 comes back repaired") {
  std::mt19937 rng(23);
  const Tokenizer& tokenizer = gpt2({"<|endoftext|>"});
  for (int i = 0; i < 3000; ++i) {
    std::string text = random_text(rng, 50);
    if (i % 4 == 0) text += "<|endoftext|>" + random_text(rng, 10);
    INFO("text (hex): ", to_hex(text));
    REQUIRE(tokenizer.decode(tokenizer.encode(text)) == text);
    REQUIRE(small().decode(small().encode(text)) == text);
    const std::string bad = corrupt(rng, text, 2);
    REQUIRE(tokenizer.decode(tokenizer.encode(bad)) == repair_utf8(bad));
  }
}

TEST_CASE("decode: token bytes joined; a cut character becomes U+FFFD; unknown ids are errors") {
  const Tokenizer& tokenizer = gpt2({});
  const std::vector<int32_t> emoji = tokenizer.encode("🙃");  // three tokens, one character
  REQUIRE(emoji.size() == 3);
  CHECK(tokenizer.decode_bytes(emoji) == "🙃");
  CHECK(tokenizer.decode(std::span<const int32_t>(emoji).first(2)) == "\xef\xbf\xbd");
  CHECK(to_hex(tokenizer.decode_bytes(std::span<const int32_t>(emoji).first(2))) == "f09f99");
  const std::vector<int32_t> bad = {15496, 50257};
  CHECK_THROWS_WITH_AS(tokenizer.decode(bad),
                       "decode: id 50257 at position 1 is outside the vocabulary of 50257 tokens (0..50256)", BpeError);
  const std::vector<int32_t> negative = {-1};
  CHECK_THROWS_AS(tokenizer.decode(negative), BpeError);
}

TEST_CASE("encode: the piece cache changes nothing, even when it is cleared all the time") {
  const std::string text = read_file(fixture("corpus.en"));
  const Tokenizer& tokenizer = gpt2({"<|endoftext|>"});
  const std::vector<int32_t> expected = tokenizer.encode(text);
  PieceCache tiny(1024);  // cleared every few pieces
  std::vector<int32_t> ids;
  tokenizer.encode(text, tiny, ids);
  CHECK(ids == expected);
  std::vector<int32_t> uncached;  // the merge loop on each pre-token
  for (std::string_view piece : {std::string_view("Hello"), std::string_view(" world")})
    tokenizer.encode_piece(piece, uncached);
  CHECK(uncached == std::vector<int32_t>{15496, 995});
}

TEST_CASE("encode_piece: long pre-tokens (runs of one letter) merge leftmost first") {
  const Tokenizer& tokenizer = gpt2({});
  for (int n : {1, 2, 3, 4, 5, 17, 1000}) {
    const std::string run(n, 'a');
    const std::vector<int32_t> ids = tokenizer.encode(run);
    CHECK(tokenizer.decode(ids) == run);
  }
  // Ids from tiktoken's gpt2 encoding (npm tiktoken 1.0.22).
  CHECK(tokenizer.encode("aaa") == std::vector<int32_t>{46071});
  CHECK(tokenizer.encode("aaaa") == std::vector<int32_t>{24794});
  CHECK(tokenizer.encode("aaaaa") == std::vector<int32_t>{24794, 64});
  CHECK(tokenizer.encode(std::string(17, 'a')) == std::vector<int32_t>{24794, 24794, 24794, 24794, 64});
}

namespace {

// CS336's definition of encoding one pre-token: apply each merge, in the order learned, to every
// occurrence of its pair, left to right.
std::vector<std::string> merges_in_order(std::string_view piece, const BpeModel& model) {
  std::vector<std::string> tokens = byte_tokens(piece);
  for (const auto& [a, b] : model.merges) tokens = merge_pair(tokens, a, b);
  return tokens;
}

std::vector<std::string> piece_tokens(const Tokenizer& tokenizer, std::string_view piece) {
  std::vector<int32_t> ids;
  tokenizer.encode_piece(piece, ids);
  std::vector<std::string> tokens;
  for (int32_t id : ids) tokens.push_back(tokenizer.token_bytes(id));
  return tokens;
}

}  // namespace

// encode_piece has a short-piece path (up to 32 bytes) and a long-piece path; lengths on both
// sides of the switch, and far beyond it, must give the merges-in-order result.
TEST_CASE("encode_piece equals applying the merges in order, for short and long pre-tokens") {
  std::mt19937 rng(31);
  const char* syllables[] = {"the", "a", "e", "he", "t", "an", "d", "o", "ing", "s", " ", "ll", "e", "aa"};
  for (const Tokenizer* tokenizer : {&small(), &gpt2({})}) {
    const int trials = tokenizer == &small() ? 300 : 40;
    for (int i = 0; i < trials; ++i) {
      std::string piece;
      const size_t length = std::vector<size_t>{2, 5, 31, 32, 33, 34, 64, 200}[i % 8];
      while (piece.size() < length) piece += syllables[rng() % std::size(syllables)];
      piece.resize(length);
      INFO("piece '", piece, "'");
      REQUIRE(piece_tokens(*tokenizer, piece) == merges_in_order(piece, tokenizer->model()));
    }
  }
}

TEST_CASE("encode_file on 1..4 threads and encode_iterable equal encode of the whole text") {
  std::string text;
  for (const char* name : {"tinystories_sample.txt", "german.txt", "address.txt", "corpus.en"})
    text += read_file(fixture(name));
  std::mt19937 rng(29);
  for (int i = 0; i < 200; ++i) text += random_text(rng, 30) + (i % 10 == 0 ? "<|endoftext|>" : "");
  const std::string path = temp_path("encode.txt");
  write_file(path, text);
  for (const Tokenizer* tokenizer : {&gpt2({"<|endoftext|>"}), &small()}) {
    const std::vector<int32_t> expected = tokenizer->encode(text);
    for (int threads : {1, 2, 3, 4}) {
      for (size_t block : {size_t{100}, size_t{4096}, size_t{1} << 22}) {
        Tokenizer::FileOptions options;
        options.threads = threads;
        options.block_bytes = block;
        INFO("threads ", threads, " block ", block);
        CHECK(tokenizer->encode_file(path, options) == expected);
      }
    }
    // Lines, as CS336's encode_iterable takes them (each keeps its "\n").
    std::vector<std::string> lines;
    for (size_t at = 0; at < text.size();) {
      const size_t end = std::min(text.find('\n', at), text.size() - 1) + 1;
      lines.push_back(text.substr(at, end - at));
      at = end;
    }
    std::vector<int32_t> streamed;
    tokenizer->encode_iterable(
        lines, [&](std::span<const int32_t> ids) { streamed.insert(streamed.end(), ids.begin(), ids.end()); });
    CHECK(streamed == expected);
  }
  std::remove(path.c_str());
  Tokenizer::FileOptions options;
  CHECK_THROWS_WITH_AS(small().encode_file("/nonexistent/in.txt", options),
                       "read '/nonexistent/in.txt': cannot open: No such file or directory", BpeError);
}

TEST_CASE("Tokenizer: special tokens not in the vocabulary are appended; bad models are refused") {
  std::vector<std::string> vocab;
  for (int b = 0; b < 256; ++b) vocab.emplace_back(1, static_cast<char>(b));
  vocab.push_back("ab");
  const Tokenizer tokenizer(vocab, {{"a", "b"}}, {"<s>", "ab"});
  CHECK(tokenizer.vocab_size() == 258);
  CHECK(tokenizer.token_id("<s>") == 257);
  CHECK(tokenizer.token_id("ab") == 256);  // already there: keeps its id
  CHECK(tokenizer.encode("xab<s>") == std::vector<int32_t>{'x', 256, 257});

  CHECK_THROWS_WITH_AS(Tokenizer(vocab, {{"a", "c"}}),
                       "Tokenizer: merge 0 ('a' 'c'): token 'ac' is not in the vocabulary", BpeError);
  CHECK_THROWS_WITH_AS(Tokenizer(vocab, {{"a", "x"}, {"ax", "b"}}), doctest::Contains("merge 0 ('a' 'x'): token 'ax'"),
                       BpeError);
  std::vector<std::string> missing_byte(vocab.begin() + 1, vocab.end());
  CHECK_THROWS_WITH_AS(Tokenizer(missing_byte, {}), doctest::Contains("byte 0x00 is not in the vocabulary"), BpeError);
  std::vector<std::string> twice = vocab;
  twice.push_back("ab");
  CHECK_THROWS_WITH_AS(Tokenizer(twice, {}),
                       "Tokenizer: ids 256 and 257 are the same token 'ab'; hint: each byte string may appear once",
                       BpeError);
}

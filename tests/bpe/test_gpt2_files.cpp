// test_gpt2_files.cpp: the GPT-2 byte map, loading vocab.json/merges.txt (checked against the hex
// conversion of the same files), saving and loading back, and the errors on bad files.
#include "bpe/gpt2_files.h"

#include "bpe/error.h"
#include "bpe/train.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace strata::bpe;
using namespace strata::bpe::testing;

TEST_CASE("gpt2 byte map: printable bytes stand for themselves, the others count up from U+0100") {
  const auto& map = gpt2_byte_to_char();
  CHECK(map['!'] == U'!');
  CHECK(map['~'] == U'~');
  CHECK(map[0xA1] == U'¡');
  CHECK(map[0xFF] == U'ÿ');
  CHECK(map[0x00] == U'\u0100');
  CHECK(map['\n'] == U'Ċ');  // U+010A
  CHECK(map[' '] == U'Ġ');   // U+0120
  CHECK(map[0x7F] == U'ġ');  // U+0121: the 34th unprintable byte
  CHECK(map[0xAD] == U'Ń');  // U+0143: the last one
  for (int b = 0; b < 256; ++b) {
    const std::string byte(1, static_cast<char>(b));
    REQUIRE(gpt2_decode_token(gpt2_encode_token(byte)) == byte);
  }
  CHECK(gpt2_encode_token(" the\n") == "Ġthe\xc4\x8a");
  CHECK(!gpt2_decode_token("a b").has_value());  // U+0020 itself is not in the map
}

TEST_CASE("load_gpt2_files: the CS336 reference files equal their hex conversion") {
  const BpeModel model = load_gpt2_files(fixture("train-bpe-reference-vocab.json"),
                                         fixture("train-bpe-reference-merges.txt"), {"<|endoftext|>"});
  std::istringstream vocab(read_file(fixture("train_bpe_reference_vocab.hex.tsv")));
  int id;
  std::string hex;
  int entries = 0;
  while (vocab >> id >> hex) {
    REQUIRE(id < static_cast<int>(model.vocab.size()));
    CHECK(to_hex(model.vocab[id]) == hex);
    ++entries;
  }
  CHECK(entries == 500);
  CHECK(model.vocab.size() == 500);
  std::istringstream merges(read_file(fixture("train_bpe_reference_merges.hex.txt")));
  std::string a, b;
  size_t rank = 0;
  while (merges >> a >> b) {
    REQUIRE(rank < model.merges.size());
    CHECK(to_hex(model.merges[rank].first) + " " + to_hex(model.merges[rank].second) == a + " " + b);
    ++rank;
  }
  CHECK(rank == model.merges.size());
}

TEST_CASE("load_gpt2_files: GPT-2's own files") {
  const BpeModel model = load_gpt2_files(fixture("gpt2_vocab.json"), fixture("gpt2_merges.txt"));
  CHECK(model.vocab.size() == 50257);
  CHECK(model.merges.size() == 50000);  // the "#version" line is skipped
  CHECK(model.vocab[0] == "!");
  CHECK(model.vocab[198] == "\n");
  CHECK(model.vocab[220] == " ");
  CHECK(model.vocab[262] == " the");
  CHECK(model.vocab[50256] == "<|endoftext|>");
  CHECK(model.merges[0] == std::pair<std::string, std::string>{" ", "t"});
  CHECK(added_tokens(model) == std::vector<std::string>{"<|endoftext|>"});
}

TEST_CASE("save_gpt2_files then load_gpt2_files gives the model back") {
  TrainOptions options;
  options.vocab_size = 400;
  options.special_tokens = {"<|endoftext|>", "<|end of text|>", "\n\n"};
  const std::string text =
      read_file(fixture("tinystories_sample.txt")) + "\xc3\xa9\xe2\x82\xac\n" + read_file(fixture("german.txt"));
  const BpeModel model = train_bpe_on_text(text, options);
  const std::string vocab_path = temp_path("vocab.json");
  const std::string merges_path = temp_path("merges.txt");
  save_gpt2_files(model, vocab_path, merges_path);
  const BpeModel loaded = load_gpt2_files(vocab_path, merges_path, options.special_tokens);
  CHECK(loaded.vocab == model.vocab);
  CHECK(loaded.merges == model.merges);
  // Special tokens are written as their own text; ordinary tokens through the byte map.
  const std::string saved_vocab = read_file(vocab_path);
  CHECK(saved_vocab.find("\"<|end of text|>\": 257") != std::string::npos);
  CHECK(saved_vocab.find("\"\\n\\n\": 258") != std::string::npos);
  CHECK(saved_vocab.find("\"\xc4\x8a\": 10") != std::string::npos);  // byte 10 as 'Ċ'
  CHECK(read_file(merges_path).starts_with("#version: 0.2\n"));
  // Without the special tokens given, keys outside the byte map still load as their own text.
  CHECK(load_gpt2_files(vocab_path, merges_path).vocab[257] == "<|end of text|>");
  std::remove(vocab_path.c_str());
  std::remove(merges_path.c_str());
}

TEST_CASE("load_gpt2_files: bad files give errors that name the file and the entry") {
  const std::string vocab = temp_path("vocab.json");
  const std::string merges = temp_path("merges.txt");
  std::string byte_entries;
  for (int b = 0; b < 256; ++b)
    byte_entries +=
        (b ? ", " : "") + nlohmann::json(gpt2_encode_token(std::string(1, char(b)))).dump() + ": " + std::to_string(b);
  write_file(merges, "#version: 0.2\n");

  write_file(vocab, "{\"a\": 0,");
  CHECK_THROWS_WITH_AS(load_gpt2_files(vocab, merges),
                       doctest::Contains(("load vocab: '" + vocab + "' is not valid JSON").c_str()), BpeError);
  write_file(vocab, "[1, 2]");
  CHECK_THROWS_WITH_AS(
      load_gpt2_files(vocab, merges),
      ("load vocab: '" + vocab + "' must hold a JSON object {\"token\": id, ...}, found a array").c_str(), BpeError);
  write_file(vocab, "{\"a\": 0, \"b\": 5}");
  CHECK_THROWS_WITH_AS(
      load_gpt2_files(vocab, merges),
      ("load vocab: '" + vocab + "': id 5 of 'b' is outside 0..1; hint: ids must be 0..n-1 for n entries").c_str(),
      BpeError);
  write_file(vocab, "{\"a\": 0, \"b\": 0}");
  CHECK_THROWS_WITH_AS(load_gpt2_files(vocab, merges),
                       ("load vocab: '" + vocab + "': id 0 is given to two tokens").c_str(), BpeError);
  write_file(vocab, "{\"a\": \"zero\"}");
  CHECK_THROWS_WITH_AS(load_gpt2_files(vocab, merges),
                       ("load vocab: '" + vocab + "': the id of 'a' is not an integer: \"zero\"").c_str(), BpeError);

  write_file(vocab, "{" + byte_entries + "}");
  write_file(merges, "#version: 0.2\na b\nab\n");
  CHECK_THROWS_WITH_AS(
      load_gpt2_files(vocab, merges),
      ("load merges: '" + merges + "' line 3: expected two tokens separated by one space, found 'ab'").c_str(),
      BpeError);
  write_file(merges, "a \xe4\xb8\xad\n");
  CHECK_THROWS_WITH_AS(load_gpt2_files(vocab, merges),
                       doctest::Contains("line 1: 'a \xe4\xb8\xad' has a character outside GPT-2's byte map"),
                       BpeError);
  CHECK_THROWS_WITH_AS(load_gpt2_files("/nonexistent/vocab.json", merges),
                       "load vocab: cannot open '/nonexistent/vocab.json': No such file or directory", BpeError);
  std::remove(vocab.c_str());
  std::remove(merges.c_str());
}

TEST_CASE("save_gpt2_files: an unwritable path is an error and leaves no file") {
  BpeModel model;
  for (int b = 0; b < 256; ++b) model.vocab.emplace_back(1, static_cast<char>(b));
  CHECK_THROWS_WITH_AS(save_gpt2_files(model, "/nonexistent/dir/vocab.json", "/nonexistent/dir/merges.txt"),
                       "save vocab: cannot write '/nonexistent/dir/vocab.json.tmp': No such file or directory",
                       BpeError);
  CHECK(!std::filesystem::exists("/nonexistent/dir/vocab.json"));
  // The temporary file is written but cannot be renamed over a directory: it is removed again, and
  // the merges file is never started.
  const std::string dir = temp_path("vocab_dir");
  const std::string merges = temp_path("merges.txt");
  REQUIRE(std::filesystem::create_directory(dir));
  CHECK_THROWS_WITH_AS(save_gpt2_files(model, dir, merges),
                       ("save vocab: cannot write '" + dir + "': Is a directory").c_str(), BpeError);
  CHECK(!std::filesystem::exists(dir + ".tmp"));
  CHECK(!std::filesystem::exists(merges));
  std::filesystem::remove(dir);
}

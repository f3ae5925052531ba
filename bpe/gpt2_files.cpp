// gpt2_files.cpp: reading and writing GPT-2 vocab.json / merges.txt (see gpt2_files.h).
#include "bpe/gpt2_files.h"

#include "bpe/error.h"
#include "bpe/utf8.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

namespace strata::bpe {

namespace {

std::string read_whole_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  check(in.good(), "{}: cannot open '{}': {}", what, path, std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  check(!in.bad(), "{}: error reading '{}'", what, path);
  return std::move(content).str();
}

void write_file_atomically(const std::string& path, const std::string& content, std::string_view what) {
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  check(file != nullptr, "{}: cannot write '{}': {}", what, temporary, std::strerror(errno));
  const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
  const bool closed = std::fclose(file) == 0;
  if (!written || !closed || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = std::strerror(errno);
    std::remove(temporary.c_str());
    fail("{}: cannot write '{}': {}", what, path, reason);
  }
}

const std::unordered_map<char32_t, unsigned char>& char_to_byte() {
  static const auto map = [] {
    std::unordered_map<char32_t, unsigned char> m;
    for (int b = 0; b < 256; ++b) m[gpt2_byte_to_char()[b]] = static_cast<unsigned char>(b);
    return m;
  }();
  return map;
}

// A vocab.json key's bytes: the special token itself, else through the map, else its own text.
std::string key_bytes(const std::string& key, const std::unordered_set<std::string>& specials) {
  if (specials.count(key) != 0) return key;
  std::optional<std::string> bytes = gpt2_decode_token(key);
  return bytes ? std::move(*bytes) : key;
}

}  // namespace

const std::array<char32_t, 256>& gpt2_byte_to_char() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next_unprintable = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[b] = printable ? static_cast<char32_t>(b) : next_unprintable++;
    }
    return t;
  }();
  return table;
}

std::string gpt2_encode_token(std::string_view bytes) {
  std::string text;
  for (unsigned char b : bytes) append_utf8(text, gpt2_byte_to_char()[b]);
  return text;
}

std::optional<std::string> gpt2_decode_token(std::string_view text) {
  std::string bytes;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    char32_t cp;
    p += decode_utf8(p, end, cp);
    const auto it = char_to_byte().find(cp);
    if (it == char_to_byte().end()) return std::nullopt;
    bytes += static_cast<char>(it->second);
  }
  return bytes;
}

BpeModel load_gpt2_files(const std::string& vocab_path, const std::string& merges_path,
                         const std::vector<std::string>& special_tokens) {
  const std::unordered_set<std::string> specials(special_tokens.begin(), special_tokens.end());
  BpeModel model;
  model.special_tokens = special_tokens;

  nlohmann::json vocab;
  try {
    vocab = nlohmann::json::parse(read_whole_file(vocab_path, "load vocab"));
  } catch (const nlohmann::json::exception& e) {
    fail("load vocab: '{}' is not valid JSON: {}", vocab_path, e.what());
  }
  check(vocab.is_object(), "load vocab: '{}' must hold a JSON object {{\"token\": id, ...}}, found a {}", vocab_path,
        vocab.type_name());
  const size_t n = vocab.size();
  std::vector<std::optional<std::string>> by_id(n);
  for (const auto& [key, value] : vocab.items()) {
    check(value.is_number_integer(), "load vocab: '{}': the id of '{}' is not an integer: {}", vocab_path, key,
          value.dump());
    const int64_t id = value.get<int64_t>();
    check(id >= 0 && static_cast<size_t>(id) < n,
          "load vocab: '{}': id {} of '{}' is outside 0..{}; hint: ids must be 0..n-1 for n entries", vocab_path, id,
          key, n - 1);
    check(!by_id[id].has_value(), "load vocab: '{}': id {} is given to two tokens", vocab_path, id);
    by_id[id] = key_bytes(key, specials);
  }
  model.vocab.reserve(n);
  for (auto& bytes : by_id) model.vocab.push_back(std::move(*bytes));

  const std::string merges = read_whole_file(merges_path, "load merges");
  size_t line_number = 0;
  for (size_t start = 0; start < merges.size();) {
    size_t stop = merges.find('\n', start);
    if (stop == std::string::npos) stop = merges.size();
    std::string_view line(merges.data() + start, stop - start);
    start = stop + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || (line_number == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ');
    check(space != std::string_view::npos && line.find(' ', space + 1) == std::string_view::npos && space > 0 &&
              space + 1 < line.size(),
          "load merges: '{}' line {}: expected two tokens separated by one space, found '{}'", merges_path, line_number,
          line);
    std::optional<std::string> left = gpt2_decode_token(line.substr(0, space));
    std::optional<std::string> right = gpt2_decode_token(line.substr(space + 1));
    check(left && right,
          "load merges: '{}' line {}: '{}' has a character outside GPT-2's byte map; hint: merges.txt stores "
          "bytes as printable characters (a space is 'Ġ')",
          merges_path, line_number, line);
    model.merges.emplace_back(std::move(*left), std::move(*right));
  }
  return model;
}

void save_gpt2_files(const BpeModel& model, const std::string& vocab_path, const std::string& merges_path) {
  const std::vector<std::string> added = added_tokens(model);
  const std::set<std::string_view> literal(added.begin(), added.end());
  std::string vocab = "{\n";
  for (size_t id = 0; id < model.vocab.size(); ++id) {
    const std::string& bytes = model.vocab[id];
    const bool as_is = literal.count(bytes) != 0 && is_valid_utf8(bytes);
    vocab += "  " + nlohmann::json(as_is ? bytes : gpt2_encode_token(bytes)).dump() + ": " + std::to_string(id);
    vocab += id + 1 < model.vocab.size() ? ",\n" : "\n";
  }
  vocab += "}\n";
  std::string merges = "#version: 0.2\n";
  for (const auto& [left, right] : model.merges)
    merges += gpt2_encode_token(left) + " " + gpt2_encode_token(right) + "\n";
  write_file_atomically(vocab_path, vocab, "save vocab");
  write_file_atomically(merges_path, merges, "save merges");
}

std::vector<std::string> added_tokens(const BpeModel& model) {
  std::unordered_set<std::string> built;
  for (int b = 0; b < 256; ++b) built.insert(std::string(1, static_cast<char>(b)));
  for (const auto& [left, right] : model.merges) built.insert(left + right);
  std::vector<std::string> added;
  for (const std::string& token : model.vocab) {
    if (built.count(token) == 0) added.push_back(token);
  }
  return added;
}

}  // namespace strata::bpe

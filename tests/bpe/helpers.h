// helpers.h: shared pieces of the bpe tests: fixture paths, file reading, hex, random text, and
// the textbook merge step of the plain references.
#pragma once

#include <cstdint>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe::testing {

// tests/fixtures/bpe/<name> (the folder is passed by meson).
inline std::string fixture(const std::string& name) { return std::string(STRATA_BPE_FIXTURES) + "/" + name; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("test: cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return std::move(s).str();
}

inline void write_file(const std::string& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : bytes) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  return hex;
}

inline std::string from_hex(std::string_view hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return bytes;
}

// A unique path in the system temporary folder.
inline std::string temp_path(const std::string& name) {
  static int counter = 0;
  return "/tmp/strata_bpe_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" + name;
}

// The bytes of `text`, one token each.
inline std::vector<std::string> byte_tokens(std::string_view text) {
  std::vector<std::string> tokens;
  for (char c : text) tokens.emplace_back(1, c);
  return tokens;
}

// `tokens` with every occurrence of the pair (a, b), scanned left to right, merged into the one
// token a + b: the textbook BPE merge step.
inline std::vector<std::string> merge_pair(const std::vector<std::string>& tokens, const std::string& a,
                                           const std::string& b) {
  std::vector<std::string> merged;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i + 1 < tokens.size() && tokens[i] == a && tokens[i + 1] == b) {
      merged.push_back(a + b);
      ++i;
    } else {
      merged.push_back(tokens[i]);
    }
  }
  return merged;
}

// Random UTF-8 text drawn from pools that cover every character class of the GPT-2 pattern, the
// whitespace characters engines disagree on, contractions, many scripts and emoji.
inline std::string random_text(std::mt19937& rng, int max_length) {
  static const std::vector<std::vector<std::string>> pools = {
      {"a", "b", "e", "s", "t", "Z", "Q", "xyz", "the", "The"},
      {"0", "1", "7", "42", "2024"},
      {" ", " ", " ", " ", "  ", "\t", "\n", "\n\n", "\r\n", "\v", "\f"},
      {"\u0085", "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"},
      {"\x1c", "\x1f", "\u200b", "\u200d", "\u180e", "\ufeff", std::string(1, '\0'), "\x7f"},
      {"!", ".", ",", "?", "-", "--", "(", ")", "\"", "<", "|", ">", "#", "$", "%", "@", "_", "~", "..."},
      {"'s", "'d", "'m", "'t", "'ll", "'ve", "'re", "'S", "'LL", "'", "'x", " 's", "''", "'l", "'v"},
      {"é", "è", "ç", "ñ", "ß", "ø", "æ", "œ", "À", "É", "Ü", "ǅ", "ʰ", "々", "ﬁ"},
      {"\u0301", "\u0308", "\u094d", "\u20dd"},
      {"中", "文", "日本語", "한국어", "ひらがな", "カタカナ"},
      {"٣", "٤", "३", "४", "０", "１", "Ⅻ", "ↂ", "〇", "²", "¼", "①", "⑳"},
      {"🙃", "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "\U0010FFFD", "\U000E0001", "\ufffd", "\u2019", "\u201c",
       "€"},
  };
  std::uniform_int_distribution<int> length_of(0, max_length);
  std::uniform_int_distribution<size_t> pool_of(0, pools.size() - 1);
  std::string text;
  const int n = length_of(rng);
  for (int i = 0; i < n; ++i) {
    const auto& pool = pools[pool_of(rng)];
    text += pool[std::uniform_int_distribution<size_t>(0, pool.size() - 1)(rng)];
  }
  return text;
}

// `text` with random bytes overwritten or inserted: usually invalid UTF-8.
inline std::string corrupt(std::mt19937& rng, std::string text, int edits) {
  std::uniform_int_distribution<int> byte(0x80, 0xFF);
  for (int e = 0; e < edits; ++e) {
    const size_t at = std::uniform_int_distribution<size_t>(0, text.size())(rng);
    if (at < text.size() && rng() % 2 == 0) {
      text[at] = static_cast<char>(byte(rng));
    } else {
      text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(byte(rng)));
    }
  }
  return text;
}

}  // namespace strata::bpe::testing

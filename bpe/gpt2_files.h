// gpt2_files.h: GPT-2's vocab.json and merges.txt, as written by OpenAI, Hugging Face and tiktoken.
//
// Token bytes are stored as text through a fixed map from the 256 bytes to printable characters:
// the 188 printable bytes ! .. ~, ¡ .. ¬ and ® .. ÿ stand for themselves and the other 68 bytes
// (controls, space, soft hyphen ...) become U+0100, U+0101, ... in byte order (so a space is 'Ġ',
// U+0120, and a newline 'Ċ', U+010A). Then
//   vocab.json   {"<token text>": id, ...}
//   merges.txt   an optional "#version: ..." line, then "<left text> <right text>" per merge, in
//                rank order (the mapped text never contains a space, so one space separates them).
// Special tokens (<|endoftext|>) are written as their own text, not through the map. Reading,
// a vocab.json key that is one of the given special tokens, or that has a character outside the
// map, is taken as its own text; every other key is mapped back to bytes.
#pragma once

#include "bpe/model.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// The character that stands for each byte.
const std::array<char32_t, 256>& gpt2_byte_to_char();
// Token bytes -> their text (UTF-8).
std::string gpt2_encode_token(std::string_view bytes);
// Text -> token bytes; nullopt when a character is not in the map.
std::optional<std::string> gpt2_decode_token(std::string_view text);

// Reads the two files; ids must be 0..n-1, each once. Throws BpeError naming the file, the line or
// entry, and what is wrong.
BpeModel load_gpt2_files(const std::string& vocab_path, const std::string& merges_path,
                         const std::vector<std::string>& special_tokens = {});
// Writes the two files; each is written to a temporary name and renamed, so an error never leaves
// half a file.
void save_gpt2_files(const BpeModel& model, const std::string& vocab_path, const std::string& merges_path);

// Vocabulary entries that are neither a single byte nor the result of a merge: the tokens that
// were added as special tokens (e.g. <|endoftext|> in GPT-2's vocab.json), in id order.
std::vector<std::string> added_tokens(const BpeModel& model);

}  // namespace strata::bpe

// chunking.h: cutting text into blocks that are pre-tokenized independently, with the same result.
//
// Training and encoding read big files a block at a time (bounded memory) and share each block
// among threads. A cut at byte p is *safe* when splitting special tokens and pre-tokenizing
// text[:p] and text[p:] separately gives exactly the pieces of the whole text, whatever follows.
// Two kinds of position are safe:
//   * the start of a special-token match: no pre-token crosses a special token; the match must
//     be exact, i.e. start at least max_length bytes before the end of what we have seen, or a
//     longer token or an earlier overlapping one might still win once more text arrives;
//   * a whitespace byte (ASCII) right after a non-whitespace character, outside special tokens:
//     the pre-token before it ends there (runs of letters/numbers/others never take whitespace,
//     and only a leading U+0020 of the *next* pre-token could), and the pattern looks only
//     forward, so the pre-tokens from p on depend only on text[p:].
// Cutting inside a whitespace run is not safe: `\s+(?!\S)` looks at the character after the run.
#pragma once

#include "bpe/special_tokens.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace strata::bpe {

// The largest safe cut p with 0 < p < text.size(), assuming more text may follow; 0 if none.
size_t last_safe_cut(std::string_view text, const SpecialTokens& specials);

// `text` (itself ending at a safe cut or at the end of the input) cut at safe positions into at
// most `parts` pieces of roughly equal size; fewer when there are not enough safe cuts.
std::vector<std::string_view> split_at_safe_cuts(std::string_view text, int parts, const SpecialTokens& specials);

// Accumulates pushed text and hands it on in blocks of about `block_bytes` that end at safe cuts.
// A block may be larger when no safe cut turns up (e.g. a long run without whitespace).
class BlockCutter {
 public:
  using Consumer = std::function<void(std::string_view block)>;
  BlockCutter(const SpecialTokens& specials, size_t block_bytes, Consumer consumer);
  void push(std::string_view text);
  // Hands on what is left; call once at the end of the input.
  void finish();

 private:
  const SpecialTokens& specials_;
  size_t block_bytes_;
  size_t next_try_;  // buffer size at which to look for a cut again
  Consumer consumer_;
  std::string buffer_;
};

// Reads `path` in slices of `block_bytes` and feeds them through a BlockCutter to `consumer`;
// after each slice calls progress(bytes read, file size) when given. Throws BpeError when the file
// cannot be opened or read.
using Progress = std::function<void(uint64_t done, uint64_t total)>;
void for_each_file_block(const std::string& path, const SpecialTokens& specials, size_t block_bytes,
                         const BlockCutter::Consumer& consumer, const Progress& progress = {});

// `threads` if positive, else the number of cores.
int resolve_threads(int threads);

// Runs task(0), ..., task(n - 1) at once, on n - 1 new threads and the calling one, and waits; then
// rethrows the first exception a task threw. (Plain threads, not OpenMP: a block takes milliseconds,
// so starting threads costs nothing, and no worker spins on the cores between blocks.)
void run_parallel(int n, const std::function<void(int)>& task);

}  // namespace strata::bpe

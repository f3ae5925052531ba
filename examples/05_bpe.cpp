// 05_bpe.cpp: train a byte-level BPE tokenizer, encode, decode, and look at what it learned.
//
// Build and run:   ninja -C build && ./build/examples/05_bpe [corpus.txt]
//                  (default corpus: data/tinystories/train.txt, 3 MB of TinyStories)
//
// 1. Bytes first. Every text is a sequence of bytes (UTF-8), so 256 single-byte tokens can spell
//    anything: no "unknown token" ever. Special tokens (<|endoftext|>) come next in the vocabulary.
// 2. Pre-tokenization. The text is cut at special tokens, then into pre-tokens by GPT-2's pattern:
//    contractions ('s 'll ...), words with one leading space (" cat"), runs of digits, runs of
//    punctuation, whitespace. Merges happen only inside a pre-token, so "dog." never becomes a
//    single token with its period.
// 3. Training. Count every distinct pre-token once. Then repeat: find the adjacent pair of tokens
//    that occurs most often (counting each pre-token as often as it occurs; ties go to the
//    lexicographically greater pair), make it a new token, merge it everywhere. Frequent words end
//    up as single tokens; rare words stay split into pieces.
// 4. Encoding applies the merges, in the order they were learned, inside each pre-token; decoding
//    joins the tokens' bytes. decode(encode(text)) == text for any text.
// 5. Compression: the bytes per token on the training text is the usual measure of how well a
//    vocabulary fits a kind of text.
// See docs/internals/bpe.md for the algorithm and why incremental pair counts make training fast.
#include "bpe/pretokenize.h"
#include "bpe/tokenizer.h"
#include "bpe/train.h"
#include "bpe/utf8.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <string>

using namespace strata::bpe;

namespace {

// Token bytes shown printably: a space as '·', a newline as '⏎', and a token that is not whole
// UTF-8 characters (a piece of a multi-byte character) as hex, e.g. <c3>.
std::string show(std::string_view bytes) {
  if (!is_valid_utf8(bytes)) {
    std::string hex;
    for (unsigned char b : bytes) hex += fmt::format("<{:02x}>", b);
    return hex;
  }
  std::string out;
  for (char c : bytes) {
    if (c == ' ') {
      out += "·";
    } else if (c == '\n') {
      out += "⏎";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string corpus = argc > 1 ? argv[1] : STRATA_DATA_DIR "/tinystories/train.txt";

  // 2. Pre-tokenization of one sentence.
  const std::string sentence = "Lily's dog found 3 red balls... \"Wow!\" she said.";
  fmt::print("pre-tokens of {:?}:\n ", sentence);
  for (std::string_view piece : pretokenize(sentence)) fmt::print(" [{}]", show(piece));
  fmt::print("\n\n");

  // 3. Training: 256 bytes + <|endoftext|> + 743 merges = 1000 tokens.
  TrainOptions options;
  options.vocab_size = 1000;
  options.special_tokens = {"<|endoftext|>"};
  TrainStats stats;
  options.stats = &stats;
  const auto start = std::chrono::steady_clock::now();
  const BpeModel model = train_bpe(corpus, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("trained on {} ({:.1f} MB, {} distinct pre-tokens) in {:.2f} s: {} tokens, {} merges\n", corpus,
             static_cast<double>(stats.bytes) / 1e6, stats.distinct_pretokens, seconds, model.vocab.size(),
             model.merges.size());
  fmt::print("the first merges (most frequent pairs first):\n");
  for (size_t r = 0; r < std::min<size_t>(12, model.merges.size()); ++r) {  // a tiny corpus has fewer
    fmt::print("  {:2}: [{}] + [{}] -> [{}]\n", r, show(model.merges[r].first), show(model.merges[r].second),
               show(model.merges[r].first + model.merges[r].second));
  }
  fmt::print("the last new tokens: ");
  for (size_t id = model.vocab.size() - std::min<size_t>(8, model.merges.size()); id < model.vocab.size(); ++id)
    fmt::print("[{}] ", show(model.vocab[id]));
  fmt::print("\n");
  // 5. Compression on the training text.
  fmt::print("compression: {:.2f} bytes/token (1.00 with bytes alone)\n\n",
             static_cast<double>(stats.bytes) / static_cast<double>(stats.tokens));

  // 4. Encode and decode.
  const Tokenizer tokenizer(model);
  const std::string text = "Once upon a time, a little dragon wanted to fly.<|endoftext|>Bonjour, café ☕!";
  const std::vector<int32_t> ids = tokenizer.encode(text);
  fmt::print("encode {:?}\n  -> {} ids: {}\n  tokens:", text, ids.size(), fmt::join(ids, " "));
  for (int32_t id : ids) fmt::print(" [{}]", show(tokenizer.token_bytes(id)));
  const std::string back = tokenizer.decode(ids);
  fmt::print("\n  decode -> {:?} (round trip {})\n", back, back == text ? "exact" : "BROKEN");
  fmt::print(
      "  common words are one token; rarer ones (\"dragon\", French) take several, and characters\n"
      "  outside the training text fall back to their bytes (é is <c3><a9>, ☕ three bytes)\n");
  return back == text ? 0 : 1;
}

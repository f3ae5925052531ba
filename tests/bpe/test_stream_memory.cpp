// test_stream_memory.cpp: streaming encode, file encode and training count in bounded memory.
//
// This executable replaces the global operator new/delete with counting versions, so a test can
// read the peak of live heap bytes. For inputs of 4 MB and 16 MB the peak must be the same up to
// noise (it holds one block of text, the piece cache and the per-thread tables, none of which
// grows with the input) and far below the input size. Both inputs are several times the block size,
// so both runs fill whole blocks.
#include "bpe/tokenizer.h"
#include "bpe/train.h"
#include "tests/bpe/helpers.h"

#include <doctest/doctest.h>
#include <malloc.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

namespace {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_peak{0};

void* counted_alloc(size_t n) {
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  const int64_t live = g_live += static_cast<int64_t>(malloc_usable_size(p));
  int64_t peak = g_peak.load();
  while (live > peak && !g_peak.compare_exchange_weak(peak, live)) {
  }
  return p;
}

void counted_free(void* p) {
  if (p == nullptr) return;
  g_live -= static_cast<int64_t>(malloc_usable_size(p));
  std::free(p);
}

}  // namespace

void* operator new(size_t n) { return counted_alloc(n); }
void* operator new[](size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
// The nothrow forms (std::stable_sort's buffer uses them) must come from the same allocator as the
// plain delete that frees them.
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n);
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& tag) noexcept { return operator new(n, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

using namespace strata::bpe;
using namespace strata::bpe::testing;

namespace {

constexpr size_t kSmall = 4u << 20;
constexpr size_t kLarge = 16u << 20;
constexpr size_t kBlock = 512u << 10;

// Peak heap bytes above the level at the start, while f runs.
template <class F>
int64_t peak_during(F&& f) {
  const int64_t base = g_live.load();
  g_peak = base;
  f();
  return g_peak.load() - base;
}

// Story-like lines from a fixed word list: the set of distinct pre-tokens stays small, so the piece
// cache stops growing, as on natural text.
class LineMaker {
 public:
  explicit LineMaker(uint32_t seed) : rng_(seed) {}
  std::string next() {
    static const char* words[] = {"Once", "upon",  "a",    "time", "there", "was", "little",
                                  "girl", "named", "Lily", "she",  "liked", "to",  "play",
                                  "in",   "the",   "park", "with", "her",   "dog", "\xe2\x80\x9cHello,\xe2\x80\x9d",
                                  "said", "Tom.",  "They", "were", "happy", "!",   "42"};
    std::string line;
    const int n = 5 + static_cast<int>(rng_() % 15);
    for (int i = 0; i < n; ++i) line += std::string(i ? " " : "") + words[rng_() % std::size(words)];
    line += rng_() % 20 == 0 ? "\n<|endoftext|>\n" : "\n";
    return line;
  }

 private:
  std::mt19937 rng_;
};

const Tokenizer& tokenizer() {
  static const Tokenizer t =
      Tokenizer::from_files(fixture("gpt2_vocab.json"), fixture("gpt2_merges.txt"), {"<|endoftext|>"});
  return t;
}

int64_t stream_peak(size_t bytes) {
  int64_t tokens = 0;
  const int64_t peak = peak_during([&] {
    StreamEncoder stream(
        tokenizer(), [&](std::span<const int32_t> ids) { tokens += static_cast<int64_t>(ids.size()); }, kBlock);
    LineMaker lines(1);
    for (size_t done = 0; done < bytes;) {
      const std::string line = lines.next();
      stream.push(line);
      done += line.size();
    }
    stream.finish();
  });
  CHECK(tokens > static_cast<int64_t>(bytes / 8));
  return peak;
}

std::string write_corpus(size_t bytes) {
  const std::string path = temp_path("corpus.txt");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  LineMaker lines(2);
  for (size_t done = 0; done < bytes;) {
    const std::string line = lines.next();
    std::fwrite(line.data(), 1, line.size(), f);
    done += line.size();
  }
  std::fclose(f);
  return path;
}

}  // namespace

// Tolerance: the peaks may differ by allocator rounding and by when a vector doubles; 1 MB of slack
// per thread (two blocks' worth) covers that, while anything that grew with the input would add
// >= 12 MB at 16 MB.
TEST_CASE("StreamEncoder: peak memory does not grow with the input (4 MB vs 16 MB of lines)") {
  tokenizer();  // loaded outside the measurement
  const int64_t small = stream_peak(kSmall);
  const int64_t large = stream_peak(kLarge);
  MESSAGE("stream peak heap: ", small, " bytes for 4 MB, ", large, " bytes for 16 MB");
  CHECK(large < small + (1 << 20));
  CHECK(large < static_cast<int64_t>(kLarge / 2));
}

TEST_CASE("encode_file on 2 threads: peak memory does not grow with the file (4 MB vs 16 MB)") {
  tokenizer();
  const auto file_peak = [](size_t bytes) {
    const std::string path = write_corpus(bytes);
    Tokenizer::FileOptions options;
    options.threads = 2;
    options.block_bytes = kBlock;
    int64_t tokens = 0;
    const int64_t peak = peak_during([&] {
      tokenizer().encode_file(
          path, [&](std::span<const int32_t> ids) { tokens += static_cast<int64_t>(ids.size()); }, options);
    });
    std::remove(path.c_str());
    CHECK(tokens > static_cast<int64_t>(bytes / 8));
    return peak;
  };
  const int64_t small = file_peak(kSmall);
  const int64_t large = file_peak(kLarge);
  MESSAGE("encode_file peak heap: ", small, " bytes for 4 MB, ", large, " bytes for 16 MB");
  CHECK(large < small + (2 << 20));  // two threads: twice the slack
  CHECK(large < static_cast<int64_t>(kLarge / 2));
}

TEST_CASE("count_pretokens_in_file on 2 threads: peak memory does not grow with the file") {
  const auto count_peak = [](size_t bytes) {
    const std::string path = write_corpus(bytes);
    TrainOptions options;
    options.vocab_size = 300;
    options.special_tokens = {"<|endoftext|>"};
    options.threads = 2;
    options.block_bytes = kBlock;
    size_t distinct = 0;
    const int64_t peak = peak_during([&] { distinct = count_pretokens_in_file(path, options).size(); });
    std::remove(path.c_str());
    CHECK(distinct > 20);
    return peak;
  };
  const int64_t small = count_peak(kSmall);
  const int64_t large = count_peak(kLarge);
  MESSAGE("count peak heap: ", small, " bytes for 4 MB, ", large, " bytes for 16 MB");
  CHECK(large < small + (2 << 20));
  CHECK(large < static_cast<int64_t>(kLarge / 2));
}

// storage.cpp: aligned allocation with a size-bucketed cache of freed buffers.
//
// A training step frees large activation buffers that the next step allocates again with the same
// sizes. Returning them to the OS and asking again costs a page fault and zeroing per 4 KiB page;
// keeping them in a cache keyed by rounded size makes the second allocation free. Buffers below
// kMinCached go straight to malloc (it is fast for them already).
#include "tensor/storage.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace strata {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMinCached = 1 << 16;         // 64 KiB
constexpr size_t kMaxCachedBytes = size_t(4) << 30;  // never hold more than 4 GiB unused

// Rounds a request up to a bucket: multiples of 64 bytes below kMinCached, otherwise to the next
// value of the form 2^k * {1, 1.25, 1.5, 1.75}, so a cache hit wastes at most 25%.
size_t bucket_size(size_t nbytes) {
  nbytes = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (nbytes < kMinCached) return nbytes == 0 ? kAlignment : nbytes;
  size_t pow2 = size_t(1) << (63 - __builtin_clzll(nbytes));
  size_t quarter = pow2 / 4;
  return (nbytes + quarter - 1) / quarter * quarter;
}

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> free_buffers;  // bucket size -> buffer
  size_t cached = 0, allocated = 0, peak = 0;
};
Cache& cache() {
  static Cache* c = new Cache;  // never destroyed: storages may outlive static destruction order
  return *c;
}

void* take(size_t bucket) {
  Cache& c = cache();
  {
    std::lock_guard lock(c.mutex);
    c.allocated += bucket;
    if (c.allocated > c.peak) c.peak = c.allocated;
    if (bucket >= kMinCached) {
      auto it = c.free_buffers.find(bucket);
      if (it != c.free_buffers.end()) {
        void* p = it->second;
        c.free_buffers.erase(it);
        c.cached -= bucket;
        return p;
      }
    }
  }
  void* p = std::aligned_alloc(kAlignment, bucket);
  if (!p) throw std::bad_alloc();
  return p;
}

void give_back(void* p, size_t bucket) {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  c.allocated -= bucket;
  if (bucket >= kMinCached && c.cached + bucket <= kMaxCachedBytes) {
    c.free_buffers.emplace(bucket, p);
    c.cached += bucket;
  } else {
    std::free(p);
  }
}

}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  size_t bucket = bucket_size(nbytes);
  void* p = take(bucket);
  return std::shared_ptr<Storage>(new Storage(p, nbytes, [p, bucket] { give_back(p, bucket); }));
}

std::shared_ptr<Storage> Storage::borrow(void* data, size_t nbytes, std::function<void()> release) {
  return std::shared_ptr<Storage>(new Storage(data, nbytes, std::move(release)));
}

Storage::~Storage() {
  if (release_) release_();
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  return {c.cached, c.allocated, c.peak};
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard lock(c.mutex);
  for (auto& [size, p] : c.free_buffers) std::free(p);
  c.free_buffers.clear();
  c.cached = 0;
}

}  // namespace strata

// The pool behind PoolAllocator: 16-byte size classes carved from 1 MiB slabs, a small cache per
// thread in front of one shared depot, so that blocks freed by another thread or left behind by an
// exited thread are reused instead of lost.
#include "core/pool.h"

#include <sys/mman.h>

#include <mutex>
#include <vector>

#include "core/sanitizer.h"

namespace tapegrad {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kClasses = kPoolMaxBytes / kGranule;
constexpr size_t kSlabBytes = size_t(1) << 20;
// Blocks move between a thread and the depot in batches of about this many bytes: the depot's
// lock is taken at most once per batch of allocations or frees, and a thread caches at most two
// batches per class (64 KiB), so an idle thread cannot sit on much.
constexpr size_t kBatchBytes = size_t(32) << 10;

struct FreeBlock {
  FreeBlock* next;
};

constexpr uint32_t batch_blocks(size_t c) { return uint32_t(kBatchBytes / ((c + 1) * kGranule)); }
size_t class_of(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }

// One thread's free list for one class. `limit` is 0 until the thread is set up (so its first
// free takes the slow path, which registers the thread-exit flush) and 1 after the flush ran (so
// frees made during the rest of thread teardown go straight to the depot).
struct ClassCache {
  FreeBlock* head;
  uint32_t count;
  uint32_t limit;
};

// Trivially destructible and zero-initialised: it stays usable while other thread-local
// destructors still free blocks after the flush below.
struct ThreadCache {
  ClassCache classes[kClasses];
  bool registered;
  bool exited;
};

thread_local ThreadCache t_cache;

// A run of `count` linked free blocks of one class.
struct Batch {
  FreeBlock* head;
  uint32_t count;
};

// Shared by all threads, under one lock: full batches per class, and the slab blocks are carved from.
struct Depot {
  std::mutex mu;
  std::vector<Batch> batches[kClasses];
  char* slab = nullptr;
  size_t slab_left = 0;

  // Carves `n` blocks of class c into a fresh list, in address order as a fresh slab would hand
  // them out (mu held).
  FreeBlock* carve(size_t c, uint32_t n) {
    size_t size = (c + 1) * kGranule;
    FreeBlock* head = nullptr;
    FreeBlock** tail = &head;
    for (uint32_t i = 0; i < n; ++i) {
      if (slab_left < size) {
        // The tail of the old slab is dropped: less than one block. Slabs come straight from the
        // kernel: malloc would first have to consolidate whatever another library freed into it.
        void* m = mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
          if (head) batches[c].push_back({head, i});
          throw std::bad_alloc();
        }
        slab = static_cast<char*>(m);
        slab_left = kSlabBytes;
      }
      auto* b = reinterpret_cast<FreeBlock*>(slab);
      slab += size;
      slab_left -= size;
      *tail = b;
      tail = &b->next;
    }
    *tail = nullptr;
    return head;
  }
};

// Never destroyed: threads (and static destructors) may free blocks after exit handlers ran.
Depot& depot() {
  static Depot* d = new Depot();
  return *d;
}

void flush_thread_cache();

struct ThreadExitFlush {
  ~ThreadExitFlush() { flush_thread_cache(); }
};

// First slow-path call on a thread: arrange for its cache to go back to the depot when it exits.
void register_thread(ThreadCache& tc) {
  static thread_local ThreadExitFlush flush_at_exit;
  (void)flush_at_exit;
  tc.registered = true;
  for (size_t c = 0; c < kClasses; ++c) tc.classes[c].limit = 2 * batch_blocks(c);
}

void flush_thread_cache() {
  ThreadCache& tc = t_cache;
  Depot& d = depot();
  std::lock_guard<std::mutex> lock(d.mu);
  for (size_t c = 0; c < kClasses; ++c) {
    ClassCache& cc = tc.classes[c];
    if (cc.head) d.batches[c].push_back({cc.head, cc.count});
    cc.head = nullptr;
    cc.count = 0;
    cc.limit = 1;
  }
  tc.exited = true;
}

// Out of line, so that the hot paths below need no stack frame of their own.
[[gnu::noinline]] void* alloc_slow(ThreadCache& tc, size_t c) {
  if (!tc.registered && !tc.exited) register_thread(tc);
  ClassCache& cc = tc.classes[c];
  Depot& d = depot();
  std::lock_guard<std::mutex> lock(d.mu);
  std::vector<Batch>& stack = d.batches[c];
  if (tc.exited) {
    // Thread teardown: take a single block, so that nothing is left stranded in this cache.
    if (stack.empty()) return d.carve(c, 1);
    Batch& top = stack.back();
    FreeBlock* b = top.head;
    top.head = b->next;
    if (--top.count == 0) stack.pop_back();
    return b;
  }
  if (!stack.empty()) {
    Batch batch = stack.back();
    stack.pop_back();
    cc.head = batch.head;
    cc.count = batch.count;
  } else {
    cc.head = d.carve(c, batch_blocks(c));
    cc.count = batch_blocks(c);
  }
  FreeBlock* b = cc.head;
  cc.head = b->next;
  --cc.count;
  return b;
}

// The list reached its limit: the newest batch's worth stays (warm in cache), the older rest
// goes to the depot. The walk is paid once per batch of frees.
[[gnu::noinline]] void free_slow(ThreadCache& tc, size_t c) {
  if (!tc.registered && !tc.exited) {
    register_thread(tc);
    return;
  }
  ClassCache& cc = tc.classes[c];
  uint32_t keep = tc.exited ? 0 : batch_blocks(c);
  if (cc.count <= keep) return;
  FreeBlock* rest = cc.head;
  FreeBlock* last_kept = nullptr;
  for (uint32_t i = 0; i < keep; ++i) last_kept = rest, rest = rest->next;
  Batch batch{rest, cc.count - keep};
  if (last_kept) last_kept->next = nullptr;
  else cc.head = nullptr;
  cc.count = keep;
  Depot& d = depot();
  std::lock_guard<std::mutex> lock(d.mu);
  d.batches[c].push_back(batch);
}

}  // namespace

void* pool_alloc(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if constexpr (kAsan) return ::operator new(bytes);  // every object its own block, with redzones
  size_t c = class_of(bytes);
  ThreadCache& tc = t_cache;
  ClassCache& cc = tc.classes[c];
  if (FreeBlock* b = cc.head) {
    cc.head = b->next;
    --cc.count;
    return b;
  }
  return alloc_slow(tc, c);
}

void pool_free(void* p, size_t bytes) {
  if (!p) return;
  if (bytes == 0) bytes = 1;
  if constexpr (kAsan) return ::operator delete(p);
  size_t c = class_of(bytes);
  ThreadCache& tc = t_cache;
  ClassCache& cc = tc.classes[c];
  auto* b = static_cast<FreeBlock*>(p);
  b->next = cc.head;
  cc.head = b;
  if (++cc.count >= cc.limit) free_slow(tc, c);
}

}  // namespace tapegrad

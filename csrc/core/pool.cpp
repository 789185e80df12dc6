// The pool behind PoolAllocator: 16-byte size classes carved from 1 MiB slabs. Free lists are
// thread-local plain arrays (trivially destructible, so objects freed during exit stay safe).
#include "core/pool.h"

#include <sys/mman.h>

namespace tapegrad {
namespace {

constexpr size_t kGranule = 16;
constexpr size_t kClasses = kPoolMaxBytes / kGranule;
constexpr size_t kSlabBytes = size_t(1) << 20;

struct FreeBlock {
  FreeBlock* next;
};

struct ThreadPool {
  FreeBlock* free[kClasses];
  char* slab;
  size_t slab_left;
};

thread_local ThreadPool t_pool;  // zero-initialised

size_t class_of(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }

}  // namespace

void* pool_alloc(size_t bytes) {
  if (bytes == 0) bytes = 1;
  size_t c = class_of(bytes);
  ThreadPool& tp = t_pool;
  if (FreeBlock* b = tp.free[c]) {
    tp.free[c] = b->next;
    return b;
  }
  size_t size = (c + 1) * kGranule;
  if (tp.slab_left < size) {
    // The tail of the old slab is simply dropped: at most one block per class per slab.
    // Slabs come straight from the kernel: malloc would first have to consolidate whatever
    // another library freed into it (a million small blocks can cost a second).
    void* m = mmap(nullptr, kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    tp.slab = static_cast<char*>(m);
    tp.slab_left = kSlabBytes;
  }
  void* p = tp.slab;
  tp.slab += size;
  tp.slab_left -= size;
  return p;
}

void pool_free(void* p, size_t bytes) {
  if (!p) return;
  if (bytes == 0) bytes = 1;
  size_t c = class_of(bytes);
  ThreadPool& tp = t_pool;
  auto* b = static_cast<FreeBlock*>(p);
  b->next = tp.free[c];
  tp.free[c] = b;
}

}  // namespace tapegrad

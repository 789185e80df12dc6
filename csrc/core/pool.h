// A small-object pool for the objects every op creates (tensors, storages, nodes, edge lists):
// per-thread free lists by size class, so graphs of millions of nodes are built and freed
// without malloc's consolidation work, and memory freed by one graph is reused in order.
#pragma once
#include <cstddef>
#include <new>

namespace tapegrad {

constexpr size_t kPoolMaxBytes = 512;

void* pool_alloc(size_t bytes);
void pool_free(void* p, size_t bytes);

// An std::allocator replacement over the pool (larger requests fall through to operator new).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) {}
  T* allocate(size_t n) {
    size_t bytes = n * sizeof(T);
    return static_cast<T*>(bytes <= kPoolMaxBytes ? pool_alloc(bytes) : ::operator new(bytes));
  }
  void deallocate(T* p, size_t n) {
    size_t bytes = n * sizeof(T);
    if (bytes <= kPoolMaxBytes) pool_free(p, bytes);
    else ::operator delete(p);
  }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const PoolAllocator<U>&) const { return false; }
};

}  // namespace tapegrad

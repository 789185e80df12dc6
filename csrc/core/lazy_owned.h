// LazyOwned<T>: an owned object made on first need by whichever thread needs it first, and read
// by any thread without a lock (autograd extras, hook lists: most tensors and nodes never get one).
#pragma once
#include <atomic>
#include <memory>

namespace tapegrad {

template <class T>
class LazyOwned {
 public:
  LazyOwned() = default;
  LazyOwned(const LazyOwned&) = delete;
  LazyOwned& operator=(const LazyOwned&) = delete;
  ~LazyOwned() { delete p_.load(std::memory_order_relaxed); }

  T* get() const { return p_.load(std::memory_order_acquire); }
  T* operator->() const { return get(); }
  explicit operator bool() const { return get() != nullptr; }

  // The object, made now if absent; two threads racing here end up sharing one object.
  T& ensure() {
    if (T* cur = get()) return *cur;
    return create();
  }

  // Takes the object out; only for a caller that knows no other thread can reach it.
  std::unique_ptr<T> take() { return std::unique_ptr<T>(p_.exchange(nullptr, std::memory_order_acq_rel)); }

 private:
  [[gnu::noinline]] T& create() {
    T* cur = nullptr;
    auto fresh = std::make_unique<T>();
    if (p_.compare_exchange_strong(cur, fresh.get(), std::memory_order_acq_rel, std::memory_order_acquire))
      return *fresh.release();
    return *cur;
  }

  std::atomic<T*> p_{nullptr};
};

}  // namespace tapegrad

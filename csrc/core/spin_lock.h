// SpinLock: a one-byte lock for critical sections of a few instructions that never block inside
// (a pthread mutex costs ~50 instructions a lock/unlock pair, paid by every op on a leaf).
#pragma once
#include <atomic>
#include <thread>

namespace tapegrad {

class SpinLock {
 public:
  void lock() {
    while (held_.exchange(true, std::memory_order_acquire))
      while (held_.load(std::memory_order_relaxed)) std::this_thread::yield();
  }
  void unlock() { held_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> held_{false};
};

}  // namespace tapegrad

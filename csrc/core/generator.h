// A seedable random-number generator (torch.Generator); the default one is process-wide.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>

namespace tapegrad {

class Generator {
 public:
  explicit Generator(uint64_t seed = 67280421310721ULL) { manual_seed(seed); }
  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> lock(mu_);
    seed_ = seed;
    engine_.seed(seed);
  }
  uint64_t initial_seed() const { return seed_; }
  // A fresh non-deterministic seed, as torch.Generator.seed() does.
  uint64_t seed() {
    uint64_t s = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
    manual_seed(s);
    return s;
  }
  // Locks the engine for one kernel's worth of draws.
  std::unique_lock<std::mutex> lock() { return std::unique_lock<std::mutex>(mu_); }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mutex mu_;
  uint64_t seed_ = 0;
  std::mt19937_64 engine_;
};

std::shared_ptr<Generator> default_generator();

}  // namespace tapegrad

// The CPU thread pool behind parallel_for: workers sleep on a condition variable between jobs.
#include "kernels/cpu/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tapegrad::cpu {
namespace {

class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool();  // never destroyed: workers may outlive static teardown
    return *pool;
  }

  int size() const { return threads_; }
  void resize(int n) {
    std::lock_guard<std::mutex> run_lock(run_mu_);
    threads_ = std::max(1, n);
    start_workers();
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
    int chunks = int(std::min<int64_t>(threads_, std::max<int64_t>(1, n / std::max<int64_t>(grain, 1))));
    if (chunks <= 1 || in_worker_) {
      f(0, n);
      return;
    }
    std::lock_guard<std::mutex> run_lock(run_mu_);  // one parallel region at a time
    start_workers();
    {
      std::lock_guard<std::mutex> lock(mu_);
      job_ = &f;
      n_ = n;
      chunks_ = chunks;
      next_.store(1);
      pending_ = chunks - 1;
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    run_chunk(0);
    for (int c; (c = next_.fetch_add(1)) < chunks_;) {
      run_chunk(c);
      std::lock_guard<std::mutex> lock(mu_);
      --pending_;
    }
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  Pool() : threads_(int(std::max(1u, std::thread::hardware_concurrency()))) {}

  void start_workers() {
    for (; started_ < threads_ - 1; ++started_) std::thread([this] { work(); }).detach();
  }

  void run_chunk(int c) {
    int64_t begin = n_ * c / chunks_, end = n_ * (c + 1) / chunks_;
    try {
      (*job_)(begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }

  void work() {
    in_worker_ = true;
    uint64_t seen = 0;
    while (true) {
      // Spin briefly before sleeping: back-to-back kernels then start without a wake-up delay.
      for (int spin = 0; spin < 4000 && generation_.load(std::memory_order_acquire) == seen; ++spin)
        std::this_thread::yield();
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_.load() != seen && job_ != nullptr; });
        seen = generation_.load();
      }
      int c;
      while ((c = next_.fetch_add(1)) < chunks_) {
        run_chunk(c);
        std::lock_guard<std::mutex> lock(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
      }
    }
  }

  int threads_;
  int started_ = 0;
  std::mutex run_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* job_ = nullptr;
  int64_t n_ = 0;
  int chunks_ = 0;
  std::atomic<int> next_{0};
  int pending_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::exception_ptr error_;
  static thread_local bool in_worker_;
};

thread_local bool Pool::in_worker_ = false;

}  // namespace

int num_threads() { return Pool::get().size(); }
void set_num_threads(int n) { Pool::get().resize(n); }
void parallel_for_in_pool(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f) {
  Pool::get().run(n, grain, f);
}

}  // namespace tapegrad::cpu

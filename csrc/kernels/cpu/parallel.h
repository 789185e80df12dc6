// A tiny persistent thread pool: parallel_for splits [0, n) into one chunk per core above a grain size.
#pragma once
#include <cstdint>
#include <functional>

namespace tapegrad::cpu {

int num_threads();
void set_num_threads(int n);
void parallel_for_in_pool(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& f);

// Runs f(begin, end) over disjoint chunks covering [0, n); inline when n < 2 * grain, without
// wrapping f in a std::function (which would allocate on every small op).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n < 2 * grain) return f(int64_t(0), n);
  parallel_for_in_pool(n, grain, f);
}

}  // namespace tapegrad::cpu

// How torch's CPU loops split their work, for the few results that depend on it: its SIMD body
// and its element-by-element tail round, or treat NaN, differently.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/parallel.h"

namespace tapegrad::cpu {

// Bytes in one of torch's SIMD vectors for its CPU capability: 64 with AVX-512, 32 otherwise
// (AVX2, and its portable fallback, which also counts in 32-byte vectors). ATEN_CPU_CAPABILITY
// overrides the choice in torch, so it does here. Only AVX2 has been checked against torch.
inline int64_t torch_vector_bytes() {
  static const int64_t bytes = [] {
    const char* forced = std::getenv("ATEN_CPU_CAPABILITY");
    if (forced && *forced) return std::strncmp(forced, "avx512", 6) == 0 ? int64_t(64) : int64_t(32);
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
      return int64_t(64);
#endif
    return int64_t(32);
  }();
  return bytes;
}

// torch's vectorized loop takes two vectors at a time: of a contiguous run of n elements the
// first torch_simd_part(n, itemsize) go through the SIMD body, the rest through the scalar tail.
inline int64_t torch_simd_part(int64_t n, int64_t itemsize) {
  const int64_t pair = 2 * torch_vector_bytes() / itemsize;
  return n / pair * pair;
}

// torch's at::parallel_for with its grain size: [0, n) in one chunk per thread above 32768
// elements, each chunk a run of its own (so the chunking shows in the roundings too).
template <class F>
void torch_chunks(int64_t n, F&& f) {
  const int64_t grain = 32768;
  if (n <= grain) return f(int64_t(0), n);
  const int64_t threads = std::min<int64_t>(num_threads(), (n + grain - 1) / grain);
  const int64_t chunk = (n + threads - 1) / threads, chunks = (n + chunk - 1) / chunk;
  parallel_for(chunks, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) f(c * chunk, std::min(n, (c + 1) * chunk));
  });
}

}  // namespace tapegrad::cpu

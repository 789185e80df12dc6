// How torch's CPU loops split their work, for the few results that depend on it: its SIMD body
// and its element-by-element tail round, or treat NaN, differently.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "kernels/cpu/parallel.h"

namespace tapegrad::cpu {

// Bytes in one of the SIMD vectors of the torch kernels modelled here (arange, hardtanh's
// gradient): 32, AVX2's width, on every x86 machine. AVX-512 kernels are opt-in in torch
// (ALSO_REGISTER_AVX512_DISPATCH); neither of these opts in, so an AVX-512 machine runs their
// AVX2 copies (checked on one: the splits and roundings are AVX2's).
inline int64_t torch_vector_bytes() { return 32; }

// Whether oneDNN, which torch hands contiguous float32 gelu, runs its AVX-512 code here: that code
// forms x/2 * (1 + erf) where its AVX2 code sums the halves, so the sign of a zero result differs.
// ONEDNN_MAX_CPU_ISA (or its old name DNNL_MAX_CPU_ISA) caps the choice in oneDNN, so it does here.
inline bool onednn_runs_avx512() {
  static const bool avx512 = [] {
    const char* cap = std::getenv("ONEDNN_MAX_CPU_ISA");
    if (!cap || !*cap) cap = std::getenv("DNNL_MAX_CPU_ISA");
    if (cap && *cap && std::strncmp(cap, "AVX512", 6) != 0 && std::strncmp(cap, "AVX10", 5) != 0 &&
        std::strcmp(cap, "ALL") != 0 && std::strncmp(cap, "DEFAULT", 7) != 0)
      return false;
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
  }();
  return avx512;
}

// Bytes in one SIMD vector of the torch kernels that do run their AVX-512 build here (sigmoid and
// silu, checked on an AVX-512 machine: their splits come in 32 floats): 64 where the CPU has the
// AVX-512 set torch asks for and ATEN_CPU_CAPABILITY does not cap it at AVX2, else 32.
inline int64_t torch_native_vector_bytes() {
  static const int64_t bytes = [] {
    const char* cap = std::getenv("ATEN_CPU_CAPABILITY");
    if (cap && *cap && std::strncmp(cap, "avx512", 6) != 0) return int64_t(32);
#if defined(__x86_64__) && defined(__GNUC__)
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return int64_t(avx512 ? 64 : 32);
#else
    return int64_t(32);
#endif
  }();
  return bytes;
}

// torch's vectorized loop takes two vectors at a time: of a contiguous run of n elements the
// first torch_simd_part(n, itemsize) go through the SIMD body, the rest through the scalar tail.
inline int64_t torch_simd_part(int64_t n, int64_t itemsize, int64_t vector_bytes = torch_vector_bytes()) {
  const int64_t pair = 2 * vector_bytes / itemsize;
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

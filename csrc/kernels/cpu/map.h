// Elementwise loops for one or two inputs: contiguous (SIMD), scalar-broadcast and strided runs.
#pragma once
#include <type_traits>

#include "kernels/cpu/loop.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/torch_loops.h"
#include "kernels/cpu/vector_math.h"

namespace tapegrad::cpu {

// Elements per thread below which a second thread costs more than it saves.
constexpr int64_t kElementwiseGrain = 1 << 16;

inline bool dense_like(const TensorImpl& t, const TensorImpl& out) {
  return t.is_contiguous() && t.sizes() == out.sizes();
}

// The common case, every operand contiguous with out's shape: one flat SIMD loop, split across
// threads for large tensors.
template <class T, class F>
void flat_map1(const TensorImpl& in, TensorImpl& out, F f) {
  T* o = reinterpret_cast<T*>(out.data_ptr());
  const T* x = reinterpret_cast<const T*>(in.data_ptr());
  // Flattened, so that a large functor (oneDNN's gelu) is inlined and the loop vectorized.
  auto run = [&](int64_t b, int64_t e) __attribute__((flatten)) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) o[i] = f(x[i]);
  };
  parallel_for(out.numel(), kElementwiseGrain, run);
}

template <class T, class F>
void flat_map2(const TensorImpl& x, const TensorImpl& y, TensorImpl& out, F f) {
  T* o = reinterpret_cast<T*>(out.data_ptr());
  const T* a = reinterpret_cast<const T*>(x.data_ptr());
  const T* b = reinterpret_cast<const T*>(y.data_ptr());
  const bool scalar_a = x.numel() == 1, scalar_b = y.numel() == 1;
  auto run = [&](int64_t lo, int64_t hi) {
    if (scalar_b) {
      const T bv = *b;
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) o[i] = f(a[i], bv);
    } else if (scalar_a) {
      const T av = *a;
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) o[i] = f(av, b[i]);
    } else {
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) o[i] = f(a[i], b[i]);
    }
  };
  parallel_for(out.numel(), kElementwiseGrain, run);
}

template <class T, class F>
void map1(const TensorImpl& in, TensorImpl& out, F f) {
  if (out.is_contiguous() && dense_like(in, out)) return flat_map1<T>(in, out, f);
  const Shape& shape = out.sizes();
  strided_loop<2>(shape, {byte_strides(out, shape), byte_strides(in, shape)}, {out.data_ptr(), in.data_ptr()},
                  [&](char** p, const int64_t* s, int64_t n) {
                    T* o = reinterpret_cast<T*>(p[0]);
                    const T* x = reinterpret_cast<const T*>(p[1]);
                    if (s[0] == sizeof(T) && s[1] == sizeof(T)) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<T*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]));
                    }
                  });
}

template <class T, class F>
void map2(const TensorImpl& x, const TensorImpl& y, TensorImpl& out, F f) {
  if (out.is_contiguous() && (dense_like(x, out) || x.numel() == 1) && (dense_like(y, out) || y.numel() == 1))
    return flat_map2<T>(x, y, out, f);
  const Shape& shape = out.sizes();
  strided_loop<3>(shape, {byte_strides(out, shape), byte_strides(x, shape), byte_strides(y, shape)},
                  {out.data_ptr(), x.data_ptr(), y.data_ptr()}, [&](char** p, const int64_t* s, int64_t n) {
                    T* o = reinterpret_cast<T*>(p[0]);
                    const T* a = reinterpret_cast<const T*>(p[1]);
                    const T* b = reinterpret_cast<const T*>(p[2]);
                    constexpr int64_t e = sizeof(T);
                    if (s[0] == e && s[1] == e && s[2] == e) {
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
                    } else if (s[0] == e && s[1] == e && s[2] == 0) {
                      const T bv = *b;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
                    } else if (s[0] == e && s[1] == 0 && s[2] == e) {
                      const T av = *a;
#pragma omp simd
                      for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<T*>(p[0] + i * s[0]) = f(*reinterpret_cast<const T*>(p[1] + i * s[1]),
                                                                   *reinterpret_cast<const T*>(p[2] + i * s[2]));
                    }
                  });
}

// o[i] = f(u[i], v[i]) over [b, e) as one SIMD loop. Flattened: GCC otherwise leaves a functor as
// large as torch_vec_expf's a call per element, and the loop scalar.
template <class T, class F>
[[gnu::flatten]] void simd_range(T* o, const T* u, const T* v, int64_t b, int64_t e, const F& f) {
#pragma omp simd
  for (int64_t i = b; i < e; ++i) o[i] = f(u[i], v[i]);
}

// map2 for the few ops whose torch kernel answers differently in its SIMD body than in its scalar
// tail (hardtanh's gradient at NaN): `body` where torch's loop would take the element in a vector,
// `tail` elsewhere. Runs are split as torch splits them (torch_loops.h): a contiguous run, or one
// with a broadcast input, vectorizes its first torch_simd_part elements; any other run is all tail.
// `vector_bytes`: the width of the torch build that runs the op (torch_loops.h).
template <class T, class Body, class Tail>
void map2_torch_split(const TensorImpl& x, const TensorImpl& y, TensorImpl& out, Body body, Tail tail,
                      int64_t vector_bytes = torch_vector_bytes()) {
  constexpr int64_t e = sizeof(T);
  auto run = [&](char** p, const int64_t* s, int64_t n) {
    const bool simd = s[0] == e && ((s[1] == e && s[2] == e) || (s[1] == 0 && s[2] == e) || (s[1] == e && s[2] == 0));
    const int64_t split = simd ? torch_simd_part(n, e, vector_bytes) : 0;
    if (s[0] == e && s[1] == e && s[2] == e) {
      T* o = reinterpret_cast<T*>(p[0]);
      const T* u = reinterpret_cast<const T*>(p[1]);
      const T* v = reinterpret_cast<const T*>(p[2]);
      simd_range<T>(o, u, v, 0, split, body);
      simd_range<T>(o, u, v, split, n, tail);
      return;
    }
    auto at = [&](int64_t i, int k) { return *reinterpret_cast<const T*>(p[k] + i * s[k]); };
    for (int64_t i = 0; i < split; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = body(at(i, 1), at(i, 2));
    for (int64_t i = split; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = tail(at(i, 1), at(i, 2));
  };
  const Shape& shape = out.sizes();
  if (out.is_contiguous() && (dense_like(x, out) || x.numel() == 1) && (dense_like(y, out) || y.numel() == 1)) {
    // One run over everything, cut into torch's thread chunks.
    torch_chunks(out.numel(), [&](int64_t b, int64_t end) {
      char* p[3] = {out.data_ptr() + b * e, x.data_ptr() + (x.numel() == 1 ? 0 : b * e),
                    y.data_ptr() + (y.numel() == 1 ? 0 : b * e)};
      const int64_t s[3] = {e, x.numel() == 1 ? 0 : e, y.numel() == 1 ? 0 : e};
      run(p, s, end - b);
    });
    return;
  }
  strided_loop<3>(shape, {byte_strides(out, shape), byte_strides(x, shape), byte_strides(y, shape)},
                  {out.data_ptr(), x.data_ptr(), y.data_ptr()}, run);
}

// Math in the element type for floats; integers and bools go through double and back.
template <class T>
using math_t = std::conditional_t<std::is_floating_point_v<T>, T, double>;

}  // namespace tapegrad::cpu

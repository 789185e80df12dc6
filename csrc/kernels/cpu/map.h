// Elementwise loops for one or two inputs: contiguous (SIMD), scalar-broadcast and strided runs.
#pragma once
#include <type_traits>

#include "kernels/cpu/loop.h"

namespace tapegrad::cpu {

template <class T, class F>
void map1(const TensorImpl& in, TensorImpl& out, F f) {
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

// Math in the element type for floats; integers and bools go through double and back.
template <class T>
using math_t = std::conditional_t<std::is_floating_point_v<T>, T, double>;

}  // namespace tapegrad::cpu

// CPU reductions: sum of a tensor down to a broadcast-compatible shape (a full sum is the case of shape []).
#include <vector>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loop.h"

namespace tapegrad::cpu {
namespace {

// Floats accumulate in double so long sums stay accurate; integers in int64 (bool sums count).
template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

template <class T>
void sum_to_typed(const TensorImpl& in, TensorImpl& out) {
  using A = acc_t<T>;
  const Shape& shape = in.sizes();
  if (out.numel() == 1) {
    A total = 0;
    strided_loop<1>(shape, {byte_strides(in, shape)}, {in.data_ptr()}, [&](char** p, const int64_t* s, int64_t n) {
      A acc = 0;
      if (s[0] == sizeof(T)) {
        const T* x = reinterpret_cast<const T*>(p[0]);
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += A(x[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) acc += A(*reinterpret_cast<const T*>(p[0] + i * s[0]));
      }
      total += acc;
    });
    *out.data<T>() = T(total);
    return;
  }
  // General case: accumulate into a contiguous buffer of out's shape, read through broadcast strides.
  std::vector<A> acc(size_t(out.numel()), A(0));
  Shape acc_strides = broadcast_strides(out.sizes(), contiguous_strides(out.sizes()), shape);
  for (auto& v : acc_strides) v *= int64_t(sizeof(A));
  strided_loop<2>(shape, {acc_strides, byte_strides(in, shape)},
                  {reinterpret_cast<char*>(acc.data()), in.data_ptr()}, [&](char** p, const int64_t* s, int64_t n) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<A*>(p[0] + i * s[0]) += A(*reinterpret_cast<const T*>(p[1] + i * s[1]));
                  });
  const Shape& os = out.sizes();
  Shape src_strides = contiguous_strides(os);
  for (auto& v : src_strides) v *= int64_t(sizeof(A));
  strided_loop<2>(os, {byte_strides(out, os), src_strides}, {out.data_ptr(), reinterpret_cast<char*>(acc.data())},
                  [&](char** p, const int64_t* s, int64_t n) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<T*>(p[0] + i * s[0]) = T(*reinterpret_cast<const A*>(p[1] + i * s[1]));
                  });
}

}  // namespace

void sum_to(const TensorImpl& in, TensorImpl& out) { TG_DISPATCH_ALL(in.dtype(), sum_to_typed<scalar_t>(in, out)); }

}  // namespace tapegrad::cpu

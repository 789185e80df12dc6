// CPU copy with dtype conversion and broadcasting, and fill.
#include <cstring>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loop.h"

namespace tapegrad::cpu {
namespace {

template <class D, class S>
void copy_typed(const TensorImpl& src, TensorImpl& dst) {
  const Shape& shape = dst.sizes();
  strided_loop<2>(shape, {byte_strides(dst, shape), byte_strides(src, shape)}, {dst.data_ptr(), src.data_ptr()},
                  [](char** p, const int64_t* s, int64_t n) {
                    if (s[0] == sizeof(D) && s[1] == sizeof(S)) {
                      D* o = reinterpret_cast<D*>(p[0]);
                      const S* x = reinterpret_cast<const S*>(p[1]);
                      if constexpr (std::is_same_v<D, S>) {
                        std::memcpy(o, x, size_t(n) * sizeof(D));
                      } else {
#pragma omp simd
                        for (int64_t i = 0; i < n; ++i) o[i] = static_cast<D>(x[i]);
                      }
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<D*>(p[0] + i * s[0]) =
                            static_cast<D>(*reinterpret_cast<const S*>(p[1] + i * s[1]));
                    }
                  });
}

template <class D>
void copy_to(const TensorImpl& src, TensorImpl& dst) {
  TG_DISPATCH_ALL(src.dtype(), copy_typed<D, scalar_t>(src, dst));
}

template <class T>
void fill_typed(TensorImpl& dst, double value) {
  const T v = static_cast<T>(value);
  const Shape& shape = dst.sizes();
  strided_loop<1>(shape, {byte_strides(dst, shape)}, {dst.data_ptr()}, [v](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) *reinterpret_cast<T*>(p[0] + i * s[0]) = v;
  });
}

}  // namespace

void copy(const TensorImpl& src, TensorImpl& dst) { TG_DISPATCH_ALL(dst.dtype(), copy_to<scalar_t>(src, dst)); }
void fill(TensorImpl& dst, double value) { TG_DISPATCH_ALL(dst.dtype(), fill_typed<scalar_t>(dst, value)); }

}  // namespace tapegrad::cpu

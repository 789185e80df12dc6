// CPU kernels that walk one dim at a time ("lanes"): arg-max/min, running sums/products, softmax.
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loop.h"
#include "kernels/cpu/wrapping.h"

namespace tapegrad::cpu {
namespace {

// Calls lane(ptrs, strides_along_dim, n) for every position of the other dims.
template <size_t N, class Lane>
void for_each_lane(const std::array<const TensorImpl*, N>& ts, int64_t dim, Lane lane) {
  const TensorImpl& ref = *ts[0];
  if (ref.numel() == 0) return;  // no lanes, or 2**40 empty ones: nothing to do either way
  Shape outer = ref.sizes();
  int64_t n = ref.dim() ? outer[size_t(dim)] : 1;
  std::array<Shape, N> st;
  std::array<int64_t, N> along;
  std::array<char*, N> ptrs;
  for (size_t k = 0; k < N; ++k) {
    Shape s = ts[k]->strides();
    int64_t item = int64_t(itemsize(ts[k]->dtype()));
    along[k] = ts[k]->dim() ? s[size_t(dim)] * item : 0;
    if (ts[k]->dim()) s[size_t(dim)] = 0;
    for (auto& v : s) v *= item;
    st[k] = s;
    ptrs[k] = ts[k]->data_ptr();
  }
  if (ref.dim()) outer[size_t(dim)] = 1;
  strided_loop<N>(outer, st, ptrs, [&](char** p, const int64_t* s, int64_t m) {
    for (int64_t i = 0; i < m; ++i) {
      std::array<char*, N> q;
      for (size_t k = 0; k < N; ++k) q[k] = p[k] + i * s[k];
      lane(q, along, n);
    }
  });
}

template <class T>
void reduce_arg_typed(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& values, TensorImpl& indices) {
  const bool want_max = op == ReduceOp::Max;
  for_each_lane<3>({&in, &values, &indices}, dim, [&](std::array<char*, 3>& p, const std::array<int64_t, 3>& s, int64_t n) {
    T best = *reinterpret_cast<const T*>(p[0]);
    int64_t at = 0;
    for (int64_t i = 1; i < n; ++i) {
      T v = *reinterpret_cast<const T*>(p[0] + i * s[0]);
      bool better;
      if constexpr (std::is_floating_point_v<T>) {
        if (std::isnan(best)) break;
        better = std::isnan(v) || (want_max ? v > best : v < best);
      } else {
        better = want_max ? v > best : v < best;
      }
      if (better) best = v, at = i;
    }
    *reinterpret_cast<T*>(p[1]) = best;
    *reinterpret_cast<int64_t*>(p[2]) = at;
  });
}

template <class T>
void scan_typed(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& out, bool exclusive, bool reverse) {
  using A = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  const bool prod = op == ReduceOp::Prod;
  for_each_lane<2>({&in, &out}, dim, [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    A acc = prod ? A(1) : A(0);
    for (int64_t j = 0; j < n; ++j) {
      int64_t i = reverse ? n - 1 - j : j;
      A v = A(*reinterpret_cast<const T*>(p[0] + i * s[0]));
      if (exclusive) *reinterpret_cast<T*>(p[1] + i * s[1]) = T(acc);
      acc = prod ? wrapping_mul(acc, v) : wrapping_add(acc, v);
      if (!exclusive) *reinterpret_cast<T*>(p[1] + i * s[1]) = T(acc);
    }
  });
}

template <class T>
void softmax_typed(const TensorImpl& in, int64_t dim, TensorImpl& out, bool log) {
  for_each_lane<2>({&in, &out}, dim, [&](std::array<char*, 2>& p, const std::array<int64_t, 2>& s, int64_t n) {
    auto x = [&](int64_t i) { return *reinterpret_cast<const T*>(p[0] + i * s[0]); };
    auto y = [&](int64_t i) -> T& { return *reinterpret_cast<T*>(p[1] + i * s[1]); };
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x(i));
    // As torch: a lane whose max is infinite (or that holds a NaN) is NaN throughout (inf - inf).
    T sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += std::exp(x(i) - mx);
    if (log) {
      T lse = std::log(sum);
      for (int64_t i = 0; i < n; ++i) y(i) = x(i) - mx - lse;
    } else {
      for (int64_t i = 0; i < n; ++i) y(i) = std::exp(x(i) - mx) / sum;
    }
  });
}

}  // namespace

void reduce_arg(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& values, TensorImpl& indices) {
  TG_DISPATCH_ALL(in.dtype(), reduce_arg_typed<scalar_t>(op, in, dim, values, indices));
}
void scan(ReduceOp op, const TensorImpl& in, int64_t dim, TensorImpl& out, bool exclusive, bool reverse) {
  TG_DISPATCH_ALL(in.dtype(), scan_typed<scalar_t>(op, in, dim, out, exclusive, reverse));
}
void softmax(const TensorImpl& in, int64_t dim, TensorImpl& out, bool log) {
  TG_DISPATCH_FLOATING(in.dtype(), "softmax", softmax_typed<scalar_t>(in, dim, out, log));
}

}  // namespace tapegrad::cpu

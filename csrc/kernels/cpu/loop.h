// The one generic CPU loop: walks an N-d index space for several strided operands and hands
// the innermost runs to a functor, after merging dims that are laid out back to back.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>

#include "core/shape.h"
#include "core/tensor.h"

namespace tapegrad::cpu {

// Byte strides of `t` broadcast to `out_shape`.
inline Shape byte_strides(const TensorImpl& t, const Shape& out_shape) {
  Shape s = broadcast_strides(t.sizes(), t.strides(), out_shape);
  int64_t item = int64_t(itemsize(t.dtype()));
  for (auto& v : s) v *= item;
  return s;
}

// inner(ptrs, strides, n): process n elements, operand k starting at ptrs[k] with byte stride strides[k].
template <size_t N, class Inner>
void strided_loop(const Shape& shape_in, std::array<Shape, N> strides_in, std::array<char*, N> ptrs, Inner&& inner) {
  // Walk dims in the memory order of the first operand (largest stride outermost), so a
  // transposed output is still written, and its inputs read, in contiguous runs.
  const size_t nd0 = shape_in.size();
  std::array<int, 16> order;
  bool reorder = nd0 > 1 && nd0 <= order.size();
  if (reorder) {
    for (size_t d = 0; d < nd0; ++d) order[d] = int(d);
    auto key = [&](int d, size_t k) { return strides_in[k][size_t(d)] < 0 ? -strides_in[k][size_t(d)] : strides_in[k][size_t(d)]; };
    std::stable_sort(order.begin(), order.begin() + nd0, [&](int a, int b) {
      for (size_t k = 0; k < N; ++k)
        if (key(a, k) != key(b, k)) return key(a, k) > key(b, k);
      return false;
    });
    bool identity = true;
    for (size_t d = 0; d < nd0; ++d) identity = identity && order[d] == int(d);
    reorder = !identity;
  }
  Shape shape = shape_in;
  std::array<Shape, N> strides = strides_in;
  if (reorder) {
    for (size_t d = 0; d < nd0; ++d) {
      shape[d] = shape_in[size_t(order[d])];
      for (size_t k = 0; k < N; ++k) strides[k][d] = strides_in[k][size_t(order[d])];
    }
  }
  // Drop size-1 dims and merge each dim into its inner neighbour when contiguous with it.
  Shape sizes;
  std::array<Shape, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (shape[d] == 0) return;
    bool merge = !sizes.empty();
    for (size_t k = 0; k < N && merge; ++k) merge = st[k].back() == strides[k][d] * shape[d];
    if (merge) {
      sizes.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) st[k].back() = strides[k][d];
    } else {
      sizes.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) st[k].push_back(strides[k][d]);
    }
  }
  std::array<int64_t, N> inner_st;
  if (sizes.empty()) {  // a single element
    inner_st.fill(0);
    inner(ptrs.data(), inner_st.data(), int64_t(1));
    return;
  }
  const size_t nd = sizes.size();
  for (size_t k = 0; k < N; ++k) inner_st[k] = st[k][nd - 1];
  const int64_t n = sizes[nd - 1];
  if (nd == 1) {
    inner(ptrs.data(), inner_st.data(), n);
    return;
  }
  Shape counter(nd - 1, 0);
  std::array<char*, N> p = ptrs;
  while (true) {
    inner(p.data(), inner_st.data(), n);
    // Odometer increment over the outer dims.
    size_t d = nd - 1;
    while (d-- > 0) {
      if (++counter[d] < sizes[d]) {
        for (size_t k = 0; k < N; ++k) p[k] += st[k][d];
        break;
      }
      for (size_t k = 0; k < N; ++k) p[k] -= st[k][d] * (sizes[d] - 1);
      counter[d] = 0;
    }
    if (d == size_t(-1)) return;
  }
}

}  // namespace tapegrad::cpu

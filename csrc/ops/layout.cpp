// The memory layout of a new elementwise result, as torch's TensorIterator chooses it from its operands.
#include <optional>
#include <utility>

#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

bool is_channels_last(const TensorImpl& t) {
  static const int kOrder4[] = {1, 3, 2, 0}, kOrder5[] = {1, 4, 3, 2, 0};
  const int* order = t.dim() == 4 ? kOrder4 : t.dim() == 5 ? kOrder5 : nullptr;
  if (!order) return false;
  int64_t expected = 1;
  for (int i = 0; i < t.dim(); ++i) {
    int64_t d = order[i], size = t.sizes()[size_t(d)];
    if (size == 1) continue;
    if (t.strides()[size_t(d)] != expected) return false;
    expected *= size;
  }
  return true;
}

Shape channels_last_strides(const Shape& s) {
  Shape st(s.size());
  st[1] = 1;
  for (size_t d = s.size() - 1, prev = 1; d >= 2; prev = d--) st[d] = st[prev] * s[prev];
  st[0] = st[2] * s[2];
  return st;
}

// The strides torch's TensorIterator gives a new elementwise result of `shape`; nullopt for plain
// contiguous ones (the common case, decided without building any stride list).
std::optional<Shape> elementwise_strides(const Shape& shape, std::initializer_list<const TensorImpl*> operands) {
  const size_t nd = shape.size();
  if (nd <= 1) return std::nullopt;
  // torch's fast set-up: operands all of the result's shape, all contiguous (or all channels-last,
  // or all dense with the same strides), give the result that layout.
  bool same_shape = true, contiguous = true;
  const TensorImpl* first = nullptr;
  for (const TensorImpl* t : operands) {
    if (!t) continue;
    if (!first) first = t;
    same_shape = same_shape && t->sizes() == shape;
    contiguous = contiguous && t->is_contiguous();
  }
  if (same_shape && first) {
    if (contiguous) return std::nullopt;
    bool channels_last = true, dense_alike = true;
    for (const TensorImpl* t : operands) {
      if (!t) continue;
      channels_last = channels_last && is_channels_last(*t);
      dense_alike = dense_alike && t->strides() == first->strides();
    }
    if (channels_last) return channels_last_strides(shape);
    if (dense_alike && first->is_dense()) return first->strides();
  }
  // Otherwise torch orders the dims from fastest to slowest by the operands' strides, the first
  // operand that tells them apart deciding; broadcast dims (stride 0) tell nothing, and equal
  // strides put the smaller dim first.
  std::vector<Shape> strides;
  for (const TensorImpl* t : operands)
    if (t) strides.push_back(broadcast_strides(t->sizes(), t->strides(), shape));
  auto should_swap = [&](size_t d0, size_t d1) {
    for (const Shape& st : strides) {
      int64_t s0 = st[d0], s1 = st[d1];
      if (s0 == 0 || s1 == 0) continue;
      if (s0 != s1) return s0 < s1 ? -1 : 1;
      if (shape[d0] > shape[d1]) return 1;
    }
    return 0;
  };
  std::vector<size_t> perm(nd);  // perm[0]: the fastest dim
  for (size_t i = 0; i < nd; ++i) perm[i] = nd - 1 - i;
  for (size_t i = 1; i < nd; ++i) {
    size_t d1 = i;
    for (size_t d0 = i; d0-- > 0;) {
      int c = should_swap(perm[d0], perm[d1]);
      if (c > 0) {
        std::swap(perm[d0], perm[d1]);
        d1 = d0;
      } else if (c < 0) {
        break;
      }
    }
  }
  bool reversed = true;
  for (size_t i = 0; i < nd; ++i) reversed = reversed && perm[i] == nd - 1 - i;
  if (reversed) return std::nullopt;
  Shape out(nd);
  int64_t next = 1;  // as torch: no floor of 1 for an empty dim
  for (size_t i = 0; i < nd; ++i) {
    out[perm[i]] = next;
    next *= shape[perm[i]];
  }
  return out;
}

}  // namespace

Tensor empty_elementwise(const Shape& shape, DType dtype, Device device,
                         std::initializer_list<const TensorImpl*> operands) {
  std::optional<Shape> strides = elementwise_strides(shape, operands);
  if (!strides || *strides == contiguous_strides(shape)) return TensorImpl::empty(shape, dtype, device);
  Tensor flat = TensorImpl::empty({numel_of(shape)}, dtype, device);
  return TensorImpl::view_of(flat->storage(), shape, std::move(*strides), 0, dtype);
}

}  // namespace tapegrad::ops

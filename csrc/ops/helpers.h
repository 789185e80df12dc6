// Small pieces every op file uses: kernel lookup, output allocation, casting without history.
#pragma once
#include <algorithm>
#include <initializer_list>
#include <optional>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "kernels/dispatch.h"
#include "ops/ops.h"

namespace tapegrad::ops {

inline const KernelTable& kernels(const Tensor& t) { return kernels_for(t->device()); }

inline Tensor empty_like_shape(const Tensor& like, const Shape& shape, DType dtype) {
  return TensorImpl::empty(shape, dtype, like->device());
}

// Integer and bool sums accumulate as int64, as torch's do.
inline DType sum_dtype(const Tensor& x, std::optional<DType> dtype) {
  if (dtype) return *dtype;
  return is_floating(x->dtype()) ? x->dtype() : DType::Int64;
}

// torch refuses to record history on an integer or bool result (asked for with dtype=) of an input
// that requires grad; it checks once the result is made, after the other checks.
inline void check_differentiable_result(const Tensor& x, DType result) {
  if (GradMode::is_enabled() && x->requires_grad() && !is_floating(result))
    fail(ErrorKind::Runtime, "Autograd not support dtype: ", dtype_scalar_type_name(result));
}

// A new elementwise result of `shape` laid out as torch's TensorIterator lays it out from these operands
// (null ones ignored): their common layout when they share one, else their dims ordered by stride, the
// first operand that tells two dims apart deciding (ops/layout.cpp).
Tensor empty_elementwise(const Shape& shape, DType dtype, Device device, std::initializer_list<const TensorImpl*> operands);

// A fresh tensor of `shape` laid out as torch lays out an elementwise result of the one operand `like`
// (a permuted input gives a permuted result); contiguous when like has another shape.
inline Tensor empty_like_layout(const Tensor& like, const Shape& shape, DType dtype) {
  if (like->sizes() != shape || like->is_contiguous()) return TensorImpl::empty(shape, dtype, like->device());
  return empty_elementwise(shape, dtype, like->device(), {like.get()});
}

// An op's result that it computed as a view of its own temporaries, returned as a tensor of its
// own: in torch only view ops return views. Never pass an input (contiguous(x) may be x itself).
inline Tensor as_new(Tensor t) {
  t->forget_view_base();
  return t;
}

// Converts dtype for computing only; the caller records history against the original tensor.
inline Tensor cast_for_compute(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = empty_like_layout(t, t->sizes(), dtype);
  kernels(t).copy(*t, *out);
  return out;
}

// The value of a one-element int64 tensor on the CPU (for checks on index tensors).
inline int64_t item_of(const Tensor& t) {
  Tensor c = cast_for_compute(t, DType::Int64);
  return *c->data<int64_t>();
}

// a <op> b broadcast, computed in `dtype`, without history (binary.cpp).
Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype);

// Math like sin() on an integer tensor computes in the default float dtype, as torch does.
inline DType float_result_type(const Tensor& t) { return is_floating(t->dtype()) ? t->dtype() : default_dtype(); }

// A view of x (same storage) that knows its base, with torch's inference and no_grad marks (view.cpp).
Tensor make_view(const Tensor& x, Shape sizes, Shape strides, int64_t offset);

// torch's double backward of a piecewise activation (hardtanh_backward, threshold_backward, ...) or
// of an evaluation-mode batch_norm is a function of the input too, with a zero gradient (or none,
// input_gets_zeros false): under create_graph the gradient it gives requires grad whenever the input
// does. Returns grad_in itself when no graph is being built.
Tensor tie_to_input(const Tensor& grad_in, const Tensor& x, const char* node_name, bool input_gets_zeros = true);

// torch's NotImplementedError for a kernel that has no version for dtype.
[[noreturn]] inline void not_for_dtype(const char* kernel, DType dtype) {
  fail(ErrorKind::NotImplemented, "\"", kernel, "\" not implemented for '", dtype_scalar_type_name(dtype), "'");
}

// torch runs abs (and isinf through it) as its out= form into a new normal tensor, whose autograd
// refuses an inference tensor that requires grad (an op on inference tensors alone skips autograd).
void check_out_form_grad(const Tensor& x, const char* op);

// torch's preserve_format (clone, *_like): like's exact strides when it is non-overlapping and
// dense (gaps of size-1 dims and empty tensors' strides included), else its dims' memory order.
inline Tensor empty_preserving(const Tensor& like, DType dtype, Device device) {
  if (device != like->device()) return TensorImpl::empty(like->sizes(), dtype, device);
  if (!like->is_dense()) return empty_like_layout(like, like->sizes(), dtype);
  const Shape& sizes = like->sizes();
  const Shape& strides = like->strides();
  int64_t span = 1;  // elements the strides reach
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) {
      span = 0;
      break;
    }
    span += (sizes[d] - 1) * strides[d];
  }
  Tensor flat = TensorImpl::empty({span}, dtype, device);
  return TensorImpl::view_of(flat->storage(), sizes, strides, 0, dtype);
}

}  // namespace tapegrad::ops

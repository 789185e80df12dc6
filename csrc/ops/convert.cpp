// Copies, dtype conversion, detaching, and the in-place writes the engine needs.
#include "autograd/function.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {

namespace {
Tensor clone_into(const Tensor& t, Tensor out) {
  kernels(t).copy(*t, *out);
  if (t->is_inference() && !InferenceMode::is_enabled()) {
    // torch clones an inference tensor by copy_ into a new normal tensor, which its autograd sees.
    record("torch::autograd::CopyBackwards", [](FormulaNode&, const Tensor& g) -> TensorList { return {Tensor(), g}; },
           out, {nullptr, &t});
    return out;
  }
  record("CloneBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, out, {&t});
  return out;
}
}  // namespace

Tensor clone(const Tensor& t) { return clone_into(t, empty_like_shape(t, t->sizes(), t->dtype())); }
Tensor clone_preserving(const Tensor& t) { return clone_into(t, empty_preserving(t, t->dtype(), t->device())); }

Tensor contiguous(const Tensor& t) { return t->is_contiguous() ? t : clone(t); }

Tensor to_dtype(const Tensor& t, DType dtype) {
  if (t->dtype() == dtype) return t;
  Tensor out = cast_for_compute(t, dtype);
  if (!is_floating(dtype)) return out;  // integer results never carry history
  // torch's _to_copy copies an inference tensor into a new normal one: that copy_ records.
  if (record_inference_write("torch::autograd::CopyBackwards", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {to_dtype(g, n.next_edges[0].dtype)};
      }, out, t))
    return out;
  record("ToCopyBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {to_dtype(g, n.next_edges[0].dtype)};
  }, out, {&t});
  return out;
}

Tensor detach(const Tensor& t) {
  Tensor out = TensorImpl::view_of(t->storage(), t->sizes(), t->strides(), t->storage_offset(), t->dtype());
  out->set_inference(t->is_inference());  // as torch: inference exactly when t is, whatever the mode
  return out;
}

void add_(const Tensor& self, const Tensor& other) {
  check_same_device(self, other);
  TG_CHECK(is_expandable_to(other->sizes(), self->sizes()), "output with shape ", shape_str(self->sizes()),
           " doesn't match the broadcast shape ", shape_str(broadcast_shapes(self->sizes(), other->sizes())));
  Tensor o = cast_for_compute(other, self->dtype());
  kernels(self).binary(BinaryOp::Add, *self, *o, *self);
  self->bump_version();
}

void fill_(const Tensor& self, double value) {
  kernels(self).fill(*self, value);
  self->bump_version();
}

void zero_(const Tensor& self) { fill_(self, 0.0); }

}  // namespace tapegrad::ops

// Masks and the zero-where that backward rules use for piecewise derivatives (relu, clamp, pow).
#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {

Tensor mask(const Tensor& x, int unary_mask_op, double a, double b) {
  Tensor out = empty_like_shape(x, x->sizes(), x->dtype());
  kernels(x).unary(UnaryOp(unary_mask_op), *x, *out, a, b);
  return out;
}

Tensor keep_where(const Tensor& x, const Tensor& m) {
  Tensor out = empty_like_shape(x, broadcast_shapes(x->sizes(), m->sizes()), x->dtype());
  kernels(x).binary(BinaryOp::KeepWhere, *x, *cast_for_compute(m, x->dtype()), *out);
  if (auto* n = record("WhereBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {keep_where(g, n.saved(0))};
      }, out, {&x}))
    n->save(m);
  return out;
}

Tensor pow_exponent_mask(const Tensor& base, const Tensor& exponent) {
  DType dt = promote_types(base->dtype(), exponent->dtype());
  Tensor out = empty_like_shape(base, broadcast_shapes(base->sizes(), exponent->sizes()), dt);
  kernels(base).binary(BinaryOp::PowExpMask, *cast_for_compute(base, dt), *cast_for_compute(exponent, dt), *out);
  return out;
}

}  // namespace tapegrad::ops

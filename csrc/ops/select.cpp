// Comparisons (bool results), logical ops, where/masked_fill and maximum/minimum with their rules.
#include <limits>

#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

Tensor run_compare(CompareOp op, const Tensor& a, const Tensor& b, DType dt) {
  check_same_device(a, b);
  Shape shape = broadcast_shapes(a->sizes(), b->sizes());
  Tensor out = empty_elementwise(shape, DType::Bool, a->device(), {a.get(), b.get()});
  kernels(a).compare(op, *cast_for_compute(a, dt), *cast_for_compute(b, dt), *out);
  return out;
}

Tensor as_bool(const Tensor& t) { return cast_for_compute(t, DType::Bool); }

// A bool mask as a 0/1 tensor of `dtype`, for keep_where.
Tensor mask_of(const Tensor& m, DType dtype) { return cast_for_compute(m, dtype); }

}  // namespace

Tensor compare(const Tensor& a, const Tensor& b, int op) {
  return run_compare(CompareOp(op), a, b, result_type(a, b));
}

Tensor compare(const Tensor& a, const Scalar& b, int op) {
  DType dt = result_type(a, b);
  return run_compare(CompareOp(op), a, scalar_tensor(b, dt, a->device()), dt);
}

Tensor logical_and(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like_shape(a, broadcast_shapes(a->sizes(), b->sizes()), DType::Bool);
  kernels(a).binary(BinaryOp::Mul, *as_bool(a), *as_bool(b), *out);
  return out;
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  Tensor out = empty_like_shape(a, broadcast_shapes(a->sizes(), b->sizes()), DType::Bool);
  kernels(a).binary(BinaryOp::Add, *as_bool(a), *as_bool(b), *out);
  return out;
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return run_compare(CompareOp::Ne, as_bool(a), as_bool(b), DType::Bool);
}
Tensor logical_not(const Tensor& a) { return compare(as_bool(a), Scalar::from_bool(false), int(CompareOp::Eq)); }

Tensor bitwise(const Tensor& a, const Tensor& b, int int_op) {
  static const char* names[] = {"bitwise_and_cpu", "bitwise_or_cpu", "bitwise_xor_cpu"};
  DType dt = result_type(a, b);
  check_same_device(a, b);
  Shape shape = broadcast_shapes(a->sizes(), b->sizes());  // torch checks shapes before the kernel's dtype
  if (is_floating(dt))
    fail(ErrorKind::NotImplemented, "\"", names[int_op], "\" not implemented for '", dtype_scalar_type_name(dt), "'");
  Tensor out = empty_like_shape(a, shape, dt);
  BinaryOp op = int_op == 0 ? BinaryOp::BitAnd : int_op == 1 ? BinaryOp::BitOr : BinaryOp::BitXor;
  kernels(a).binary(op, *cast_for_compute(a, dt), *cast_for_compute(b, dt), *out);
  return out;
}

Tensor bitwise_not(const Tensor& a) {
  if (is_floating(a->dtype()))
    fail(ErrorKind::Type, "~ (operator.invert) is only implemented on integer and Boolean-type tensors");
  Tensor out = empty_like_shape(a, a->sizes(), a->dtype());
  kernels(a).unary(UnaryOp::BitNot, *a, *out, 0, 0);
  return out;
}

Tensor isnan(const Tensor& a) {
  if (!is_floating(a->dtype())) return full_like(a, 0.0, DType::Bool, a->device());  // laid out like a, as torch's
  return run_compare(CompareOp::Ne, a, a, a->dtype());
}
Tensor isinf(const Tensor& a) {
  if (!is_floating(a->dtype())) return full_like(a, 0.0, DType::Bool, a->device());  // laid out like a, as torch's
  check_out_form_grad(a, "abs");
  AutoGradMode off(false);
  return compare(abs(a), Scalar(std::numeric_limits<double>::infinity()), int(CompareOp::Eq));
}
Tensor isfinite(const Tensor& a) {
  if (!is_floating(a->dtype())) return full_like(a, 1.0, DType::Bool, a->device());  // laid out like a, as torch's
  AutoGradMode off(false);
  // x - x is 0 for finite x and NaN for inf/NaN.
  return compare(sub(a, a), Scalar(0.0), int(CompareOp::Eq));
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  AutogradKeyFrom key({&cond});  // a normal condition makes torch record for inference operands
  TG_CHECK(cond->dtype() == DType::Bool, "where expected condition to be a boolean tensor, but got a tensor with dtype ",
           dtype_scalar_type_name(cond->dtype()));
  check_same_device(cond, a);
  check_same_device(a, b);
  DType dt = result_type(a, b);
  Shape shape = broadcast_shapes(b->sizes(), broadcast_shapes(cond->sizes(), a->sizes()));
  Tensor out = empty_elementwise(shape, dt, a->device(), {cond.get(), a.get(), b.get()});
  kernels(a).where(*cond, *cast_for_compute(a, dt), *cast_for_compute(b, dt), *out);
  if (FormulaNode* n = record("WhereBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor c = n.saved(0);
        return {n.needs_grad(0) ? keep_where(g, mask_of(c, g->dtype())) : Tensor(),
                n.needs_grad(1) ? keep_where(g, mask_of(logical_not(c), g->dtype())) : Tensor()};
      }, out, {&a, &b}))
    n->save(cond);
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value, bool value_is_number) {
  AutogradKeyFrom key({&mask});
  // Out of place, x and the mask broadcast together (torch's expand_outplace(mask, x)), checked first.
  Shape shape = broadcast_shapes(mask->sizes(), x->sizes());
  TG_CHECK(mask->dtype() == DType::Bool, "masked_fill_ only supports boolean masks, but got mask with dtype ",
           dtype_name(mask->dtype()));
  TG_CHECK(value->dim() == 0, "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with ",
           value->dim(), " dimension(s).");
  Tensor out = empty_like_shape(x, shape, x->dtype());
  kernels(x).where(*mask, *cast_for_compute(value, x->dtype()), *x, *out);
  if (value->requires_grad() || !value_is_number) {
    if (FormulaNode* n = record("MaskedFillBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
          Tensor m = n.saved(0);
          Tensor gv = n.needs_grad(1) ? sum(keep_where(g, mask_of(m, g->dtype())), {}, false) : Tensor();
          return {n.needs_grad(0) ? keep_where(g, mask_of(logical_not(m), g->dtype())) : Tensor(), gv};
        }, out, {&x, &value}))
      n->save(mask);
    return out;
  }
  if (FormulaNode* n = record("MaskedFillBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {keep_where(g, mask_of(logical_not(n.saved(0)), g->dtype()))};
      }, out, {&x}))
    n->save(mask);
  return out;
}

namespace {
// d max(a, b): ties split the gradient in half and the losing side gets none (torch's rule, which
// zeroes where a side loses, so at a NaN, where nothing compares, both sides get all of it).
TensorList extremum_rule(FormulaNode& n, const Tensor& g) {
  Tensor a = n.saved(0), b = n.saved(1);
  bool is_max = n.scalars[0] != 0;
  Tensor half = keep_where(mul_scalar(g, 0.5), mask_of(compare(a, b, int(CompareOp::Eq)), g->dtype()));
  Tensor whole = keep_where(g, mask_of(compare(a, b, int(CompareOp::Ne)), g->dtype()));
  Tensor shared = add(half, whole);
  CompareOp a_loses = is_max ? CompareOp::Lt : CompareOp::Gt;
  CompareOp b_loses = is_max ? CompareOp::Gt : CompareOp::Lt;
  auto unless = [&](CompareOp loses) {
    return keep_where(shared, mask_of(logical_not(compare(a, b, int(loses))), g->dtype()));
  };
  return {n.needs_grad(0) ? unless(a_loses) : Tensor(), n.needs_grad(1) ? unless(b_loses) : Tensor()};
}

Tensor extremum(const Tensor& a, const Tensor& b, bool is_max) {
  check_same_device(a, b);
  DType dt = result_type(a, b);
  Tensor out = empty_like_shape(a, broadcast_shapes(a->sizes(), b->sizes()), dt);
  kernels(a).binary(is_max ? BinaryOp::Maximum : BinaryOp::Minimum, *cast_for_compute(a, dt),
                    *cast_for_compute(b, dt), *out);
  if (FormulaNode* n = record(is_max ? "MaximumBackward0" : "MinimumBackward0", extremum_rule, out, {&a, &b})) {
    n->save(a);
    n->save(b);
    n->scalars[0] = is_max;
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(a, b, true); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(a, b, false); }

}  // namespace tapegrad::ops

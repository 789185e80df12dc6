// Rounding, inverse-trigonometric, hyperbolic and base-2/10 math ops, each with its backward rule
// (torch's derivatives.yaml formulas, written with ops so that they differentiate again).
#include <cmath>

#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

Tensor run_math(UnaryOp op, const Tensor& x, DType dtype, double a = 0) {
  Tensor xc = cast_for_compute(x, dtype);
  Tensor out = empty_like_layout(x, x->sizes(), dtype);
  kernels(x).unary(op, *xc, *out, a, 0);
  return out;
}

// floor/ceil/round/trunc: an integer tensor is already whole and comes back as a copy; bools
// are refused as torch refuses them. The gradient is zero everywhere.
Tensor rounding(UnaryOp op, const Tensor& x, const char* name, const char* kernel, double decimals = 0) {
  if (x->dtype() == DType::Bool) not_for_dtype(kernel, x->dtype());
  if (!is_floating(x->dtype())) return clone(x);
  Tensor out = run_math(op, x, x->dtype(), decimals);
  record(name, [](FormulaNode&, const Tensor& g) -> TensorList { return {zeros_like(g)}; }, out, {&x});
  return out;
}

// A floating op (integers compute in the default float dtype, as torch's) saving its input or
// its output for the rule.
enum class Save { Input, Output };
Tensor float_math(UnaryOp op, const Tensor& x, const char* name, BackwardFormula rule, Save save) {
  Tensor out = run_math(op, x, float_result_type(x));
  if (FormulaNode* n = record(name, rule, out, {&x})) {
    if (save == Save::Input) n->save(x);
    else n->save(out, /*is_output=*/true);
  }
  return out;
}

Tensor one_minus_square(const Tensor& x) { return rsub(mul(x, x), Scalar(1.0)); }

}  // namespace

Tensor floor(const Tensor& x) { return rounding(UnaryOp::Floor, x, "FloorBackward0", "floor_vml_cpu"); }
Tensor ceil(const Tensor& x) { return rounding(UnaryOp::Ceil, x, "CeilBackward0", "ceil_vml_cpu"); }
Tensor trunc(const Tensor& x) { return rounding(UnaryOp::Trunc, x, "TruncBackward0", "trunc_vml_cpu"); }

Tensor round(const Tensor& x, int64_t decimals) {
  if (decimals == 0) return rounding(UnaryOp::Round, x, "RoundBackward0", "round_vml_cpu");
  if (!is_floating(x->dtype())) not_for_dtype("round_cpu", x->dtype());
  return rounding(UnaryOp::Round, x, "RoundBackward1", "round_cpu", double(decimals));
}

Tensor frac(const Tensor& x) {
  if (!is_floating(x->dtype())) not_for_dtype("frac_cpu", x->dtype());
  Tensor out = run_math(UnaryOp::Frac, x, x->dtype());
  record("FracBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, out, {&x});
  return out;
}

Tensor expm1(const Tensor& x) {
  return float_math(UnaryOp::Expm1, x, "Expm1Backward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, add(n.saved(0), Scalar(1.0)))};
  }, Save::Output);
}

Tensor log2(const Tensor& x) {
  return float_math(UnaryOp::Log2, x, "Log2Backward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {div(g, mul_scalar(n.saved(0), M_LN2))};
  }, Save::Input);
}

Tensor log10(const Tensor& x) {
  return float_math(UnaryOp::Log10, x, "Log10Backward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {div(g, mul_scalar(n.saved(0), M_LN10))};
  }, Save::Input);
}

Tensor exp2(const Tensor& x) {
  return float_math(UnaryOp::Exp2, x, "Exp2Backward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, mul_scalar(n.saved(0), M_LN2))};
  }, Save::Output);
}

Tensor rsqrt(const Tensor& x) {
  return float_math(UnaryOp::Rsqrt, x, "RsqrtBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(mul_scalar(g, -0.5), pow(n.saved(0), Scalar::from_int(3)))};
  }, Save::Output);
}

Tensor asin(const Tensor& x) {
  return float_math(UnaryOp::Asin, x, "AsinBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, rsqrt(one_minus_square(n.saved(0))))};
  }, Save::Input);
}

Tensor acos(const Tensor& x) {
  return float_math(UnaryOp::Acos, x, "AcosBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, neg(rsqrt(one_minus_square(n.saved(0)))))};
  }, Save::Input);
}

Tensor atan(const Tensor& x) {
  return float_math(UnaryOp::Atan, x, "AtanBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    return {div(g, add(mul(x, x), Scalar(1.0)))};
  }, Save::Input);
}

Tensor sinh(const Tensor& x) {
  return float_math(UnaryOp::Sinh, x, "SinhBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, cosh(n.saved(0)))};
  }, Save::Input);
}

Tensor cosh(const Tensor& x) {
  return float_math(UnaryOp::Cosh, x, "CoshBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, sinh(n.saved(0)))};
  }, Save::Input);
}

Tensor asinh(const Tensor& x) {
  return float_math(UnaryOp::Asinh, x, "AsinhBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, rsqrt(add(pow(n.saved(0), Scalar::from_int(2)), Scalar(1.0))))};
  }, Save::Input);
}

Tensor acosh(const Tensor& x) {
  return float_math(UnaryOp::Acosh, x, "AcoshBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {mul(g, rsqrt(sub(pow(n.saved(0), Scalar::from_int(2)), Scalar(1.0))))};
  }, Save::Input);
}

Tensor atanh(const Tensor& x) {
  return float_math(UnaryOp::Atanh, x, "AtanhBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {div(g, rsub(pow(n.saved(0), Scalar::from_int(2)), Scalar(1.0)))};
  }, Save::Input);
}

}  // namespace tapegrad::ops

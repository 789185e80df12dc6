// Unary math ops and their backward rules (the rule sits next to the op it differentiates).
#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

constexpr double kNoBound = std::numeric_limits<double>::quiet_NaN();
enum class Save { None, Input, Output };

Tensor run_unary(UnaryOp op, const Tensor& x, DType dtype, double a = 0, double b = 0) {
  Tensor xc = cast_for_compute(x, dtype);
  Tensor out = empty_like_layout(x, x->sizes(), dtype);
  kernels(x).unary(op, *xc, *out, a, b);
  return out;
}

// Runs a floating-point unary op and records `formula` with what it needs saved.
Tensor float_unary(UnaryOp op, const Tensor& x, const char* name, BackwardFormula formula, Save save) {
  Tensor out = run_unary(op, x, float_result_type(x));
  if (FormulaNode* n = record(name, formula, out, {&x})) {
    if (save == Save::Input) n->save(x);
    if (save == Save::Output) n->save(out, /*is_output=*/true);
  }
  return out;
}

}  // namespace

Tensor neg(const Tensor& x) {
  TG_CHECK(x->dtype() != DType::Bool,
           "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
           "use the `~` or `logical_not()` operator instead.");
  Tensor out = run_unary(UnaryOp::Neg, x, x->dtype());
  record("NegBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {neg(g)}; }, out, {&x});
  return out;
}

Tensor exp(const Tensor& x) {
  return float_unary(UnaryOp::Exp, x, "ExpBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Exp), g, y)};
    return {mul(g, y)};
  }, Save::Output);
}

Tensor log(const Tensor& x) {
  return float_unary(UnaryOp::Log, x, "LogBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Log), g, x)};
    return {div(g, x)};
  }, Save::Input);
}

Tensor sin(const Tensor& x) {
  return float_unary(UnaryOp::Sin, x, "SinBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Sin), g, x)};
    return {mul(g, cos(x))};
  }, Save::Input);
}

Tensor cos(const Tensor& x) {
  return float_unary(UnaryOp::Cos, x, "CosBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Cos), g, x)};
    return {mul(g, neg(sin(x)))};
  }, Save::Input);
}

Tensor tanh(const Tensor& x) {
  // d tanh = 1 - tanh^2, from the saved output.
  return float_unary(UnaryOp::Tanh, x, "TanhBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Tanh), g, y)};
    return {mul(g, rsub(mul(y, y), Scalar(1.0)))};
  }, Save::Output);
}

Tensor sigmoid(const Tensor& x) {
  // d sigmoid = (1 - y) * y, multiplied in torch's order so the rounding matches.
  return float_unary(UnaryOp::Sigmoid, x, "SigmoidBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Sigmoid), g, y)};
    return {mul(mul(g, rsub(y, Scalar(1.0))), y)};
  }, Save::Output);
}

Tensor relu(const Tensor& x) {
  TG_CHECK(x->dtype() != DType::Bool, "Boolean inputs not supported for relu");
  Tensor out = run_unary(UnaryOp::Relu, x, x->dtype());
  if (FormulaNode* n = record("ReluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor y = n.saved(0);
        if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Relu), g, y)};
        // torch zeroes where y <= 0, so a NaN passes its gradient through
        Tensor kept = where(compare(y, Scalar(0.0), int(CompareOp::Le)), full({}, 0.0, g->dtype(), g->device()), g);
        return {tie_to_input(kept, y, "ThresholdBackwardBackward0")};
      }, out, {&x}))
    n->save(out, true);
  return out;
}

void check_out_form_grad(const Tensor& x, const char* op) {
  if (x->is_inference() && x->requires_grad() && GradMode::is_enabled() && !InferenceMode::is_enabled())
    fail(ErrorKind::Runtime, op, "(): functions with out=... arguments don't support automatic differentiation, but "
         "one of the arguments requires grad.");
}

Tensor abs(const Tensor& x) {
  check_out_form_grad(x, "abs");
  if (x->dtype() == DType::Bool) fail(ErrorKind::NotImplemented, "\"abs_cpu\" not implemented for 'Bool'");
  Tensor out = run_unary(UnaryOp::Abs, x, x->dtype());
  if (FormulaNode* n = record("AbsBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {mul(g, sign(n.saved(0)))};
      }, out, {&x}))
    n->save(x);
  return out;
}

Tensor sqrt(const Tensor& x) {
  return float_unary(UnaryOp::Sqrt, x, "SqrtBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Sqrt), g, y)};
    return {div(g, mul_scalar(y, 2.0))};
  }, Save::Output);
}

Tensor reciprocal(const Tensor& x) {
  return float_unary(UnaryOp::Reciprocal, x, "ReciprocalBackward0",
                     [](FormulaNode& n, const Tensor& g) -> TensorList {
                       Tensor y = n.saved(0);
                       if (can_fuse_grad(g, y)) return {unary_grad(int(UnaryOp::Reciprocal), g, y)};
                       return {mul(neg(g), mul(y, y))};
                     }, Save::Output);
}

Tensor sign(const Tensor& x) {
  Tensor out = run_unary(UnaryOp::Sign, x, x->dtype());
  record("SignBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {zeros_like(g)}; }, out, {&x});
  return out;
}

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max, const char* node_name) {
  TG_CHECK(min || max, "torch.clamp: At least one of 'min' or 'max' must not be None");
  DType dt = x->dtype();
  if (min) dt = result_type(x, *min);
  if (max) dt = promote_types(dt, result_type(x, *max));
  if (dt == DType::Bool)
    fail(ErrorKind::NotImplemented, "\"", min && max ? "clamp_scalar_cpu" : min ? "clamp_min_scalar_cpu" : "clamp_max_scalar_cpu",
         "\" not implemented for 'Bool'");
  for (const auto& bound : {min, max})  // an integer bound must fit an integer tensor's dtype
    if (bound && is_integral(dt, false)) bound->to_integer(dt);
  double lo = min ? min->value : kNoBound, hi = max ? max->value : kNoBound;
  if ((min && std::isnan(lo)) || (max && std::isnan(hi))) {  // torch: a NaN bound gives NaN everywhere
    Tensor out = full(x->sizes(), Scalar(kNoBound), dt, x->device());
    record(node_name, [](FormulaNode&, const Tensor& g) -> TensorList { return {zeros_like(g)}; }, out, {&x});
    return out;
  }
  Tensor out = run_unary(UnaryOp::Clamp, x, dt, lo, hi);
  if (FormulaNode* n = record(node_name, [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {keep_where(g, mask(n.saved(0), int(UnaryOp::InRangeMask), n.scalars[0], n.scalars[1]))};
      }, out, {&x})) {
    n->save(x);
    n->scalars[0] = lo;
    n->scalars[1] = hi;
  }
  return out;
}

Tensor mul_scalar(const Tensor& x, double s) {
  Tensor out = run_unary(UnaryOp::MulScalar, x, x->dtype(), s);
  if (FormulaNode* n = record("MulBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {mul_scalar(g, n.scalars[0])};
      }, out, {&x}))
    n->scalars[0] = s;
  return out;
}

Tensor div_scalar(const Tensor& x, double s) {
  Tensor out = run_unary(UnaryOp::DivScalar, x, x->dtype(), s);
  if (FormulaNode* n = record("DivBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {div_scalar(g, n.scalars[0])};
      }, out, {&x}))
    n->scalars[0] = s;
  return out;
}

}  // namespace tapegrad::ops

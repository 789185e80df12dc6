// The nn activations (leaky_relu, elu, softplus, gelu, silu) and log1p/erf with their backward
// rules. A first-order backward runs one fused kernel; under create_graph the same derivative is
// written with ops, so it is differentiable again.
#include <cmath>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

Tensor run_activation(UnaryOp op, const Tensor& x, double a = 0, double b = 0) {
  DType dt = float_result_type(x);
  Tensor xc = cast_for_compute(x, dt);
  Tensor out = empty_like_layout(x, x->sizes(), dt);
  kernels(x).unary(op, *xc, *out, a, b);
  return out;
}

Tensor positive(const Tensor& x) { return compare(x, Scalar(0.0), int(CompareOp::Gt)); }

// Records `name` with x saved and the op's parameters kept for the rule.
Tensor activation(UnaryOp op, const Tensor& x, const char* name, BackwardFormula rule, double a = 0, double b = 0) {
  Tensor out = run_activation(op, x, a, b);
  if (FormulaNode* n = record(name, rule, out, {&x})) {
    n->save(x);
    n->scalars[0] = a;
    n->scalars[1] = b;
  }
  return out;
}

}  // namespace

Tensor unary_grad(int unary_op, const Tensor& grad, const Tensor& saved, double a, double b) {
  Tensor g = grad->dtype() == saved->dtype() ? grad : to_dtype(grad, saved->dtype());
  Tensor out = empty_like_layout(saved, saved->sizes(), saved->dtype());
  kernels(saved).unary_grad(UnaryOp(unary_op), *g, *saved, *out, a, b);
  return out;
}

bool can_fuse_grad(const Tensor& grad, const Tensor& saved) {
  return !GradMode::is_enabled() && is_floating(saved->dtype()) && grad->dtype() == saved->dtype() &&
         grad->sizes() == saved->sizes() && grad->device() == saved->device();
}

Tensor leaky_relu(const Tensor& x, double slope) {
  return activation(UnaryOp::LeakyRelu, x, "LeakyReluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::LeakyRelu), g, x, n.scalars[0])};
    return {where(positive(x), g, mul_scalar(g, n.scalars[0]))};
  }, slope);
}

Tensor elu(const Tensor& x, double alpha) {
  return activation(UnaryOp::Elu, x, "EluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Elu), g, x, n.scalars[0])};
    return {where(positive(x), g, mul(g, mul_scalar(exp(x), n.scalars[0])))};
  }, alpha);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  return activation(UnaryOp::Softplus, x, "SoftplusBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Softplus), g, x, n.scalars[0], n.scalars[1])};
    Tensor bx = mul_scalar(x, n.scalars[0]);
    Tensor linear = compare(bx, Scalar(n.scalars[1]), int(CompareOp::Gt));
    return {where(linear, g, mul(g, sigmoid(bx)))};
  }, beta, threshold);
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  if (tanh_approximation)
    return activation(UnaryOp::GeluTanh, x, "GeluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
      Tensor x = n.saved(0);
      if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::GeluTanh), g, x)};
      const double k = std::sqrt(2.0 / M_PI), kappa = 0.044715;
      Tensor x2 = mul(x, x);
      Tensor t = tanh(mul_scalar(add(x, mul_scalar(mul(x2, x), kappa)), k));
      Tensor left = mul_scalar(add(t, Scalar(1.0)), 0.5);
      Tensor right = mul(mul_scalar(mul(x, rsub(mul(t, t), Scalar(1.0))), 0.5 * k),
                         add(mul_scalar(x2, 3 * kappa), Scalar(1.0)));
      return {mul(g, add(left, right))};
    });
  return activation(UnaryOp::Gelu, x, "GeluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Gelu), g, x)};
    Tensor cdf = mul_scalar(add(erf(mul_scalar(x, M_SQRT1_2)), Scalar(1.0)), 0.5);
    Tensor pdf = mul_scalar(exp(mul_scalar(mul(x, x), -0.5)), 0.5 * M_2_SQRTPI * M_SQRT1_2);
    return {mul(g, add(cdf, mul(x, pdf)))};
  });
}

Tensor silu(const Tensor& x) {
  return activation(UnaryOp::Silu, x, "SiluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Silu), g, x)};
    Tensor s = sigmoid(x);
    return {mul(mul(g, s), add(mul(x, rsub(s, Scalar(1.0))), Scalar(1.0)))};
  });
}

Tensor log1p(const Tensor& x) {
  return activation(UnaryOp::Log1p, x, "Log1PBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Log1p), g, x)};
    return {div(g, add(x, Scalar(1.0)))};
  });
}

Tensor erf(const Tensor& x) {
  return activation(UnaryOp::Erf, x, "ErfBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Erf), g, x)};
    return {mul(g, mul_scalar(exp(neg(mul(x, x))), M_2_SQRTPI))};
  });
}

}  // namespace tapegrad::ops

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

// Records `name` with x saved and the op's parameters kept for the rule. The nn activations
// have float kernels only: an integer or bool input is torch's NotImplementedError naming `kernel`
// (log1p and erf pass none: they compute integers in the default float dtype).
Tensor activation(UnaryOp op, const Tensor& x, const char* kernel, const char* name, BackwardFormula rule,
                  double a = 0, double b = 0) {
  if (kernel && !is_floating(x->dtype())) not_for_dtype(kernel, x->dtype());
  Tensor out = run_activation(op, x, a, b);
  if (FormulaNode* n = record(name, rule, out, {&x})) {
    n->save(x);
    n->scalars[0] = a;
    n->scalars[1] = b;
  }
  return out;
}

}  // namespace

Tensor tie_to_input(const Tensor& grad_in, const Tensor& x, const char* node_name, bool input_gets_zeros) {
  if (!GradMode::is_enabled() || !x->requires_grad()) return grad_in;
  Tensor out = as_new(detach(grad_in));
  if (input_gets_zeros)
    record(node_name, [](FormulaNode&, const Tensor& g) -> TensorList { return {g, zeros_like(g)}; }, out, {&grad_in, &x});
  else
    record(node_name, [](FormulaNode&, const Tensor& g) -> TensorList { return {g, Tensor()}; }, out, {&grad_in, &x});
  return out;
}

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
  return activation(UnaryOp::LeakyRelu, x, "leaky_relu_cpu", "LeakyReluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::LeakyRelu), g, x, n.scalars[0])};
    return {tie_to_input(where(positive(x), g, mul_scalar(g, n.scalars[0])), x, "LeakyReluBackwardBackward0")};
  }, slope);
}

// elu's and celu's gradient g * d/dx (written with ops), the exponential side where x <= 0 (NaN takes g,
// as torch's kernel).
Tensor elu_family_grad(const Tensor& g, const Tensor& x, double alpha, bool celu) {
  Tensor exp_side = compare(x, Scalar(0.0), int(CompareOp::Le));
  if (!celu) return where(exp_side, mul(g, mul_scalar(exp(x), alpha)), g);
  // celu is elu with the input scaled by 1 / alpha, taken in float as torch does.
  const double inv = 1.0 / double(float(alpha));
  return where(exp_side, mul(mul_scalar(mul_scalar(g, inv), alpha), exp(mul_scalar(x, inv))), g);
}

// That gradient under create_graph: torch's EluBackwardBackward0, whose derivative for x is masked by
// x < 0 (elu_double_backward), so at x = 0 the second derivative is 0, not the exponential side's.
Tensor elu_family_grad_tracked(const Tensor& g, const Tensor& x, double alpha, bool celu) {
  Tensor out;
  {
    AutoGradMode off(false);
    out = elu_family_grad(g, x, alpha, celu);
  }
  if (FormulaNode* n = record("EluBackwardBackward0", [](FormulaNode& n, const Tensor& gg) -> TensorList {
        Tensor g = n.saved(0), x = n.saved(1);
        const double alpha = n.scalars[0];
        const bool celu = n.scalars[1] != 0;
        Tensor gx;
        if (n.needs_grad(1)) {
          Tensor scaled = mul(gg, g);
          if (celu) scaled = mul_scalar(scaled, 1.0 / double(float(alpha)));  // torch's input_scale
          gx = mul(elu_family_grad_tracked(scaled, x, alpha, celu),
                   to_dtype(compare(x, Scalar(0.0), int(CompareOp::Lt)), x->dtype()));
        }
        return {n.needs_grad(0) ? elu_family_grad_tracked(gg, x, alpha, celu) : Tensor(), gx};
      }, out, {&g, &x})) {
    n->save(g);
    n->save(x);
    n->scalars[0] = alpha;
    n->scalars[1] = celu;
  }
  return out;
}

Tensor elu(const Tensor& x, double alpha) {
  return activation(UnaryOp::Elu, x, "elu_cpu", "EluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Elu), g, x, n.scalars[0])};
    return {elu_family_grad_tracked(g, x, n.scalars[0], false)};
  }, alpha);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  return activation(UnaryOp::Softplus, x, "softplus_cpu", "SoftplusBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Softplus), g, x, n.scalars[0], n.scalars[1])};
    Tensor bx = mul_scalar(x, n.scalars[0]);
    // torch's double backward multiplies by the mask (0 * inf is NaN there), so the mask is a factor here.
    Tensor linear = to_dtype(compare(bx, Scalar(n.scalars[1]), int(CompareOp::Gt)), x->dtype());
    return {mul(g, add(linear, mul(rsub(linear, Scalar(1.0)), sigmoid(bx))))};
  }, beta, threshold);
}

Tensor gelu(const Tensor& x, bool tanh_approximation) {
  if (tanh_approximation)
    return activation(UnaryOp::GeluTanh, x, "GeluKernelImpl", "GeluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
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
  return activation(UnaryOp::Gelu, x, "GeluKernelImpl", "GeluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Gelu), g, x)};
    Tensor cdf = mul_scalar(add(erf(mul_scalar(x, M_SQRT1_2)), Scalar(1.0)), 0.5);
    Tensor pdf = mul_scalar(exp(mul_scalar(mul(x, x), -0.5)), 0.5 * M_2_SQRTPI * M_SQRT1_2);
    return {mul(g, add(cdf, mul(x, pdf)))};
  });
}

Tensor silu(const Tensor& x) {
  return activation(UnaryOp::Silu, x, "silu_cpu", "SiluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Silu), g, x)};
    Tensor s = sigmoid(x);
    return {mul(mul(g, s), add(mul(x, rsub(s, Scalar(1.0))), Scalar(1.0)))};
  });
}

namespace {
// g where `keep` holds, else 0 (the composed rules of the piecewise activations).
Tensor grad_where(const Tensor& keep, const Tensor& g) { return where(keep, g, full({}, 0.0, g->dtype(), g->device())); }
Tensor is_cmp(const Tensor& x, CompareOp op, double v) { return compare(x, Scalar(v), int(op)); }
}  // namespace

Tensor hardtanh(const Tensor& x, double min_val, double max_val) {
  if (x->dtype() == DType::Bool) fail(ErrorKind::Runtime, "Bool inputs not supported for hardtanh");
  if (!is_floating(x->dtype()))  // torch clamps integers to the bounds cast to the integer type
    return clamp(x, Scalar::from_int(int64_t(min_val)), Scalar::from_int(int64_t(max_val)));
  return activation(UnaryOp::Hardtanh, x, nullptr, "HardtanhBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Hardtanh), g, x, n.scalars[0], n.scalars[1])};
    // zero outside (min, max): a NaN input passes its gradient, as in torch's kernel
    Tensor outside = logical_or(is_cmp(x, CompareOp::Le, n.scalars[0]), is_cmp(x, CompareOp::Ge, n.scalars[1]));
    return {tie_to_input(grad_where(logical_not(outside), g), x, "HardtanhBackwardBackward0")};
  }, min_val, max_val);
}

Tensor hardsigmoid(const Tensor& x) {
  return activation(UnaryOp::Hardsigmoid, x, "hardsigmoid_cpu", "HardsigmoidBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Hardsigmoid), g, x)};
    Tensor inside = logical_and(is_cmp(x, CompareOp::Gt, -3), is_cmp(x, CompareOp::Lt, 3));
    Tensor gx = grad_where(inside, mul_scalar(g, double(1.0f / 6.0f)));  // torch: the float 1/6
    // torch has no derivative of hardsigmoid_backward: under create_graph the result requires grad
    // through a node that refuses a backward.
    if (!GradMode::is_enabled() || !x->requires_grad()) return {gx};
    Tensor out = as_new(detach(gx));
    record("torch::autograd::NotImplemented", [](FormulaNode&, const Tensor&) -> TensorList {
      fail(ErrorKind::Runtime, "derivative for aten::hardsigmoid_backward is not implemented");
    }, out, {&gx, &x});
    return {out};
  });
}

Tensor hardswish(const Tensor& x) {
  return activation(UnaryOp::Hardswish, x, "hardswish_cpu", "HardswishBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Hardswish), g, x)};
    Tensor middle = mul(g, add(div_scalar(x, 3.0), Scalar(0.5)));
    return {grad_where(is_cmp(x, CompareOp::Gt, -3), where(is_cmp(x, CompareOp::Lt, 3), middle, g))};
  });
}

Tensor mish(const Tensor& x) {
  return activation(UnaryOp::Mish, x, "mish_cpu", "MishBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Mish), g, x)};
    Tensor t = tanh(softplus(x, 1.0, 20.0));
    return {mul(g, add(t, mul(mul(x, sigmoid(x)), rsub(mul(t, t), Scalar(1.0)))))};
  });
}

Tensor logsigmoid(const Tensor& x) {
  return activation(UnaryOp::LogSigmoid, x, "log_sigmoid_cpu", "LogSigmoidBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::LogSigmoid), g, x)};
    return {mul(g, sigmoid(neg(x)))};
  });
}

Tensor celu(const Tensor& x, double alpha) {
  TG_CHECK(alpha != 0, "ZeroDivisionError: alpha cannot be 0 for CELU");  // torch's first check
  return activation(UnaryOp::Celu, x, "elu_cpu", "CeluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Celu), g, x, n.scalars[0])};
    if (!GradMode::is_enabled()) return {elu_family_grad(g, x, n.scalars[0], true)};
    return {elu_family_grad_tracked(g, x, n.scalars[0], true)};
  }, alpha);
}

Tensor hardshrink(const Tensor& x, double lambd) {
  return activation(UnaryOp::Hardshrink, x, "hardshrink_cpu", "HardshrinkBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Hardshrink), g, x, n.scalars[0])};
    Tensor kept = grad_where(logical_not(is_cmp(abs(x), CompareOp::Le, n.scalars[0])), g);
    return {tie_to_input(kept, x, "HardshrinkBackwardBackward0")};
  }, lambd);
}

Tensor softshrink(const Tensor& x, double lambd) {
  return activation(UnaryOp::Softshrink, x, "softshrink_check", "SoftshrinkBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Softshrink), g, x, n.scalars[0])};
    Tensor kept = grad_where(logical_not(is_cmp(abs(x), CompareOp::Le, n.scalars[0])), g);
    return {tie_to_input(kept, x, "SoftshrinkBackwardBackward0")};
  }, lambd);
}

Tensor threshold(const Tensor& x, double threshold_value, double value) {
  if (x->dtype() == DType::Bool) not_for_dtype("threshold_cpu", x->dtype());
  if (!is_floating(x->dtype())) {  // integers stay integers, the threshold and value cast to them
    Tensor above = compare(x, Scalar::from_int(int64_t(threshold_value)), int(CompareOp::Gt));
    return where(above, x, full({}, Scalar::from_int(int64_t(value)), x->dtype(), x->device()));
  }
  return activation(UnaryOp::Threshold, x, nullptr, "ThresholdBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (can_fuse_grad(g, x)) return {unary_grad(int(UnaryOp::Threshold), g, x, n.scalars[0])};
    Tensor kept = grad_where(logical_not(is_cmp(x, CompareOp::Le, n.scalars[0])), g);
    return {tie_to_input(kept, x, "ThresholdBackwardBackward0")};
  }, threshold_value, value);
}

Tensor glu(const Tensor& x, int64_t dim) {
  TG_CHECK(x->dim() > 0, "glu does not support scalars because halving size must be even");
  int64_t d = wrap_dim(dim, x->dim());
  TG_CHECK(x->sizes()[size_t(d)] % 2 == 0, "Halving dimension must be even, but dimension ", d, " is size ",
           x->sizes()[size_t(d)]);
  if (!is_floating(x->dtype())) not_for_dtype("glu_cpu", x->dtype());  // after the shape checks, as torch
  Tensor out;
  {
    AutoGradMode off(false);
    TensorList halves = chunk(x, 2, d);
    out = mul(halves[0], sigmoid(halves[1]));
  }
  if (FormulaNode* n = record("GluBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        TensorList halves = chunk(n.saved(0), 2, n.ints[0]);
        Tensor sig = sigmoid(halves[1]);
        Tensor ga = mul(g, sig);
        Tensor gb = mul(mul(ga, halves[0]), rsub(sig, Scalar(1.0)));
        return {cat({ga, gb}, n.ints[0])};
      }, out, {&x})) {
    n->save(x);
    n->ints = {d};
  }
  return out;
}

Tensor log1p(const Tensor& x) {
  return activation(UnaryOp::Log1p, x, nullptr, "Log1PBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Log1p), g, x)};
    return {div(g, add(x, Scalar(1.0)))};
  });
}

Tensor erf(const Tensor& x) {
  return activation(UnaryOp::Erf, x, nullptr, "ErfBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (!GradMode::is_enabled()) return {unary_grad(int(UnaryOp::Erf), g, x)};
    return {mul(g, mul_scalar(exp(neg(mul(x, x))), M_2_SQRTPI))};
  });
}

}  // namespace tapegrad::ops

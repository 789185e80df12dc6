// Binary arithmetic with broadcasting and torch's type promotion, and the backward rules.
// Broadcast gradients are summed back to each input's shape by the engine, not here.
#include <cmath>
#include <optional>

#include "autograd/function.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// torch's combine_categories: a lower-priority operand only matters if it is of a higher category.
DType combine(DType higher, DType lower) {
  if (is_floating(higher)) return higher;
  if (higher == DType::Bool || is_floating(lower)) return promote_types(higher, lower);
  return higher;
}

bool is_one(const Scalar& s) { return s.value == 1.0; }

// torch's checks of add/sub's alpha against the result's dtype.
void check_alpha(const Scalar& alpha, DType dt) {
  TG_CHECK(alpha.kind != Scalar::Kind::Bool || dt == DType::Bool, "Boolean alpha only supported for Boolean results.");
  TG_CHECK(is_floating(dt) || !alpha.is_floating(),
           "For integral input tensors, argument alpha must not be a floating point number.");
  if (is_integral(dt, false)) alpha.to_integer(dt);  // torch converts alpha with its overflow check
}

void check_sub_operands(bool a_bool, bool b_bool) {
  if (a_bool && b_bool)
    fail(ErrorKind::Runtime, "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                             "`logical_xor()` operator instead.");
  if (a_bool || b_bool)
    fail(ErrorKind::Runtime, "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                             "to invert a mask, use the `~` or `logical_not()` operator instead.");
}

// Float results with a Python number take a unary kernel with the number as a parameter:
// no wrapped 0-dim tensor is allocated or saved. Integer results keep the exact binary path.
bool scalar_fast_path(DType dt) { return is_floating(dt); }

Tensor run_scalar(UnaryOp op, const Tensor& a, double s, DType dt) {
  Tensor out = empty_like_layout(a, a->sizes(), dt);
  kernels(a).unary(op, *cast_for_compute(a, dt), *out, s, 0);
  return out;
}

// Rules for tensor-op-number: the number's edge is (None, 0), as in torch.
TensorList add_scalar_rule(FormulaNode&, const Tensor& g) { return {g, Tensor()}; }
TensorList mul_scalar_rule(FormulaNode& n, const Tensor& g) { return {mul_scalar(g, n.scalars[0]), Tensor()}; }
TensorList div_scalar_rule(FormulaNode& n, const Tensor& g) { return {div_scalar(g, n.scalars[0]), Tensor()}; }

TensorList add_rule(FormulaNode& n, const Tensor& g) {
  return {g, n.scalars[0] == 1.0 ? g : mul_scalar(g, n.scalars[0])};
}
TensorList sub_rule(FormulaNode& n, const Tensor& g) {
  return {g, n.needs_grad(1) ? (n.scalars[0] == 1.0 ? neg(g) : mul_scalar(g, -n.scalars[0])) : Tensor()};
}
TensorList mul_rule(FormulaNode& n, const Tensor& g) {
  return {n.needs_grad(0) ? mul(g, n.saved(1)) : Tensor(), n.needs_grad(1) ? mul(g, n.saved(0)) : Tensor()};
}
TensorList div_rule(FormulaNode& n, const Tensor& g) {
  Tensor b = n.saved(1);
  Tensor ga = n.needs_grad(0) ? div(g, b) : Tensor();
  // torch's -g * ((a / b) / b): no b * b, whose derivative at b = 0 is 0 / 0.
  Tensor gb = n.needs_grad(1) ? mul(neg(g), div(div(n.saved(0), b), b)) : Tensor();
  return {ga, gb};
}

// self * alpha is applied to the second operand before an add/sub, as torch's alpha does.
Tensor scaled(const Tensor& t, const Scalar& alpha, DType dtype) {
  if (is_one(alpha)) return t;
  // Integers multiply in their own type, wrapping as torch's do (a double product would saturate).
  if (is_integral(dtype, false)) return run_binary(BinaryOp::Mul, cast_for_compute(t, dtype), scalar_tensor(alpha, dtype, t->device()), dtype);
  Tensor out = empty_like_shape(t, t->sizes(), dtype);
  kernels(t).unary(UnaryOp::MulScalar, *cast_for_compute(t, dtype), *out, alpha.value, 0);
  return out;
}

Tensor add_impl(const Tensor& a, const Tensor& b, const Tensor* b_edge, const Scalar& alpha, DType dt,
                const char* name, BackwardFormula rule, BinaryOp op) {
  check_alpha(alpha, dt);
  Tensor out = run_binary(op, a, scaled(b, alpha, dt), dt);
  if (FormulaNode* n = record(name, rule, out, {&a, b_edge})) n->scalars[0] = alpha.value;
  return out;
}

}  // namespace

Tensor run_binary(BinaryOp op, const Tensor& a, const Tensor& b, DType dtype) {
  check_same_device(a, b);
  Shape shape = broadcast_shapes(a->sizes(), b->sizes());
  Tensor out = empty_elementwise(shape, dtype, a->device(), {a.get(), b.get()});
  kernels(a).binary(op, *cast_for_compute(a, dtype), *cast_for_compute(b, dtype), *out);
  return out;
}

void check_same_device(const Tensor& a, const Tensor& b) {
  if (a->device() != b->device())
    fail(ErrorKind::Runtime, "Expected all tensors to be on the same device, but found at least two devices, ",
         a->device().str(), " and ", b->device().str(), "!");
}

DType result_type(const Tensor& a, const Tensor& b) {
  bool da = a->dim() > 0, db = b->dim() > 0;
  if (da == db) return promote_types(a->dtype(), b->dtype());
  return da ? combine(a->dtype(), b->dtype()) : combine(b->dtype(), a->dtype());
}

DType result_type(const Tensor& a, const Scalar& b) { return combine(a->dtype(), b.natural_dtype()); }

DType result_type(std::initializer_list<const Tensor*> tensors) {
  std::optional<DType> dimensioned, zero_dim;  // torch promotes within each group, then combines
  for (const Tensor* t : tensors) {
    std::optional<DType>& group = (*t)->dim() > 0 ? dimensioned : zero_dim;
    group = group ? promote_types(*group, (*t)->dtype()) : (*t)->dtype();
  }
  if (!dimensioned) return *zero_dim;
  return zero_dim ? combine(*dimensioned, *zero_dim) : *dimensioned;
}

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return add_impl(a, b, &b, alpha, result_type(a, b), "AddBackward0", add_rule, BinaryOp::Add);
}
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  DType dt = result_type(a, b);
  check_alpha(alpha, dt);
  if (scalar_fast_path(dt) && is_one(alpha)) {
    Tensor out = run_scalar(UnaryOp::AddScalar, a, b.value, dt);
    record("AddBackward0", add_scalar_rule, out, {&a, nullptr});
    return out;
  }
  return add_impl(a, scalar_tensor(b, dt, a->device()), nullptr, alpha, dt, "AddBackward0", add_rule, BinaryOp::Add);
}

Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_sub_operands(a->dtype() == DType::Bool, b->dtype() == DType::Bool);
  return add_impl(a, b, &b, alpha, result_type(a, b), "SubBackward0", sub_rule, BinaryOp::Sub);
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_sub_operands(a->dtype() == DType::Bool, b.kind == Scalar::Kind::Bool);
  DType dt = result_type(a, b);
  check_alpha(alpha, dt);
  if (scalar_fast_path(dt) && is_one(alpha)) {
    Tensor out = run_scalar(UnaryOp::AddScalar, a, -b.value, dt);  // x + (-b) rounds exactly as x - b
    record("SubBackward0", add_scalar_rule, out, {&a, nullptr});
    return out;
  }
  return add_impl(a, scalar_tensor(b, dt, a->device()), nullptr, alpha, dt, "SubBackward0", sub_rule, BinaryOp::Sub);
}

Tensor rsub(const Tensor& a, const Tensor& b) {
  check_sub_operands(a->dtype() == DType::Bool, b->dtype() == DType::Bool);
  Tensor out = run_binary(BinaryOp::Sub, b, a, result_type(a, b));
  record("RsubBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {n.needs_grad(0) ? neg(g) : Tensor(), g};
  }, out, {&a, &b});
  return out;
}

Tensor rsub(const Tensor& a, const Scalar& b) {
  check_sub_operands(a->dtype() == DType::Bool, b.kind == Scalar::Kind::Bool);
  DType dt = result_type(a, b);
  // torch subtracts from the wrapped number, a normal tensor: on an inference tensor outside
  // inference_mode that is what records (SubBackward0).
  if (a->is_inference() && !InferenceMode::is_enabled()) return sub(scalar_tensor(b, dt, a->device()), a);
  Tensor out = scalar_fast_path(dt) ? run_scalar(UnaryOp::RSubScalar, a, b.value, dt)
                                    : run_binary(BinaryOp::Sub, scalar_tensor(b, dt, a->device()), a, dt);
  record("RsubBackward1", [](FormulaNode&, const Tensor& g) -> TensorList { return {neg(g)}; }, out, {&a});
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = run_binary(BinaryOp::Mul, a, b, result_type(a, b));
  if (FormulaNode* n = record("MulBackward0", mul_rule, out, {&a, &b})) {
    // Each operand is saved only for the other's gradient, as torch does: an in-place change to an
    // operand that no gradient reads is no error, and an unneeded inference tensor is not saved.
    n->save(n->needs_grad(1) ? a : Tensor());
    n->save(n->needs_grad(0) ? b : Tensor());
  }
  return out;
}
Tensor mul(const Tensor& a, const Scalar& b) {
  DType dt = result_type(a, b);
  if (scalar_fast_path(dt)) {
    Tensor out = run_scalar(UnaryOp::MulScalar, a, b.value, dt);
    if (FormulaNode* n = record("MulBackward0", mul_scalar_rule, out, {&a, nullptr})) {
      n->scalars[0] = b.value;
      n->mark_saves_scalars();
    }
    return out;
  }
  Tensor bt = scalar_tensor(b, dt, a->device());
  Tensor out = run_binary(BinaryOp::Mul, a, bt, dt);
  if (FormulaNode* n = record("MulBackward0", mul_rule, out, {&a, nullptr})) {
    n->save(Tensor());  // the number needs no gradient, so a is not saved
    n->save(bt);
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt)) dt = default_dtype();  // true division
  Tensor out = run_binary(BinaryOp::Div, a, b, dt);
  if (FormulaNode* n = record("DivBackward0", div_rule, out, {&a, &b})) {
    n->save(n->needs_grad(1) ? a : Tensor());  // a is read only by b's gradient (as in torch)
    n->save(b);
  }
  return out;
}
Tensor div(const Tensor& a, const Scalar& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt)) dt = default_dtype();
  if (scalar_fast_path(dt)) {
    Tensor out = run_scalar(UnaryOp::DivScalar, a, b.value, dt);
    if (FormulaNode* n = record("DivBackward0", div_scalar_rule, out, {&a, nullptr})) {
      n->scalars[0] = b.value;
      n->mark_saves_scalars();
    }
    return out;
  }
  Tensor bt = scalar_tensor(b, dt, a->device());
  Tensor out = run_binary(BinaryOp::Div, a, bt, dt);
  if (FormulaNode* n = record("DivBackward0", div_rule, out, {&a, nullptr})) {
    n->save(a);
    n->save(bt);
  }
  return out;
}

Tensor rdiv(const Tensor& a, const Scalar& b) { return mul(reciprocal(a), b); }

Tensor pow(const Tensor& a, const Scalar& e) {
  DType dt = result_type(a, e);
  if (is_integral(dt, false) && !e.is_floating() && e.ivalue < 0)
    fail(ErrorKind::Runtime, "Integers to negative integer powers are not allowed.");
  Tensor ac = cast_for_compute(a, dt);
  Tensor out = empty_like_shape(a, a->sizes(), dt);
  kernels(a).unary(UnaryOp::PowScalar, *ac, *out, e.value, 0);
  if (FormulaNode* n = record("PowBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double ex = n.scalars[0];
        // torch's shortcut for a zero exponent compares it with 0.0, which a bool False is not: then
        // 0 * x ** -1 (-0.0 for a negative x, NaN for NaN).
        const bool boolean = n.scalars[1] != 0;
        if (ex == 0.0 && !boolean) return {zeros_like(g)};
        Tensor x = n.saved(0);
        if (can_fuse_grad(g, x) && !boolean) return {unary_grad(int(UnaryOp::PowScalar), g, x, ex)};
        return {mul(g, mul_scalar(pow(x, Scalar(ex - 1.0)), ex))};
      }, out, {&a})) {
    n->save(a);
    n->scalars[0] = e.value;
    n->scalars[1] = e.kind == Scalar::Kind::Bool ? 1 : 0;
  }
  return out;
}

Tensor pow(const Scalar& base, const Tensor& e) {
  DType dt = result_type(e, base);
  if (!is_floating(dt) && base.is_floating()) dt = default_dtype();
  if (dt == DType::Bool) fail(ErrorKind::NotImplemented, "\"pow\" not implemented for 'Bool'");
  Tensor ec = cast_for_compute(e, dt);
  Tensor out = empty_like_shape(e, e->sizes(), dt);
  kernels(e).unary(UnaryOp::RPowScalar, *ec, *out, base.value, 0);
  if (FormulaNode* n = record("PowBackward2", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double b = n.scalars[0];
        Tensor r = n.saved(0);
        if (b == 0.0) {
          // 0 ** e has derivative 0 in e wherever e >= 0.
          Tensor factor = mul_scalar(r, std::log(b));
          return {mul(g, keep_where(factor, mask(n.saved(1), int(UnaryOp::LtMask), 0.0)))};
        }
        return {mul(g, mul_scalar(r, std::log(b)))};
      }, out, {&e})) {
    n->save(out, true);
    n->save(e);
    n->scalars[0] = base.value;
  }
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  if (result_type(a, b) == DType::Bool) fail(ErrorKind::NotImplemented, "\"pow\" not implemented for 'Bool'");
  Tensor out = run_binary(BinaryOp::Pow, a, b, result_type(a, b));
  if (FormulaNode* n = record("PowBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        // torch unpacks every saved tensor first: an in-place change of the result is refused even
        // where only self's gradient is asked for.
        Tensor self = n.saved(0), ex = n.saved(1), r = n.saved(2);
        Tensor ga, gb;
        if (n.needs_grad(0)) {
          // exponent - 1 in the exponent's own type, as torch's: an int32 -2**31 wraps to 2**31 - 1.
          Tensor d = mul(g, mul(ex, pow(self, sub(ex, Scalar::from_int(1)))));
          ga = keep_where(d, mask(ex, int(UnaryOp::NeMask), 0.0));
        }
        if (n.needs_grad(1)) {
          // torch takes the log of self converted to the result's type (a float32 0-d base with a
          // float64 exponent: the log in float64).
          gb = mul(g, keep_where(mul(r, log(to_dtype(self, r->dtype()))), pow_exponent_mask(self, ex)));
        }
        return {ga, gb};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
    n->save(out, true);
  }
  return out;
}

}  // namespace tapegrad::ops

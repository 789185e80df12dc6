// The division family beyond `/`: remainder (%), fmod, floor_divide (//) and atan2, with torch's
// type promotion, its integer division-by-zero error and its backward rules (or its refusals).
#include "autograd/function.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// An integer quotient by zero has no value: torch raises rather than return one.
// Integer division by zero is torch's error, unless the result is empty (then no element divides).
void check_divisor(const Tensor& a, const Tensor& b, DType dtype) {
  if (is_floating(dtype) || a->numel() == 0 || b->numel() == 0) return;
  AutoGradMode off(false);
  if (*any(compare(b, Scalar::from_int(0), int(CompareOp::Eq)), {}, false)->data<bool>())
    fail(ErrorKind::Runtime, "ZeroDivisionError");
}

// Bools have no division kernels in torch; `kernel` is the name its message gives.
DType division_type(const Tensor& a, const Tensor& b, const char* kernel) {
  DType dt = result_type(a, b);
  if (dt == DType::Bool) fail(ErrorKind::NotImplemented, "\"", kernel, "\" not implemented for 'Bool'");
  return dt;
}

// torch records ops it cannot differentiate with a node that refuses at backward time.
template <const char* Op>
TensorList no_derivative(FormulaNode&, const Tensor&) {
  fail(ErrorKind::Runtime, "derivative for aten::", Op, " is not implemented");
}
constexpr char kRemainder[] = "remainder";
constexpr char kFloorDivide[] = "floor_divide";

// The rounded quotient (floored for remainder, truncated for fmod) as a constant: it is piecewise
// constant, so torch's rule treats it as such (`grad * 0` under create_graph).
enum class Rounding { Floor, Trunc };
Tensor rounded_quotient(Rounding r, const Tensor& a, const Tensor& b) {
  AutoGradMode off(false);
  return r == Rounding::Floor ? run_binary(BinaryOp::FloorDivide, a, b, result_type(a, b)) : trunc(div(a, b));
}

// x - q * y with q the rounded quotient: d/dx = 1, d/dy = -q.
Tensor remainder_like(BinaryOp op, Rounding quotient, const Tensor& a, const Tensor& b, const char* name,
                      const char* kernel) {
  DType dt = division_type(a, b, kernel);
  check_divisor(a, b, dt);
  Tensor out = run_binary(op, a, b, dt);
  if (FormulaNode* n = record(name, [](FormulaNode& n, const Tensor& g) -> TensorList {
        if (!n.needs_grad(1)) return {g, Tensor()};
        auto rounding = Rounding(int(n.scalars[0]));
        // Under create_graph the quotient is torch's div(rounding_mode=...): a node of zero gradients,
        // which still ties the result to the inputs (requires_grad), as in torch.
        Tensor q = GradMode::is_enabled() ? div(n.saved(0), n.saved(1), rounding == Rounding::Floor)
                                          : rounded_quotient(rounding, n.saved(0), n.saved(1));
        return {g, mul(neg(g), q)};
      }, out, {&a, &b})) {
    n->scalars[0] = double(int(quotient));
    n->save(n->needs_grad(1) ? a : Tensor());  // only b's gradient reads them (as torch saves them)
    n->save(n->needs_grad(1) ? b : Tensor());
  }
  return out;
}

Tensor with_number(const Tensor& a, const Scalar& b) { return scalar_tensor(b, result_type(a, b), a->device()); }

}  // namespace

Tensor remainder(const Tensor& a, const Tensor& b) {
  return remainder_like(BinaryOp::Remainder, Rounding::Floor, a, b, "RemainderBackward1", "remainder_cpu");
}

Tensor remainder(const Tensor& a, const Scalar& b) {
  Tensor bt = with_number(a, b);
  // torch's number overload runs the tensor one on the wrapped number, a normal tensor: on an
  // inference tensor outside inference_mode that is what records (RemainderBackward1).
  if (a->is_inference() && !InferenceMode::is_enabled()) return remainder(a, bt);
  DType dt = division_type(a, bt, "remainder_cpu");
  check_divisor(a, bt, dt);
  Tensor out = run_binary(BinaryOp::Remainder, a, bt, dt);
  record("RemainderBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, out, {&a});
  return out;
}

Tensor remainder(const Scalar& a, const Tensor& b) {
  Tensor at = scalar_tensor(a, result_type(b, a), b->device());
  DType dt = division_type(at, b, "remainder_cpu");
  check_divisor(at, b, dt);
  Tensor out = run_binary(BinaryOp::Remainder, at, b, dt);
  record("torch::autograd::NotImplemented", no_derivative<kRemainder>, out, {&b});
  return out;
}

Tensor fmod(const Tensor& a, const Tensor& b) {
  return remainder_like(BinaryOp::Fmod, Rounding::Trunc, a, b, "FmodBackward1", "fmod_cpu");
}

Tensor fmod(const Tensor& a, const Scalar& b) {
  Tensor bt = with_number(a, b);
  // torch's number overload runs the tensor one on the wrapped number, a normal tensor: on an
  // inference tensor outside inference_mode that is what records (FmodBackward1).
  if (a->is_inference() && !InferenceMode::is_enabled()) return fmod(a, bt);
  DType dt = division_type(a, bt, "fmod_cpu");
  check_divisor(a, bt, dt);
  Tensor out = run_binary(BinaryOp::Fmod, a, bt, dt);
  record("FmodBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, out, {&a});
  return out;
}

Tensor floor_divide(const Tensor& a, const Tensor& b) {
  DType dt = division_type(a, b, "div_floor_cpu");
  check_divisor(a, b, dt);
  Tensor out = run_binary(BinaryOp::FloorDivide, a, b, dt);
  record("torch::autograd::NotImplemented", no_derivative<kFloorDivide>, out, {&a, &b});
  return out;
}

Tensor floor_divide(const Tensor& a, const Scalar& b) { return floor_divide(a, with_number(a, b)); }
Tensor floor_divide(const Scalar& a, const Tensor& b) {
  return floor_divide(scalar_tensor(a, result_type(b, a), b->device()), b);
}

// div(a, b, rounding_mode='trunc'|'floor'): the rounded quotient in the operands' promoted type
// (integers stay integers). Piecewise constant, so torch's rule is `grad * 0` for both inputs.
Tensor div_rounded(const Tensor& a, const Tensor& b, bool floor, const char* node_name) {
  DType dt = division_type(a, b, floor ? "div_floor_cpu" : "div_trunc_cpu");
  check_divisor(a, b, dt);
  Tensor out;
  {
    AutoGradMode off(false);
    if (floor) out = run_binary(BinaryOp::FloorDivide, a, b, dt);
    else if (is_floating(dt)) out = trunc(run_binary(BinaryOp::Div, a, b, dt));
    // a - fmod(a, b) is an exact multiple of b: its floored quotient is the truncated one.
    else out = run_binary(BinaryOp::FloorDivide, run_binary(BinaryOp::Sub, a, run_binary(BinaryOp::Fmod, a, b, dt), dt), b, dt);
  }
  record(node_name, [](FormulaNode& n, const Tensor& g) -> TensorList {
    // torch's rule returns zeros_like(grad), not grad * 0: an infinite or NaN grad still gives 0.
    Tensor zero = n.needs_grad(0) || n.needs_grad(1) ? zeros_like(g) : Tensor();
    return {n.needs_grad(0) ? zero : Tensor(), n.needs_grad(1) ? zero : Tensor()};
  }, out, {&a, &b});
  return out;
}

Tensor div(const Tensor& a, const Tensor& b, bool floor) { return div_rounded(a, b, floor, "DivBackward2"); }
Tensor div(const Tensor& a, const Scalar& b, bool floor) {
  return div_rounded(a, with_number(a, b), floor, "DivBackward3");
}
Tensor div(const Scalar& a, const Tensor& b, bool floor) {
  return div_rounded(scalar_tensor(a, result_type(b, a), b->device()), b, floor, "DivBackward2");
}

Tensor atan2(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt)) dt = default_dtype();
  Tensor out = run_binary(BinaryOp::Atan2, a, b, dt);
  if (FormulaNode* n = record("Atan2Backward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor x = n.saved(0), y = n.saved(1);
        // torch zeroes the reciprocal where x*x + y*y is 0 (at the origin, or both underflow).
        Tensor denom = add(mul(x, x), mul(y, y));
        Tensor recip = where(compare(denom, Scalar(0.0), int(CompareOp::Eq)),
                             full({}, 0.0, denom->dtype(), denom->device()), reciprocal(denom));
        return {n.needs_grad(0) ? mul(mul(g, y), recip) : Tensor(),
                n.needs_grad(1) ? mul(mul(g, neg(x)), recip) : Tensor()};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
  }
  return out;
}

}  // namespace tapegrad::ops

// Ops along one dim that keep its length: softmax, log_softmax and cumsum, with their rules.
#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {
Tensor softmax_impl(const Tensor& x_in, int64_t dim, std::optional<DType> dtype, bool log) {
  DType dt = dtype.value_or(x_in->dtype());
  int64_t d = wrap_dim(dim, x_in->dim());
  if (!is_floating(dt)) {  // torch runs no kernel (so raises nothing) for an empty input
    if (x_in->numel() == 0) return to_dtype(clone(x_in), dt);
    const bool last = x_in->dim() == 0 || d == x_in->dim() - 1;
    not_for_dtype(log ? (last ? "log_softmax_lastdim_kernel_impl" : "log_softmax_kernel_impl")
                      : (last ? "softmax_lastdim_kernel_impl" : "softmax_kernel_impl"), dt);
  }
  // torch converts first (input.toType(dtype)): an inference input's conversion records its copy,
  // and the softmax of that normal tensor records in turn.
  if (x_in->is_inference() && dt != x_in->dtype() && !InferenceMode::is_enabled())
    return softmax_impl(to_dtype(x_in, dt), dim, std::nullopt, log);
  Tensor x = cast_for_compute(x_in, dt);
  Tensor out = empty_like_shape(x, x->sizes(), x->dtype());
  kernels(x).softmax(*x, x->dim() ? d : 0, *out, log);
  auto rule = log ? [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    return {sub(g, mul(exp(y), sum(g, {n.ints[0]}, true)))};
  } : [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor y = n.saved(0);
    return {mul(y, sub(g, sum(mul(g, y), {n.ints[0]}, true)))};
  };
  if (FormulaNode* n = record(log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", rule, out, {&x_in})) {
    n->save(out, true);
    n->ints = {d};
  }
  return out;
}

// A running sum from the front, or from the back (a cumsum's gradient, which torch writes as
// flip(cumsum(flip(g))) and so names FlipBackward0).
Tensor cumsum_impl(const Tensor& x, int64_t d, bool reverse, const char* node_name = "CumsumBackward0") {
  Tensor out = empty_like_shape(x, x->sizes(), x->dtype());
  // torch fills a 0-d result with the value (-0.0 stays -0.0); a running sum starts from +0.0.
  if (x->dim() == 0) kernels(x).copy(*x, *out);
  else kernels(x).scan(ReduceOp::Sum, *x, d, *out, false, reverse);
  if (FormulaNode* n = record(node_name, [](FormulaNode& n, const Tensor& g) -> TensorList {
        // torch's cumsum_backward passes a gradient of one element, or along a dim of one, as it is.
        if (g->numel() <= 1 || g->sizes()[size_t(n.ints[0])] == 1) return {g};
        return {cumsum_impl(g, n.ints[0], n.ints[1] == 0, "FlipBackward0")};
      }, out, {&x}))
    n->ints = {d, reverse ? 1 : 0};
  return out;
}
}  // namespace

Tensor softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return softmax_impl(x, dim, dtype, false); }
Tensor log_softmax(const Tensor& x, int64_t dim, std::optional<DType> dtype) { return softmax_impl(x, dim, dtype, true); }

Tensor cumsum(const Tensor& x, int64_t dim, std::optional<DType> dtype) {
  int64_t d = wrap_dim(dim, x->dim());
  if (sum_dtype(x, dtype) == DType::Bool) fail(ErrorKind::NotImplemented, "\"cumsum_out_cpu\" not implemented for 'Bool'");
  check_differentiable_result(x, sum_dtype(x, dtype));
  if (x->is_inference() && !InferenceMode::is_enabled()) {
    // torch runs the kernel directly (no autograd key), converting inside it; the kernel fills its
    // result from a 0-d x, which records.
    Tensor out;
    {
      AutoGradMode off(false);
      out = cumsum_impl(to_dtype(x, sum_dtype(x, dtype)), d, false);
    }
    if (x->dim() == 0)
      record_inference_write("FillBackward3", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {to_dtype(g, n.next_edges[0].dtype)};
      }, out, x);
    return out;
  }
  // A floating input converted to another float type keeps its history (ToCopyBackward0).
  return cumsum_impl(to_dtype(x, sum_dtype(x, dtype)), d, false);
}

}  // namespace tapegrad::ops

// Layers torch runs as one op with its own node: layer_norm (NativeLayerNormBackward0),
// batch_norm (NativeBatchNormBackward0) and embedding (EmbeddingBackward0). Forwards are
// composed of ops without history; rules are written with ops (differentiable again).
#include <cmath>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// The gradient of a normalisation's input: rstd * (gy - mean(gy) - xhat * mean(gy * xhat)), the
// means taken over `dims` (where one set of statistics was computed).
Tensor normalized_input_grad(const Tensor& gxhat, const Tensor& xhat, const Tensor& rstd, const Shape& dims) {
  Tensor centred = sub(gxhat, mean(gxhat, dims, true));
  return mul(rstd, sub(centred, mul(xhat, mean(mul(gxhat, xhat), dims, true))));
}

// Input's (gx), weight's and bias's gradients of y = xhat * w + b; weight/bias gradients are
// summed to their shape by the engine's fit step. Saved: 0 xhat, 1 rstd, 2 weight (channel view
// or null), 3 x, 4 mean; scalars[0] = eps.
TensorList affine_norm_grads(FormulaNode& n, const Tensor& g, const Shape& dims, bool stats_fixed) {
  Tensor xhat = n.saved(0), rstd = n.saved(1), w = n.saved(2);
  if (GradMode::is_enabled()) {
    // create_graph: rebuild the statistics and xhat from x with history, so the gradients below
    // differentiate again (the saved ones are constants).
    Tensor x = n.saved(3), mu = n.saved(4);
    if (!stats_fixed) {
      mu = mean(x, dims, true);
      rstd = rdiv(sqrt(add(var(x, dims, 0.0, true), Scalar(n.scalars[0]))), Scalar(1.0));
    }
    xhat = mul(sub(x, mu), rstd);
  }
  Tensor gxhat = w ? mul(g, w) : g;
  Tensor gx;
  if (n.needs_grad(0)) gx = stats_fixed ? mul(gxhat, rstd) : normalized_input_grad(gxhat, xhat, rstd, dims);
  return {gx, n.needs_grad(1) ? mul(g, xhat) : Tensor(), n.needs_grad(2) ? g : Tensor()};
}

// Saves what affine_norm_grads reads.
void save_norm(FormulaNode& n, const Tensor& xhat, const Tensor& rstd, const Tensor& w, const Tensor& x,
               const Tensor& mu, double eps) {
  for (const Tensor* t : {&xhat, &rstd, &w, &x, &mu}) n.save(*t);
  n.scalars[0] = eps;
}

// torch's refusal of a norm's weight, bias or running statistic whose dtype is not the input's.
// When the first one given differs from the input, torch takes the call for a mixed-precision one:
// every parameter must then be float32, and the input a half type (which tapegrad has not).
// Otherwise each parameter is compared with the input. Integer inputs have no kernel (`kernel`).
void check_norm_dtypes(const Tensor& x, std::initializer_list<const Tensor*> params, const char* kernel) {
  const Tensor* first = nullptr;
  for (const Tensor* p : params)
    if (*p && !first) first = p;
  if (first && (*first)->dtype() != x->dtype()) {
    for (const Tensor* p : params)
      TG_CHECK(!*p || (*p)->dtype() == DType::Float32, "mixed dtype (CPU): expect parameter to have scalar type of Float");
    fail(ErrorKind::Runtime, "mixed dtype (CPU): all inputs must share same datatype.");
  }
  for (const Tensor* p : params)
    TG_CHECK(!*p || (*p)->dtype() == x->dtype(), "expected scalar type ", dtype_scalar_type_name(x->dtype()),
             " but found ", dtype_scalar_type_name((*p)->dtype()));
  if (!is_floating(x->dtype())) not_for_dtype(kernel, x->dtype());
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized, const Tensor& weight, const Tensor& bias, double eps) {
  int64_t k = int64_t(normalized.size()), nd = x->dim();
  bool fits = k <= nd;
  for (int64_t i = 0; fits && i < k; ++i) fits = x->sizes()[size_t(nd - k + i)] == normalized[size_t(i)];
  if (!fits) {
    Shape expected_tail = normalized;
    fail(ErrorKind::Runtime, "Given normalized_shape=", shape_str(normalized), ", expected input with shape [*, ",
         shape_str(expected_tail).substr(1), ", but got input of size", shape_str(x->sizes()));
  }
  TG_CHECK(!weight || weight->sizes() == normalized, "Expected weight to be of same shape as normalized_shape, but got ",
           "weight of shape ", shape_str(weight ? weight->sizes() : Shape{}), " and normalized_shape = ",
           shape_str(normalized));
  check_norm_dtypes(x, {&weight, &bias}, "LayerNormKernelImpl");
  Shape dims;
  for (int64_t i = nd - k; i < nd; ++i) dims.push_back(i);
  Tensor out, xhat, rstd, mu;
  {
    AutoGradMode off(false);
    mu = mean(x, dims, true);
    rstd = rdiv(sqrt(add(var(x, dims, 0.0, true), Scalar(eps))), Scalar(1.0));
    xhat = mul(sub(x, mu), rstd);
    out = xhat;
    if (weight) out = mul(out, weight);
    if (bias) out = add(out, bias);
  }
  if (FormulaNode* n = record("NativeLayerNormBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return affine_norm_grads(n, g, n.shape, false);
      }, out, {&x, &weight, &bias})) {
    save_norm(*n, xhat, rstd, weight, x, mu, eps);
    n->shape = dims;
  }
  return out;
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  TG_CHECK(x->dim() >= 2, "batch_norm expects an input of at least 2 dims (got ", x->dim(), ")");
  int64_t channels = x->sizes()[1];
  Shape dims = {0}, channel_shape(size_t(x->dim()), 1);
  for (int64_t d = 2; d < x->dim(); ++d) dims.push_back(d);
  channel_shape[1] = channels;
  // torch's checks, in its order: sizes (and, in evaluation, the statistics to use), the statistics
  // given together or not at all, then dtypes.
  const std::pair<const Tensor*, const char*> params[] = {
      {&running_mean, "running_mean"}, {&running_var, "running_var"}, {&weight, "weight"}, {&bias, "bias"}};
  for (const auto& [t, name] : params) {
    if (*t) TG_CHECK((*t)->numel() == channels, name, " should contain ", channels, " elements not ", (*t)->numel());
    else if (!training && (t == &running_mean || t == &running_var))
      fail(ErrorKind::Runtime, name, " must be defined in evaluation mode");
  }
  if (bool(running_mean) != bool(running_var))
    fail(ErrorKind::Value, "running_mean and running_var must either both be None or neither be None");
  if (!is_floating(x->dtype())) not_for_dtype("batch_norm", x->dtype());
  check_norm_dtypes(x, {&weight, &bias, &running_mean, &running_var}, "batch_norm");
  bool use_batch_stats = training || !running_mean;
  Tensor out, xhat, rstd, w_view, mu;
  {
    AutoGradMode off(false);
    Tensor v;
    if (use_batch_stats) {
      mu = mean(x, dims, true);
      v = var(x, dims, 0.0, true);
      if (training && running_mean) {
        int64_t count = x->numel() / channels;
        Tensor unbiased = mul_scalar(reshape(v, {channels}), double(count) / double(std::max<int64_t>(count - 1, 1)));
        copy_into(running_mean, add(mul_scalar(running_mean, 1 - momentum), mul_scalar(reshape(mu, {channels}), momentum)));
        copy_into(running_var, add(mul_scalar(running_var, 1 - momentum), mul_scalar(unbiased, momentum)));
      }
    } else {
      mu = reshape(running_mean, channel_shape);
      v = reshape(running_var, channel_shape);
    }
    rstd = rdiv(sqrt(add(v, Scalar(eps))), Scalar(1.0));
    xhat = mul(sub(x, mu), rstd);
    out = xhat;
    if (weight) {
      w_view = reshape(weight, channel_shape);
      out = mul(out, w_view);
    }
    if (bias) out = add(out, reshape(bias, channel_shape));
  }
  // weight and bias enter as channel-shaped views so the engine's fit step sums the rest away.
  Tensor w_in = weight ? reshape(weight, channel_shape) : Tensor();
  Tensor b_in = bias ? reshape(bias, channel_shape) : Tensor();
  if (FormulaNode* n = record("NativeBatchNormBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return affine_norm_grads(n, g, n.shape, n.ints[0] == 0);
      }, out, {&x, &w_in, &b_in})) {
    save_norm(*n, xhat, rstd, w_in, x, mu, eps);
    n->shape = dims;
    n->ints = {use_batch_stats ? 1 : 0};
  }
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  TG_CHECK_KIND(indices->dtype() == DType::Int64 || indices->dtype() == DType::Int32, Runtime,
                "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but "
                "got torch.", dtype_scalar_type_name(indices->dtype()), "Tensor instead (while checking arguments for embedding)");
  TG_CHECK(weight->dim() == 2, "'weight' must be 2-D");
  Tensor flat = reshape(to_dtype(indices, DType::Int64), {-1});
  Tensor out;
  {
    AutoGradMode off(false);
    Tensor rows = index_select(weight, 0, flat);
    Shape shape = indices->sizes();
    shape.push_back(weight->sizes()[1]);
    out = as_new(reshape(rows, shape));
  }
  if (FormulaNode* n = record("EmbeddingBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor flat = n.saved(0);
        int64_t dim = n.ints[1];
        Tensor g2 = reshape(g, {-1, dim});
        if (n.ints[2] >= 0) {
          // Rows looked up at padding_idx get no gradient.
          Tensor keep = compare(flat, Scalar::from_int(n.ints[2]), int(CompareOp::Ne));
          g2 = mul(g2, unsqueeze(to_dtype(keep, g2->dtype()), 1));
        }
        return {index_add(full({n.ints[0], dim}, 0.0, g->dtype(), g->device()), 0, flat, g2, Scalar::from_int(1))};
      }, out, {&weight})) {
    n->save(flat);
    n->ints = {weight->sizes()[0], weight->sizes()[1], padding_idx};
  }
  return out;
}

}  // namespace tapegrad::ops

// Layers torch runs as one op with its own node: layer_norm (NativeLayerNormBackward0),
// batch_norm (NativeBatchNormBackward0) and embedding (EmbeddingBackward0). Forwards are
// composed of ops without history; rules are written with ops (differentiable again).
#include <cmath>
#include <tuple>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// The number of elements one set of statistics was computed over.
double count_over(const Tensor& x, const Shape& dims) {
  double n = 1;
  for (int64_t d : dims) n *= double(x->sizes()[size_t(d)]);
  return n;
}

// torch's CPU layer_norm backward, term by term, so that its terms decide where they are infinite
// (an infinite weight makes the whole row NaN): with gw = g * w and sums over the normalised dims,
// gx = rstd * g * w + b * x + c, b = (sum(gw) * mean - sum(gw * x)) * rstd^3 / N,
// c = -b * mean - sum(gw) * rstd / N. Equal to rstd * (gw - mean(gw) - xhat * mean(gw * xhat)).
Tensor layer_norm_input_grad(const Tensor& g, const Tensor& w, const Tensor& x, const Tensor& mu, const Tensor& rstd,
                             const Shape& dims) {
  double scale = 1.0 / count_over(x, dims);
  Tensor gw = w ? mul(g, w) : g;
  Tensor db = sum(gw, dims, true), ds = sum(w ? mul(mul(g, x), w) : mul(g, x), dims, true);
  Tensor b = mul_scalar(mul(mul(mul(sub(mul(db, mu), ds), rstd), rstd), rstd), scale);
  Tensor c = sub(neg(mul(b, mu)), mul_scalar(mul(db, rstd), scale));
  Tensor a_g = mul(rstd, g);
  return add(add(w ? mul(a_g, w) : a_g, mul(b, x)), c);
}

// torch's CPU batch_norm backward in training, term by term (the weight enters last):
// gx = (g - sum(g) / N - (x - mean) * k) * rstd * w, k = sum((x - mean) * g) * rstd^2 / N.
Tensor batch_norm_input_grad(const Tensor& g, const Tensor& w, const Tensor& x, const Tensor& mu, const Tensor& rstd,
                             const Shape& dims) {
  double n = count_over(x, dims);
  Tensor centred = sub(x, mu);
  Tensor k = div_scalar(mul(mul(sum(mul(centred, g), dims, true), rstd), rstd), n);
  Tensor gx = mul(sub(sub(g, div_scalar(sum(g, dims, true), n)), mul(centred, k)), rstd);
  return w ? mul(gx, w) : gx;
}

enum class Norm { Layer, BatchTraining, BatchEvaluation };

// 1 / sqrt(var + eps) in double, rounded once to `dtype`, as torch's CPU kernels compute it.
Tensor inverse_std(const Tensor& var, double eps, DType dtype) {
  return to_dtype(rdiv(sqrt(add(to_dtype(var, DType::Float64), Scalar(eps))), Scalar(1.0)), dtype);
}

// torch's CPU batch_norm statistics over `dims`: the mean summed in double and rounded to x's dtype,
// then the squared deviations (in x's dtype) summed in double and rounded (var_sum).
std::pair<Tensor, Tensor> batch_mean_and_var_sum(const Tensor& x, const Shape& dims) {
  if (x->device().is_cpu() && x->is_contiguous() && !GradMode::is_enabled()) {  // one kernel, same numbers
    Shape channel_shape(size_t(x->dim()), 1);
    channel_shape[1] = x->sizes()[1];
    Tensor mu = empty(channel_shape, x->dtype(), x->device()), var_sum = empty(channel_shape, x->dtype(), x->device());
    kernels(x).batch_norm_stats(*x, *mu, *var_sum);
    return {mu, var_sum};
  }
  auto in_double = [](const Tensor& t) { return to_dtype(t, DType::Float64); };
  Tensor mu = to_dtype(div_scalar(sum(in_double(x), dims, true), count_over(x, dims)), x->dtype());
  Tensor centred = sub(x, mu);
  return {mu, to_dtype(sum(in_double(mul(centred, centred)), dims, true), x->dtype())};
}

// The mean and inverse std a norm normalises with: batch_norm's as its CPU kernel computes them,
// layer_norm's variance in the input's dtype.
std::pair<Tensor, Tensor> norm_statistics(const Tensor& x, const Shape& dims, double eps, Norm norm) {
  if (norm == Norm::BatchTraining) {
    auto [mu, var_sum] = batch_mean_and_var_sum(x, dims);
    return {mu, inverse_std(div_scalar(var_sum, count_over(x, dims)), eps, x->dtype())};
  }
  // layer_norm: the mean refined by the mean deviation from it, so a constant row has its value as
  // its mean exactly and a variance of 0, as torch's Welford moments give (x - mean is then 0, which
  // decides the result: 0 times an infinite weight is NaN).
  Tensor rough = mean(x, dims, true);
  Tensor mu = add(rough, mean(sub(x, rough), dims, true));
  Tensor centred = sub(x, mu);
  return {mu, inverse_std(mean(mul(centred, centred), dims, true), eps, x->dtype())};
}

// Input's (gx), weight's and bias's gradients of y = xhat * w + b; weight/bias gradients are
// summed to their shape by the engine's fit step. Saved: 0 xhat (or null: made here), 1 rstd,
// 2 weight (channel view or null), 3 x, 4 mean; scalars[0] = eps.
TensorList affine_norm_grads(FormulaNode& n, const Tensor& g, const Shape& dims, Norm norm) {
  // torch's rule unpacks the saved input whatever it needs, so an in-place edit of it is refused.
  Tensor xhat = n.saved(0), rstd = n.saved(1), w = n.saved(2), x = n.saved(3), mu = n.saved(4);
  if (GradMode::is_enabled()) {
    // create_graph: rebuild the statistics and xhat from x with history, so the gradients below
    // differentiate again (the saved ones are constants).
    if (norm != Norm::BatchEvaluation) std::tie(mu, rstd) = norm_statistics(x, dims, n.scalars[0], norm);
    xhat = mul(sub(x, mu), rstd);
  }
  Tensor gx;
  if (n.needs_grad(0)) {
    gx = norm == Norm::Layer           ? layer_norm_input_grad(g, w, x, mu, rstd, dims)
         : norm == Norm::BatchTraining ? batch_norm_input_grad(g, w, x, mu, rstd, dims)
         : w                           ? mul(mul(g, rstd), w)
                                       : mul(g, rstd);
    // torch's double-backward node reads the input even where (evaluation) the input's gradient does
    // not depend on it: under create_graph that gradient still requires grad.
    if (norm == Norm::BatchEvaluation && GradMode::is_enabled()) gx = tie_to_input(gx, x, "NativeBatchNormBackwardBackward0", false);
  }
  if (n.needs_grad(1) && !xhat) xhat = mul(sub(x, mu), rstd);  // batch_norm's forward did not need it
  return {gx, n.needs_grad(1) ? mul(g, xhat) : Tensor(), n.needs_grad(2) ? g : Tensor()};
}

// x * y + z rounded once, as torch's vectorized CPU kernels compute batch_norm's affine steps (with a
// constant channel, alpha = 1/sqrt(eps), a fused multiply-add keeps x * alpha's rounding error where
// separate operations give 0). y and z broadcast against x; all share x's floating dtype.
Tensor fused_multiply_add(const Tensor& x, const Tensor& y, const Tensor& z) {
  Shape shape = broadcast_shapes(x->sizes(), broadcast_shapes(y->sizes(), z->sizes()));
  Tensor out = empty_elementwise(shape, x->dtype(), x->device(), {x.get(), y.get(), z.get()});
  kernels(x).fused_multiply_add(*x, *y, *z, *out);
  return out;
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
// Otherwise each parameter is compared with the input (but `later`, which the caller compares itself,
// with check_same_dtype). Integer inputs have no kernel (`kernel`).
void check_same_dtype(const Tensor& x, const Tensor& p) {
  TG_CHECK(!p || p->dtype() == x->dtype(), "expected scalar type ", dtype_scalar_type_name(x->dtype()), " but found ",
           dtype_scalar_type_name(p->dtype()));
}

void check_norm_dtypes(const Tensor& x, std::initializer_list<const Tensor*> params, const char* kernel,
                       const Tensor* later = nullptr) {
  const Tensor* first = nullptr;
  for (const Tensor* p : params)
    if (*p && !first) first = p;
  if (first && (*first)->dtype() != x->dtype()) {
    for (const Tensor* p : params)
      TG_CHECK(!*p || (*p)->dtype() == DType::Float32, "mixed dtype (CPU): expect parameter to have scalar type of Float");
    fail(ErrorKind::Runtime, "mixed dtype (CPU): all inputs must share same datatype.");
  }
  for (const Tensor* p : params)
    if (p != later) check_same_dtype(x, *p);
  if (!is_floating(x->dtype())) not_for_dtype(kernel, x->dtype());
}

}  // namespace

Tensor layer_norm(const Tensor& x, const Shape& normalized, const Tensor& weight, const Tensor& bias, double eps) {
  int64_t k = int64_t(normalized.size()), nd = x->dim();
  TG_CHECK(k >= 1, "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, "
           "but got normalized_shape = ", shape_str(normalized));
  for (auto [t, name] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}})
    TG_CHECK(!*t || (*t)->sizes() == normalized, "Expected ", name, " to be of same shape as normalized_shape, but got ",
             name, " of shape ", shape_str(*t ? (*t)->sizes() : Shape{}), " and normalized_shape = ",
             shape_str(normalized));
  bool fits = k <= nd;
  for (int64_t i = 0; fits && i < k; ++i) fits = x->sizes()[size_t(nd - k + i)] == normalized[size_t(i)];
  if (!fits) {
    fail(ErrorKind::Runtime, "Given normalized_shape=", shape_str(normalized), ", expected input with shape [*, ",
         shape_str(normalized).substr(1), ", but got input of size", shape_str(x->sizes()));
  }
  check_norm_dtypes(x, {&weight, &bias}, "LayerNormKernelImpl");
  Shape dims;
  for (int64_t i = nd - k; i < nd; ++i) dims.push_back(i);
  Tensor out, xhat, rstd, mu;
  {
    AutoGradMode off(false);
    if (x->device().is_cpu() && x->is_contiguous()) {  // one pass per row, the same numbers
      Shape stat_shape = x->sizes();
      for (int64_t d : dims) stat_shape[size_t(d)] = 1;
      out = empty(x->sizes(), x->dtype(), x->device());
      mu = empty(stat_shape, x->dtype(), x->device());
      rstd = empty(stat_shape, x->dtype(), x->device());
      Tensor w = weight ? contiguous(weight) : Tensor(), b = bias ? contiguous(bias) : Tensor();
      kernels(x).layer_norm(*x, w ? w.get() : nullptr, b ? b.get() : nullptr, numel_of(normalized), eps, *out, *mu, *rstd);
    } else {
      std::tie(mu, rstd) = norm_statistics(x, dims, eps, Norm::Layer);
      xhat = mul(sub(x, mu), rstd);
      out = xhat;
      if (weight) out = mul(out, weight);
      if (bias) out = add(out, bias);
    }
  }
  if (FormulaNode* n = record("NativeLayerNormBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return affine_norm_grads(n, g, n.shape, Norm::Layer);
      }, out, {&x, &weight, &bias})) {
    save_norm(*n, xhat, rstd, weight, x, mu, eps);
    n->shape = dims;
  }
  return out;
}

// torch's checks, in its order (native batch_norm's dispatch): an empty input returns early, then the
// statistics and parameters are counted against the channels, then dtypes.
static void check_batch_norm(const Tensor& x, int64_t channels, const Tensor& running_mean, const Tensor& running_var,
                      const Tensor& weight, const Tensor& bias, bool training) {
  auto count = [&](const Tensor& t, const char* name) {
    TG_CHECK(t->numel() == channels, name, " should contain ", channels, " elements not ", t->numel());
  };
  if (running_mean) count(running_mean, "running_mean");
  else TG_CHECK(training, "running_mean must be defined in evaluation mode");
  if (running_var) count(running_var, "running_var");
  else TG_CHECK(training, "running_var must be defined in evaluation mode");
  if (weight) count(weight, "weight");
  if (bias) count(bias, "bias");
  if (bool(running_mean) != bool(running_var))
    fail(ErrorKind::Value, "running_mean and running_var must either both be None or neither be None");
  TG_CHECK_KIND(x->dim() >= 2, Index, "Dimension out of range (expected to be in range of [-1, 0], but got 1)");
  if (!is_floating(x->dtype())) not_for_dtype("batch_norm", x->dtype());  // the input's dtype before the others'
  // In training the bias is compared in the kernel, after the running statistics have been updated.
  check_norm_dtypes(x, {&weight, &bias, &running_mean, &running_var}, "batch_norm", training ? &bias : nullptr);
}

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
  // torch reads the channel count at sizes()[1] even below 2 dims, past the end, and finds 0 there.
  int64_t channels = x->dim() >= 2 ? x->sizes()[1] : 0;
  if (x->numel() == 0) {  // torch: a copy scaled by weight[0] and shifted by bias[0], keeping the graph
    Tensor out = clone(x);
    if (weight) out = mul(out, select(weight, 0, 0));
    if (bias) out = add(out, select(bias, 0, 0));
    return out;
  }
  check_batch_norm(x, channels, running_mean, running_var, weight, bias, training);
  Shape dims = {0}, channel_shape(size_t(x->dim()), 1);
  for (int64_t d = 2; d < x->dim(); ++d) dims.push_back(d);
  channel_shape[1] = channels;
  bool use_batch_stats = training;  // evaluation needs both running statistics (checked above)
  Tensor out, xhat, rstd, w_view, mu;
  {
    AutoGradMode off(false);
    if (use_batch_stats) {
      Tensor var_sum;
      std::tie(mu, var_sum) = batch_mean_and_var_sum(x, dims);
      const double n = count_over(x, dims);
      rstd = inverse_std(div_scalar(var_sum, n), eps, x->dtype());
      // momentum * batch + (1 - momentum) * running as torch: momentum in the parameters' dtype, the
      // mean's update in that dtype, the variance's in double (its unbiased variance is a double there).
      const bool single = x->dtype() == DType::Float32;
      const double m = single ? double(float(momentum)) : momentum, keep = single ? double(1.0f - float(momentum)) : 1 - momentum;
      if (running_mean)
        copy_into(running_mean, add(mul_scalar(reshape(mu, {channels}), m), mul_scalar(running_mean, keep)));
      if (running_var) {
        Tensor unbiased = to_dtype(reshape(div_scalar(var_sum, n - 1), {channels}), DType::Float64);
        copy_into(running_var, add(mul_scalar(unbiased, m), to_dtype(mul_scalar(running_var, keep), DType::Float64)));
      }
    } else {
      mu = reshape(running_mean, channel_shape);
      rstd = rdiv(sqrt(add(reshape(running_var, channel_shape), Scalar(eps))), Scalar(1.0));
    }
    check_same_dtype(x, bias);  // after the update, as torch's kernel
    // torch's CPU kernel computes x * alpha + beta with alpha = rstd * w and beta = b - mean * alpha, which
    // decides the result where the terms are infinite (e.g. an infinite weight: inf - inf = NaN).
    Tensor alpha = rstd;
    if (weight) {
      w_view = reshape(weight, channel_shape);
      alpha = mul(rstd, w_view);
    }
    // beta = b - mean * alpha is itself one fused multiply-add in torch's CPU kernels (float32 and float64).
    const bool fused = x->device().is_cpu();
    Tensor beta = fused ? fused_multiply_add(neg(mu), alpha, bias ? reshape(bias, channel_shape) : zeros_like(mu))
                        : bias ? sub(reshape(bias, channel_shape), mul(mu, alpha)) : neg(mul(mu, alpha));
    // torch's contiguous kernels compute x * alpha + beta; other layouts take its generic loop.
    if (x->is_contiguous()) {
      out = fused ? fused_multiply_add(x, alpha, beta) : add(mul(x, alpha), beta);
    } else {
      xhat = mul(sub(x, mu), rstd);
      out = add(w_view ? mul(xhat, w_view) : xhat, bias ? reshape(bias, channel_shape) : zeros_like(xhat));
    }
  }
  // weight and bias enter as channel-shaped views so the engine's fit step sums the rest away.
  Tensor w_in = weight ? reshape(weight, channel_shape) : Tensor();
  Tensor b_in = bias ? reshape(bias, channel_shape) : Tensor();
  if (FormulaNode* n = record("NativeBatchNormBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return affine_norm_grads(n, g, n.shape, n.ints[0] ? Norm::BatchTraining : Norm::BatchEvaluation);
      }, out, {&x, &w_in, &b_in})) {
    save_norm(*n, xhat, rstd, w_in, x, mu, eps);
    n->shape = dims;
    n->ints = {use_batch_stats ? 1 : 0};
  }
  return out;
}

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  AutogradKeyFrom key({&indices});
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
          // Rows looked up at padding_idx get no gradient: skipped, as torch skips them (a NaN there is
          // no NaN in the weight's gradient).
          Tensor keep = compare(flat, Scalar::from_int(n.ints[2]), int(CompareOp::Ne));
          g2 = keep_where(g2, unsqueeze(keep, 1));
        }
        return {index_add(full({n.ints[0], dim}, 0.0, g->dtype(), g->device()), 0, flat, g2, Scalar::from_int(1))};
      }, out, {&weight})) {
    n->save(flat);
    n->ints = {weight->sizes()[0], weight->sizes()[1], padding_idx};
  }
  return out;
}

}  // namespace tapegrad::ops

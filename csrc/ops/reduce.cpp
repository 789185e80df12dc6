// Reductions (full and over dims), their backward rules, and the broadcast pair expand / sum_to.
#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "core/inference_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// Which dims a reduction covers (all when `dims` is empty), as a sorted unique list.
Shape reduced_dims(const Tensor& x, const Shape& dims) {
  Shape out;
  if (dims.empty()) {
    for (int64_t d = 0; d < x->dim(); ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x->dim());
    TG_CHECK(std::find(out.begin(), out.end(), w) == out.end(), "dim ", w,
             " appears multiple times in the list of dims");
    out.push_back(w);
  }
  if (x->dim() == 0) out.clear();  // a 0-d tensor's dim 0 (or -1) names the tensor itself
  std::sort(out.begin(), out.end());
  return out;
}

Shape keepdim_shape(const Tensor& x, const Shape& rd) {
  Shape s = x->sizes();
  for (int64_t d : rd) s[size_t(d)] = 1;
  return s;
}

Shape final_shape(const Tensor& x, const Shape& rd, bool keepdim) {
  if (keepdim) return keepdim_shape(x, rd);
  Shape s;
  for (int64_t d = 0; d < x->dim(); ++d)
    if (!std::binary_search(rd.begin(), rd.end(), d)) s.push_back(x->sizes()[size_t(d)]);
  return s;
}

int64_t count_of(const Tensor& x, const Shape& rd) {
  int64_t n = 1;
  for (int64_t d : rd) n *= x->sizes()[size_t(d)];
  return n;
}

// Runs a kernel reduction into the keepdim layout, then drops the dims unless keepdim.
Tensor run_reduce(ReduceOp op, const Tensor& x, const Shape& rd, bool keepdim, DType dt) {
  Tensor xc = cast_for_compute(x, dt);
  Shape kshape = keepdim_shape(x, rd);
  Tensor out = empty_like_shape(x, kshape, dt);
  kernels(x).reduce(op, *xc, *out);
  if (keepdim) return out;
  return TensorImpl::view_of(out->storage(), final_shape(x, rd, false), contiguous_strides(final_shape(x, rd, false)),
                             0, dt);
}

// A gradient of a reduced result brought back to the keepdim layout.
Tensor keep_dims(const Tensor& g, const FormulaNode& n) {
  bool keepdim = n.scalars[1] != 0;
  if (keepdim || g->dim() == int64_t(n.shape.size())) return g;
  Tensor r = g;
  for (int64_t d : n.ints) r = unsqueeze(r, d);
  return r;
}

FormulaNode* record_reduction(const char* name, BackwardFormula rule, const Tensor& out, const Tensor& x,
                              const Shape& rd, bool keepdim) {
  FormulaNode* n = record(name, rule, out, {&x});
  if (n) {
    n->shape = x->sizes();
    n->ints = rd;
    n->scalars[1] = keepdim;
  }
  return n;
}

}  // namespace

// ---------- full reductions ----------
Tensor sum(const Tensor& x, std::optional<DType> dtype) {
  Tensor out = run_reduce(ReduceOp::Sum, x, reduced_dims(x, {}), false, sum_dtype(x, dtype));
  check_differentiable_result(x, out->dtype());
  if (FormulaNode* n = record("SumBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {expand(g, n.shape)};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

namespace {
void check_mean_dtype(DType dt, bool given) {
  if (!is_floating(dt))
    fail(ErrorKind::Runtime, "mean(): could not infer output dtype. ", given ? "Optional dtype" : "Input dtype",
         " must be either a floating point or complex dtype. Got: ", dtype_scalar_type_name(dt));
}
}  // namespace

Tensor mean(const Tensor& x, std::optional<DType> dtype) {
  DType dt = dtype ? *dtype : x->dtype();
  check_mean_dtype(dt, dtype.has_value());
  Tensor out = run_reduce(ReduceOp::Sum, x, reduced_dims(x, {}), false, dt);
  // Divide in the element type, as torch does (not multiply by 1/n).
  kernels(x).unary(UnaryOp::DivScalar, *out, *out, double(x->numel()), 0);
  if (FormulaNode* n = record("MeanBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {div(expand(g, n.shape), Scalar::from_int(numel_of(n.shape)))};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

// ---------- reductions over dims ----------
Tensor sum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  Shape rd = reduced_dims(x, dims);
  Tensor out = run_reduce(ReduceOp::Sum, x, rd, keepdim, sum_dtype(x, dtype));
  check_differentiable_result(x, out->dtype());
  record_reduction("SumBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
    return {expand(keep_dims(g, n), n.shape)};
  }, out, x, rd, keepdim);
  return out;
}

// The sum with NaNs counted as zero; they get no gradient (NansumBackward0).
Tensor nansum(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  Shape rd = reduced_dims(x, dims);
  Tensor kept = x;
  if (is_floating(x->dtype())) {
    AutoGradMode off(false);
    kept = keep_where(x, logical_not(isnan(x)));
  }
  Tensor out = run_reduce(ReduceOp::Sum, kept, rd, keepdim, sum_dtype(x, dtype));
  check_differentiable_result(x, out->dtype());
  if (FormulaNode* n = record_reduction("NansumBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {keep_where(expand(keep_dims(g, n), n.shape), logical_not(isnan(n.saved(0))))};
      }, out, x, rd, keepdim))
    n->save(x);
  return out;
}

Tensor mean(const Tensor& x, const Shape& dims, bool keepdim, std::optional<DType> dtype) {
  DType dt = dtype ? *dtype : x->dtype();
  check_mean_dtype(dt, dtype.has_value());
  Shape rd = reduced_dims(x, dims);
  Tensor out = run_reduce(ReduceOp::Sum, x, rd, keepdim, dt);
  kernels(x).unary(UnaryOp::DivScalar, *out, *out, double(count_of(x, rd)), 0);
  if (FormulaNode* n = record_reduction("MeanBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {div_scalar(expand(keep_dims(g, n), n.shape), n.scalars[0])};
      }, out, x, rd, keepdim))
    n->scalars[0] = double(count_of(x, rd));
  return out;
}

namespace {
// For each element along d, the product of the others, differentiable again: each element's row
// of the lane with its own place set to one, multiplied out (quadratic, but only needed when a
// gradient through zeros is itself differentiated).
Tensor product_of_others(const Tensor& x, int64_t d) {
  Tensor lanes = transpose(x, d, x->dim() - 1);
  const int64_t n = lanes->dim() ? lanes->sizes().back() : 1;
  Shape square = lanes->sizes();
  square.insert(square.end() - 1, n);
  Tensor rows = expand(unsqueeze(lanes, -2), square);
  Tensor own_place = eye(n, n, DType::Bool, x->device());
  Tensor others = prod(where(own_place, full({}, 1.0, x->dtype(), x->device()), rows), -1, false);
  return transpose(others, d, x->dim() - 1);
}
}  // namespace

Tensor prod(const Tensor& x, std::optional<int64_t> dim, bool keepdim, std::optional<DType> dtype) {
  Shape rd = dim ? reduced_dims(x, {*dim}) : reduced_dims(x, {});
  Tensor out = run_reduce(ReduceOp::Prod, x, rd, dim ? keepdim : false, sum_dtype(x, dtype));
  check_differentiable_result(x, out->dtype());
  auto rule = [](FormulaNode& n, const Tensor& g) -> TensorList {
    Tensor x = n.saved(0);
    if (x->dim() == 0) return {g};  // torch: the product of one number is that number, whatever it is (NaN)
    if (!item_of(any(compare(x, Scalar(0.0), 0 /* Eq */), {}, false))) {
      // No zeros: d prod / d x_i = prod / x_i, written with ops so it differentiates again.
      return {mul(expand(keep_dims(g, n), n.shape), div(keep_dims(n.saved(1), n), x))};
    }
    // torch's rule for the product of everything (without create_graph): two zeros or more make
    // every gradient 0.
    if (n.scalars[0] != 0 && !GradMode::is_enabled() && item_of(sum(compare(x, Scalar(0.0), 0 /* Eq */), {}, false)) > 1)
      return {zeros_like(x)};
    // With zeros along a dim of one, torch's safe path passes the gradient as it is (no history from x).
    if (n.scalars[0] == 0 && n.shape[size_t(n.ints[0])] == 1) return {keep_dims(g, n)};
    // With zeros, the product of the others: exclusive running products from both ends.
    Tensor flat = n.ints.size() == 1 ? x : reshape(x, {-1});
    int64_t d = n.ints.size() == 1 ? n.ints[0] : 0;
    if (GradMode::is_enabled()) {  // create_graph: the same products written with ops
      Tensor others = product_of_others(flat, d);
      if (n.ints.size() == 1) return {mul(expand(keep_dims(g, n), n.shape), others)};
      return {reshape(mul(g, others), n.shape)};  // torch's full prod ends with a view
    }
    Tensor before = empty_like_shape(flat, flat->sizes(), flat->dtype());
    Tensor after = empty_like_shape(flat, flat->sizes(), flat->dtype());
    kernels(flat).scan(ReduceOp::Prod, *flat, d, *before, true, false);
    kernels(flat).scan(ReduceOp::Prod, *flat, d, *after, true, true);
    Tensor others = reshape(mul(before, after), n.shape);
    return {mul(expand(keep_dims(g, n), n.shape), others)};
  };
  if (FormulaNode* n = record_reduction(dim ? "ProdBackward1" : "ProdBackward0", rule, out, x, rd,
                                        dim ? keepdim : false)) {
    n->save(x);
    n->save(out, true);
    n->scalars[0] = dim ? 0 : 1;  // the product of everything (ProdBackward0)
  }
  return out;
}

namespace {
// amax/amin and full max/min: ties share the gradient evenly (torch's evenly_distribute rule).
TensorList extreme_rule(FormulaNode& n, const Tensor& g) {
  Tensor x = n.saved(0);
  Tensor r = keep_dims(n.saved(1), n);
  Tensor hits = cast_for_compute(compare(x, r, 0 /* Eq */), g->dtype());
  Tensor count = sum(hits, n.ints, true);
  return {div(mul(expand(keep_dims(g, n), n.shape), hits), count)};
}

// Full max()/min(): torch writes the shared gradient into the hits of a zero tensor, so a NaN
// gradient stays where the extreme was; a NaN result's hits are the input's NaNs.
TensorList full_extreme_rule(FormulaNode& n, const Tensor& g) {
  Tensor x = n.saved(0), r = n.saved(1);
  Tensor hits = item_of(isnan(r)) ? isnan(x) : compare(x, r, 0 /* Eq */);
  Tensor share = div(g, sum(cast_for_compute(hits, g->dtype()), std::nullopt));
  return {where(hits, expand(share, n.shape), full({}, 0.0, g->dtype(), g->device()))};
}

Tensor extreme(const Tensor& x, const Shape& dims, bool keepdim, bool is_max, const char* name) {
  const char* fn = name[0] == 'A' ? (is_max ? "amax" : "amin") : (is_max ? "max" : "min");
  if (dims.empty() && x->numel() == 0)
    fail(ErrorKind::Runtime, fn, "(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                                 "reduction dim with the 'dim' argument.");
  Shape rd = reduced_dims(x, dims);
  for (int64_t d : rd)
    TG_CHECK_KIND(x->sizes()[size_t(d)] > 0, Index, fn, "(): Expected reduction dim ", d, " to have non-zero size.");
  Tensor out = run_reduce(is_max ? ReduceOp::Max : ReduceOp::Min, x, rd, keepdim, x->dtype());
  const bool full_reduction = name[0] != 'A' && dims.empty();
  if (FormulaNode* n = record_reduction(name, full_reduction ? full_extreme_rule : extreme_rule, out, x, rd, keepdim)) {
    n->save(x);
    n->save(out, true);
  }
  return out;
}

std::pair<Tensor, Tensor> extreme_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max,
                                      const char* fn = nullptr) {
  int64_t d = wrap_dim(dim, x->dim());
  if (x->dim() > 0)
    TG_CHECK_KIND(x->sizes()[size_t(d)] > 0, Index, fn ? fn : is_max ? "max" : "min", "(): Expected reduction dim ", d,
                  " to have non-zero size.");
  Shape rd = x->dim() ? Shape{d} : Shape{};
  Shape kshape = keepdim_shape(x, rd);
  Tensor values = empty_like_shape(x, kshape, x->dtype());
  Tensor indices = empty_like_shape(x, kshape, DType::Int64);
  kernels(x).reduce_arg(is_max ? ReduceOp::Max : ReduceOp::Min, *x, x->dim() ? d : 0, *values, *indices);
  if (!keepdim && x->dim() > 0) {
    AutoGradMode off(false);
    values = as_new(squeeze(values, {d}));
    indices = as_new(squeeze(indices, {d}));
  }
  if (FormulaNode* n = record_reduction(is_max ? "MaxBackward0" : "MinBackward0",
                                        [](FormulaNode& n, const Tensor& g) -> TensorList {
                                          Tensor zeros = full(n.shape, 0.0, g->dtype(), g->device());
                                          if (n.ints.empty()) return {add(zeros, g)};
                                          return {scatter_add(zeros, n.ints[0], keep_dims(n.saved(0), n), keep_dims(g, n))};
                                        },
                                        values, x, rd, keepdim))
    n->save(indices);
  if (x->dim() == 0)  // torch's kernel fills its result from a 0-d x
    record_inference_write("FillBackward3", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, values, x);
  return {values, indices};
}

Tensor arg_extreme(const Tensor& x, std::optional<int64_t> dim, bool keepdim, bool is_max) {
  const char* fn = is_max ? "argmax" : "argmin";
  TG_CHECK(x->dtype() != DType::Bool, fn, "(): does not support bool input");
  if (!dim) {
    TG_CHECK_KIND(x->numel() > 0, Index, fn, "(): Expected reduction dim to be specified for input.numel() == 0.");
    Tensor flat = reshape(detach(x), {-1});
    Tensor idx = extreme_dim(flat, 0, false, is_max).second;
    if (keepdim) return as_new(reshape(idx, Shape(size_t(x->dim()), 1)));
    return as_new(idx);
  }
  AutoGradMode off(false);
  return extreme_dim(x, *dim, keepdim, is_max, fn).second;
}
}  // namespace

Tensor amax(const Tensor& x, const Shape& dims, bool keepdim) { return extreme(x, dims, keepdim, true, "AmaxBackward0"); }
Tensor amin(const Tensor& x, const Shape& dims, bool keepdim) { return extreme(x, dims, keepdim, false, "AminBackward0"); }
Tensor max(const Tensor& x) { return extreme(x, {}, false, true, "MaxBackward1"); }
Tensor min(const Tensor& x) { return extreme(x, {}, false, false, "MinBackward1"); }
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, true); }
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) { return extreme_dim(x, dim, keepdim, false); }
Tensor argmax(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(x, dim, keepdim, true); }
Tensor argmin(const Tensor& x, std::optional<int64_t> dim, bool keepdim) { return arg_extreme(x, dim, keepdim, false); }

namespace {
// (x - mean) over the reduced dims, the quantity var/std and their rules share.
Tensor centered(const Tensor& x, const Shape& rd) { return sub(x, mean(x, rd, true)); }

Tensor var_backward(const Tensor& g_keep, const Tensor& x, const FormulaNode& n) {
  double dof = n.scalars[0];
  if (dof <= 0 && n.scalars[1] != 0) {
    // torch's rule for a reduction without dims and no degrees of freedom: NaN where x is its mean,
    // else +inf (constants: the result has no history of x). With dims it takes 2 / dof as it is.
    Tensor at_mean = compare(x, mean(x, n.ints, true), int(CompareOp::Eq));
    auto constant = [&](double v) { return full({}, v, x->dtype(), x->device()); };
    return mul(g_keep, where(at_mean, constant(std::numeric_limits<double>::quiet_NaN()),
                             constant(std::numeric_limits<double>::infinity())));
  }
  return mul(mul_scalar(g_keep, 2.0 / dof), centered(x, n.ints));
}

// What var_backward reads: the degrees of freedom, and whether torch takes its rule for a reduction
// without dims (none named, or a 0-d input).
void set_degrees_of_freedom(FormulaNode& n, const Tensor& x, const Shape& rd, const Shape& dims, double correction) {
  n.scalars[0] = double(count_of(x, rd)) - correction;
  n.scalars[1] = dims.empty() || x->dim() == 0 ? 1 : 0;
}

// The variance over rd in float64 (torch accumulates float32's in double too: its squares do not
// overflow, nor its cancellations lose float32's digits). Degrees of freedom below zero count as
// zero (torch gives inf or nan, never a negative variance); nothing to reduce over is NaN whatever
// the correction (0 / 0), as torch's. No history.
Tensor wide_variance(const Tensor& x, const Shape& rd, double correction, bool keepdim) {
  AutoGradMode off(false);
  Tensor c = centered(to_dtype(x, DType::Float64), rd);
  const int64_t count = count_of(x, rd);
  return div_scalar(sum(mul(c, c), rd, keepdim), count == 0 ? 0.0 : std::max(0.0, double(count) - correction));
}
}  // namespace

Tensor var(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  TG_CHECK(is_floating(x->dtype()), "std and var only support floating point and complex dtypes");
  Shape rd = reduced_dims(x, dims);
  Tensor out;
  {
    AutoGradMode off(false);
    out = to_dtype(wide_variance(x, rd, correction, keepdim), x->dtype());
  }
  if (FormulaNode* n = record_reduction("VarBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {var_backward(keep_dims(g, n), n.saved(0), n)};
      }, out, x, rd, keepdim)) {
    n->save(x);
    set_degrees_of_freedom(*n, x, rd, dims, correction);
  }
  return out;
}

Tensor std(const Tensor& x, const Shape& dims, double correction, bool keepdim) {
  TG_CHECK(is_floating(x->dtype()), "std and var only support floating point and complex dtypes");
  Shape rd = reduced_dims(x, dims);
  Tensor out;
  {
    AutoGradMode off(false);
    out = to_dtype(sqrt(wide_variance(x, rd, correction, keepdim)), x->dtype());  // the root in double too
  }
  if (FormulaNode* n = record_reduction("StdBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        // Where std is 0 torch takes the gradient as 0 rather than g / 0.
        Tensor s = keep_dims(n.saved(1), n);
        Tensor scaled = div(keep_dims(g, n), mul_scalar(s, 2.0));
        scaled = keep_where(scaled, cast_for_compute(compare(s, Scalar(0.0), 1 /* Ne */), s->dtype()));
        return {var_backward(scaled, n.saved(0), n)};
      }, out, x, rd, keepdim)) {
    n->save(x);
    n->save(out, true);
    set_degrees_of_freedom(*n, x, rd, dims, correction);
  }
  return out;
}

namespace {
// Whether every output element of a reduction over dims reads exactly one input element.
bool reduces_nothing(const Tensor& x, const Shape& dims) {
  for (int64_t d : dims)
    if (x->sizes()[size_t(d)] != 1) return false;
  return true;
}
}  // namespace

Tensor norm(const Tensor& x, double p, const Shape& dims, bool keepdim) {
  TG_CHECK(is_floating(x->dtype()), "linalg.vector_norm: Expected a floating point or complex tensor as input. Got ",
           dtype_scalar_type_name(x->dtype()));
  Shape rd = reduced_dims(x, dims);
  Tensor out;
  {
    AutoGradMode off(false);
    Tensor a = abs(x);
    if (std::isinf(p)) out = p > 0 ? amax(a, rd, keepdim) : amin(a, rd, keepdim);
    else if (p == 1) out = sum(a, rd, keepdim);
    else if (p == 0) out = sum(cast_for_compute(compare(x, Scalar(0.0), 1 /* Ne */), x->dtype()), rd, keepdim);
    else if (reduces_nothing(x, rd)) out = sum(a, rd, keepdim);  // torch: |x| itself, so 1e30 cannot overflow
    else if (p == 2) out = sqrt(sum(mul(x, x), rd, keepdim));
    else out = pow(sum(pow(a, Scalar(p)), rd, keepdim), Scalar(1.0 / p));
  }
  if (FormulaNode* n = record_reduction("LinalgVectorNormBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double p = n.scalars[0];
        Tensor x = n.saved(0), r = keep_dims(n.saved(1), n), gk = keep_dims(g, n);
        if (p == 0) return {Tensor()};  // torch: no gradient at all (a leaf keeps grad None)
        // torch's formulas per p (their masks decide the result at zeros, infinities and NaN).
        Tensor zero = full({}, 0.0, x->dtype(), x->device());
        if (std::isinf(p)) {  // the elements equal to the norm (or NaN) share the gradient
          Tensor a = abs(x);
          Tensor hits = cast_for_compute(logical_or(compare(a, r, 0 /* Eq */), isnan(a)), x->dtype());
          return {mul(sign(x), mul(div(gk, sum(hits, n.ints, true)), hits))};
        }
        if (p == 1) return {mul(sign(x), gk)};
        Tensor zero_norm = compare(r, Scalar(0.0), 0 /* Eq */);
        if (p == 2) return {mul(gk, masked_fill(div(x, r), zero_norm, zero, true))};
        if (p < 1) {  // sgn(x) |x|^(p-1) g norm^(1-p), 0 where x is 0
          Tensor scaled = masked_fill(pow(abs(x), Scalar(p - 1)), compare(x, Scalar(0.0), 0 /* Eq */), zero, true);
          return {mul(mul(mul(sign(x), scaled), gk), pow(r, Scalar(1 - p)))};
        }
        // sgn(x) |x|^(p-1) (or x |x|^(p-2) from p = 2 on) times g / norm^(p-1), 0 where the norm is 0
        Tensor scaled = p < 2 ? mul(sign(x), pow(abs(x), Scalar(p - 1))) : mul(x, pow(abs(x), Scalar(p - 2)));
        return {mul(scaled, masked_fill(div(gk, pow(r, Scalar(p - 1))), zero_norm, zero, true))};
      }, out, x, rd, keepdim)) {
    n->save(x);
    n->save(out, true);
    n->scalars[0] = p;
  }
  return out;
}

Tensor logsumexp(const Tensor& x, const Shape& dims, bool keepdim) {
  Shape rd = reduced_dims(x, dims);
  Tensor xf = is_floating(x->dtype()) ? x : cast_for_compute(x, default_dtype());
  Tensor out;
  {
    AutoGradMode off(false);
    // Empty reductions have no maximum to shift by: log(sum(exp(x))) is -inf there anyway.
    Tensor m = x->numel() == 0 ? full(keepdim_shape(x, rd), 0.0, xf->dtype(), x->device()) : amax(xf, rd, true);
    // Infinite maxima would give inf - inf; shift by 0 there instead.
    m = keep_where(m, cast_for_compute(isfinite(m), m->dtype()));
    Tensor s = log(sum(exp(sub(xf, m)), rd, true));
    out = add(s, m);
    if (!keepdim) out = as_new(reshape(out, final_shape(x, rd, false)));
  }
  if (FormulaNode* n = record_reduction("LogsumexpBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor r = keep_dims(n.saved(1), n);
        return {mul(keep_dims(g, n), exp(sub(n.saved(0), r)))};
      }, out, x, rd, keepdim)) {
    n->save(x);
    n->save(out, true);
  }
  return out;
}

Tensor any(const Tensor& x, const Shape& dims, bool keepdim) {
  return run_reduce(ReduceOp::Max, cast_for_compute(x, DType::Bool), reduced_dims(x, dims), keepdim, DType::Bool);
}
Tensor all(const Tensor& x, const Shape& dims, bool keepdim) {
  return run_reduce(ReduceOp::Min, cast_for_compute(x, DType::Bool), reduced_dims(x, dims), keepdim, DType::Bool);
}

// ---------- broadcasting ----------
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x->sizes() == shape) return x;
  TG_CHECK(is_expandable_to(shape, x->sizes()), "size {", shape_str(shape).substr(1, std::string::npos),
           " is not expandable to size {", shape_str(x->sizes()).substr(1), "}.");
  Tensor out = empty_like_shape(x, shape, x->dtype());
  kernels(x).reduce(ReduceOp::Sum, *x, *out);
  if (FormulaNode* n = record("SumBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {expand(g, n.shape)};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape_in) {
  const Shape& sizes = x->sizes();
  TG_CHECK(shape_in.size() >= sizes.size(), "expand(", "torch.", dtype_scalar_type_name(x->dtype()),
           "Tensor{", shape_str(sizes), "}, size=", shape_str(shape_in),
           "): the number of sizes provided (", shape_in.size(),
           ") must be greater or equal to the number of dimensions in the tensor (", sizes.size(), ")");
  Shape shape = shape_in;
  Shape strides(shape.size(), 0);
  size_t off = shape.size() - sizes.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < off) {
      TG_CHECK(shape[i] >= 0, "The expanded size of the tensor (", shape[i],
               ") isn't allowed in a leading, non-existing dimension ", i);
      continue;
    }
    int64_t have = sizes[i - off];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) {
      strides[i] = x->strides()[i - off];
    } else {
      TG_CHECK(have == 1, "The expanded size of the tensor (", shape[i], ") must match the existing size (", have,
               ") at non-singleton dimension ", i, ".  Target sizes: ", shape_str(shape_in),
               ".  Tensor sizes: ", shape_str(sizes));
    }
  }
  // A new leading dim of size 1 gets the stride that would step over the dims after it, as torch's
  // expand gives (its overlap checks compare strides); a 0-d tensor expands with zero strides.
  for (size_t i = off; i-- > 0 && !sizes.empty();)
    if (shape[i] == 1) strides[i] = shape[i + 1] * strides[i + 1];
  Tensor out = make_view(x, shape, strides, x->storage_offset());
  if (FormulaNode* n = record("ExpandBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {sum_to(g, n.shape)};
      }, out, {&x}))
    n->shape = sizes;
  return out;
}

}  // namespace tapegrad::ops

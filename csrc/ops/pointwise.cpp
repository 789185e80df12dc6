// Compound elementwise ops with their own node in torch: lerp, addcmul, addcdiv, logaddexp,
// nan_to_num; and trace, masked_select and constant padding. The forward composes existing ops
// without history; each rule is derivatives.yaml's, written with ops.
#include <algorithm>
#include <limits>

#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

template <class F>
Tensor untracked(F&& f) {
  AutoGradMode off(false);
  return f();
}

// The largest finite value of x's float type (nan_to_num's default for +inf).
double largest_finite(DType dt) {
  return dt == DType::Float32 ? double(std::numeric_limits<float>::max()) : std::numeric_limits<double>::max();
}

// torch checks the operands' dtypes (end, then a tensor weight) before it looks for a kernel for
// `computed` (the operands' common dtype).
void check_float_operands(const Tensor& a, const Tensor& b, const char* kernel, const Tensor* weight = nullptr,
                          DType computed = DType::Bool) {
  if (b->dtype() != a->dtype())
    fail(ErrorKind::Runtime, "expected dtype ", dtype_name(a->dtype()), " for `end` but got dtype ", dtype_name(b->dtype()));
  if (weight && (*weight)->dim() > 0 && (*weight)->dtype() != a->dtype())  // a 0-dim weight of any type is taken
    fail(ErrorKind::Runtime, "expected dtype ", dtype_name(a->dtype()), " for `weight` but got dtype ",
         dtype_name((*weight)->dtype()));
  if (!weight) computed = a->dtype();
  if (!is_floating(computed)) fail(ErrorKind::NotImplemented, "\"", kernel, "\" not implemented for '", dtype_scalar_type_name(computed), "'");
}

// torch's lerp: self + w (end - self) below |w| = 0.5, else end - (end - self)(1 - w).
Tensor lerp_values(const Tensor& self, const Tensor& end, const Tensor& w) {
  Tensor diff = sub(end, self);
  Tensor near_self = add(self, mul(w, diff));
  Tensor near_end = sub(end, mul(diff, rsub(w, Scalar(1.0))));
  return where(compare(abs(w), Scalar(0.5), int(CompareOp::Lt)), near_self, near_end);
}

// A bool mask as the per-dim int64 index tensors of its true elements (what index() takes).
TensorList mask_indices(const Tensor& mask) {
  Tensor nz = nonzero(mask);
  TensorList idx;
  for (int64_t k = 0; k < mask->dim(); ++k) idx.push_back(contiguous(select(nz, 1, k)));
  return idx;
}

}  // namespace

Tensor lerp(const Tensor& self, const Tensor& end, const Scalar& weight) {
  check_float_operands(self, end, "lerp_kernel_scalar");
  Tensor out = untracked([&] { return lerp_values(self, end, scalar_tensor(weight, self->dtype(), self->device())); });
  if (FormulaNode* n = record("LerpBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {n.needs_grad(0) ? mul_scalar(g, 1.0 - n.scalars[0]) : Tensor(),
                n.needs_grad(1) ? mul_scalar(g, n.scalars[0]) : Tensor()};
      }, out, {&self, &end}))
    n->scalars[0] = weight.value;
  return out;
}

Tensor lerp(const Tensor& self, const Tensor& end, const Tensor& weight_in) {
  // One iterator over the three: a 0-d weight of a higher kind (a float weight of integer operands)
  // or all three 0-d decide the common dtype, which must have a kernel.
  const DType dt = result_type({&self, &end, &weight_in});
  check_float_operands(self, end, "lerp_kernel_tensor", &weight_in, dt);
  const Tensor weight = to_dtype(weight_in, dt);
  Tensor out = untracked([&] { return lerp_values(to_dtype(self, dt), to_dtype(end, dt), weight); });
  if (FormulaNode* n = record("LerpBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor self = n.saved(0), end = n.saved(1), w = n.saved(2);
        return {n.needs_grad(0) ? mul(g, rsub(w, Scalar(1.0))) : Tensor(), n.needs_grad(1) ? mul(g, w) : Tensor(),
                n.needs_grad(2) ? mul(g, sub(end, self)) : Tensor()};
      }, out, {&self, &end, &weight})) {
    // self and end are read only by the weight's gradient, as torch saves them.
    n->save(n->needs_grad(2) ? self : Tensor());
    n->save(n->needs_grad(2) ? end : Tensor());
    n->save(weight);
  }
  return out;
}

Tensor addcmul(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value_in) {
  // The tensors alone set the type (value is cast to it): three bools have no kernel.
  if (promote_types(result_type(self, t1), result_type(self, t2)) == DType::Bool && t1->dtype() == DType::Bool &&
      t2->dtype() == DType::Bool)
    fail(ErrorKind::NotImplemented, "\"addcmul_cpu_out\" not implemented for 'Bool'");
  const bool integral = !is_floating(self->dtype()) && !is_floating(t1->dtype()) && !is_floating(t2->dtype());
  // Integer operands keep their dtype: torch casts the value to it (0.5 becomes 0).
  const Scalar value = integral ? Scalar::from_int(int64_t(value_in.value)) : value_in;
  Tensor out = untracked([&] {
    // torch computes value * t1 * t2 in the dtype of all three tensors together.
    DType dt = result_type({&self, &t1, &t2});
    Tensor a = cast_for_compute(t1, dt), b = cast_for_compute(t2, dt);
    Tensor scaled = value.value == 1.0 ? a : mul(a, value);
    return add(self, mul(scaled, b));
  });
  if (FormulaNode* n = record("AddcmulBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double v = n.scalars[0];
        return {n.needs_grad(0) ? g : Tensor(), n.needs_grad(1) ? mul_scalar(mul(g, n.saved(1)), v) : Tensor(),
                n.needs_grad(2) ? mul_scalar(mul(g, n.saved(0)), v) : Tensor()};
      }, out, {&self, &t1, &t2})) {
    n->scalars[0] = value.value;
    n->save(t1);
    n->save(t2);
  }
  return out;
}

Tensor addcdiv(const Tensor& self, const Tensor& t1, const Tensor& t2, const Scalar& value) {
  if (!is_floating(t1->dtype()) && !is_floating(t2->dtype()))
    fail(ErrorKind::Runtime,
         "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
         "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
         "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
         "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * "
         "tensor1 / tensor2), for all dtypes.");
  Tensor out = untracked([&] {
    // torch computes value * t1 / t2 in the dtype of all three tensors together.
    DType dt = result_type({&self, &t1, &t2});
    Tensor a = cast_for_compute(t1, dt), b = cast_for_compute(t2, dt);
    Tensor scaled = value.value == 1.0 ? a : mul(a, value);
    return add(self, div(scaled, b));
  });
  if (FormulaNode* n = record("AddcdivBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        double v = n.scalars[0];
        Tensor t1 = n.saved(0), t2 = n.saved(1);
        return {n.needs_grad(0) ? g : Tensor(), n.needs_grad(1) ? div(mul_scalar(g, v), t2) : Tensor(),
                n.needs_grad(2) ? div(mul(mul_scalar(neg(g), v), t1), mul(t2, t2)) : Tensor()};
      }, out, {&self, &t1, &t2})) {
    n->scalars[0] = value.value;
    n->save(t1);
    n->save(t2);
  }
  return out;
}

Tensor logaddexp(const Tensor& a, const Tensor& b) {
  DType dt = result_type(a, b);
  if (!is_floating(dt))
    fail(ErrorKind::NotImplemented, "\"logaddexp_cpu\" not implemented for '", dtype_scalar_type_name(dt), "'");
  Tensor out = untracked([&] {
    // max + log1p(exp(-|a - b|)); equal infinities give themselves (the difference would be NaN).
    Tensor a_f = cast_for_compute(a, dt), b_f = cast_for_compute(b, dt);
    Tensor same_inf = logical_and(isinf(a_f), compare(a_f, b_f, int(CompareOp::Eq)));
    Tensor general = add(maximum(a_f, b_f), log1p(exp(neg(abs(sub(a_f, b_f))))));
    return where(same_inf, a_f, general);
  });
  if (FormulaNode* n = record("LogaddexpBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor a = n.saved(0), b = n.saved(1);
        return {n.needs_grad(0) ? div(g, add(exp(sub(b, a)), Scalar(1.0))) : Tensor(),
                n.needs_grad(1) ? div(g, add(exp(sub(a, b)), Scalar(1.0))) : Tensor()};
      }, out, {&a, &b})) {
    n->save(a);
    n->save(b);
  }
  return out;
}

Tensor nan_to_num(const Tensor& x, std::optional<double> nan, std::optional<double> posinf,
                  std::optional<double> neginf) {
  if (!is_floating(x->dtype())) return clone_preserving(x);  // torch's self.clone(): x's layout
  Tensor out = untracked([&] {
    auto fill = [&](double v) { return full({}, v, x->dtype(), x->device()); };
    double big = largest_finite(x->dtype());
    Tensor r = where(isnan(x), fill(nan.value_or(0.0)), x);
    r = where(compare(x, Scalar(std::numeric_limits<double>::infinity()), int(CompareOp::Eq)), fill(posinf.value_or(big)), r);
    return where(compare(x, Scalar(-std::numeric_limits<double>::infinity()), int(CompareOp::Eq)),
                 fill(neginf.value_or(-big)), r);
  });
  if (FormulaNode* n = record("NanToNumBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {mul(g, isfinite(n.saved(0)))};
      }, out, {&x}))
    n->save(x);
  return out;
}

Tensor trace(const Tensor& x) {
  if (x->dtype() == DType::Bool) fail(ErrorKind::NotImplemented, "\"trace\" not implemented for 'Bool'");
  TG_CHECK(x->dim() == 2, "trace: expected a matrix, but got tensor with dim ", x->dim());
  const int64_t rows = x->sizes()[0], cols = x->sizes()[1];
  Tensor out = untracked([&] {
    Tensor diagonal = index(x, mask_indices(eye(rows, cols, DType::Bool, x->device())));
    return sum(diagonal, std::nullopt);
  });
  if (FormulaNode* n = record("TraceBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        // g written onto the diagonal of zeros (torch's index_fill_): a NaN g stays off the rest.
        return {diagonal_backward(expand(g, {std::min(n.shape[0], n.shape[1])}), n.shape, 0, 0, 1)};
      }, out, {&x}))
    n->shape = x->sizes();
  return out;
}

Tensor masked_select(const Tensor& x, const Tensor& mask) {
  AutogradKeyFrom key({&mask});
  TG_CHECK(mask->dtype() == DType::Bool, "masked_select: expected BoolTensor for mask");
  Shape shape = broadcast_shapes(x->sizes(), mask->sizes());
  if (shape.empty()) shape = {1};  // a 0-dim pair selects from one element, as a 1-dim tensor
  Tensor out = untracked([&] { return index(expand(x, shape), mask_indices(expand(mask, shape))); });
  if (FormulaNode* n = record("MaskedSelectBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor mask = n.saved(0);
        n.saved(1);  // torch unpacks self too: an x changed in place since is refused
        Tensor zeros = full(mask->sizes(), 0.0, g->dtype(), g->device());
        return {index_put(zeros, mask_indices(mask), g, false)};  // the engine sums broadcast dims back to x's shape
      }, out, {&x})) {
    n->save(expand(mask, shape));
    n->save(x);  // only checked, as torch saves self here: an inference x is refused as there
  }
  return out;
}

Tensor constant_pad(const Tensor& x, const Shape& pad, double value) {
  TG_CHECK(pad.size() % 2 == 0, "Padding length must be divisible by 2");
  TG_CHECK(int64_t(pad.size()) / 2 <= x->dim(), "Padding length should be less than or equal to two times the input "
           "dimension but got padding length ", pad.size(), " and input of dimension ", x->dim());
  // pad = (last dim: before, after, next-to-last: before, after, ...); negative amounts crop, which
  // torch does first, with narrow, from the first padded dim on.
  for (size_t i = pad.size() / 2; i-- > 0;) {
    int64_t size = x->sizes()[size_t(x->dim()) - 1 - i];
    for (int64_t amount : {pad[2 * i], pad[2 * i + 1]})
      if (amount < 0) {
        size += amount;
        TG_CHECK(size >= 0, "narrow(): length must be non-negative.");
      }
  }
  Shape out_shape = x->sizes();
  for (size_t i = 0; i < pad.size() / 2; ++i) {
    size_t d = size_t(x->dim()) - 1 - i;
    out_shape[d] += pad[2 * i] + pad[2 * i + 1];
    TG_CHECK(out_shape[d] >= 0, "The input size ", x->sizes()[d], ", plus negative padding ", pad[2 * i], " and ",
             pad[2 * i + 1], " resulted in a negative output size, which is invalid. Check dimension ", d,
             " of your input.");
  }
  // The part of x that survives cropping, and where it lands in the output.
  auto regions = [](const Tensor& src, const Tensor& dst, const Shape& pad) {
    Tensor s = src, t = dst;
    for (size_t i = 0; i < pad.size() / 2; ++i) {
      int64_t d = src->dim() - 1 - int64_t(i), before = pad[2 * i], after = pad[2 * i + 1];
      int64_t keep = src->sizes()[size_t(d)] + std::min<int64_t>(before, 0) + std::min<int64_t>(after, 0);
      keep = std::max<int64_t>(keep, 0);
      s = narrow(s, d, std::max<int64_t>(-before, 0), keep);
      t = narrow(t, d, std::max<int64_t>(before, 0), keep);
    }
    return std::pair<Tensor, Tensor>{s, t};
  };
  Tensor out = untracked([&] {
    Tensor o = full(out_shape, value, x->dtype(), x->device());
    auto [src, dst] = regions(x, o, pad);
    copy_into(dst, src);
    return o;
  });
  auto rule = [](FormulaNode& n, const Tensor& g) -> TensorList {
    Shape back(n.ints.begin(), n.ints.end());
    for (int64_t& p : back) p = -p;
    return {constant_pad(g, back, 0.0)};
  };
  if (x->is_inference()) {
    // torch's kernel copies x into a part of its fresh output (CopySlices), or all of it when
    // nothing is padded (CopyBackwards); a cropped x is a view made without autograd: no record.
    const bool cropped = std::any_of(pad.begin(), pad.end(), [](int64_t p) { return p < 0; });
    const bool padded = std::any_of(pad.begin(), pad.end(), [](int64_t p) { return p > 0; });
    const char* name = padded ? "torch::autograd::CopySlices" : "torch::autograd::CopyBackwards";
    if (!cropped)
      if (FormulaNode* n = record_inference_write(name, rule, out, x)) n->ints = pad;
    return out;
  }
  if (FormulaNode* n = record("ConstantPadNdBackward0", rule, out, {&x})) n->ints = pad;
  return out;
}

Tensor positional_pad(const Tensor& x, const Shape& pad, bool reflect) {
  static const char* const kNames[2][3] = {{"ReplicationPad1DBackward0", "ReplicationPad2DBackward0", "ReplicationPad3DBackward0"},
                                           {"ReflectionPad1DBackward0", "ReflectionPad2DBackward0", "ReflectionPad3DBackward0"}};
  const size_t k = pad.size() / 2;
  TG_CHECK(pad.size() % 2 == 0 && k >= 1 && k <= 3 && int64_t(k) < x->dim(), "positional_pad: bad padding for this input");
  if (reflect)
    for (size_t i = 0; i < k; ++i) {
      int64_t d = x->dim() - 1 - int64_t(i), n = x->sizes()[size_t(d)];
      TG_CHECK(pad[2 * i] < n && pad[2 * i + 1] < n, "Argument #", 4 + 2 * i, ": Padding size should be less than the "
               "corresponding input dimension, but got: padding (", pad[2 * i], ", ", pad[2 * i + 1], ") at dimension ", d,
               " of input ", shape_str(x->sizes()));
    }
  // The kernels have no bool version; torch looks for one after checking the sizes.
  if (x->dtype() == DType::Bool)
    not_for_dtype(reflect ? (k == 1 ? "reflection_pad1d" : k == 2 ? "reflection_pad2d" : "reflection_pad3d")
                          : (k == 1 ? "replication_pad1d" : k == 2 ? "replication_pad2d" : "replication_pad3d"),
                  DType::Bool);
  // Output position j along a padded dim reads input position j - before, mirrored at the ends
  // (reflect) or held at the edge (replicate).
  TensorList sources;
  Tensor out = untracked([&] {
    Tensor r = x;
    for (size_t i = 0; i < k; ++i) {
      int64_t d = x->dim() - 1 - int64_t(i), n = x->sizes()[size_t(d)];
      Tensor j = arange(double(-pad[2 * i]), double(n + pad[2 * i + 1]), 1.0, DType::Int64, x->device());
      Tensor src = reflect ? rsub(abs(rsub(abs(j), Scalar::from_int(n - 1))), Scalar::from_int(n - 1))
                           : clamp(j, Scalar::from_int(0), Scalar::from_int(n - 1));
      sources.push_back(src);
      r = index_select(r, d, src);
    }
    return r;
  });
  if (FormulaNode* node = record(kNames[reflect][k - 1], [](FormulaNode& n, const Tensor& g) -> TensorList {
        static const char* const kGradNames[2][3] = {
            {"ReplicationPad1DBackwardBackward0", "ReplicationPad2DBackwardBackward0", "ReplicationPad3DBackwardBackward0"},
            {"ReflectionPad1DBackwardBackward0", "ReflectionPad2DBackwardBackward0", "ReflectionPad3DBackwardBackward0"}};
        // Each output position sends its gradient back to the input position it read.
        const int64_t k = n.ints[0];
        Tensor grad = g;
        for (int64_t i = k - 1; i >= 0; --i) {
          int64_t d = int64_t(n.shape.size()) - 1 - i;
          Shape sizes = grad->sizes();
          sizes[size_t(d)] = n.shape[size_t(d)];
          grad = index_add(full(sizes, 0.0, g->dtype(), g->device()), d, n.saved(size_t(i)), grad, Scalar::from_int(1));
        }
        // torch's pad backward reads the input too (a zero gradient): under create_graph the result
        // depends on it and requires grad when it does.
        return {tie_to_input(grad, n.saved(size_t(k)), kGradNames[n.ints[1]][k - 1])};
      }, out, {&x})) {
    node->shape = x->sizes();
    node->ints = {int64_t(k), int64_t(reflect)};
    for (const Tensor& src : sources) node->save(src);
    node->save(x);
  }
  return out;
}

// clamp with tensor bounds (either may be null): torch's clamp_backward_min_max. Where min > max the
// result is max, and max takes the gradient.
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max, const char* node_name) {
  TG_CHECK(min || max, "torch.clamp: At least one of 'min' or 'max' must not be None");
  // One promotion over all operands, as torch's one iterator: a dimensioned bound outranks 0-d ones.
  DType dt = min && max ? result_type({&x, &min, &max}) : min ? result_type(x, min) : result_type(x, max);
  if (dt == DType::Bool && min && max) fail(ErrorKind::NotImplemented, "\"clamp_cpu\" not implemented for 'Bool'");
  Tensor out = untracked([&] {
    Tensor r = to_dtype(x, dt);
    if (min) r = maximum(r, to_dtype(min, dt));
    if (max) r = minimum(r, to_dtype(max, dt));
    return r;
  });
  if (FormulaNode* n = record(node_name, [](FormulaNode& n, const Tensor& g) -> TensorList {
        bool has_min = n.scalars[0] != 0, has_max = n.scalars[1] != 0;
        Tensor x = n.saved(0);
        Tensor lo = has_min ? n.saved(1) : Tensor(), hi = has_max ? n.saved(has_min ? 2 : 1) : Tensor();
        auto cmp = [](const Tensor& a, const Tensor& b, CompareOp op) { return compare(a, b, int(op)); };
        Tensor gx, glo, ghi;
        if (lo && hi) {
          if (n.needs_grad(0)) gx = keep_where(g, logical_and(cmp(x, lo, CompareOp::Ge), cmp(x, hi, CompareOp::Le)));
          if (n.needs_grad(1)) glo = keep_where(g, logical_and(cmp(x, lo, CompareOp::Lt), cmp(lo, hi, CompareOp::Lt)));
          if (n.needs_grad(2)) ghi = keep_where(g, logical_or(cmp(x, hi, CompareOp::Gt), cmp(hi, lo, CompareOp::Lt)));
        } else if (lo) {
          if (n.needs_grad(0)) gx = keep_where(g, cmp(x, lo, CompareOp::Ge));
          if (n.needs_grad(1)) glo = keep_where(g, cmp(x, lo, CompareOp::Lt));
        } else {
          if (n.needs_grad(0)) gx = keep_where(g, cmp(x, hi, CompareOp::Le));
          if (n.needs_grad(2)) ghi = keep_where(g, cmp(x, hi, CompareOp::Gt));
        }
        return {gx, glo, ghi};
      }, out, {&x, min ? &min : nullptr, max ? &max : nullptr})) {
    n->save(x);
    if (min) n->save(min);
    if (max) n->save(max);
    n->scalars[0] = bool(min);
    n->scalars[1] = bool(max);
  }
  return out;
}

}  // namespace tapegrad::ops

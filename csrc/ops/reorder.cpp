// Ops that move elements around: flip, roll, repeat, tril/triu, sort/argsort/topk. Each moves data
// with existing ops (index_select, expand, where) or the sort kernel, and records torch's node.
#include <algorithm>
#include <limits>

#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

Shape wrapped_dims(const Shape& dims, int64_t ndim) {
  Shape out;
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, ndim);
    if (std::find(out.begin(), out.end(), w) != out.end())
      fail(ErrorKind::Runtime, "dim ", w, " appears multiple times in the list of dims");
    out.push_back(w);
  }
  return out;
}

Tensor positions(int64_t start, int64_t end, int64_t step, Device device) {
  return arange(double(start), double(end), double(step), DType::Int64, device);
}

// x with dim d rotated by `shift` places (element i goes to i + shift, wrapping).
Tensor rotate(const Tensor& x, int64_t d, int64_t shift) {
  int64_t n = x->sizes()[size_t(d)];
  if (n == 0) return x;
  int64_t s = ((shift % n) + n) % n;
  if (s == 0) return x;
  Tensor idx = cat({positions(n - s, n, 1, x->device()), positions(0, n - s, 1, x->device())}, 0);
  return index_select(x, d, idx);
}

// The lower (tril) or upper (triu) triangle of the last two dims, the rest zero.
Tensor triangle(const Tensor& x, int64_t diagonal, bool lower) {
  const int64_t nd = x->dim();
  const int64_t rows = x->sizes()[size_t(nd - 2)], cols = x->sizes()[size_t(nd - 1)];
  Tensor r = view(positions(0, rows, 1, x->device()), {rows, 1});
  Tensor c = view(positions(0, cols, 1, x->device()), {1, cols});
  Tensor offset = sub(c, r);  // col - row
  Tensor keep = compare(offset, Scalar::from_int(diagonal), int(lower ? CompareOp::Le : CompareOp::Ge));
  // torch's result is contiguous whatever x's layout (a later contiguous() is the same tensor).
  return contiguous(where(keep, x, full({}, 0.0, x->dtype(), x->device())));
}

// tril (lower) or triu: the other triangle zeroed; the gradient is the same triangle of g.
Tensor triangle_part(const Tensor& x, int64_t diagonal, bool lower) {
  TG_CHECK(x->dim() >= 2, lower ? "tril" : "triu", ": input tensor must have at least 2 dimensions");
  Tensor out;
  {
    AutoGradMode off(false);
    out = triangle(x, diagonal, lower);
  }
  if (FormulaNode* n = record(lower ? "TrilBackward0" : "TriuBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {triangle_part(g, n.ints[0], n.scalars[0] != 0)};
      }, out, {&x})) {
    n->ints = {diagonal};
    n->scalars[0] = lower;
  }
  return out;
}

TensorList scatter_back(FormulaNode& n, const Tensor& g) {
  Tensor zeros = full(n.shape, 0.0, g->dtype(), g->device());
  Tensor indices = n.saved(0);  // unpacked for a 0-d input too: torch refuses a changed one there as well
  if (n.shape.size() == 0) return {add(zeros, reshape(g, {}))};
  return {scatter_add(zeros, n.ints[0], indices, g)};
}

}  // namespace

Tensor flip(const Tensor& x, const Shape& dims_in) {
  Shape dims = wrapped_dims(dims_in, std::max<int64_t>(x->dim(), 1));
  Tensor out;
  {
    AutoGradMode off(false);
    out = clone(x);  // flip always returns a new tensor
    for (int64_t d : dims)
      if (x->dim() && x->sizes()[size_t(d)] > 1 && x->numel() > 0)  // nothing to move (and a huge dim's
                                                                    // positions would not fit in memory)
        out = index_select(out, d, positions(x->sizes()[size_t(d)] - 1, -1, -1, x->device()));
  }
  if (FormulaNode* n = record("FlipBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {flip(g, Shape(n.ints.begin(), n.ints.end()))};
      }, out, {&x}))
    n->ints = dims;
  return out;
}

Tensor roll(const Tensor& x, const Shape& shifts, const Shape& dims_in) {
  TG_CHECK(!shifts.empty(), "`shifts` required");
  if (dims_in.empty())
    TG_CHECK(shifts.size() == 1, "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:0");
  else
    TG_CHECK(shifts.size() == dims_in.size(), "shifts and dimensions must align. shifts: ", shifts.size(),
             ", dims:", dims_in.size());
  Tensor out;
  {
    AutoGradMode off(false);
    if (dims_in.empty()) {
      out = view(rotate(reshape(x, {x->numel()}), 0, shifts[0]), x->sizes());
    } else {
      // A 0-d tensor has no dim to roll along (rotate would read past its sizes): torch's IndexError.
      TG_CHECK_KIND(x->dim() > 0, Index, "Dimension specified as ", dims_in[0], " but tensor has no dimensions");
      out = x;
      for (size_t i = 0; i < dims_in.size(); ++i) out = rotate(out, wrap_dim(dims_in[i], x->dim()), shifts[i]);
    }
    // A shift by nothing moved no element: the result is still a copy, never x's memory.
    out = out->storage() == x->storage() ? clone(x) : as_new(out);
  }
  // torch's kernel clones an empty x: for an inference x that clone's copy records (CopyBackwards).
  if (x->numel() == 0)
    record_inference_write("torch::autograd::CopyBackwards", [](FormulaNode&, const Tensor& g) -> TensorList {
      return {g};
    }, out, x);
  if (FormulaNode* n = record("RollBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Shape back(n.shape.begin(), n.shape.end());
        for (int64_t& s : back) s = -s;
        return {roll(g, back, Shape(n.ints.begin(), n.ints.end()))};
      }, out, {&x})) {
    n->shape = shifts;
    n->ints = dims_in;
  }
  return out;
}

Tensor repeat(const Tensor& x, const Shape& repeats) {
  TG_CHECK(int64_t(repeats.size()) >= x->dim(),
           "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
  const size_t k = repeats.size();
  Shape padded(k - size_t(x->dim()), 1);
  padded.insert(padded.end(), x->sizes().begin(), x->sizes().end());
  Shape pairs, expanded, result;  // [1, s0, 1, s1, ...] -> [r0, s0, r1, s1, ...] -> [r0 s0, r1 s1, ...]
  for (size_t i = 0; i < k; ++i) {
    pairs.insert(pairs.end(), {1, padded[i]});
    expanded.insert(expanded.end(), {repeats[i], padded[i]});
    // A product past int64 wraps around, as torch's does (its later checks then word the error);
    // unsigned arithmetic makes the wrap well defined
    result.push_back(int64_t(uint64_t(repeats[i]) * uint64_t(padded[i])));
  }
  for (int64_t d : result) {
    if (d == std::numeric_limits<int64_t>::min())
      fail(ErrorKind::Runtime, "IntArrayRef contains an int that cannot be represented as a SymInt: ", d);
    TG_CHECK(d >= 0, "Trying to create tensor with negative dimension ", d, ": ", shape_str(result));
  }
  Tensor out;
  {
    AutoGradMode off(false);
    if (numel_of(result) == 0) {
      // torch returns an empty result before it expands (a negative repeat of an empty dim is fine).
      out = TensorImpl::empty(result, x->dtype(), x->device());
    } else {
      // Always a copy: all-ones repeats of a contiguous x would otherwise share x's memory.
      Tensor e = expand(reshape(x, pairs), expanded);
      out = as_new(reshape(e->is_contiguous() ? clone(e) : contiguous(e), result));
    }
  }
  if (FormulaNode* n = record("RepeatBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        // Each input element's gradient is the sum over its copies, as torch forms it: a zero repeat
        // leaves no copy (zeros, outside the graph); leading new dims are summed one by one; then each
        // repeated dim is split into [repeat, size] and all repeat dims summed in one call.
        const Shape& sizes = n.shape;
        const Shape reps(n.ints.begin(), n.ints.end());
        if (std::find(reps.begin(), reps.end(), 0) != reps.end()) return {full(sizes, 0.0, g->dtype(), g->device())};
        Tensor grad = g;
        const size_t leading = reps.size() - sizes.size();
        for (size_t i = 0; i < leading; ++i) grad = sum(grad, {0}, false);
        Shape split, copies;
        for (size_t d = 0; d < sizes.size(); ++d) {
          if (reps[leading + d] != 1) {
            split.push_back(reps[leading + d]);
            copies.push_back(int64_t(split.size()) - 1);
          }
          split.push_back(sizes[d]);
        }
        return {copies.empty() ? grad : sum(reshape(grad, split), copies, false)};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = repeats;
  }
  return out;
}

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle_part(x, diagonal, true); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle_part(x, diagonal, false); }

std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, const char* node_name) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(x->dim(), 1));
  Tensor values, indices;
  {
    AutoGradMode off(false);
    Tensor rows = x->dim() ? contiguous(transpose(x, d, -1)) : reshape(x, {1});
    values = TensorImpl::empty(rows->sizes(), x->dtype(), x->device());
    indices = TensorImpl::empty(rows->sizes(), DType::Int64, x->device());
    kernels(x).sort(*rows, descending, *values, *indices);
    if (x->dim()) {
      // torch sorts into results laid out like x (its preserve_format).
      Tensor v = empty_preserving(x, x->dtype(), x->device()), i = empty_preserving(x, DType::Int64, x->device());
      copy_into(v, transpose(values, d, -1));
      copy_into(i, transpose(indices, d, -1));
      values = v;
      indices = i;
    } else {
      values = reshape(values, {});
      indices = reshape(indices, {});
    }
    values = as_new(values);
    indices = as_new(indices);
  }
  if (node_name)
    if (FormulaNode* n = record(node_name, scatter_back, values, {&x})) {
      n->shape = x->sizes();
      n->ints = {d};
      n->save(indices);
    }
  // torch's kernel copies x into the result before sorting it in place (the gradient passed back
  // unpermuted).
  if (node_name)
    record_inference_write("torch::autograd::CopyBackwards", [](FormulaNode&, const Tensor& g) -> TensorList {
      return {g};
    }, values, x);
  return {values, indices};
}

std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  const int64_t d = wrap_dim(dim, std::max<int64_t>(x->dim(), 1));
  const int64_t n = x->dim() ? x->sizes()[size_t(d)] : 1;
  TG_CHECK(k >= 0 && k <= n, "selected index k out of range");
  TG_CHECK(x->dtype() != DType::Bool, "topk does not support bool dtypes on CPU");
  (void)sorted;  // the k values always come back in order, which torch's sorted=False also allows
  auto [all_values, all_indices] = sort(x, dim, largest, nullptr);
  Tensor values, indices;
  {
    AutoGradMode off(false);
    values = x->dim() ? contiguous(narrow(all_values, d, 0, k)) : all_values;
    indices = x->dim() ? contiguous(narrow(all_indices, d, 0, k)) : all_indices;
  }
  // A narrow that needed no copy is a view of sort's temporaries: still a new tensor to the caller.
  for (const Tensor* t : {&values, &indices}) (*t)->forget_view_base();
  if (x->dim() == 0)  // torch's kernel copies a 0-d x into its result
    record_inference_write("torch::autograd::CopyBackwards", [](FormulaNode&, const Tensor& g) -> TensorList {
      return {g};
    }, values, x);
  if (FormulaNode* node = record("TopkBackward0", scatter_back, values, {&x})) {
    node->shape = x->sizes();
    node->ints = {d};
    node->save(indices);
  }
  return {values, indices};
}

}  // namespace tapegrad::ops

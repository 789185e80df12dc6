// Advanced indexing and the gather/scatter family, all through two kernels (index, index_put):
// the indexed dims are permuted to the front, the other dims ride along as a block.
#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// How one indexing expression maps onto the kernels.
struct IndexPlan {
  TensorList idx;   // int64 index tensors, expanded to the broadcast shape B
  Shape positions;  // the dims of x they index
  Shape x_perm;     // permutation of x putting indexed dims first
  Shape out_shape;  // the result's shape as torch lays it out
  Shape out_perm;   // permutation of the result giving the kernel's B + rest layout
};

Tensor as_long_index(const Tensor& t) {
  if (t->dtype() == DType::Int64) return t;
  TG_CHECK_KIND(t->dtype() == DType::Int32, Index, "tensors used as indices must be long, int, byte or bool tensors");
  return cast_for_compute(t, DType::Int64);
}

IndexPlan plan(const Tensor& x, const TensorList& indices) {
  IndexPlan p;
  TensorList longs;
  for (size_t d = 0; d < indices.size(); ++d) {
    const Tensor& t = indices[d];
    if (!t) continue;
    TG_CHECK_KIND(t->device() == x->device(), Index, "indices should be either on cpu or on the same device as the "
                                                     "indexed tensor (", x->device().str(), ")");
    p.positions.push_back(int64_t(d));
    longs.push_back(as_long_index(t));
  }
  // Callers pass at least one index tensor; an expression without one never reaches the kernels.
  TG_CHECK(!longs.empty(), "indexing needs at least one index tensor");
  Shape b;
  for (size_t k = 0; k < longs.size(); ++k) {
    if (k == 0) {
      b = longs[0]->sizes();
      continue;
    }
    Shape prev = b;
    try {
      b = broadcast_shapes(b, longs[k]->sizes());
    } catch (const Error&) {
      std::string shapes;
      for (size_t j = 0; j < longs.size(); ++j) shapes += (j ? ", " : "") + shape_str(longs[j]->sizes());
      fail(ErrorKind::Index, "shape mismatch: indexing tensors could not be broadcast together with shapes ", shapes);
    }
  }
  AutoGradMode off(false);
  for (const Tensor& t : longs) p.idx.push_back(expand(t, b));
  const int64_t nd = x->dim(), nb = int64_t(b.size()), k = int64_t(p.positions.size());
  std::vector<bool> indexed(size_t(nd), false);
  for (int64_t d : p.positions) indexed[size_t(d)] = true;
  p.x_perm = p.positions;
  Shape others;
  for (int64_t d = 0; d < nd; ++d)
    if (!indexed[size_t(d)]) p.x_perm.push_back(d), others.push_back(x->sizes()[size_t(d)]);
  bool adjacent = p.positions.back() - p.positions.front() == k - 1;
  int64_t lead = adjacent ? p.positions.front() : 0;  // dims of x that stay before B in the result
  p.out_shape.assign(others.begin(), others.begin() + lead);
  p.out_shape.insert(p.out_shape.end(), b.begin(), b.end());
  p.out_shape.insert(p.out_shape.end(), others.begin() + lead, others.end());
  for (int64_t i = 0; i < nb; ++i) p.out_perm.push_back(lead + i);
  for (int64_t i = 0; i < lead; ++i) p.out_perm.push_back(i);
  for (int64_t i = lead + nb; i < int64_t(p.out_shape.size()); ++i) p.out_perm.push_back(i);
  return p;
}

// Gathers through a plan into a fresh tensor.
Tensor run_index(const Tensor& x, const IndexPlan& p) {
  Tensor out = empty_like_shape(x, p.out_shape, x->dtype());
  AutoGradMode off(false);
  Tensor xp = permute(x, p.x_perm);
  Tensor ok = permute(out, p.out_perm);
  // An index out of range names its position among the index tensors, as torch's message does.
  kernels(x).index(*xp, p.idx, *ok);
  return out;
}

TensorList unpack_indices(FormulaNode& n, size_t first, size_t ndims) {
  TensorList idx(ndims);
  for (size_t k = 0; k < n.ints.size(); ++k) idx[size_t(n.ints[k])] = n.saved(first + k);
  return idx;
}

}  // namespace

Tensor index(const Tensor& x, const TensorList& indices) {
  AutogradKeyFrom key(indices);  // normal index tensors make torch record
  TG_CHECK_KIND(int64_t(indices.size()) <= x->dim(), Index, "too many indices for tensor of dimension ", x->dim());
  IndexPlan p = plan(x, indices);
  Tensor out = run_index(x, p);
  if (FormulaNode* n = record("IndexBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor zeros = full(n.shape, 0.0, g->dtype(), g->device());
        return {index_put(zeros, unpack_indices(n, 0, n.shape.size()), g, true)};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = p.positions;
    for (int64_t d : p.positions) n->save(indices[size_t(d)]);
  }
  return out;
}

void index_put_(const Tensor& x, const TensorList& indices, const Tensor& values, bool accumulate) {
  TG_CHECK_KIND(int64_t(indices.size()) <= x->dim(), Index, "too many indices for tensor of dimension ", x->dim());
  IndexPlan p = plan(x, indices);
  TG_CHECK(is_expandable_to(values->sizes(), p.out_shape), "shape mismatch: value tensor of shape ",
           shape_str(values->sizes()), " cannot be broadcast to indexing result of shape ", shape_str(p.out_shape));
  TG_CHECK(values->dtype() == x->dtype(), "Index put requires the source and destination dtypes "
           "match, got ", dtype_scalar_type_name(x->dtype()), " for the destination and ",
           dtype_scalar_type_name(values->dtype()), " for the source.");
  AutoGradMode off(false);
  Tensor v = permute(expand(values, p.out_shape), p.out_perm);
  Tensor xp = permute(x, p.x_perm);
  kernels(x).index_put(*xp, p.idx, *v, accumulate);
  x->bump_version();
}

Tensor index_put(const Tensor& x, const TensorList& indices, const Tensor& values, bool accumulate) {
  Tensor out;
  {
    AutoGradMode off(false);
    out = clone(x);
  }
  index_put_(out, indices, values, accumulate);
  if (FormulaNode* n = record("IndexPutBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        TensorList idx = unpack_indices(n, 0, n.shape.size());
        Tensor gx;
        if (n.needs_grad(0)) {
          // Accumulating keeps every gradient of x; overwriting zeroes the written places.
          gx = n.scalars[0] != 0 ? g : index_put(g, idx, full({}, 0.0, g->dtype(), g->device()), false);
        }
        Tensor gv = n.needs_grad(1) ? index(g, idx) : Tensor();
        return {gx, gv};
      }, out, {&x, &values})) {
    n->shape = x->sizes();
    Shape indexed_dims;
    for (size_t d = 0; d < indices.size(); ++d)
      if (indices[d]) indexed_dims.push_back(int64_t(d)), n->save(indices[d]);
    n->ints = indexed_dims;
    n->scalars[0] = accumulate ? 1 : 0;
  }
  return out;
}

Tensor nonzero(const Tensor& x) { return kernels(x).nonzero(*x); }

namespace {
// torch reads a 0-d tensor as one of shape [1] in the gather/scatter family.
int64_t nonempty_dim(const Tensor& t) { return t->dim() ? t->dim() : 1; }
int64_t nonempty_size(const Tensor& t, int64_t d) { return t->dim() ? t->sizes()[size_t(d)] : 1; }
Tensor as_1d(const Tensor& t) { return t->dim() ? t : view(t, {1}); }

// Index tensors that address every element of `index`'s shape, with `index` itself at `dim`:
// gather/scatter expressed as advanced indexing (index has at least one dim).
TensorList grid_indices(const Tensor& index, int64_t dim) {
  TensorList idx;
  for (int64_t d = 0; d < index->dim(); ++d) {
    if (d == dim) {
      idx.push_back(as_long_index(index));
      continue;
    }
    Shape s(size_t(index->dim()), 1);
    s[size_t(d)] = index->sizes()[size_t(d)];
    idx.push_back(view(arange(0, double(index->sizes()[size_t(d)]), 1, DType::Int64, index->device()), s));
  }
  return idx;
}

// gather and scatter do not wrap negative indices, and call every bad index a RuntimeError.
template <class F>
auto checked_scatter_gather(const Tensor& index, int64_t dim, int64_t size, F f) -> decltype(f()) {
  if (index->numel() > 0) {
    AutoGradMode off(false);
    int64_t lo = item_of(amin(index, {}, false));
    if (lo < 0) fail(ErrorKind::Runtime, "index ", lo, " is out of bounds for dimension ", dim, " with size ", size);
  }
  try {
    return f();
  } catch (const IndexOutOfRange& e) {
    fail(ErrorKind::Runtime, "index ", e.value, " is out of bounds for dimension ", dim, " with size ", size);
  }
}

// The first index (in order) outside [0, size), or kAllInRange.
constexpr int64_t kAllInRange = std::numeric_limits<int64_t>::min();
int64_t first_out_of_range(const Tensor& index, int64_t size) {
  AutoGradMode off(false);
  Tensor flat = reshape(index, {-1});
  Tensor bad = logical_or(compare(flat, Scalar::from_int(0), int(CompareOp::Lt)),
                          compare(flat, Scalar::from_int(size), int(CompareOp::Ge)));
  if (flat->numel() == 0 || !item_of(any(bad, {}, false))) return kAllInRange;
  return item_of(select(flat, 0, item_of(argmax(to_dtype(bad, DType::Int64), 0, false))));
}

// torch checks nothing about an empty index but the dim (and, for scatter, src's dtype).
void check_index_dtype(const Tensor& index, const char* fn) {
  if (index->numel() == 0) return;
  TG_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32, fn,
           "(): Expected dtype int32/int64 for index");
}

void check_gather_index(const Tensor& x, int64_t dim, const Tensor& index) {
  if (index->numel() == 0) return;
  TG_CHECK(nonempty_dim(index) == nonempty_dim(x), "Index tensor must have the same number of dimensions as input tensor");
  for (int64_t d = 0; d < nonempty_dim(x); ++d)
    if (d != dim)
      TG_CHECK(nonempty_size(index, d) <= nonempty_size(x, d), "Size does not match at dimension ", d,
               " expected index ", shape_str(index->sizes()), " to be no larger than self ", shape_str(x->sizes()),
               " apart from dimension ", dim);
}

// scatter's shapes, in torch's order and words; src is null for a number.
void check_scatter_shapes(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  if (index->numel() == 0) return;
  const int64_t nd = nonempty_dim(x);
  TG_CHECK(nonempty_dim(index) == nd, "Index tensor must have the same number of dimensions as self tensor");
  bool wrong = false;
  for (int64_t d = 0; d < nd && !wrong; ++d)
    wrong = d != dim && nonempty_size(index, d) > nonempty_size(x, d);
  if (src) {
    // (src's size at a dim it lacks is torch's IndexError)
    for (int64_t d = 0; d < nd && !wrong; ++d)
      wrong = nonempty_size(index, d) > (src->dim() ? src->sizes()[size_t(wrap_dim(d, src->dim()))] : 1);
    TG_CHECK(nonempty_dim(src) == nd, "Index tensor must have the same number of dimensions as src tensor");
    TG_CHECK(!wrong, "Expected index ", shape_str(index->sizes()), " to be no larger than self ",
             shape_str(x->sizes()), " apart from dimension ", dim, " and to be no larger size than src ",
             shape_str(src->sizes()));
  }
  TG_CHECK(!wrong, "Expected index ", shape_str(index->sizes()), " to be no larger than self ", shape_str(x->sizes()),
           " apart from dimension ", dim);
}
}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  AutogradKeyFrom key({&index});
  int64_t d = wrap_dim(dim, x->dim());
  TG_CHECK_KIND(index->dim() <= 1, Index, "index_select(): Index is supposed to be a vector");
  TG_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32,
           "index_select(): Expected dtype int32 or int64 for index");
  Tensor out;
  {
    AutoGradMode off(false);
    TensorList idx(size_t(d + 1));
    idx[size_t(d)] = index->dim() == 0 ? view(index, {1}) : index;
    TG_CHECK(x->dim() > 0 || index->numel() == 1, "index_select(): Index to scalar can have only 1 value, got ",
             index->numel(), " value(s)");
    if (x->dim() > 1 && (x->numel() == 0 || d == 1) && index->numel() > 0) {
      // torch checks an empty self's indices, and those along dim 1, on their own path, in its own words.
      int64_t size = x->sizes()[size_t(d)];
      TG_CHECK(x->numel() > 0 || size > 0, "index_select(): self indexing axis dim should be positive");
      if (int64_t bad = first_out_of_range(index, size); bad != kAllInRange)
        fail(ErrorKind::Runtime, "INDICES element is out of DATA bounds, id=", bad, " axis_dim=", size);
    }
    // index_select neither wraps negative indices nor names the dim when one is out of range.
    if (index->numel() > 0 && item_of(amin(index, {}, false)) < 0) fail(ErrorKind::Index, "index out of range in self");
    try {
      out = x->dim() == 0 ? ops::index(view(x, {1}), idx) : ops::index(x, idx);
    } catch (const IndexOutOfRange&) {
      fail(ErrorKind::Index, "index out of range in self");
    }
    if (x->dim() == 0) out = view(out, {});
  }
  if (FormulaNode* n = record("IndexSelectBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor zeros = full(n.shape, 0.0, g->dtype(), g->device());
        return {index_add(zeros, n.ints[0], n.saved(0), g, Scalar::from_int(1))};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {d};
    n->save(index);
  }
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  AutogradKeyFrom key({&index});
  int64_t d = wrap_dim(dim, x->dim());
  check_index_dtype(index, "gather");
  check_gather_index(x, d, index);
  Tensor out;
  {
    AutoGradMode off(false);
    if (index->numel() == 0) {
      out = empty_like_shape(x, index->sizes(), x->dtype());
    } else {
      Tensor xv = as_1d(x), iv = as_1d(index);
      out = checked_scatter_gather(iv, d, xv->sizes()[size_t(d)], [&] { return ops::index(xv, grid_indices(iv, d)); });
      if (index->dim() == 0) out = view(out, {});
    }
  }
  if (FormulaNode* n = record("GatherBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor zeros = full(n.shape, 0.0, g->dtype(), g->device());
        return {scatter_add(zeros, n.ints[0], n.saved(0), g)};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {d};
    n->save(index);
    n->save(x);  // unread, but torch saves self here: an inference x is refused as there
  }
  return out;
}

// src's gradient after a scatter: g gathered back at index, zero-padded where src reaches past index
// (n.shape is src's shape, n.ints[0] the dim, n.saved(0) the index).
Tensor scattered_src_grad(FormulaNode& n, const Tensor& g) {
  Tensor gs = gather(g, n.ints[0], n.saved(0));
  if (gs->numel() == 0 && gs->sizes() != n.shape) return full(n.shape, 0.0, g->dtype(), g->device());
  for (int64_t i = 0; i < gs->dim(); ++i) {
    if (gs->sizes()[size_t(i)] == n.shape[size_t(i)]) continue;
    Shape padded = gs->sizes();
    padded[size_t(i)] = n.shape[size_t(i)];
    gs = slice_backward(gs, padded, i, 0, gs->sizes()[size_t(i)], 1);
  }
  return gs;
}

// x with values written (accumulate: added) at index along dim; only the part of src that index
// covers is used. The shapes are checked already.
Tensor scatter_into(const Tensor& x, int64_t d, const Tensor& index, const Tensor& src, bool accumulate) {
  AutoGradMode off(false);
  Tensor out = clone(x);
  if (index->numel() == 0) return out;
  Tensor xv = as_1d(out), iv = as_1d(index);
  TensorList idx = grid_indices(iv, d);
  Tensor part = src->dim() ? src : view(src, Shape(size_t(iv->dim()), 1));
  for (int64_t i = 0; i < iv->dim(); ++i) part = narrow(part, i, 0, iv->sizes()[size_t(i)]);
  checked_scatter_gather(iv, d, xv->sizes()[size_t(d)], [&] { index_put_(xv, idx, part, accumulate); return 0; });
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  AutogradKeyFrom key({&index});
  int64_t d = wrap_dim(dim, x->dim());
  check_index_dtype(index, "scatter");
  TG_CHECK(src->dtype() == x->dtype(), "scatter(): Expected self.dtype to be equal to src.dtype");
  check_scatter_shapes(x, d, index, src);
  Tensor out = scatter_into(x, d, index, src, false);
  if (FormulaNode* n = record("ScatterBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor gx = n.needs_grad(0) ? scatter(g, n.ints[0], n.saved(0), Scalar(0.0)) : Tensor();
        // Index-shaped, as torch's: a src larger than index then fails at backward, as in torch.
        return {gx, n.needs_grad(1) ? gather(g, n.ints[0], n.saved(0)) : Tensor()};
      }, out, {&x, &src})) {
    n->ints = {d};
    n->save(index);
  }
  return out;
}

Tensor scatter(const Tensor& x, int64_t dim, const Tensor& index, const Scalar& value) {
  AutogradKeyFrom key({&index});
  int64_t d = wrap_dim(dim, x->dim());
  check_index_dtype(index, "scatter");
  check_scatter_shapes(x, d, index, Tensor());
  Tensor out = scatter_into(x, d, index, full(index->sizes(), value.value, x->dtype(), x->device()), false);
  if (FormulaNode* n = record("ScatterBackward1", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {scatter(g, n.ints[0], n.saved(0), Scalar(0.0))};
      }, out, {&x})) {
    n->ints = {d};
    n->save(index);
  }
  return out;
}

Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src) {
  AutogradKeyFrom key({&index});
  int64_t d = wrap_dim(dim, x->dim());
  check_index_dtype(index, "scatter");
  TG_CHECK(src->dtype() == x->dtype(), "scatter(): Expected self.dtype to be equal to src.dtype");
  check_scatter_shapes(x, d, index, src);
  Tensor out = scatter_into(x, d, index, src, true);
  if (FormulaNode* n = record("ScatterAddBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {g, n.needs_grad(1) ? scattered_src_grad(n, g) : Tensor()};
      }, out, {&x, &src})) {
    n->shape = src->sizes();
    n->ints = {d};
    n->save(index);
  }
  return out;
}

Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source, const Scalar& alpha_in) {
  int64_t d = wrap_dim(dim, x->dim());
  TG_CHECK_KIND(index->dim() <= 1, Index, "index_add_(): Index is supposed to be a vector, but got dim: ",
                index->dim(), " with type: ", dtype_scalar_type_name(index->dtype()), " and size: ",
                shape_str(index->sizes()));
  TG_CHECK(index->dtype() == DType::Int64 || index->dtype() == DType::Int32,
           "index_add_(): Expected dtype int32/int64 for index but got: ", dtype_scalar_type_name(index->dtype()));
  TG_CHECK(x->dtype() == source->dtype(), "index_add_(): self (", dtype_scalar_type_name(x->dtype()), ") and source (",
           dtype_scalar_type_name(source->dtype()), ") must have the same scalar type");
  TG_CHECK(d == 0 || d < source->dim(), "index_add_(): Indexing dim ", d,
           " is out of bounds of the source tensor with dim ", source->dim());
  if (index->numel() != (source->dim() ? source->sizes()[size_t(d)] : 1)) {
    TG_CHECK_KIND(source->dim() > 0, Index, "Dimension specified as ", d, " but tensor has no dimensions");
    fail(ErrorKind::Runtime, "index_add_(): Number of indices (", index->numel(),
         ") should be equal to source.size(dim): (", source->sizes()[size_t(d)], "), for dim: ", d);
  }
  bool same = x->dim() == source->dim();
  for (int64_t i = 0; same && i < x->dim(); ++i) same = i == d || x->sizes()[size_t(i)] == source->sizes()[size_t(i)];
  TG_CHECK(same, "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = ",
           shape_str(x->sizes()), " source.shape = ", shape_str(source->sizes()));
  // Integer tensors take alpha as an integer and bool ones as a bool (0.5 is true), as torch does.
  Scalar alpha = is_floating(x->dtype()) ? alpha_in
                 : x->dtype() == DType::Bool ? Scalar::from_bool(alpha_in.value != 0)
                                             : Scalar::from_int(alpha_in.ivalue);
  Tensor out;
  {
    AutoGradMode off(false);
    out = clone(x);
    // Past one dim, torch writes nothing into an empty self and checks no index.
    if (index->numel() > 0 && !(x->dim() > 1 && x->numel() == 0)) {
      // index_add never wraps a negative index; torch names the first bad one only past one dim and
      // only on its alpha == 1 path (a bool alpha is not 1 there).
      int64_t size = x->dim() ? x->sizes()[size_t(d)] : 1;
      bool alpha_one = alpha_in.kind != Scalar::Kind::Bool && alpha_in.value == 1.0;
      if (int64_t bad = first_out_of_range(index, size); bad != kAllInRange) {
        TG_CHECK_KIND(x->dim() > 1 && alpha_one, Index, "index out of range in self");
        fail(ErrorKind::Runtime, "index ", bad, " is out of bounds for dimension ", d, " with size ", size);
      }
      TensorList idx(size_t(d + 1));
      idx[size_t(d)] = as_1d(index);
      // A bool tensor adds with a logical or, alpha read as a bool.
      Tensor src = alpha.value == 1.0 || x->dtype() == DType::Bool ? source : mul(source, alpha);
      if (x->dtype() != DType::Bool || alpha.value != 0) index_put_(as_1d(out), idx, as_1d(src), true);
    }
  }
  if (FormulaNode* n = record("IndexAddBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        Tensor gs;
        if (n.needs_grad(1)) {
          gs = index_select(g, n.ints[0], n.saved(0));
          if (n.shape.empty() && gs->dim() != 0) gs = view(gs, {});
          if (n.scalars[0] != 1.0) gs = mul_scalar(gs, n.scalars[0]);
        }
        return {g, gs};
      }, out, {&x, &source})) {
    n->ints = {d};
    n->shape = source->sizes();
    n->save(index);
    n->scalars[0] = alpha.value;
  }
  return out;
}

}  // namespace tapegrad::ops

// View ops: new sizes/strides/offset over the same storage, each with its backward rule.
#include <algorithm>
#include <new>
#include <numeric>
#include <optional>
#include <string>

#include <unistd.h>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "ops/helpers.h"

namespace tapegrad::ops {
namespace {

// Resolves one -1 and checks the element count, with torch's messages.
Shape infer_size(const Shape& shape, int64_t numel) {
  Shape out = shape;
  // The product wraps as torch's does (in unsigned arithmetic, where wrapping is defined): a zero size
  // still makes it 0 after an overflow, and a wrapped product matches no real size.
  uint64_t product = 1;
  int infer = -1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      TG_CHECK(infer < 0, "only one dimension can be inferred");
      infer = int(i);
    } else {
      TG_CHECK(out[i] >= 0, "invalid shape dimension ", out[i], " at index ", i, " of shape ", shape_str(shape));
      product *= uint64_t(out[i]);
    }
  }
  const int64_t known = int64_t(product);
  if (infer >= 0) {
    TG_CHECK(!(known == 0 && numel == 0), "cannot reshape tensor of 0 elements into shape ", shape_str(shape),
             " because the unspecified dimension size -1 can be any value and is ambiguous");
    TG_CHECK(known > 0 && numel % known == 0, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
    out[size_t(infer)] = numel / known;
  } else {
    TG_CHECK(known == numel, "shape '", shape_str(shape), "' is invalid for input of size ", numel);
  }
  return out;
}

// Strides that view `old` memory as `shape`, if they exist (torch's computeStride).
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  const Shape& os = x->sizes();
  const Shape& ost = x->strides();
  // torch keeps an empty tensor's strides for its own shape; a contiguous one with canonical
  // strides (the common case) needs no walk, but one whose size-1 dims have other strides keeps them.
  if (x->numel() == 0) return shape == os ? ost : contiguous_strides(shape);
  if (x->is_contiguous() && ost == contiguous_strides(os)) return contiguous_strides(shape);
  Shape st(shape.size(), 0);
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base = ost.back(), tensor_numel = 1, view_numel = 1;
  for (int64_t d = int64_t(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[size_t(d)];
    if (d == 0 || (os[size_t(d - 1)] != 1 && ost[size_t(d - 1)] != tensor_numel * chunk_base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[size_t(view_d)] == 1)) {
        st[size_t(view_d)] = view_numel * chunk_base;
        view_numel *= shape[size_t(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        chunk_base = ost[size_t(d - 1)];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}

TensorList reshape_rule(FormulaNode& n, const Tensor& g) { return {reshape(g, n.shape)}; }

Tensor view_as_shape(const Tensor& x, const Shape& shape, const Shape& strides, const char* name) {
  Tensor out = make_view(x, shape, strides, x->storage_offset());
  if (FormulaNode* n = record(name, reshape_rule, out, {&x})) n->shape = x->sizes();
  return out;
}

}  // namespace

Tensor make_view(const Tensor& x, Shape sizes, Shape strides, int64_t offset) {
  Tensor v = TensorImpl::view_of(x->storage(), std::move(sizes), std::move(strides), offset, x->dtype());
  // As torch: a view is an inference tensor exactly when its base is one, and a view of an inference
  // tensor (in or out of inference_mode) is no tracked view: no _base, no history, no requires_grad.
  v->set_inference(x->is_inference());
  if (x->is_inference()) return v;
  v->set_view_base(x->view_base() ? x->view_base() : x);
  // How the view was made decides which in-place writes torch allows on it later. A view of a view
  // keeps what was special about the first (torch's propagate_creation_meta): a view of split()'s
  // output may no more be written in place than the output itself.
  using Kind = TensorImpl::ViewKind;
  Kind kind = InferenceMode::is_enabled() ? Kind::MadeInInferenceMode
              : !GradMode::is_enabled()   ? Kind::MadeWithoutGrad
                                          : Kind::Plain;
  if (x->view_base() && (kind == Kind::Plain || x->view_kind() == Kind::MadeInInferenceMode)) kind = x->view_kind();
  if (kind == Kind::MadeWithoutGrad && GradMode::is_enabled()) kind = Kind::OfViewMadeWithoutGrad;
  v->set_view_kind(kind);
  return v;
}

Tensor view(const Tensor& x, const Shape& shape_in) {
  Shape shape = infer_size(shape_in, x->numel());
  auto st = view_strides(x, shape);
  TG_CHECK(st, "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
               "two contiguous subspaces). Use .reshape(...) instead.");
  return view_as_shape(x, shape, *st, "ViewBackward0");
}

Tensor reshape(const Tensor& x, const Shape& shape_in) {
  Shape shape = infer_size(shape_in, x->numel());
  // torch calls a reshape that needs no copy of a non-contiguous tensor a reshape alias.
  if (auto st = view_strides(x, shape))
    return view_as_shape(x, shape, *st, x->is_contiguous() ? "ViewBackward0" : "ReshapeAliasBackward0");
  // A copy first: torch's _unsafe_view of it is no view of anything the caller holds.
  return as_new(view_as_shape(clone(x), shape, contiguous_strides(shape), "UnsafeViewBackward0"));
}

Tensor alias(const Tensor& x) {
  Tensor out = make_view(x, x->sizes(), x->strides(), x->storage_offset());
  record("AliasBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {g}; }, out, {&x});
  return out;
}

Tensor unsafe_view(const Tensor& x, const Shape& shape_in) {
  Shape shape = infer_size(shape_in, x->numel());
  auto st = view_strides(x, shape);
  if (!st) return reshape(x, shape);
  // torch's _unsafe_view (of an op's own temporary) is no view: detach_() and in-place writes treat it
  // as a tensor of its own.
  return as_new(view_as_shape(x, shape, *st, "UnsafeViewBackward0"));
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  int64_t s = wrap_dim(start_dim, x->dim()), e = wrap_dim(end_dim, x->dim());  // a 0-d tensor's dims: 0 and -1
  if (x->dim() == 0) return reshape(x, {1});
  TG_CHECK(s <= e, "flatten() has invalid args: start_dim cannot come after end_dim");
  if (s == e) return x;
  Shape shape(x->sizes().begin(), x->sizes().begin() + s);
  int64_t merged = 1;
  for (int64_t d = s; d <= e; ++d) merged *= x->sizes()[size_t(d)];
  shape.push_back(merged);
  shape.insert(shape.end(), x->sizes().begin() + e + 1, x->sizes().end());
  return reshape(x, shape);
}

namespace {
Tensor squeeze_impl(const Tensor& x, const std::vector<bool>& drop, const char* name) {
  Shape sizes, strides;
  for (size_t d = 0; d < x->sizes().size(); ++d) {
    if (drop[d] && x->sizes()[d] == 1) continue;
    sizes.push_back(x->sizes()[d]);
    strides.push_back(x->strides()[d]);
  }
  Tensor out = make_view(x, sizes, strides, x->storage_offset());
  if (FormulaNode* n = record(name, reshape_rule, out, {&x})) n->shape = x->sizes();
  return out;
}
}  // namespace

Tensor squeeze(const Tensor& x) { return squeeze_impl(x, std::vector<bool>(x->sizes().size(), true), "SqueezeBackward0"); }

Tensor squeeze(const Tensor& x, const Shape& dims, const char* name) {
  std::vector<bool> drop(x->sizes().size(), false);
  std::vector<bool> seen(std::max<size_t>(x->sizes().size(), 1), false);
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x->dim());
    TG_CHECK(!seen[size_t(w)], "dim ", w, " appears multiple times in the list of dims");
    seen[size_t(w)] = true;
    if (x->dim() > 0) drop[size_t(w)] = true;
  }
  return squeeze_impl(x, drop, name ? name : dims.size() == 1 ? "SqueezeBackward1" : "SqueezeBackward2");
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int64_t d = wrap_dim(dim, x->dim() + 1);
  Shape sizes = x->sizes(), strides = x->strides();
  int64_t st = size_t(d) < sizes.size() ? sizes[size_t(d)] * strides[size_t(d)] : 1;
  sizes.insert(sizes.begin() + d, 1);
  strides.insert(strides.begin() + d, st);
  Tensor out = make_view(x, sizes, strides, x->storage_offset());
  if (FormulaNode* n = record("UnsqueezeBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {squeeze(g, {n.ints[0]})};
      }, out, {&x}))
    n->ints = {d};
  return out;
}

namespace {
Tensor transpose_view(const Tensor& x, int64_t a, int64_t b) {
  Shape sizes = x->sizes(), strides = x->strides();
  if (!sizes.empty()) {
    std::swap(sizes[size_t(a)], sizes[size_t(b)]);
    std::swap(strides[size_t(a)], strides[size_t(b)]);
  }
  return make_view(x, sizes, strides, x->storage_offset());
}
}  // namespace

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  int64_t a = wrap_dim(dim0, x->dim()), b = wrap_dim(dim1, x->dim());
  Tensor out = transpose_view(x, a, b);
  if (FormulaNode* n = record("TransposeBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {transpose(g, n.ints[0], n.ints[1])};
      }, out, {&x}))
    n->ints = {a, b};
  return out;
}

Tensor t(const Tensor& x) {
  TG_CHECK(x->dim() <= 2, "t() expects a tensor with <= 2 dimensions, but self is ", x->dim(), "D");
  Tensor out = x->dim() < 2 ? make_view(x, x->sizes(), x->strides(), x->storage_offset()) : transpose_view(x, 0, 1);
  record("TBackward0", [](FormulaNode&, const Tensor& g) -> TensorList { return {t(g)}; }, out, {&x});
  return out;
}

Tensor permute(const Tensor& x, const Shape& dims) {
  int64_t nd = x->dim();
  TG_CHECK(int64_t(dims.size()) == nd, "permute(sparse_coo): number of dimensions in the tensor input does not match "
                                       "the length of the desired ordering of dimensions i.e. input.dim() = ",
           nd, " is not equal to len(dims) = ", dims.size());
  Shape sizes(static_cast<size_t>(nd)), strides(static_cast<size_t>(nd)), inverse(static_cast<size_t>(nd));
  std::vector<bool> seen(size_t(nd), false);
  for (int64_t i = 0; i < nd; ++i) {
    int64_t d = wrap_dim(dims[size_t(i)], nd);
    TG_CHECK(!seen[size_t(d)], "permute(): duplicate dims are not allowed.");
    seen[size_t(d)] = true;
    sizes[size_t(i)] = x->sizes()[size_t(d)];
    strides[size_t(i)] = x->strides()[size_t(d)];
    inverse[size_t(d)] = i;
  }
  Tensor out = make_view(x, sizes, strides, x->storage_offset());
  if (FormulaNode* n = record("PermuteBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {permute(g, n.ints)};
      }, out, {&x}))
    n->ints = inverse;
  return out;
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  TG_CHECK_KIND(x->dim() > 0, Index, "select() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, x->dim());
  int64_t size = x->sizes()[size_t(d)];
  if (index < -size || index >= size)
    fail(ErrorKind::Index, "select(): index ", index, " out of range for tensor of size ", shape_str(x->sizes()),
         " at dimension ", d);
  int64_t i = index < 0 ? index + size : index;
  Shape sizes = x->sizes(), strides = x->strides();
  int64_t offset = x->storage_offset() + i * strides[size_t(d)];
  sizes.erase(sizes.begin() + d);
  strides.erase(strides.begin() + d);
  Tensor out = make_view(x, sizes, strides, offset);
  if (FormulaNode* n = record("SelectBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {select_backward(g, n.shape, n.ints[0], n.ints[1])};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {d, i};
  }
  return out;
}

Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start_in, std::optional<int64_t> end_in,
             int64_t step) {
  TG_CHECK_KIND(x->dim() > 0, Index, "slice() cannot be applied to a 0-dim tensor.");
  TG_CHECK_KIND(step > 0, Value, "step must be greater than zero");
  int64_t d = wrap_dim(dim, x->dim());
  int64_t size = x->sizes()[size_t(d)];
  // Python's clamping of out-of-range bounds.
  auto clampi = [size](int64_t v) { return std::min(std::max(v < 0 ? v + size : v, int64_t(0)), size); };
  int64_t start = start_in ? clampi(*start_in) : 0;
  int64_t end = end_in ? clampi(*end_in) : size;
  if (end < start) end = start;
  Shape sizes = x->sizes(), strides = x->strides();
  sizes[size_t(d)] = (end - start + step - 1) / step;
  strides[size_t(d)] *= step;
  Tensor out = make_view(x, sizes, strides, x->storage_offset() + start * x->strides()[size_t(d)]);
  if (FormulaNode* n = record("SliceBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {slice_backward(g, n.shape, n.ints[0], n.ints[1], n.ints[2], n.ints[3])};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {d, start, end, step};
  }
  return out;
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  TG_CHECK_KIND(x->dim() > 0, Index, "narrow() cannot be applied to a 0-dim tensor.");
  int64_t d = wrap_dim(dim, x->dim());
  int64_t size = x->sizes()[size_t(d)];
  const int64_t given = start;  // torch's message names the start as given
  if (start < 0) start += size;
  TG_CHECK_KIND(start >= 0 && start <= size, Index, "start out of range (expected to be in range of [", -size, ", ",
                size, "], but got ", given, ")");
  TG_CHECK(length >= 0, "narrow(): length must be non-negative.");
  // (compared without computing start + length, which a huge length would overflow)
  TG_CHECK(length <= size - start, "start (", start, ") + length (", length,
           ") exceeds dimension size (", size, ").");
  return slice(x, d, start, start + length, 1);
}

namespace {
// Gradients of split pieces, zeros where a piece got none, joined back along the dim.
// Room for the n pieces of a split or unbind, refused as torch refuses it: a count no vector can hold,
// or one the memory cannot (which would otherwise grow until the process is killed).
template <class List>
void reserve_pieces(List& list, int64_t n) {
  TG_CHECK(uint64_t(n) <= (uint64_t(1) << 60), "cannot create std::vector larger than max_size()");
  // More room than the machine's memory is refused before asking: the answer torch gets from its
  // allocator, without depending on how the allocator fails (a sanitizer's aborts).
  const double bytes = double(n) * double(sizeof(typename List::value_type));
  if (bytes > double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE))) fail(ErrorKind::Runtime, "std::bad_alloc");
  try {
    list.reserve(size_t(n));
  } catch (const std::bad_alloc&) {
    fail(ErrorKind::Runtime, "std::bad_alloc");
  }
}

TensorList split_rule(FormulaNode& n, const TensorList& grads) {
  int64_t dim = n.ints[0];
  TensorList parts;
  for (size_t i = 0; i < grads.size(); ++i) {
    if (grads[i]) {
      parts.push_back(grads[i]);
    } else {
      Shape s = n.shape;
      s[size_t(dim)] = n.ints[i + 1];
      parts.push_back(full(s, 0.0, n.next_edges[0].dtype, n.next_edges[0].device));
    }
  }
  return {cat(parts, dim)};
}
}  // namespace

TensorList split_with_sizes(const Tensor& x, const Shape& sizes, int64_t dim) {
  return split_impl(x, sizes, dim, "SplitWithSizesBackward0");
}

TensorList split_impl(const Tensor& x, const Shape& sizes, int64_t dim, const char* name) {
  int64_t d = wrap_dim(dim, x->dim());
  for (int64_t s : sizes)
    TG_CHECK(s >= 0, "split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=",
             shape_str(sizes));
  int64_t total = 0;
  bool overflow = false;  // huge sizes must not wrap around to the right sum
  for (int64_t s : sizes) overflow = overflow || __builtin_add_overflow(total, s, &total);
  TG_CHECK(!overflow && total == x->sizes()[size_t(d)], "split_with_sizes expects split_sizes to sum exactly to ",
           x->sizes()[size_t(d)], " (input tensor's size at dimension ", d, "), but got split_sizes=", shape_str(sizes));
  TensorList outs;
  reserve_pieces(outs, int64_t(sizes.size()));
  int64_t start = 0;
  {
    AutoGradMode off(false);  // the pieces share one SplitBackward0 node, made below
    for (int64_t s : sizes) {
      outs.push_back(slice(x, d, start, start + s, 1));
      start += s;
    }
  }
  for (const Tensor& o : outs) o->set_view_kind(TensorImpl::ViewKind::OutputOfMultiViewOp);
  if (FormulaNode* n = record_multi(name, split_rule, outs, {&x})) {
    n->shape = x->sizes();
    Shape ints = {d};
    ints.insert(ints.end(), sizes.begin(), sizes.end());
    n->ints = ints;
  }
  return outs;
}

TensorList split(const Tensor& x, int64_t split_size, int64_t dim) {
  TG_CHECK(x->dim() > 0, "split expects at least a 1-dimensional tensor");
  int64_t d = wrap_dim(dim, x->dim());
  int64_t size = x->sizes()[size_t(d)];
  TG_CHECK(split_size >= 0, "split expects split_size be non-negative, but got split_size=", split_size);
  TG_CHECK(split_size > 0 || size == 0, "split_size can only be 0 if dimension size is 0, but got dimension size of ",
           size);
  Shape sizes;
  if (split_size > 0) reserve_pieces(sizes, size / split_size + 1);
  for (int64_t s = 0; s < size; s += split_size) sizes.push_back(std::min(split_size, size - s));
  if (sizes.empty()) sizes.push_back(0);
  return split_impl(x, sizes, d, "SplitBackward0");
}

TensorList chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  TG_CHECK(x->dim() > 0, "chunk expects at least a 1-dimensional tensor");
  TG_CHECK(chunks > 0, "chunk expects `chunks` to be greater than 0, got: ", chunks);
  int64_t size = x->sizes()[size_t(wrap_dim(dim, x->dim()))];
  if (size == 0) {  // torch: `chunks` empty pieces
    Shape empty_pieces;
    reserve_pieces(empty_pieces, chunks);
    empty_pieces.assign(size_t(chunks), 0);
    return split_with_sizes(x, empty_pieces, dim);
  }
  // torch's ceil(size / chunks) wraps around for a huge chunks (and then fails in split): the same
  // wrap here, made well defined through unsigned arithmetic
  int64_t each = int64_t(uint64_t(size) + uint64_t(chunks) - 1) / chunks;
  return split(x, each, dim);
}

TensorList unbind(const Tensor& x, int64_t dim) {
  TG_CHECK_KIND(x->dim() > 0, Index, "Dimension specified as 0 but tensor has no dimensions");
  int64_t d = wrap_dim(dim, x->dim());
  TensorList outs;
  reserve_pieces(outs, x->sizes()[size_t(d)]);
  {
    AutoGradMode off(false);
    for (int64_t i = 0; i < x->sizes()[size_t(d)]; ++i) outs.push_back(select(x, d, i));
  }
  for (const Tensor& o : outs) o->set_view_kind(TensorImpl::ViewKind::OutputOfMultiViewOp);
  if (FormulaNode* n = record_multi("UnbindBackward0", [](FormulaNode& n, const TensorList& grads) -> TensorList {
        TensorList parts;
        Shape piece = n.shape;
        piece.erase(piece.begin() + n.ints[0]);
        for (const Tensor& g : grads)
          parts.push_back(g ? g : full(piece, 0.0, n.next_edges[0].dtype, n.next_edges[0].device));
        return {stack(parts, n.ints[0])};
      }, outs, {&x})) {
    n->shape = x->sizes();
    n->ints = {d};
  }
  return outs;
}

Tensor select_backward(const Tensor& grad, const Shape& sizes, int64_t dim, int64_t index) {
  Tensor out = full(sizes, 0.0, grad->dtype(), grad->device());
  copy_into(select(detach(out), dim, index), detach(grad));
  if (FormulaNode* n = record("SelectBackwardBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {select(g, n.ints[0], n.ints[1])};
      }, out, {&grad}))
    n->ints = {dim, index};
  return out;
}

Tensor slice_backward(const Tensor& grad, const Shape& sizes, int64_t dim, int64_t start, int64_t end, int64_t step) {
  Tensor out = full(sizes, 0.0, grad->dtype(), grad->device());
  {
    AutoGradMode off(false);
    copy_into(slice(out, dim, start, end, step), grad);
  }
  if (FormulaNode* n = record("SliceBackwardBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {slice(g, n.ints[0], n.ints[1], n.ints[2], n.ints[3])};
      }, out, {&grad}))
    n->ints = {dim, start, end, step};
  return out;
}

Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2) {
  int64_t d1 = wrap_dim(dim1, x->dim()), d2 = wrap_dim(dim2, x->dim());
  TG_CHECK(d1 != d2, "diagonal dimensions cannot be identical ", dim1, ", ", dim2);
  const Shape& st = x->strides();
  int64_t n1 = x->sizes()[size_t(d1)], n2 = x->sizes()[size_t(d2)];
  int64_t len = std::max<int64_t>(offset >= 0 ? std::min(n1, n2 - offset) : std::min(n1 + offset, n2), 0);
  int64_t start = x->storage_offset();
  if (len > 0) start += offset >= 0 ? offset * st[size_t(d2)] : -offset * st[size_t(d1)];
  Shape sizes, strides;
  for (int64_t d = 0; d < x->dim(); ++d)
    if (d != d1 && d != d2) {
      sizes.push_back(x->sizes()[size_t(d)]);
      strides.push_back(st[size_t(d)]);
    }
  sizes.push_back(len);
  strides.push_back(st[size_t(d1)] + st[size_t(d2)]);
  Tensor out = make_view(x, sizes, strides, start);
  if (FormulaNode* n = record("DiagonalBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {diagonal_backward(g, n.shape, n.ints[0], n.ints[1], n.ints[2])};
      }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {offset, d1, d2};
  }
  return out;
}

Tensor diagonal_backward(const Tensor& grad, const Shape& sizes, int64_t offset, int64_t dim1, int64_t dim2) {
  Tensor out = full(sizes, 0.0, grad->dtype(), grad->device());
  {
    AutoGradMode off(false);
    copy_into(diagonal(out, offset, dim1, dim2), grad);
  }
  if (FormulaNode* n = record("DiagonalBackwardBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
        return {diagonal(g, n.ints[0], n.ints[1], n.ints[2])};
      }, out, {&grad}))
    n->ints = {offset, dim1, dim2};
  return out;
}

Tensor diag(const Tensor& x, int64_t k) {
  TG_CHECK(x->dim() == 1 || x->dim() == 2, "diag(): Supports 1D or 2D tensors. Got ", x->dim(), "D");
  Tensor out;
  {
    AutoGradMode off(false);
    int64_t m = x->dim() == 1 ? x->numel() + std::abs(k) : 0;
    out = x->dim() == 1 ? diagonal_backward(x, {m, m}, k, 0, 1) : clone(diagonal(x, k, 0, 1));
  }
  if (x->dim() == 1) {
    auto rule = [](FormulaNode& n, const Tensor& g) -> TensorList { return {diagonal(g, n.ints[0], 0, 1)}; };
    // torch's kernel writes an inference x into the diagonal of its zeros (CopySlices).
    if (FormulaNode* n = record_inference_write("torch::autograd::CopySlices", rule, out, x)) n->ints = {k};
    if (FormulaNode* n = record("DiagEmbedBackward0", rule, out, {&x})) n->ints = {k};
  } else if (FormulaNode* n = record("DiagonalBackward0_copy", [](FormulaNode& n, const Tensor& g) -> TensorList {
               return {diagonal_backward(g, n.shape, n.ints[0], 0, 1)};
             }, out, {&x})) {
    n->shape = x->sizes();
    n->ints = {k};
  }
  return out;
}

Tensor view_dtype(const Tensor& x, DType dtype) {
  const int64_t from = int64_t(itemsize(x->dtype())), to = int64_t(itemsize(dtype));
  Shape sizes = x->sizes(), strides = x->strides();
  int64_t offset = x->storage_offset();
  if (from != to) {
    // torch's words: "<what> to view Float as Double (different element sizes)[, but got <n>]"
    auto refuse = [&](const std::string& what, std::optional<int64_t> got) {
      fail(ErrorKind::Runtime, what, " to view ", dtype_scalar_type_name(x->dtype()), " as ",
           dtype_scalar_type_name(dtype), " (different element sizes)", got ? ", but got " + std::to_string(*got) : "");
    };
    if (x->dim() == 0) refuse("self.dim() cannot be 0", std::nullopt);
    const size_t last = sizes.size() - 1;
    if (strides[last] != 1) refuse("self.stride(-1) must be 1", strides[last]);
    if (from > to) {  // each element becomes several
      const int64_t k = from / to;
      sizes[last] *= k;
      for (size_t d = 0; d < last; ++d) strides[d] *= k;
      offset *= k;
    } else {  // several elements become one
      const std::string k = std::to_string(to / from);
      const int64_t n = to / from;
      if (sizes[last] % n) refuse("self.size(-1) must be divisible by " + k, sizes[last]);
      if (offset % n) refuse("self.storage_offset() must be divisible by " + k, offset);
      for (size_t d = 0; d < last; ++d)
        if (strides[d] % n) refuse("self.stride(" + std::to_string(d) + ") must be divisible by " + k, strides[d]);
      sizes[last] /= n;
      for (size_t d = 0; d < last; ++d) strides[d] /= n;
      offset /= n;
    }
  }
  return TensorImpl::view_of(x->storage(), sizes, strides, offset, dtype);
}

}  // namespace tapegrad::ops

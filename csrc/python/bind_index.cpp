// tensor[...] reads and writes: parsing Python index expressions into views and advanced
// indexing, and the autograd rule of a write (also through a view of another tensor).
#include <pybind11/stl.h>

#include <cstring>

#include "autograd/function.h"
#include "core/error.h"
#include "ops/ops.h"
#include "python/bind_common.h"

namespace tapegrad::py {
namespace {

// One element of an indexing expression, parsed from Python.
struct IndexItem {
  enum Kind { Int, Slice, None, Ellipsis, Tensor_, Bool } kind;
  int64_t i = 0;
  std::optional<int64_t> start, stop;
  int64_t step = 1;
  Tensor t;
};

// A slice's bounds as Python reads them (any __index__ object; huge values clamp), None kept as none.
void read_slice(pyb::handle h, IndexItem& it) {
  Py_ssize_t start = 0, stop = 0, step = 1;
  if (PySlice_Unpack(h.ptr(), &start, &stop, &step) < 0) throw pyb::error_already_set();
  auto* slice = reinterpret_cast<PySliceObject*>(h.ptr());
  if (slice->start != Py_None) it.start = start;
  if (slice->stop != Py_None) it.stop = stop;
  it.step = step;
}

IndexItem parse_item(pyb::handle h) {
  IndexItem it{IndexItem::None};
  if (h.is_none()) return it;
  if (h.ptr() == Py_Ellipsis) return {IndexItem::Ellipsis};
  if (PyBool_Check(h.ptr())) {
    it.kind = IndexItem::Bool;
    it.i = h.ptr() == Py_True;
    return it;
  }
  if (PyLong_Check(h.ptr())) {
    it.kind = IndexItem::Int;
    it.i = int_of(h);
    return it;
  }
  if (PySlice_Check(h.ptr())) {
    it.kind = IndexItem::Slice;
    read_slice(h, it);
    return it;
  }
  if (pyb::isinstance<pyb::str>(h)) fail(ErrorKind::Type, "new(): invalid data type 'str'");
  if (is_tensor(h)) {
    Tensor t = h.cast<Tensor>();
    if (t->dim() == 0 && is_integral(t->dtype(), false)) {  // a 0-dim integer tensor indexes like an int
      it.kind = IndexItem::Int;
      it.i = item(t).cast<int64_t>();
      return it;
    }
    it.kind = IndexItem::Tensor_;
    it.t = t;
    return it;
  }
  if (PyList_Check(h.ptr()) || PyTuple_Check(h.ptr()) || pyb::isinstance<pyb::array>(h)) {
    it.kind = IndexItem::Tensor_;
    it.t = tensor_from_data(h, std::nullopt, Device());
    if (it.t->numel() == 0 && it.t->dtype() != DType::Bool) it.t = ops::to_dtype(it.t, DType::Int64);
    return it;
  }
  if (auto idx = PyNumber_Index(h.ptr())) {  // numpy integers and other __index__ objects
    it.kind = IndexItem::Int;
    it.i = PyLong_AsLongLong(idx);
    Py_DECREF(idx);
    return it;
  }
  PyErr_Clear();
  fail(ErrorKind::Index,
       "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices (got ",
       std::string(pyb::str(pyb::type::handle_of(h).attr("__name__"))), ")");
}

// torch's legacy rule (numpy's): a short list holding a sequence, a tensor, a slice, None or an Ellipsis
// indexes as a tuple of its items, with a deprecation warning.
bool list_indexes_as_tuple(pyb::handle key) {
  if (!PyList_Check(key.ptr()) || PyList_GET_SIZE(key.ptr()) >= 32) return false;
  for (auto h : key) {
    if (is_tensor(h) || PySequence_Check(h.ptr()) || PySlice_Check(h.ptr()) || h.is_none() ||
        h.ptr() == Py_Ellipsis)
      return true;
  }
  return false;
}

std::vector<IndexItem> parse_index(pyb::handle key, int64_t ndim) {
  std::vector<IndexItem> items;
  // torch counts the dims taken before it converts an item that is no int, slice, None, Ellipsis or
  // tensor: past the last dim, such an item is "too many indices" whatever it is.
  int64_t taken = 0;
  auto parse_item = [&](pyb::handle h) {
    bool plain = PyLong_Check(h.ptr()) || PySlice_Check(h.ptr()) || h.is_none() || h.ptr() == Py_Ellipsis || is_tensor(h);
    if (!plain && taken >= ndim) fail(ErrorKind::Index, "too many indices for tensor of dimension ", ndim);
    IndexItem it = tapegrad::py::parse_item(h);
    taken += it.kind == IndexItem::Int || it.kind == IndexItem::Slice || it.kind == IndexItem::Tensor_;
    return it;
  };
  if (list_indexes_as_tuple(key)) {
    if (PyErr_WarnEx(PyExc_UserWarning,
                     "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
                     "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
                     "tensor index, x[torch.tensor(seq)], which will result either in an error or a different result",
                     1) < 0)
      throw pyb::error_already_set();
    for (auto h : key) items.push_back(parse_item(h));
  } else if (PyTuple_Check(key.ptr())) {
    for (auto h : key) items.push_back(parse_item(h));
  } else {
    items.push_back(parse_item(key));
  }
  return items;
}

bool is_full_slice(const IndexItem& it, int64_t size) {
  return it.kind == IndexItem::Slice && it.step == 1 && (!it.start || *it.start == 0) &&
         (!it.stop || *it.stop >= size);
}

// Applies the basic part of an index as views; collects tensor indices per result dim.
Tensor apply_basic(const Tensor& x, const std::vector<IndexItem>& items, TensorList& advanced) {
  // torch lets every ellipsis in an index stand for all the dims the other items leave: with two, the
  // second reaches past the end, and whatever comes after it is out of range (a full slice excepted).
  int64_t consumed = 0;
  for (const auto& it : items) {
    if (it.kind == IndexItem::Int || it.kind == IndexItem::Slice) ++consumed;
    if (it.kind == IndexItem::Tensor_) consumed += it.t->dtype() == DType::Bool ? it.t->dim() : 1;
  }
  if (x->dim() == 0 && consumed > 0)
    fail(ErrorKind::Index, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in "
                           "C++ to convert a 0-dim tensor to a number");
  if (consumed > x->dim()) fail(ErrorKind::Index, "too many indices for tensor of dimension ", x->dim());
  Tensor r = x;
  int64_t d = 0;     // the dim of r the next item applies to
  int64_t orig = 0;  // the dim of x it came from (for messages)
  auto note = [&](int64_t dim, const Tensor& t) {
    if (int64_t(advanced.size()) <= dim) advanced.resize(size_t(dim + 1));
    advanced[size_t(dim)] = t;
  };
  auto dim_out_of_range = [&](int64_t extra) {
    int64_t n = r->dim() + extra;
    fail(ErrorKind::Index, "Dimension out of range (expected to be in range of [", -n, ", ", n - 1, "], but got ", d, ")");
  };
  for (const auto& it : items) {
    switch (it.kind) {
      case IndexItem::Int: {
        int64_t size = d < r->dim() ? r->sizes()[size_t(d)] : 0;
        if (it.i < -size || it.i >= size)
          fail(ErrorKind::Index, "index ", it.i, " is out of bounds for dimension ", orig, " with size ", size);
        r = ops::select(r, d, it.i);
        ++orig;
        break;
      }
      case IndexItem::Slice:
        if (d >= r->dim()) {
          if (!is_full_slice(it, 0)) dim_out_of_range(0);
          ++d, ++orig;
          break;
        }
        // A full slice inside a tuple is no op at all, as in torch (x[0, :] is a plain SelectBackward0).
        if (items.size() == 1 || !is_full_slice(it, r->sizes()[size_t(d)]))
          r = ops::slice(r, d, it.start, it.stop, it.step);
        ++d, ++orig;
        break;
      case IndexItem::None:
        if (d > r->dim()) dim_out_of_range(1);
        r = ops::unsqueeze(r, d), ++d;
        break;
      case IndexItem::Ellipsis: d += x->dim() - consumed, orig += x->dim() - consumed; break;
      case IndexItem::Bool:
        if (d > r->dim()) dim_out_of_range(1);
        r = ops::unsqueeze(r, d);
        note(d, ops::full({it.i ? 1 : 0}, 0.0, DType::Int64, x->device()));
        ++d;
        break;
      case IndexItem::Tensor_:
        if (d + (it.t->dtype() == DType::Bool ? it.t->dim() : 1) > r->dim())
          fail(ErrorKind::Index, "too many indices for tensor of dimension ", x->dim(), " (got ", d + 1, ")");
        if (it.t->dtype() == DType::Bool) {
          // A mask indexes as many dims as it has, through the coordinates of its true elements.
          for (int64_t k = 0; k < it.t->dim(); ++k) {
            TG_CHECK_KIND(it.t->sizes()[size_t(k)] == r->sizes()[size_t(d + k)], Index, "The shape of the mask ",
                          shape_str(it.t->sizes()), " at index ", k, " does not match the shape of the indexed tensor ",
                          shape_str(r->sizes()), " at index ", d + k);
          }
          if (it.t->dim() == 0) {
            r = ops::unsqueeze(r, d);
            note(d, ops::full({ops::any(it.t, {}, false)->data<bool>()[0] ? 1 : 0}, 0.0, DType::Int64, x->device()));
            ++d;
            break;
          }
          Tensor coords = ops::nonzero(it.t);
          for (int64_t k = 0; k < it.t->dim(); ++k) note(d + k, ops::select(coords, 1, k));
          d += it.t->dim();
          orig += it.t->dim();
        } else {
          TG_CHECK_KIND(it.t->dtype() == DType::Int64 || it.t->dtype() == DType::Int32, Index,
                        "tensors used as indices must be long, int, byte or bool tensors");
          note(d, it.t);
          ++d, ++orig;
        }
        break;
    }
  }
  return r;
}

Tensor getitem(const Tensor& x, pyb::handle key) {
  std::vector<IndexItem> items = parse_index(key, x->dim());
  TensorList advanced;
  Tensor r = apply_basic(x, items, advanced);
  if (advanced.empty()) return r == x ? ops::alias(x) : r;  // x[...] is a new object: an alias
  return ops::index(r, advanced);
}

// Where a written tensor sits inside its base: its view geometry in the base's storage.
struct Region {
  Shape sizes, strides;
  int64_t offset = 0;
  bool whole = true;  // the written tensor is its base itself
};

// The gradient rule of `target[items] = value`: the base's gradient with the written places
// zeroed, and value's gradient read from those places (summed to value's shape by the engine).
// `region` places target inside the base; gradients are laid out like the base so the same
// geometry addresses them.
struct CopySlices final : Node {
  const char* name() const override { return name_; }
  TensorList apply(TensorList&& grads) override {
    if (GradMode::is_enabled()) return apply_differentiable(grads[0]);
    if (fn) return apply_wrapped(grads[0]);
    const Tensor& g = grads[0];
    Tensor laid = like_base(g);
    Tensor gx, gv;
    TensorList adv;
    if (next_edges[0].fn) {
      AutoGradMode off(false);
      Tensor place = apply_basic(in_region(laid), items, adv);
      Tensor zero = ops::full({}, 0.0, g->dtype(), g->device());
      if (adv.empty()) ops::copy_into(place, zero);
      else ops::index_put_(place, adv, zero, false);
      gx = laid;
    }
    if (next_edges[1].fn) {
      adv.clear();
      Tensor source = like_base(g);
      Tensor place = apply_basic(in_region(source), items, adv);
      gv = adv.empty() ? ops::clone(place) : ops::index(place, adv);
    }
    return {gx, gv};
  }

  // An in-place op on a view, as torch records it: the op's own node `fn` gets the written
  // region's gradient; what it returns for its self input replaces that region in the base's
  // gradient, and its other inputs' gradients go out through this node's later edges.
  TensorList apply_wrapped(const Tensor& g) {
    Tensor laid = like_base(g);
    Tensor region_grad = in_region(laid);
    TensorList res = fn->apply({ops::clone(region_grad)});
    {
      AutoGradMode off(false);
      if (res[0]) ops::copy_into(region_grad, res[0]);
      else ops::copy_into(region_grad, ops::full({}, 0.0, g->dtype(), g->device()));
    }
    res[0] = laid;
    return res;
  }

  // Under create_graph the same rule from differentiable ops: the written places are gathered
  // from, and scattered into, the flattened gradient by their flat indices in the base.
  TensorList apply_differentiable(const Tensor& g) {
    Tensor at;  // the base's flat index of each written place, shaped like the place
    {
      AutoGradMode off(false);
      Tensor laid = positions_in_base(base_sizes, base_strides, base_offset, g->device());
      TensorList adv;
      Tensor place = fn ? in_region(laid) : apply_basic(in_region(laid), items, adv);
      at = adv.empty() ? ops::clone(place) : ops::index(place, adv);
    }
    Tensor flat = ops::reshape(g, {-1});
    Tensor zero = ops::full({}, 0.0, g->dtype(), g->device());
    if (fn) {
      TensorList res = fn->apply({ops::index(flat, {at})});
      res[0] = ops::view(ops::index_put(flat, {at}, res[0] ? res[0] : zero, false), base_sizes);
      return res;
    }
    Tensor gx;
    // A write of the whole tensor is torch's copy_ or fill_, whose gradient for self is zeros_like
    // (no history).
    const bool whole = std::strcmp(name_, "torch::autograd::CopyBackwards") == 0 ||
                       std::strncmp(name_, "FillBackward", 12) == 0;
    if (next_edges[0].fn && whole)
      gx = ops::full(base_sizes, 0.0, g->dtype(), g->device());
    else if (next_edges[0].fn)
      gx = ops::view(ops::index_put(flat, {at}, zero, false), base_sizes);
    Tensor gv = next_edges[1].fn ? ops::index(flat, {at}) : Tensor();
    return {gx, gv};
  }

  void release_saved() override {
    if (fn) fn->release_saved();
  }

  // A copy of g with the base's exact strides and offset.
  Tensor like_base(const Tensor& g) const {
    int64_t extent = base_offset + 1;
    for (size_t d = 0; d < base_sizes.size(); ++d) extent += (base_sizes[d] - 1) * base_strides[d];
    auto storage = Storage::allocate(size_t(std::max<int64_t>(extent, 1)) * itemsize(g->dtype()), g->device());
    Tensor t = TensorImpl::view_of(storage, base_sizes, base_strides, base_offset, g->dtype());
    ops::copy_into(t, g);
    return t;
  }
  Tensor in_region(const Tensor& laid) const {
    if (region.whole) return laid;
    return TensorImpl::view_of(laid->storage(), region.sizes, region.strides, region.offset, laid->dtype());
  }

  std::vector<IndexItem> items;
  Region region;
  Shape base_sizes, base_strides;
  int64_t base_offset = 0;
  // torch names the rule after what the write was: an index_put_, a fill_ of everything, or a
  // copy into a slice (CopySlices).
  const char* name_ = "torch::autograd::CopySlices";
  std::shared_ptr<Node> fn;  // the wrapped in-place op, or null for a plain write
};

// Where a view sits in its base, for the base's rewritten history.
void place_in_base(CopySlices& node, const Tensor& base, const Tensor& view) {
  node.base_sizes = base->sizes();
  node.base_strides = base->strides();
  node.base_offset = base->storage_offset();
  if (base != view) node.region = Region{view->sizes(), view->strides(), view->storage_offset(), false};
}

Edge base_edge(const Tensor& base) {
  Edge e = base->requires_grad() ? gradient_edge(base) : Edge();
  e.shape = base->sizes();
  e.dtype = base->dtype();
  return e;
}

// Whether the only advanced item of an index is one boolean mask (of at least one dim).
bool single_mask_index(const std::vector<IndexItem>& items) {
  int masks = 0, others = 0;
  for (const auto& it : items) {
    if (it.kind == IndexItem::Tensor_ && it.t->dtype() == DType::Bool && it.t->dim() > 0) ++masks;
    else if (it.kind == IndexItem::Tensor_ || it.kind == IndexItem::Bool) ++others;
  }
  return masks == 1 && others == 0;
}

// torch keeps inference tensors out of reach of normal code: no in-place write outside inference_mode.
void check_inference_write(const Tensor& self) {
  if (self->is_inference() && !InferenceMode::is_enabled())
    fail(ErrorKind::Runtime, "Inplace update to inference tensor outside InferenceMode is not allowed.You can make a "
                             "clone to get a normal tensor before doing inplace update.See "
                             "https://github.com/pytorch/rfcs/pull/17 for more details.");
}

void setitem(const Tensor& x, pyb::handle key, pyb::handle value) {
  Tensor v;
  if (is_tensor(value)) {
    v = value.cast<Tensor>();
  } else if (auto s = scalar_from(value)) {
    v = ops::scalar_tensor(*s, x->dtype(), x->device());
  } else {  // torch writes only tensors and numbers
    fail(ErrorKind::Type, "can't assign a ", Py_TYPE(value.ptr())->tp_name, " to a torch.",
         dtype_scalar_type_name(x->dtype()), "Tensor");
  }
  // Writing through a view rewrites its base's history, so the base decides what is tracked.
  const Tensor& base = x->view_base() ? x->view_base() : x;
  // torch writes a 0-d value with fill_, which tracks any dtype; a larger one with copy_, which
  // tracks only floating destinations.
  bool value_tracked = v->requires_grad();
  std::vector<IndexItem> items = parse_index(key, x->dim());
  // torch turns a write of one value through one boolean mask into masked_fill_ of the value's
  // item, which casts it, never meets index_put_'s overlap check, and is tracked for any dtype.
  const bool masked_fill = v->numel() == 1 && single_mask_index(items);
  bool track = GradMode::is_enabled() && (is_floating(x->dtype()) || v->dim() == 0 || masked_fill) &&
               (base->requires_grad() || x->requires_grad() || v->requires_grad());
  if (track && base != x) check_inplace_on_view(x);
  if (track && base->is_leaf() && (base->requires_grad() || x->requires_grad())) {
    // Basic indexing writes through a view of the leaf; pure advanced indexing writes the leaf itself.
    bool through_view = base != x;
    for (const auto& it : items) through_view = through_view || it.kind == IndexItem::Int || it.kind == IndexItem::Slice;
    if (through_view)
      fail(ErrorKind::Runtime, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
    fail(ErrorKind::Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
  }
  const char* rule = "torch::autograd::CopySlices";
  {
    AutoGradMode off(false);
    TensorList adv;
    Tensor region = apply_basic(x, items, adv);
    bool everything = region->sizes() == x->sizes() && region->strides() == x->strides() &&
                      region->storage_offset() == x->storage_offset();
    // torch skips a slice only when it is written from 0 to at least the end with step 1: x[-3:] on
    // 3 rows, or x[0:-1] on none, cover everything yet are real slices (CopySlices).
    for (const auto& it : items)
      if (it.kind == IndexItem::Slice && !is_full_slice(it, 0)) everything = false;
    if (everything && base == x) {
      if (!adv.empty()) rule = "IndexPutBackward0";
      else if (!is_tensor(value)) rule = "FillBackward3";
      else rule = "torch::autograd::CopyBackwards";  // torch's x[...] = v and x[:] = v are x.copy_(v)
    }
    // torch views a tensor value of another shape before its copy_; a view of an inference tensor
    // made outside inference mode has no history, so the value's gradient is not tracked.
    if (adv.empty() && is_tensor(value) && v->dim() != 0 && v->sizes() != region->sizes() && v->is_inference() &&
        !InferenceMode::is_enabled())
      value_tracked = false;
    // torch fills a larger region from a 0-d value (tracked for any dtype) but copies one of the
    // same shape (tracked only into floats): x[0] = v on a 1-d integer x carries no history.
    if (!is_floating(x->dtype()) && region->sizes() == v->sizes() && !masked_fill) track = false;
    // torch drops the value's leading size-1 dims before writing (x[0:2] = ones(1, 1, 2)).
    Tensor vs = v;
    int64_t ones = 0;
    while (ones < vs->dim() && vs->sizes()[size_t(ones)] == 1) ++ones;
    if (ones) vs = ops::view(vs, Shape(vs->sizes().begin() + ones, vs->sizes().end()));
    if (adv.empty()) {
      Tensor src = vs->dtype() == x->dtype() ? vs : ops::to_dtype(ops::detach(vs), x->dtype());
      Tensor expanded = ops::expand(src, region->sizes());  // torch's expand message on a bad shape
      check_inference_write(x);
      if (is_tensor(value)) {  // a number is a fill, which torch allows
        check_no_internal_overlap(region);
        // torch copies a value of the region's shape as it is, any other expanded to the region.
        check_no_overlap(region, v->sizes() == region->sizes() ? v : expanded, true);
      }
      ops::copy_into(region, expanded);
    } else {
      if (!masked_fill) {
        // torch compares the value, its leading size-1 dims dropped, with the sliced tensor: a new
        // view after any slice or integer, so only an empty value that is x itself is refused.
        bool sliced = false;
        for (const auto& it : items) sliced = sliced || it.kind == IndexItem::Int || it.kind == IndexItem::Slice;
        Tensor written = region;
        if (sliced && region.get() == x.get())
          written = TensorImpl::view_of(x->storage(), x->sizes(), x->strides(), x->storage_offset(), x->dtype());
        check_no_overlap(written, vs, false);
      }
      if (masked_fill && vs->dtype() != x->dtype())
        vs = ops::to_dtype(ops::detach(vs), x->dtype());
      TG_CHECK(vs->dtype() == x->dtype(), "Index put requires the source and destination dtypes match, got ",
               dtype_scalar_type_name(x->dtype()), " for the destination and ", dtype_scalar_type_name(v->dtype()),
               " for the source.");
      // torch's shape errors come before its refusal to write an inference tensor: try it on a copy.
      if (x->is_inference() && !InferenceMode::is_enabled()) ops::index_put_(ops::clone(region), adv, vs, false);
      check_inference_write(x);
      ops::index_put_(region, adv, vs, false);
    }
  }
  if (!track || !(value_tracked || base->requires_grad() || x->requires_grad())) return;
  auto node = std::make_shared<CopySlices>();
  node->items = items;
  node->name_ = rule;
  place_in_base(*node, base, x);
  node->next_edges = {base_edge(base), value_tracked ? gradient_edge(v) : Edge()};
  base->set_grad_fn(std::move(node), 0);
  if (base != x) rebase_view_history(x);  // the view now reads the rewritten base
}

// self (a view) <- result, where result's node took self's history as its first input: that node
// is wrapped in the base's new CopySlices.
void write_through_view(const Tensor& self, const Tensor& result) {
  const Tensor& base = self->view_base();
  {
    AutoGradMode off(false);
    ops::copy_into(self, result->dtype() == self->dtype() ? result : ops::to_dtype(result, self->dtype()));
  }
  check_inference_write(self);  // torch writes, then refuses to count the write on an inference tensor
  auto node = std::make_shared<CopySlices>();
  node->fn = result->grad_fn();
  const auto fn = node->fn;
  place_in_base(*node, base, self);
  node->next_edges.push_back(base_edge(base));
  for (size_t i = 1; i < node->fn->next_edges.size(); ++i) node->next_edges.push_back(node->fn->next_edges[i]);
  base->set_grad_fn(std::move(node), 0);
  fn->retarget_saved_output(result, self);
  rebase_view_history(self);
}

// Whether result's node has self's current history as its first input.
bool continues_history_of(const Tensor& result, const Tensor& self) {
  const auto& fn = result->grad_fn();
  if (!fn || result->output_nr() != 0 || fn->num_outputs() != 1 || fn->next_edges.empty()) return false;
  Edge own = gradient_edge(self);
  return own.fn && fn->next_edges[0].fn == own.fn && fn->next_edges[0].input_nr == own.input_nr;
}

}  // namespace

void check_no_internal_overlap(const Tensor& written) {
  TG_CHECK(!written->has_internal_overlap(), "unsupported operation: more than one element of the written-to tensor "
           "refers to a single memory location. Please clone() the tensor before performing the operation.");
}

void check_no_overlap(const Tensor& written, const Tensor& source, bool full_allowed) {
  MemOverlap o = memory_overlap(*written, *source);
  TG_CHECK(o != MemOverlap::Partial && (full_allowed || o != MemOverlap::Full),
           "unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
           "memory location. Please clone() the tensor before performing the operation.");
}

void check_inplace_broadcast(const Tensor& self, const Tensor& other) {
  Shape shape = broadcast_shapes(self->sizes(), other->sizes());
  TG_CHECK(shape == self->sizes(), "output with shape ", shape_str(self->sizes()), " doesn't match the broadcast shape ",
           shape_str(shape));
}

void check_inplace_leaf(const Tensor& self) {
  if (!GradMode::is_enabled()) return;
  if (self->requires_grad()) check_inplace_on_view(self);  // torch checks the view before the leaf
  const Tensor& base = self->view_base() ? self->view_base() : self;
  if (!base->is_leaf() || !base->requires_grad()) return;
  if (base != self)
    fail(ErrorKind::Runtime, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
  fail(ErrorKind::Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
}

Tensor assign_inplace(const Tensor& self, const Tensor& result, const char* constant_rule, bool allow_overlap) {
  if (!allow_overlap) check_no_internal_overlap(self);
  const Tensor& base = self->view_base() ? self->view_base() : self;
  // Any dtype: an integer result carries history only where the op recorded it for any dtype
  // (torch's in-place comparisons and fill_); copy_ decides for itself.
  bool track = GradMode::is_enabled() && (base->requires_grad() || result->requires_grad());
  if (track && base != self) check_inplace_on_view(self);
  // torch: a view that requires grad of any leaf (one requiring grad or not), or a leaf itself.
  if (track && base->is_leaf() && (base->requires_grad() || self->requires_grad())) {
    if (base != self)
      fail(ErrorKind::Runtime, "a view of a leaf Variable that requires grad is being used in an in-place operation.");
    fail(ErrorKind::Runtime, "a leaf Variable that requires grad is being used in an in-place operation.");
  }
  if (result->dtype() != self->dtype() &&
      ((is_floating(result->dtype()) && !is_floating(self->dtype())) ||
       (result->dtype() != DType::Bool && self->dtype() == DType::Bool)))
    fail(ErrorKind::Runtime, "result type ", dtype_scalar_type_name(result->dtype()),
         " can't be cast to the desired output type ", dtype_scalar_type_name(self->dtype()));  // see assign_inplace
  if (base != self && track) {
    // Through a view: the base's history is rewritten (CopySlices).
    // An integer view without history written by an op recorded for any dtype (gt_ with an operand
    // that requires grad): its node is wrapped as torch does, where a plain copy would track nothing.
    bool untracked_integer_write = !is_floating(self->dtype()) && !self->requires_grad() && result->grad_fn() &&
                                   result->output_nr() == 0 && !result->grad_fn()->next_edges.empty() &&
                                   !result->grad_fn()->next_edges[0].fn;
    if (continues_history_of(result, self) || untracked_integer_write) write_through_view(self, result);
    else setitem(self, pyb::ellipsis(), pyb::cast(result));
    return self;
  }
  {
    AutoGradMode off(false);
    ops::copy_into(self, result->dtype() == self->dtype() ? result : ops::to_dtype(result, self->dtype()));
  }
  check_inference_write(self);  // torch writes, then refuses to count the write on an inference tensor
  // The in-place op's node (made by the out-of-place op from self's old history) becomes self's.
  if (track && result->grad_fn()) {
    // self takes the node first: the saved output it becomes must unpack with that node as its
    // history (under create_graph), not with self's old one.
    self->set_grad_fn(result->grad_fn(), result->output_nr());
    result->grad_fn()->retarget_saved_output(result, self);
    if (self->view_base()) self->set_view_version(self->version());
  } else if (track && self->requires_grad()) {
    // Overwritten with a constant (fill_, zero_): the old history gets a zero gradient.
    record(constant_rule, [](FormulaNode&, const Tensor& g) -> TensorList { return {ops::zeros_like(g)}; }, self,
           {&self});
  }
  return self;
}

namespace {
// index_put's indices: a tuple or list of tensors, one per leading dim (a mask covers as many as it has).
Tensor index_put_of(const Tensor& x, pyb::handle indices, const Tensor& values, bool accumulate) {
  if (!PyTuple_Check(indices.ptr()) && !PyList_Check(indices.ptr())) bad_argument(indices, "tuple of Tensors");
  std::vector<IndexItem> items;
  size_t pos = 0;
  for (auto h : indices) {
    if (!is_tensor(h))
      fail(ErrorKind::Type, "expected Tensor as element ", pos, " in argument 0, but got ", arg_type_name(h));
    items.push_back(IndexItem{IndexItem::Tensor_});
    items.back().t = h.cast<Tensor>();
    ++pos;
  }
  TG_CHECK(!items.empty(), "sym_strides() called on an undefined Tensor");
  TG_CHECK_KIND(int64_t(items.size()) <= x->dim(), Index, "too many indices for tensor of dimension ", x->dim(),
                " (got ", items.size(), ")");
  TensorList adv;
  Tensor region;
  {
    AutoGradMode off(false);
    region = apply_basic(x, items, adv);
  }
  // A 0-d mask indexes through a new dim, which an out-of-place write cannot return.
  TG_CHECK(region == x, "index_put with a 0-dim boolean index is not supported");
  // torch runs one value through one mask as masked_fill_, which casts it.
  if (!accumulate && values->numel() == 1 && values->dtype() != x->dtype() && single_mask_index(items))
    return ops::index_put(x, adv, ops::to_dtype(values, x->dtype()), false);
  return ops::index_put(x, adv, values, accumulate);
}
}  // namespace

void bind_index(Module& m) {
  using pyb::arg;
  TensorClass cls = tensor_class(m);
  cls.def("__getitem__", &getitem).def("__setitem__", &setitem);
  def_both(m, cls, "index_put", [](const Tensor& t, pyb::handle indices, const Tensor& values, bool accumulate) {
    return index_put_of(t, indices, values, accumulate);
  }, arg("indices"), arg("values"), arg("accumulate") = false);
  cls.def("index_put_", [](const Tensor& t, pyb::handle indices, const Tensor& values, bool accumulate) {
    check_inplace_leaf(t);
    check_no_overlap(t, values, false);
    return assign_inplace(t, index_put_of(t, indices, values, accumulate));
  }, arg("indices"), arg("values"), arg("accumulate") = false);
}

}  // namespace tapegrad::py

// Joining tensors (cat, stack) and the raw copy into an existing tensor they build on.
#include "autograd/function.h"
#include "ops/helpers.h"

namespace tapegrad::ops {

void copy_into(const Tensor& dst, const Tensor& src) {
  check_same_device(dst, src);
  TG_CHECK(is_expandable_to(src->sizes(), dst->sizes()), "output with shape ", shape_str(dst->sizes()),
           " doesn't match the broadcast shape ", shape_str(broadcast_shapes(dst->sizes(), src->sizes())));
  bool same_memory = src->data_ptr() == dst->data_ptr() && src->dtype() == dst->dtype() &&
                     src->sizes() == dst->sizes() && src->strides() == dst->strides();
  if (!same_memory) kernels(dst).copy(*src, *dst);  // x.copy_(x) writes nothing
  dst->bump_version();
}

namespace {
// All-dims-but-one must agree; the result dtype promotes over every input.
DType check_cat_inputs(const TensorList& ts, int64_t d, const char* fn) {
  TG_CHECK_KIND(!ts.empty(), Value, "torch.", fn, "(): expected a non-empty list of Tensors");
  DType dt = ts[0]->dtype();
  const Tensor* ref = nullptr;
  for (const Tensor& t : ts) {
    dt = promote_types(dt, t->dtype());
    check_same_device(ts[0], t);
    if (t->dim() == 1 && t->numel() == 0) continue;  // torch's legacy: skip 1-D empty tensors
    if (!ref) {
      ref = &t;
      continue;
    }
    TG_CHECK((*ref)->dim() == t->dim(), "Tensors must have same number of dimensions: got ", (*ref)->dim(), " and ",
             t->dim());
    for (int64_t i = 0; i < t->dim(); ++i) {
      if (i == d) continue;
      TG_CHECK((*ref)->sizes()[size_t(i)] == t->sizes()[size_t(i)], "Sizes of tensors must match except in dimension ",
               d, ". Expected size ", (*ref)->sizes()[size_t(i)], " but got size ", t->sizes()[size_t(i)],
               " for tensor number ", &t - &ts[0], " in the list.");
    }
  }
  return dt;
}
}  // namespace

Tensor cat(const TensorList& ts, int64_t dim) {
  const Tensor* ref = nullptr;
  for (const Tensor& t : ts)
    if (!(t->dim() == 1 && t->numel() == 0)) {
      ref = &t;
      break;
    }
  for (size_t i = 0; i < ts.size(); ++i)  // before the dim is checked, as torch does
    TG_CHECK(ts[i]->dim() > 0, "zero-dimensional tensor (at position ", i, ") cannot be concatenated");
  int64_t d = ref ? wrap_dim(dim, (*ref)->dim()) : 0;
  DType dt = check_cat_inputs(ts, d, "cat");
  Shape shape = ref ? (*ref)->sizes() : Shape{0};
  int64_t total = 0;
  Shape pieces;
  for (const Tensor& t : ts) {
    int64_t s = (t->dim() == 1 && t->numel() == 0 && ref && (*ref)->dim() != 1) ? 0 : (t->dim() ? t->sizes()[size_t(d)] : 0);
    pieces.push_back(s);
    total += s;
  }
  shape[size_t(d)] = total;
  Tensor out = empty_like_shape(ts[0], shape, dt);
  {
    AutoGradMode off(false);
    int64_t off_ = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
      if (pieces[i] == 0) continue;
      copy_into(slice(out, d, off_, off_ + pieces[i], 1), ts[i]);
      off_ += pieces[i];
    }
  }
  std::vector<const Tensor*> inputs;
  for (const Tensor& t : ts) inputs.push_back(&t);
  bool needs = false, normal = false;  // an op on inference tensors alone records nothing
  for (const Tensor& t : ts) needs = needs || t->requires_grad(), normal = normal || !t->is_inference();
  if (needs && normal && GradMode::is_enabled()) {
    auto node = std::make_shared<FormulaNode>("CatBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
      TensorList grads;
      int64_t off = 0;
      for (size_t i = 0; i < n.shape.size(); ++i) {
        int64_t s = n.shape[i];
        if (!n.needs_grad(i)) grads.emplace_back();
        else if (n.next_edges[i].shape.size() == 1 && s == 0) grads.push_back(full({0}, 0.0, g->dtype(), g->device()));
        else grads.push_back(slice(g, n.ints[0], off, off + s, 1));  // torch narrows empty pieces too
        off += s;
      }
      return grads;
    });
    for (const Tensor& t : ts) node->next_edges.push_back(t->requires_grad() ? gradient_edge(t) : Edge());
    node->shape = pieces;
    node->ints = {d};
    out->set_grad_fn(std::move(node), 0);
  }
  return out;
}

Tensor stack(const TensorList& ts, int64_t dim) {
  TG_CHECK(!ts.empty(), "stack expects a non-empty TensorList");
  for (size_t i = 1; i < ts.size(); ++i)
    TG_CHECK(ts[i]->sizes() == ts[0]->sizes(), "stack expects each tensor to be equal size, but got ",
             shape_str(ts[0]->sizes()), " at entry 0 and ", shape_str(ts[i]->sizes()), " at entry ", i);
  int64_t d = wrap_dim(dim, ts[0]->dim() + 1);
  DType dt = ts[0]->dtype();
  for (const Tensor& t : ts) dt = promote_types(dt, t->dtype()), check_same_device(ts[0], t);
  Shape shape = ts[0]->sizes();
  shape.insert(shape.begin() + d, int64_t(ts.size()));
  Tensor out = empty_like_shape(ts[0], shape, dt);
  {
    AutoGradMode off(false);
    for (size_t i = 0; i < ts.size(); ++i) copy_into(select(out, d, int64_t(i)), ts[i]);
  }
  bool needs = false, normal = false;  // an op on inference tensors alone records nothing
  for (const Tensor& t : ts) needs = needs || t->requires_grad(), normal = normal || !t->is_inference();
  if (needs && normal && GradMode::is_enabled()) {
    auto node = std::make_shared<FormulaNode>("StackBackward0", [](FormulaNode& n, const Tensor& g) -> TensorList {
      TensorList grads;
      for (size_t i = 0; i < n.next_edges.size(); ++i)
        grads.push_back(n.needs_grad(i) ? select(g, n.ints[0], int64_t(i)) : Tensor());
      return grads;
    });
    for (const Tensor& t : ts) node->next_edges.push_back(t->requires_grad() ? gradient_edge(t) : Edge());
    node->ints = {d};
    out->set_grad_fn(std::move(node), 0);
  }
  return out;
}

}  // namespace tapegrad::ops

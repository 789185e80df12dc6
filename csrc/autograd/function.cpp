// Linking a new node into the tape.
#include "autograd/function.h"

#include <algorithm>

#include "core/error.h"
#include "ops/ops.h"

namespace tapegrad {

Tensor positions_in_base(const Shape& base_sizes, const Shape& base_strides, int64_t base_offset, Device device) {
  AutoGradMode off(false);
  int64_t extent = base_offset + 1, numel = 1;
  for (size_t d = 0; d < base_sizes.size(); ++d) {
    extent += (base_sizes[d] - 1) * base_strides[d];
    numel *= base_sizes[d];
  }
  if (numel == 0) return TensorImpl::empty(base_sizes, DType::Int64, device);
  auto storage = Storage::allocate(size_t(extent) * sizeof(int64_t), device);
  ops::fill_(TensorImpl::view_of(storage, {extent}, {1}, 0, DType::Int64), 0.0);  // places between the base's read 0
  Tensor laid = TensorImpl::view_of(storage, base_sizes, base_strides, base_offset, DType::Int64);
  ops::copy_into(laid, ops::view(ops::arange(0, double(numel), 1, DType::Int64, device), base_sizes));
  return laid;
}

// The view's gradient summed into zeros of the base's shape at the places the view reads (a place
// read twice, as through an expand, gets both). From differentiable ops, for create_graph.
TensorList AsStridedView::apply(TensorList&& grads) {
  const Tensor& g = grads[0];
  int64_t numel = 1;
  for (int64_t s : base_sizes) numel *= s;
  Tensor at;
  {
    AutoGradMode off(false);
    Tensor laid = positions_in_base(base_sizes, base_strides, base_offset, g->device());
    at = ops::reshape(TensorImpl::view_of(laid->storage(), sizes, strides, offset, DType::Int64), {-1});
  }
  Tensor zeros = ops::full({numel}, 0.0, g->dtype(), g->device());
  if (numel == 0) return {ops::view(zeros, base_sizes)};
  return {ops::view(ops::index_put(zeros, {at}, ops::reshape(g, {-1}), true), base_sizes)};
}

void rebase_view_history(const Tensor& t) {
  const Tensor& base = t->view_base();
  auto node = std::make_shared<AsStridedView>();
  node->sizes = t->sizes();
  node->strides = t->strides();
  node->offset = t->storage_offset();
  node->base_sizes = base->sizes();
  node->base_strides = base->strides();
  node->base_offset = base->storage_offset();
  node->next_edges = {gradient_edge(base)};
  t->set_grad_fn(std::move(node), 0);
  t->set_view_version(t->version());
}

namespace {
// torch's handle_view_on_rebase: a view made without grad (or in inference mode, or as one output of a
// multi-view op) may not take history from an in-place write, whether the write hits the view itself
// or, `indirect`, its base or another view of it (noticed when the view's history is next read).
void refuse_view_rebase(const Tensor& t, bool indirect) {
  using Kind = TensorImpl::ViewKind;
  const Kind kind = t->view_kind();
  if (kind == Kind::Plain || (kind == Kind::OutputOfMultiViewOp && !t->grad_fn())) return;
  // torch names the view by its node ("Output 0 of Slice") when it has one: then it is a view
  // made with grad of a view made without.
  std::string output;
  if (t->grad_fn()) {
    std::string op = t->grad_fn()->name();
    auto pos = op.rfind("Backward");
    output = "Output " + std::to_string(t->output_nr()) + " of " + (pos == std::string::npos ? op : op.substr(0, pos));
  }
  const char* modified = indirect ? " its base or another view of its base has been modified inplace"
                                  : " is being modified inplace";
  if (kind == Kind::OutputOfMultiViewOp)
    fail(ErrorKind::Runtime, output, " is a view and", modified, ". This view is the output of a function that "
         "returns multiple views. Such functions do not allow the output views to be modified inplace. You should "
         "replace the inplace operation by an out-of-place one.");
  const bool inference = kind == Kind::MadeInInferenceMode;
  fail(ErrorKind::Runtime, output.empty() ? std::string("A view was") : output + " is a view of a view which was",
       " created in ", inference ? "inference mode" : "no_grad mode", " and", modified,
       inference ? " in normal mode" : " with grad mode enabled", ". Given that this use case is ambiguous and "
       "error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both "
       "inside the ", inference ? "inference_mode" : "no_grad", " block (if you don't want the inplace to be "
       "tracked) or both outside (if you want the inplace to be tracked).");
}
}  // namespace

void check_inplace_on_view(const Tensor& t) {
  // Callers write with history (self or the written value requires grad), as torch's check_inplace asks.
  if (t->view_base() && GradMode::is_enabled()) refuse_view_rebase(t, false);
}

void refresh_view_history(const Tensor& t) {
  // As torch's grad_fn getter, in any grad mode: a view whose base was written since its history
  // was made gets new history, unless nothing about it is differentiable.
  const Tensor& base = t->view_base();
  if (!base || t->version() == t->view_version() || (!t->grad_fn() && !base->requires_grad())) return;
  refuse_view_rebase(t, true);
  rebase_view_history(t);
}

Edge gradient_edge(const Tensor& t) {
  if (t->view_base()) refresh_view_history(t);
  Edge e;
  e.shape = t->sizes();
  e.dtype = t->dtype();
  e.device = t->device();
  if (t->grad_fn()) {
    e.fn = t->grad_fn();
    e.input_nr = t->output_nr();
  } else if (t->requires_grad_flag()) {
    e.fn = TensorImpl::grad_accumulator(t);  // not a view that merely follows its base (made under no_grad)
  }
  return e;
}

namespace {
// An op's output that it computed as a view of its own temporaries (under no grad, before
// recording its node) is a new tensor to the caller, as every non-view op's output is in torch.
void claim_output(const Tensor& out) {
  if (out->view_kind() == TensorImpl::ViewKind::MadeWithoutGrad) out->forget_view_base();
}

// torch runs an op's autograd only when one of its tensors carries the autograd dispatch key, which
// inference tensors lack: an op whose tensors are all inference tensors records nothing, even when
// they require grad. A Python number torch wraps as a tensor (a null input here) carries the key.
// Normal tensors among the running op's other arguments (AutogradKeyFrom) carry it too.
thread_local int normal_arguments_held = 0;

template <class Inputs>
bool reaches_autograd(const Inputs& inputs) {
  if (normal_arguments_held > 0) return true;
  for (const Tensor* t : inputs)
    if (!t || (*t && !(*t)->is_inference())) return true;
  return false;
}

template <class Inputs>
void link_edges(FormulaNode& node, const Inputs& inputs) {
  node.next_edges.reserve(inputs.size());
  for (const Tensor* t : inputs) {
    if (t && *t && (*t)->requires_grad()) {
      node.next_edges.push_back(gradient_edge(*t));
    } else {
      node.next_edges.emplace_back();
    }
  }
}
}  // namespace

AutogradKeyFrom::AutogradKeyFrom(std::initializer_list<const Tensor*> args) {
  for (const Tensor* t : args) counted_ = counted_ || (t && *t && !(*t)->is_inference());
  if (counted_) ++normal_arguments_held;
}
AutogradKeyFrom::AutogradKeyFrom(const TensorList& args) {
  for (const Tensor& t : args) counted_ = counted_ || (t && !t->is_inference());
  if (counted_) ++normal_arguments_held;
}
AutogradKeyFrom::~AutogradKeyFrom() {
  if (counted_) --normal_arguments_held;
}

FormulaNode* record(const char* name, BackwardFormula formula, const Tensor& out,
                    std::initializer_list<const Tensor*> inputs) {
  // Integer and bool results carry no gradient (torch's rule for every op, in-place writes included).
  if (!is_floating(out->dtype())) {
    // But an integer input that requires grad (written in place by a comparison with an operand that
    // does) makes torch record, and its history check refuses the result's dtype.
    for (const Tensor* t : inputs)
      if (t && *t && (*t)->requires_grad() && !is_floating((*t)->dtype()) && GradMode::is_enabled() && !out->is_inference())
        fail(ErrorKind::Runtime, "Autograd not support dtype: ", dtype_scalar_type_name(out->dtype()));
    return nullptr;
  }
  return record_any_dtype(name, formula, out, inputs);
}

FormulaNode* record_inference_write(const char* name, BackwardFormula formula, const Tensor& out, const Tensor& x) {
  if (!x->is_inference() || out->is_inference()) return nullptr;
  AutogradKeyFrom key({&out});
  return record(name, std::move(formula), out, {&x});
}

FormulaNode* record_any_dtype(const char* name, BackwardFormula formula, const Tensor& out,
                              std::initializer_list<const Tensor*> inputs) {
  // Inference tensors keep no history.
  if (!any_requires_grad(inputs) || out->is_inference() || !reaches_autograd(inputs)) return nullptr;
  auto node = std::allocate_shared<FormulaNode>(PoolAllocator<FormulaNode>(), name, formula);
  link_edges(*node, inputs);
  if (AnomalyMode::is_enabled() && AnomalyMode::capture_trace) {
    node->hooks.ensure().forward_trace = AnomalyMode::capture_trace();
  }
  FormulaNode* raw = node.get();
  claim_output(out);
  out->set_grad_fn(std::move(node), 0);
  return raw;
}

FormulaNode* record_multi(const char* name, MultiBackwardFormula formula, const TensorList& outs,
                          const std::vector<const Tensor*>& inputs) {
  if (!GradMode::is_enabled() || (!outs.empty() && outs[0]->is_inference())) return nullptr;
  bool needed = false;
  for (const Tensor* t : inputs) needed = needed || (t && *t && (*t)->requires_grad());
  // No outputs (unbind or split of an empty dim): nothing would own the node, and the caller would
  // fill in a freed one. There is no gradient to route either, so there is no node (as in torch).
  if (!needed || outs.empty() || !reaches_autograd(inputs)) return nullptr;
  auto node = std::make_shared<FormulaNode>(name, formula, uint32_t(outs.size()));
  link_edges(*node, inputs);
  for (size_t i = 0; i < outs.size(); ++i) {
    claim_output(outs[i]);
    outs[i]->set_grad_fn(node, uint32_t(i));
  }
  return node.get();
}

}  // namespace tapegrad

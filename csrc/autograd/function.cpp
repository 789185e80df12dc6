// Linking a new node into the tape.
#include "autograd/function.h"

namespace tapegrad {

Edge gradient_edge(const Tensor& t) {
  Edge e;
  e.shape = t->sizes();
  e.dtype = t->dtype();
  e.device = t->device();
  if (t->grad_fn()) {
    e.fn = t->grad_fn();
    e.input_nr = t->output_nr();
  } else if (t->requires_grad()) {
    e.fn = t->grad_accumulator();
  }
  return e;
}

namespace {
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

FormulaNode* record(const char* name, BackwardFormula formula, const Tensor& out,
                    std::initializer_list<const Tensor*> inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::allocate_shared<FormulaNode>(PoolAllocator<FormulaNode>(), name, formula);
  link_edges(*node, inputs);
  if (AnomalyMode::is_enabled() && AnomalyMode::capture_trace)
    node->forward_trace = std::make_unique<std::string>(AnomalyMode::capture_trace());
  FormulaNode* raw = node.get();
  out->set_grad_fn(std::move(node), 0);
  return raw;
}

FormulaNode* record_multi(const char* name, MultiBackwardFormula formula, const TensorList& outs,
                          const std::vector<const Tensor*>& inputs) {
  if (!GradMode::is_enabled()) return nullptr;
  bool needed = false;
  for (const Tensor* t : inputs) needed = needed || (t && *t && (*t)->requires_grad());
  if (!needed) return nullptr;
  auto node = std::make_shared<FormulaNode>(name, formula, uint32_t(outs.size()));
  link_edges(*node, inputs);
  for (size_t i = 0; i < outs.size(); ++i) outs[i]->set_grad_fn(node, uint32_t(i));
  return node.get();
}

}  // namespace tapegrad

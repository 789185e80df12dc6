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

FormulaNode* record(const char* name, BackwardFormula formula, const Tensor& out,
                    std::initializer_list<const Tensor*> inputs) {
  if (!any_requires_grad(inputs)) return nullptr;
  auto node = std::make_shared<FormulaNode>(name, formula);
  node->next_edges.reserve(inputs.size());
  for (const Tensor* t : inputs) {
    if (t && *t && (*t)->requires_grad()) {
      node->next_edges.push_back(gradient_edge(*t));
    } else {
      node->next_edges.emplace_back();
    }
  }
  FormulaNode* raw = node.get();
  out->set_grad_fn(std::move(node), 0);
  return raw;
}

}  // namespace tapegrad

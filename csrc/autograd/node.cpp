// Node teardown without recursion, and AccumulateGrad's rule for adding into .grad.
#include "autograd/node.h"

#include "autograd/grad_mode.h"
#include "autograd/hooks.h"
#include "ops/ops.h"

namespace tapegrad {

namespace {
// Nodes whose last reference was dropped while another release was already draining.
thread_local std::vector<std::shared_ptr<Node>> t_pending;
thread_local bool t_draining = false;
}  // namespace

void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  t_pending.push_back(std::move(node));
  if (t_draining) return;  // the outer loop below will free it
  t_draining = true;
  while (!t_pending.empty()) {
    std::shared_ptr<Node> n = std::move(t_pending.back());
    t_pending.pop_back();
    n.reset();  // ~Node pushes its own last-referenced children onto t_pending
  }
  t_draining = false;
}

Node::~Node() {
  for (auto& e : next_edges) release_node(std::move(e.fn));
}

uint32_t next_sequence_nr() {
  thread_local uint32_t counter = 0;
  return counter == UINT32_MAX - 1 ? counter : counter++;  // below the accumulators' UINT32_MAX
}

std::shared_ptr<Node> make_accumulate_grad(Tensor leaf) { return std::make_shared<AccumulateGrad>(std::move(leaf)); }

TensorList AccumulateGrad::apply(TensorList&& grads) {
  // A leaf detached in place (detach_) since the graph was built no longer collects gradients.
  if (grads[0] && variable->requires_grad()) accumulate_into_grad(*variable, grads[0]);
  return {};
}

}  // namespace tapegrad

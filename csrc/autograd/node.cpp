// Node teardown without recursion, and AccumulateGrad's rule for adding into .grad.
#include "autograd/node.h"

#include "autograd/grad_mode.h"
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

std::shared_ptr<Node> make_accumulate_grad(Tensor leaf) { return std::make_shared<AccumulateGrad>(std::move(leaf)); }

void move_retains_grad_hook(Node& from, uint32_t from_nr, Node& to, uint32_t to_nr) {
  if (!from.hooks) return;
  auto& hooks = from.hooks->retains_grad;
  for (auto it = hooks.begin(); it != hooks.end(); ++it) {
    if (it->first != from_nr) continue;
    if (!to.hooks) to.hooks = std::make_unique<NodeHooks>();
    to.hooks->retains_grad.emplace_back(to_nr, std::move(it->second));
    hooks.erase(it);
    return;
  }
}

TensorList AccumulateGrad::apply(TensorList&& grads) {
  Tensor& g = grads[0];
  if (!g) return {};
  std::lock_guard<std::mutex> lock(mu);
  const Tensor& old = variable->grad();
  if (!old) {
    // Steal the incoming buffer when nobody else can see it and it has the leaf's layout;
    // otherwise copy, so .grad never aliases a tensor the user holds.
    bool private_buffer = g.use_count() == 1 && g->storage().use_count() == 1 && g->strides() == variable->strides();
    variable->set_grad(private_buffer && !GradMode::is_enabled() ? g : ops::clone(g));
  } else if (GradMode::is_enabled()) {
    variable->set_grad(ops::add(old, g));  // create_graph: keep the sum differentiable
  } else {
    ops::add_(old, g);
  }
  return {};
}

}  // namespace tapegrad

// Adding, removing and copying hooks under the hooks lock, and accumulation into .grad.
#include "autograd/hooks.h"

#include "autograd/grad_mode.h"
#include "ops/ops.h"

namespace tapegrad {
namespace {

// Moves the entry with this id out of v (the caller holds the lock and destroys it unlocked).
template <class Vec, class Out>
bool take_id(Vec& v, int id, Out& out) {
  for (auto it = v.begin(); it != v.end(); ++it)
    if (std::get<0>(*it) == id) {
      out = std::move(*it);
      v.erase(it);
      return true;
    }
  return false;
}

}  // namespace

std::mutex& hooks_mutex() {
  static std::mutex* mu = new std::mutex();  // never destroyed: graphs may be freed during exit
  return *mu;
}

void add_tensor_pre_hook(Node& node, int id, uint32_t output_nr, GradHook hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  node.hooks.ensure().tensor_pre.emplace_back(id, output_nr, std::move(hook));
}

void add_node_pre_hook(Node& node, int id, NodePreHook hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  node.hooks.ensure().pre.emplace_back(id, std::move(hook));
}

void add_node_post_hook(Node& node, int id, NodePostHook hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  node.hooks.ensure().post.emplace_back(id, std::move(hook));
}

void add_leaf_pre_hook(TensorImpl& leaf, int id, GradHook hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  leaf.leaf_hooks().pre.emplace_back(id, std::move(hook));
}

void add_post_accumulate_hook(TensorImpl& leaf, int id, PostAccumulateHook hook) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  leaf.leaf_hooks().post_accumulate.emplace_back(id, std::move(hook));
}

void remove_hook(Node& node, int id) {
  decltype(NodeHooks::tensor_pre)::value_type a;
  decltype(NodeHooks::pre)::value_type b;
  decltype(NodeHooks::post)::value_type c;
  std::lock_guard<std::mutex> lock(hooks_mutex());
  NodeHooks* h = node.hooks.get();
  if (h && !take_id(h->tensor_pre, id, a) && !take_id(h->pre, id, b)) take_id(h->post, id, c);
}  // a, b, c are destroyed after the lock (declared before it)

void move_retain_grad_hook(Node& from, uint32_t from_nr, Node& to, uint32_t to_nr) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  if (!from.hooks) return;
  auto& hooks = from.hooks->tensor_pre;
  for (auto it = hooks.begin(); it != hooks.end(); ++it) {
    if (std::get<0>(*it) != kRetainGradHookId || std::get<1>(*it) != from_nr) continue;
    to.hooks.ensure().tensor_pre.emplace_back(kRetainGradHookId, to_nr, std::move(std::get<2>(*it)));
    hooks.erase(it);
    return;
  }
}

void remove_hook(TensorImpl& leaf, int id) {
  decltype(TensorImpl::LeafHooks::pre)::value_type a;
  decltype(TensorImpl::LeafHooks::post_accumulate)::value_type b;
  std::lock_guard<std::mutex> lock(hooks_mutex());
  TensorImpl::LeafHooks* h = leaf.leaf_hooks_if_any();
  if (h && !take_id(h->pre, id, a)) take_id(h->post_accumulate, id, b);
}

void clear_hooks(Node& node) {
  NodeHookLists dead;
  std::lock_guard<std::mutex> lock(hooks_mutex());
  if (NodeHooks* h = node.hooks.get()) {
    dead.tensor_pre.swap(h->tensor_pre);
    dead.pre.swap(h->pre);
    dead.post.swap(h->post);
  }
}

void clear_hooks(TensorImpl& leaf) {
  TensorImpl::LeafHooks dead;
  std::lock_guard<std::mutex> lock(hooks_mutex());
  if (TensorImpl::LeafHooks* h = leaf.leaf_hooks_if_any()) {
    dead.pre.swap(h->pre);
    dead.post_accumulate.swap(h->post_accumulate);
  }
}

NodeHookLists copy_hooks(const NodeHooks& hooks) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  return {hooks.tensor_pre, hooks.pre, hooks.post};
}

TensorImpl::LeafHooks copy_hooks(const TensorImpl::LeafHooks& hooks) {
  std::lock_guard<std::mutex> lock(hooks_mutex());
  return {hooks.pre, hooks.post_accumulate};
}

void accumulate_into_grad(TensorImpl& t, const Tensor& g) {
  if (GradMode::is_enabled()) {
    // create_graph: the sum must be recorded, and recording may call Python (anomaly traces), so
    // it is made outside the lock and installed only if no other thread changed .grad meanwhile.
    for (;;) {
      Tensor old = t.grad();
      Tensor sum = old ? ops::add(old, g) : ops::clone(g);
      if (t.replace_grad_if(old, std::move(sum))) return;
    }
  }
  // Otherwise in place under the lock (plain kernels, no recording): concurrent passes into one
  // leaf add up as if run one after the other, and a `.grad = None` lands between two of them.
  t.update_grad([&](Tensor& slot) {
    if (!slot) {
      // Steal the incoming buffer when nobody else can see it and it has the leaf's layout;
      // otherwise copy, so .grad never aliases a tensor the user holds.
      bool private_buffer = g.use_count() == 1 && g->storage().use_count() == 1 && g->strides() == t.strides();
      slot = private_buffer ? g : ops::clone(g);
    } else {
      ops::add_(slot, g);
    }
  });
}

GradHook retain_grad_hook(std::weak_ptr<TensorImpl> tensor) {
  return [weak = std::move(tensor)](const Tensor& g) -> Tensor {
    if (auto t = weak.lock()) {
      // Out of place, as torch's retain_grad: each backward leaves a new .grad tensor. Made
      // outside the lock, installed only if no other thread changed .grad meanwhile.
      for (;;) {
        Tensor old = t->grad();
        Tensor next = old ? ops::add(old, g) : ops::clone(g);  // under create_graph both keep a graph, as torch
        if (t->replace_grad_if(old, std::move(next))) break;
      }
    }
    return Tensor();
  };
}

}  // namespace tapegrad

// Hook lists shared with backward passes in other threads: they change under one lock, and the
// engine runs a copy taken under it, so a hook may add or remove hooks while hooks run.
#pragma once
#include <mutex>

#include "autograd/node.h"

namespace tapegrad {

using PostAccumulateHook = std::function<void(const Tensor&)>;

// Guards every node's and leaf's hook lists. Never held while waiting for the GIL or running a hook.
// The lists change only from Python (GIL held) through the functions below, so code holding the
// GIL (the garbage collector's traversal) may read them without this lock.
std::mutex& hooks_mutex();

// retain_grad's hooks carry this id: they are never removed, and run after the other tensor
// hooks of the same node, as torch runs them.
constexpr int kRetainGradHookId = 0;

// Registration; `id` is the caller's handle for removal.
void add_tensor_pre_hook(Node& node, int id, uint32_t output_nr, GradHook hook);
void add_node_pre_hook(Node& node, int id, NodePreHook hook);
void add_node_post_hook(Node& node, int id, NodePostHook hook);
void add_leaf_pre_hook(TensorImpl& leaf, int id, GradHook hook);
void add_post_accumulate_hook(TensorImpl& leaf, int id, PostAccumulateHook hook);

// Removes the hook with this id from whichever list holds it. It is destroyed after the lock is
// released: it may own a Python callable, whose release needs the GIL.
void remove_hook(Node& node, int id);
void remove_hook(TensorImpl& leaf, int id);

// Drops all hooks at once (the garbage collector breaking a cycle through them), destroying
// them unlocked as above.
void clear_hooks(Node& node);
void clear_hooks(TensorImpl& leaf);

// What the engine runs for one node: copies of its lists.
struct NodeHookLists {
  decltype(NodeHooks::tensor_pre) tensor_pre;
  decltype(NodeHooks::pre) pre;
  decltype(NodeHooks::post) post;
};
NodeHookLists copy_hooks(const NodeHooks& hooks);
TensorImpl::LeafHooks copy_hooks(const TensorImpl::LeafHooks& hooks);

// A tensor that retains its grad got a new node (an in-place op): its retain_grad hook follows it,
// so .grad is the gradient of the tensor's current value, as in torch.
void move_retain_grad_hook(Node& from, uint32_t from_nr, Node& to, uint32_t to_nr);

// retain_grad's hook: adds each gradient of a non-leaf into its .grad (weakly held: the node must
// not keep its own output alive).
GradHook retain_grad_hook(std::weak_ptr<TensorImpl> tensor);

// Adds `g` into t's .grad as AccumulateGrad and retain_grad do: serialised with every other
// reader and writer of that .grad, in any thread.
void accumulate_into_grad(TensorImpl& t, const Tensor& g);

}  // namespace tapegrad

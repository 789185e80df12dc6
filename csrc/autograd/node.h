// Node (a grad_fn): its edges to the nodes of its inputs, and the iterative release that frees long graphs.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <memory>
#include <mutex>
#include <vector>

#include "core/compact_shape.h"
#include "core/lazy_owned.h"
#include "core/pool.h"
#include "core/tensor.h"

namespace tapegrad {

struct AccumulateGrad;

// Where the gradient for one forward input goes, plus what that input looked like, so the
// engine can sum broadcast gradients back to its shape and check what a node returns.
struct Edge {
  std::shared_ptr<Node> fn;  // null when the input needs no gradient (torch shows (None, 0))
  CompactShape shape;
  uint32_t input_nr = 0;
  DType dtype = DType::Float32;
  Device device;
};

// What one backward pass keeps per node while it runs. It lives on the node so that a pass over
// a million nodes touches each node's memory, not a side table; a pass claims it through
// `owner` and another pass running at the same time over the same node uses a side table.
struct NodeTaskState {
  std::atomic<uint32_t> owner{0};  // the claiming pass's id (ids of passes running at once differ)
  int dependencies = 0;
  TensorList buffer;  // summed gradients, one per forward output of the node
};

// A hook on gradients: gets a gradient, returns a replacement or null to keep it.
using GradHook = std::function<Tensor(const Tensor&)>;
// A hook on a whole node: gets (grads of its outputs [, grads of its inputs]) and may replace the
// list it is allowed to change; returns an empty optional to keep it.
using NodePreHook = std::function<std::optional<TensorList>(const TensorList& grad_outputs)>;
using NodePostHook = std::function<std::optional<TensorList>(const TensorList& grad_inputs, const TensorList& grad_outputs)>;

// Hooks registered on a node (by tensor.register_hook / retain_grad on its outputs, or on the
// node itself); allocated only when one is registered. The lists change only under
// hooks_mutex() (autograd/hooks.h); the engine runs a copy.
struct NodeHooks {
  std::vector<std::tuple<int, uint32_t, GradHook>> tensor_pre;  // (id, output_nr, hook)
  std::vector<std::pair<int, NodePreHook>> pre;
  std::vector<std::pair<int, NodePostHook>> post;
  std::string forward_trace;  // under anomaly detection: where the forward op ran
};

// Numbers nodes in creation order, per thread (as torch's sequence_nr): the engine runs the ready
// node created last first, so hooks, accumulation order and what ran before an error are torch's.
// 32 bits, to fit beside `applying` in what would be padding (a million-node graph costs no more
// memory); the order is off only for a graph straddling a thread's 4-billionth node.
uint32_t next_sequence_nr();

struct Node {
  virtual ~Node();
  virtual const char* name() const = 0;
  // Gradients of the forward outputs in, one gradient per next edge out (null = zero).
  virtual TensorList apply(TensorList&& grads) = 0;
  // Drops saved tensors after a backward without retain_graph.
  virtual void release_saved() {}
  // An in-place op wrote its result `from` into `to`: a saved output now means `to` (so later
  // in-place writes to `to` are caught by the version check, as in torch).
  virtual void retarget_saved_output(const Tensor& from, const Tensor& to) {}
  virtual uint32_t num_outputs() const { return 1; }
  // The engine asks this of every node it runs; cheaper than a dynamic_cast.
  virtual AccumulateGrad* as_accumulate_grad() { return nullptr; }

  std::vector<Edge, PoolAllocator<Edge>> next_edges;
  uint32_t sequence_nr = next_sequence_nr();
  // Set while some pass runs the node's apply: passes sharing a node take turns, so one cannot
  // free the saved tensors another is reading (it gets torch's "backward a second time" error).
  std::atomic<bool> applying{false};
  NodeTaskState task_state;
  LazyOwned<NodeHooks> hooks;  // also holds the forward trace under anomaly detection
};

// Adds gradients into a leaf's .grad.
struct AccumulateGrad final : Node {
  // torch numbers leaves' accumulators last of all, so they run as soon as they are ready.
  explicit AccumulateGrad(Tensor v) : variable(std::move(v)) { sequence_nr = UINT32_MAX; }
  const char* name() const override { return "torch::autograd::AccumulateGrad"; }
  TensorList apply(TensorList&& grads) override;
  AccumulateGrad* as_accumulate_grad() override { return this; }
  Tensor variable;
};

std::shared_ptr<Node> make_accumulate_grad(Tensor leaf);

// Drops one reference to a node. When it was the last, the node is destroyed by a loop
// rather than by nested destructors, so a 1,000,000-node chain cannot overflow the stack.
void release_node(std::shared_ptr<Node>&& node);

}  // namespace tapegrad

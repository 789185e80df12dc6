// The engine: counts dependencies, runs each node once all its gradients have arrived, sums
// gradients per input, and makes every returned gradient fit its input's shape and dtype.
#include "autograd/engine.h"

#include <cstdint>
#include <vector>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/ops.h"

namespace tapegrad {
namespace {

// The virtual node that hands the seed gradients to the real roots.
struct GraphRoot final : Node {
  explicit GraphRoot(TensorList g) : grads(std::move(g)) {}
  const char* name() const override { return "GraphRoot"; }
  TensorList apply(TensorList&&) override { return std::move(grads); }
  TensorList grads;
};

// Captures the gradient flowing into a given edge, for autograd.grad's inputs.
struct Capture {
  Node* fn;
  uint32_t input_nr;
  Tensor grad;
};

struct NodeState {
  int dependencies = 0;
  TensorList buffer;  // summed gradients, one per forward output of the node
};

// Per-backward state of every reachable node, in one flat open-addressing table: a million-node
// graph costs one probe per visit instead of a node-based hash map's scattered allocations.
class NodeTable {
 public:
  explicit NodeTable(size_t expected) { grow(expected * 2 + 16); }

  // The state of n, inserting it if absent; `fresh` tells which.
  NodeState& get(Node* n, bool* fresh = nullptr) {
    if ((count_ + 1) * 2 > keys_.size()) grow(keys_.size() * 2);
    size_t i = slot(n);
    if (keys_[i] != n) {
      keys_[i] = n;
      ++count_;
      if (fresh) *fresh = true;
    } else if (fresh) {
      *fresh = false;
    }
    return states_[i];
  }

 private:
  size_t slot(Node* n) const {
    size_t mask = keys_.size() - 1;
    size_t i = (reinterpret_cast<uintptr_t>(n) >> 4) * 0x9E3779B97F4A7C15ull >> 20 & mask;
    while (keys_[i] && keys_[i] != n) i = (i + 1) & mask;
    return i;
  }
  void grow(size_t want) {
    size_t cap = 16;
    while (cap < want) cap *= 2;
    std::vector<Node*> old_keys(cap, nullptr);
    std::vector<NodeState> old_states(cap);
    old_keys.swap(keys_);
    old_states.swap(states_);
    for (size_t i = 0; i < old_keys.size(); ++i) {
      if (!old_keys[i]) continue;
      size_t j = slot(old_keys[i]);
      keys_[j] = old_keys[i];
      states_[j] = std::move(old_states[i]);
    }
  }

  std::vector<Node*> keys_;
  std::vector<NodeState> states_;
  size_t count_ = 0;
};

// The central check: a gradient must match its input's shape (summing broadcast dims) and dtype.
Tensor fit_to_edge(Tensor g, const Edge& e, const Node& producer, size_t index) {
  if (g->sizes() != e.shape) {
    if (!is_expandable_to(e.shape, g->sizes())) {
      fail(ErrorKind::Runtime, "Function ", producer.name(), " returned an invalid gradient at index ", index,
           " - got ", shape_str(g->sizes()), " but expected shape compatible with ", shape_str(e.shape));
    }
    g = ops::sum_to(g, e.shape);
  }
  if (g->dtype() != e.dtype) g = ops::to_dtype(g, e.dtype);
  return g;
}

}  // namespace

TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused) {
  // Seed edges and gradients.
  TensorList seeds;
  auto root = std::make_shared<GraphRoot>(TensorList{});
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (g && g->sizes() != out->sizes()) {
      fail(ErrorKind::Runtime, "Mismatch in shape: grad_output[", i, "] has a shape of torch.Size(",
           shape_str(g->sizes()), ") and output[", i, "] has a shape of torch.Size(", shape_str(out->sizes()), ").");
    }
    if (!out->requires_grad())
      fail(ErrorKind::Runtime, "element ", i, " of tensors does not require grad and does not have a grad_fn");
    if (!g) {
      if (out->numel() != 1) fail(ErrorKind::Runtime, "grad can be implicitly created only for scalar outputs");
      g = ops::ones_like(out);
    }
    root->next_edges.push_back(gradient_edge(out));
    seeds.push_back(std::move(g));
  }
  root->grads = std::move(seeds);

  std::vector<Capture> captures;
  for (const Tensor& in : inputs) {
    Edge e = gradient_edge(in);
    if (!e.fn) fail(ErrorKind::Runtime, "One of the differentiated Tensors does not require grad");
    captures.push_back({e.fn.get(), e.input_nr, Tensor()});
  }
  const bool capturing = !inputs.empty();

  // Count how many edges lead into each node reachable from the root.
  NodeTable state(64);
  std::vector<Node*> stack{root.get()};
  state.get(root.get());
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.fn) continue;
      bool fresh;
      ++state.get(e.fn.get(), &fresh).dependencies;
      if (fresh) stack.push_back(e.fn.get());
    }
  }

  AutoGradMode mode(create_graph);
  std::vector<Node*> ready{root.get()};
  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    NodeState& ns = state.get(node);
    TensorList grads_in = std::move(ns.buffer);

    TensorList grads_out;
    bool any = node == root.get();
    for (const Tensor& g : grads_in) any = any || g != nullptr;
    for (Capture& c : captures)
      if (c.fn == node && c.input_nr < grads_in.size() && grads_in[c.input_nr]) c.grad = grads_in[c.input_nr];
    // autograd.grad never accumulates into leaves it was not asked about.
    bool skip = capturing && dynamic_cast<AccumulateGrad*>(node) != nullptr;
    if (any && !skip) {
      grads_out = node->apply(std::move(grads_in));
      if (!keep_graph) node->release_saved();
    }

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.fn) continue;
      NodeState& next = state.get(e.fn.get());
      if (i < grads_out.size() && grads_out[i]) {
        Tensor g = fit_to_edge(std::move(grads_out[i]), e, *node, i);
        if (next.buffer.size() <= e.input_nr) next.buffer.resize(e.fn->num_outputs());
        Tensor& slot = next.buffer[e.input_nr];
        slot = slot ? ops::add(slot, g) : std::move(g);
      }
      if (--next.dependencies == 0) ready.push_back(e.fn.get());
    }
  }

  TensorList result;
  for (size_t i = 0; i < captures.size(); ++i) {
    if (!captures[i].grad && !allow_unused)
      fail(ErrorKind::Runtime, "The differentiated Tensor at index ", i,
           " appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.");
    result.push_back(captures[i].grad);
  }
  return result;
}

}  // namespace tapegrad

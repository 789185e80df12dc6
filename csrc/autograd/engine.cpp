// The engine: counts dependencies, runs each node once all its gradients have arrived, sums
// gradients per input, and makes every returned gradient fit its input's shape and dtype.
#include "autograd/engine.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autograd/function.h"
#include "autograd/grad_mode.h"
#include "autograd/hooks.h"
#include "core/error.h"
#include "ops/ops.h"

namespace tapegrad {
namespace {

// The engine's work lists; small passes never reach malloc.
using NodeList = std::vector<Node*, PoolAllocator<Node*>>;

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

// This pass's view of the per-node states: the node's own slot when this pass owns it, else a
// side table. Claims are released when the pass ends, also when it fails.
class TaskStates {
 public:
  // Ids of passes running at once differ (a claim ends with its pass); 0 means unclaimed.
  TaskStates() : id_(next_id()) {}
  TaskStates(const TaskStates&) = delete;
  TaskStates& operator=(const TaskStates&) = delete;
  ~TaskStates() {
    for (Node* n : claimed_) {
      n->task_state.dependencies = 0;
      n->task_state.buffer.clear();
      n->task_state.owner.store(0, std::memory_order_release);
    }
  }

  // During the counting pass: the state of n, claimed now if nobody holds it.
  NodeTaskState& visit(Node* n, bool* fresh) {
    uint32_t cur = n->task_state.owner.load(std::memory_order_acquire);
    if (cur == id_) {
      *fresh = false;
      return n->task_state;
    }
    if (cur == 0 && n->task_state.owner.compare_exchange_strong(cur, id_)) {
      claimed_.push_back(n);
      *fresh = true;
      return n->task_state;
    }
    auto [it, inserted] = side_.try_emplace(n);
    *fresh = inserted;
    return it->second;
  }

  NodeTaskState& at(Node* n) {
    if (n->task_state.owner.load(std::memory_order_relaxed) == id_) return n->task_state;
    return side_.at(n);
  }

 private:
  static uint32_t next_id() {
    uint32_t id;
    do id = next_id_.fetch_add(1) + 1; while (id == 0);
    return id;
  }
  static std::atomic<uint32_t> next_id_;
  uint32_t id_;
  NodeList claimed_;
  std::unordered_map<Node*, NodeTaskState> side_;
};

std::atomic<uint32_t> TaskStates::next_id_{0};

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

// Anomaly detection: a NaN gradient stops the pass, naming the op and where it was made.
void check_for_nan(const Node& node, const TensorList& grads) {
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i] || !is_floating(grads[i]->dtype())) continue;
    AutoGradMode off(false);
    Tensor bad = ops::any(ops::isnan(grads[i]), {}, false);
    if (!*bad->data<bool>()) continue;
    std::string name = node.name();
    if (AnomalyMode::warn) {
      AnomalyMode::warn("Error detected in " + name + ". Traceback of forward call that caused the error:\n" +
                        (node.hooks && !node.hooks->forward_trace.empty() ? node.hooks->forward_trace
                                                                          : std::string("(no trace recorded)\n")));
    }
    fail(ErrorKind::Runtime, "Function '", name, "' returned nan values in its ", i, "th output.");
  }
}

void run_pre_hooks(const NodeHookLists& hooks, TensorList& grads) {
  for (bool retain_grad : {false, true})
    for (auto& [id, output_nr, hook] : hooks.tensor_pre)
      if ((id == kRetainGradHookId) == retain_grad && output_nr < grads.size() && grads[output_nr])
        if (Tensor r = hook(grads[output_nr])) grads[output_nr] = std::move(r);
  for (auto& [id, hook] : hooks.pre)
    if (auto replaced = hook(grads)) grads = std::move(*replaced);
}

void run_leaf_hooks(const TensorImpl::LeafHooks& hooks, TensorList& grads) {
  if (grads.empty() || !grads[0]) return;
  for (auto& [id, hook] : hooks.pre)
    if (Tensor r = hook(grads[0])) grads[0] = std::move(r);
}

// The passes running on this thread, innermost first: a pass nested inside an apply (a custom
// Function whose backward calls autograd.grad) is chained to the pass it runs inside. Written
// once per pass, so the per-node path below touches no thread-local storage.
struct PassFrame {
  PassFrame() : outer(t_innermost) { t_innermost = this; }
  ~PassFrame() { t_innermost = outer; }
  PassFrame(const PassFrame&) = delete;
  PassFrame& operator=(const PassFrame&) = delete;

  PassFrame* outer;
  const std::atomic<bool>* applying = nullptr;  // the turn this pass holds, if any
  static thread_local PassFrame* t_innermost;
};

thread_local PassFrame* PassFrame::t_innermost = nullptr;

// One pass at a time runs a node's apply (and frees its saved tensors). A nested pass may meet a
// node whose turn an outer pass on its own thread holds: waiting would never end, so it goes on.
class ApplyTurn {
 public:
  ApplyTurn(Node& node, PassFrame& pass) : flag_(node.applying), pass_(pass) {
    if (flag_.exchange(true, std::memory_order_acquire)) {
      for (PassFrame* p = pass.outer; p; p = p->outer)
        if (p->applying == &flag_) {
          reentered_ = true;
          break;
        }
      if (!reentered_)
        while (flag_.exchange(true, std::memory_order_acquire))
          while (flag_.load(std::memory_order_relaxed)) std::this_thread::yield();
    }
    pass.applying = &flag_;
  }
  ~ApplyTurn() {
    pass_.applying = nullptr;
    if (!reentered_) flag_.store(false, std::memory_order_release);
  }
  ApplyTurn(const ApplyTurn&) = delete;
  ApplyTurn& operator=(const ApplyTurn&) = delete;

 private:
  std::atomic<bool>& flag_;
  PassFrame& pass_;
  bool reentered_ = false;
};

// autograd.grad runs only the nodes from which a captured input can be reached (torch's
// exec_info): the others' gradients are never read, and their saved tensors may be gone.
template <class Captures>
std::unordered_set<const Node*> nodes_leading_to_captures(const Node* root, const Captures& captures) {
  std::unordered_set<const Node*> targets, leads;
  for (const auto& c : captures) targets.insert(c.fn);
  std::unordered_set<const Node*> done;
  std::vector<std::pair<const Node*, size_t>> stack{{root, 0}};  // node, next edge to look at
  done.insert(root);
  while (!stack.empty()) {
    auto& [n, next] = stack.back();
    if (next < n->next_edges.size()) {
      const Node* child = n->next_edges[next++].fn.get();
      if (child && done.insert(child).second) stack.push_back({child, 0});
      continue;
    }
    for (const Edge& e : n->next_edges)
      if (e.fn && (targets.count(e.fn.get()) || leads.count(e.fn.get()))) {
        leads.insert(n);
        break;
      }
    stack.pop_back();
  }
  return leads;
}

}  // namespace

TensorList run_backward(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph,
                        bool create_graph, const TensorList& inputs, bool allow_unused) {
  // Seed edges and gradients.
  TensorList seeds;
  auto root = std::allocate_shared<GraphRoot>(PoolAllocator<GraphRoot>(), TensorList{});
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    Tensor g = i < grad_outputs.size() ? grad_outputs[i] : Tensor();
    if (g && g->sizes() != out->sizes()) {
      fail(ErrorKind::Runtime, "Mismatch in shape: grad_output[", i, "] has a shape of torch.Size(",
           shape_str(g->sizes()), ") and output[", i, "] has a shape of torch.Size(", shape_str(out->sizes()), ").");
    }
    if (!g && out->requires_grad() && out->numel() != 1)
      fail(ErrorKind::Runtime, "grad can be implicitly created only for scalar outputs");
    // torch asks for an edge, not requires_grad: a view made under no_grad of a leaf that requires
    // grad reports requires_grad but has neither a grad_fn nor an accumulator.
    Edge edge = gradient_edge(out);
    if (!edge.fn)
      fail(ErrorKind::Runtime, "element ", i, " of tensors does not require grad and does not have a grad_fn");
    if (!g) g = ops::ones_like(out);
    root->next_edges.push_back(std::move(edge));
    seeds.push_back(std::move(g));
  }
  root->grads = std::move(seeds);

  std::vector<Capture, PoolAllocator<Capture>> captures;
  for (const Tensor& in : inputs) {
    // torch asks for requires_grad here; an input that has it but no edge (a view made under no_grad)
    // is unreachable, so its gradient stays unset (unused).
    if (!in->requires_grad()) fail(ErrorKind::Runtime, "One of the differentiated Tensors does not require grad");
    Edge e = gradient_edge(in);
    captures.push_back({e.fn.get(), e.input_nr, Tensor()});
  }
  const bool capturing = !inputs.empty();
  const std::unordered_set<const Node*> must_run =
      capturing ? nodes_leading_to_captures(root.get(), captures) : std::unordered_set<const Node*>();

  // Count how many edges lead into each node reachable from the root.
  TaskStates state;
  PassFrame pass;
  NodeList stack{root.get()};
  bool fresh;
  state.visit(root.get(), &fresh);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.fn) continue;
      ++state.visit(e.fn.get(), &fresh).dependencies;
      if (fresh) stack.push_back(e.fn.get());
    }
  }

  AutoGradMode mode(create_graph);
  // torch's ready queue: the node created last runs first (leaves' accumulators before all).
  auto created_earlier = [](const Node* a, const Node* b) { return a->sequence_nr < b->sequence_nr; };
  std::priority_queue<Node*, NodeList, decltype(created_earlier)> ready(created_earlier);
  ready.push(root.get());
  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    NodeTaskState& ns = state.at(node);
    TensorList grads_in = std::move(ns.buffer);

    TensorList grads_out;
    bool any = node == root.get();
    for (const Tensor& g : grads_in) any = any || g != nullptr;
    // Hooks run from copies: other threads (and the hooks themselves) may change the lists.
    std::optional<NodeHookLists> hooks;
    if (const NodeHooks* h = node->hooks.get()) hooks = copy_hooks(*h);
    auto capture = [&] {
      for (Capture& c : captures)
        if (c.fn == node && c.input_nr < grads_in.size() && grads_in[c.input_nr]) c.grad = grads_in[c.input_nr];
    };
    // torch's order: a captured input whose node must run on (to reach another input) is read
    // before the tensor's hooks, which then run as part of that node; otherwise after them.
    // The root always hands its seeds on: torch starts at the output's own node, whose tensor
    // pre-hooks (retain_grad) run even when no input is reached through it.
    const bool runs = !capturing || node == root.get() || must_run.count(node);
    const bool capture_before_hooks = capturing && runs;
    if (capture_before_hooks) capture();
    if (hooks) run_pre_hooks(*hooks, grads_in);
    AccumulateGrad* acc = node->as_accumulate_grad();
    std::optional<TensorImpl::LeafHooks> leaf_hooks;
    if (acc)
      if (const auto* h = acc->variable->leaf_hooks_if_any()) leaf_hooks = copy_hooks(*h);
    if (leaf_hooks) run_leaf_hooks(*leaf_hooks, grads_in);
    if (!capture_before_hooks) capture();
    // autograd.grad never accumulates into leaves it was not asked about.
    bool skip = !runs || (capturing && acc != nullptr);
    if (any && !skip) {
      TensorList kept_in = hooks && !hooks->post.empty() ? grads_in : TensorList();
      {
        ApplyTurn turn(*node, pass);
        grads_out = node->apply(std::move(grads_in));
        if (!keep_graph) node->release_saved();
      }
      if (AnomalyMode::is_enabled()) check_for_nan(*node, grads_out);
      if (hooks)
        for (auto& [id, hook] : hooks->post)
          if (auto replaced = hook(grads_out, kept_in)) grads_out = std::move(*replaced);
      // Read again: a gradient hook that just ran may have registered one.
      if (acc)
        if (const auto* h = acc->variable->leaf_hooks_if_any())
          for (auto& [id, hook] : copy_hooks(*h).post_accumulate) hook(acc->variable);
    }

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& e = node->next_edges[i];
      if (!e.fn) continue;
      NodeTaskState& next = state.at(e.fn.get());
      if (i < grads_out.size() && grads_out[i]) {
        Tensor g = fit_to_edge(std::move(grads_out[i]), e, *node, i);
        if (next.buffer.size() <= e.input_nr) next.buffer.resize(e.fn->num_outputs());
        Tensor& slot = next.buffer[e.input_nr];
        slot = slot ? ops::add(slot, g) : std::move(g);
      }
      if (--next.dependencies == 0) ready.push(e.fn.get());
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

void run_backward_into(const TensorList& outputs, const TensorList& grad_outputs, bool keep_graph,
                       bool create_graph, const TensorList& inputs) {
  TG_CHECK(!inputs.empty(), "`inputs` argument to `backward()` cannot be empty.");
  TensorList grads = run_backward(outputs, grad_outputs, keep_graph, create_graph, inputs, true);
  AutoGradMode mode(create_graph);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (grads[i]) accumulate_into_grad(*inputs[i], grads[i]);
}

}  // namespace tapegrad

// How an op records itself on the tape: FormulaNode holds one backward rule and what it saved.
#pragma once
#include <initializer_list>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/saved.h"

namespace tapegrad {

struct FormulaNode;
// A backward rule: the gradient of the output in, one gradient per forward input out.
using BackwardFormula = TensorList (*)(FormulaNode& node, const Tensor& grad);
// The same for ops with several outputs (split, unbind): one gradient per output in, null
// where an output received none.
using MultiBackwardFormula = TensorList (*)(FormulaNode& node, const TensorList& grads);

struct FormulaNode final : Node {
  FormulaNode(const char* name, BackwardFormula formula) : name_(name) { formula_.single = formula; }
  FormulaNode(const char* name, MultiBackwardFormula formula, uint32_t outputs)
      : name_(name), num_outputs_(outputs), multi_(true) {
    formula_.multi = formula;
  }
  const char* name() const override { return name_; }
  uint32_t num_outputs() const override { return num_outputs_; }
  TensorList apply(TensorList&& grads) override {
    if (released_scalars_) SavedTensor::raise_freed();
    return multi_ ? formula_.multi(*this, grads) : formula_.single(*this, grads[0]);
  }
  void release_saved() override {
    for (auto& s : saved_) s.release();
    released_scalars_ = saves_scalars_;
  }
  // Where torch saves a Python number as a tensor (x * 2), a second backward must fail as it does.
  void mark_saves_scalars() { saves_scalars_ = true; }

  void save(const Tensor& t, bool is_output = false) { saved_.emplace_back(t, is_output); }
  void retarget_saved_output(const Tensor& from, const Tensor& to) override {
    for (auto& s : saved_)
      if (s.is_output_of(from)) s = SavedTensor(to, true);
  }
  Tensor saved(size_t i) const { return saved_[i].unpack(name_); }
  // Whether forward input i needs a gradient (torch's needs_input_grad / should_compute_output).
  bool needs_grad(size_t i) const { return next_edges[i].fn != nullptr; }

  double scalars[2] = {0, 0};  // Python numbers the rule needs (an exponent, clamp bounds)
  CompactShape shape;          // a forward shape the rule needs (sum, mean)
  CompactShape ints;           // integer arguments the rule needs (dims, indices, sizes)

 private:
  const char* name_;
  union {
    BackwardFormula single;
    MultiBackwardFormula multi;
  } formula_;
  uint32_t num_outputs_ = 1;
  bool multi_ = false;
  bool saves_scalars_ = false;
  bool released_scalars_ = false;
  std::vector<SavedTensor, PoolAllocator<SavedTensor>> saved_;
};

inline bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t && *t && (*t)->requires_grad()) return true;
  return false;
}

// A view's history after its base was rewritten in place: its gradient lands, at the view's
// place, in a zero gradient laid out like the base (torch's AsStridedBackward0).
struct AsStridedView final : Node {
  const char* name() const override { return "AsStridedBackward0"; }
  TensorList apply(TensorList&& grads) override;
  Shape sizes, strides, base_sizes, base_strides;
  int64_t offset = 0, base_offset = 0;
};
// Refuses an in-place write to view `t` that torch refuses: outputs of multi-view ops (split,
// unbind, chunk), and views made under no_grad written with grad mode on.
void check_inplace_on_view(const Tensor& t);

// An int64 tensor with the base's exact geometry (sizes, strides, offset, in a storage of its own)
// holding each element's flat index among the base's elements: a view's geometry applied to its
// storage gives the flat index of every element the view reads.
Tensor positions_in_base(const Shape& base_sizes, const Shape& base_strides, int64_t base_offset, Device device);

// Gives view `t` an AsStridedView history on its base's current history.
void rebase_view_history(const Tensor& t);
// A view whose base changed since its history was made gets that history renewed (torch does
// this lazily too); a no-op for anything else.
void refresh_view_history(const Tensor& t);

// Where gradients for `t` go: its grad_fn, its AccumulateGrad (a leaf), or nowhere.
Edge gradient_edge(const Tensor& t);

// After an op computed `out` from `inputs` (null entries: inputs that are not tensors but
// still count as edges, as a wrapped Python number does): when grad is needed, make the
// node, link its edges and make it out's grad_fn. Returns the node to save into, or null.
FormulaNode* record(const char* name, BackwardFormula formula, const Tensor& out,
                    std::initializer_list<const Tensor*> inputs);
// record() without the integer rule, for torch's one exception: fill_ of an integer or bool
// tensor with a 0-dim tensor that requires grad gives it FillBackward3 all the same.
FormulaNode* record_any_dtype(const char* name, BackwardFormula formula, const Tensor& out,
                              std::initializer_list<const Tensor*> inputs);
// The same for several outputs sharing one node (output i gets output_nr i).
FormulaNode* record_multi(const char* name, MultiBackwardFormula formula, const TensorList& outs,
                          const std::vector<const Tensor*>& inputs);

// An op whose only tensor is an inference tensor has no autograd key in torch, so torch runs its
// kernel directly; a kernel that copies or fills x into its fresh (normal) result records that write
// (torch's CopyBackwards, FillBackward3, CopySlices). Records `name` with `formula` in that case.
FormulaNode* record_inference_write(const char* name, BackwardFormula formula, const Tensor& out, const Tensor& x);

// An op's tensor arguments that take no gradient (indices, masks) still decide in torch whether its
// autograd runs: an inference tensor that requires grad, indexed by a normal tensor, records (and
// so may refuse to be saved). Held for the op's duration, this marks such arguments for record().
class AutogradKeyFrom {
 public:
  explicit AutogradKeyFrom(std::initializer_list<const Tensor*> args);
  explicit AutogradKeyFrom(const TensorList& args);
  ~AutogradKeyFrom();
  AutogradKeyFrom(const AutogradKeyFrom&) = delete;
  AutogradKeyFrom& operator=(const AutogradKeyFrom&) = delete;

 private:
  bool counted_ = false;
};

}  // namespace tapegrad

// TensorImpl: a strided view of a Storage plus the autograd metadata torch keeps on a tensor.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/dtype.h"
#include "core/inference_mode.h"
#include "core/lazy_owned.h"
#include "core/pool.h"
#include "core/shape.h"
#include "core/spin_lock.h"
#include "core/storage.h"

namespace tapegrad {

// The bytes a contiguous tensor of these sizes takes; torch's RuntimeError for a negative size
// or one whose byte count overflows.
size_t storage_bytes(const Shape& sizes, DType dtype);

struct Node;
class TensorImpl;
using Tensor = std::shared_ptr<TensorImpl>;
// Tensor lists are made per node in every backward: they come from the small-object pool.
using TensorList = std::vector<Tensor, PoolAllocator<Tensor>>;

// How the memory of two tensors meets (torch's get_overlap_status): judged only when both are
// dense; otherwise TooHard, which torch lets pass.
enum class MemOverlap { No, Full, Partial, TooHard };
MemOverlap memory_overlap(const TensorImpl& a, const TensorImpl& b);

class TensorImpl {
 public:
  // A new contiguous, uninitialised tensor.
  static Tensor empty(const Shape& sizes, DType dtype, Device device = Device());
  // A tensor sharing `storage` (a view or an alias); no autograd history.
  static Tensor view_of(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset, DType dtype);

  // Written out (not `= default`) so that make_shared does not zero the whole object first.
  TensorImpl() {}
  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl();

  // `x.data = src`: x now shows src's memory, shape and dtype; its autograd state stays.
  void set_data(const TensorImpl& src);

  // --- data ---
  const Shape& sizes() const { return sizes_; }
  const Shape& strides() const { return strides_; }
  int64_t dim() const { return int64_t(sizes_.size()); }
  int64_t numel() const { return numel_; }
  int64_t storage_offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_->device(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool is_contiguous() const;
  // Whether two elements share memory (a broadcast dim: stride 0, size > 1), which torch refuses to
  // write through element by element.
  bool has_internal_overlap() const {
    for (size_t d = 0; d < sizes_.size(); ++d)
      if (strides_[d] == 0 && sizes_[d] > 1) return true;
    return false;
  }
  // Whether the elements fill a block of memory exactly, in some order of dims (torch's
  // is_non_overlapping_and_dense).
  bool is_dense() const;
  // Address of element 0 (storage base + offset).
  char* data_ptr() const { return static_cast<char*>(storage_->data()) + offset_ * int64_t(itemsize(dtype_)); }
  template <class T>
  T* data() const { return reinterpret_cast<T*>(data_ptr()); }

  uint32_t version() const { return storage_->version(); }
  void bump_version() { storage_->bump_version(); }

  // --- autograd ---
  // A non-leaf requires grad because it has a grad_fn; a leaf only if flagged; a view whenever its
  // base does (a view made under no_grad, or one whose base was written since, as in torch).
  bool requires_grad() const {
    return requires_grad_ || grad_fn_ != nullptr || (meta_ && meta_->view_base && meta_->view_base->requires_grad());
  }
  // Set by requires_grad_(True) / requires_grad=True: only such a leaf accumulates into .grad.
  bool requires_grad_flag() const { return requires_grad_; }
  bool is_inference() const { return is_inference_; }
  void set_inference(bool inference) { is_inference_ = inference; }
  void set_requires_grad(bool r);  // checks leafness and dtype as torch does
  bool is_leaf() const { return grad_fn_ == nullptr; }
  const std::shared_ptr<Node>& grad_fn() const { return grad_fn_; }
  uint32_t output_nr() const { return output_nr_; }
  void set_grad_fn(std::shared_ptr<Node> fn, uint32_t output_nr = 0);
  // .grad is shared with backward passes running in other threads (the GIL is released there):
  // it is read, written and accumulated into under the extras' lock, and read by value.
  Tensor grad() const {
    AutogradExtras* m = meta_.get();
    if (!m) return Tensor();
    std::lock_guard<std::mutex> lock(m->mu);
    return m->grad;
  }
  void set_grad(Tensor g) {
    if (!g && !meta_) return;
    AutogradExtras& m = meta();
    std::unique_lock<std::mutex> lock(m.mu);
    m.grad.swap(g);
    lock.unlock();  // the old gradient dies unlocked: freeing it may run Python (its hooks)
  }
  // Installs `g` only if .grad is still `expected`, for updates computed outside the lock.
  bool replace_grad_if(const Tensor& expected, Tensor g) {
    AutogradExtras& m = meta();
    std::unique_lock<std::mutex> lock(m.mu);
    if (m.grad != expected) return false;
    m.grad.swap(g);
    lock.unlock();
    return true;
  }
  // Runs f(.grad) under the lock: a read-modify-write that other threads see as one step. f must
  // not call Python or wait for anything that may hold the GIL.
  template <class F>
  void update_grad(F&& f) {
    AutogradExtras& m = meta();
    std::lock_guard<std::mutex> lock(m.mu);
    f(m.grad);
  }
  bool retains_grad() const { return meta_ && meta_->retains_grad; }
  void set_retains_grad(bool r) {
    if (r || meta_) meta().retains_grad = r;
  }
  // The leaf's AccumulateGrad node: created on first use, held weakly so it dies with the graph.
  // Static, taking the owner: the node holds the leaf, and a tensor cannot name its own owner.
  static std::shared_ptr<Node> grad_accumulator(const Tensor& leaf);

  // A view op's result remembers the tensor whose storage it views (torch's ._base), so an
  // in-place write through the view can update the base's history.
  const Tensor& view_base() const { return meta_ ? meta_->view_base : null_tensor(); }
  void set_view_base(Tensor base) {
    meta().view_base = std::move(base);
    meta_->view_version = version();
  }
  // A tensor that an op made as a view of its own temporaries is no view to the caller.
  void forget_view_base() {
    if (meta_) meta_->view_base = nullptr, meta_->view_kind = ViewKind::Plain;
  }
  // How a view was made, for the in-place writes torch refuses on it (OfViewMadeWithoutGrad: made
  // with grad of a view made without; an op's no-grad temporaries are MadeWithoutGrad).
  enum class ViewKind : uint8_t { Plain, MadeWithoutGrad, OutputOfMultiViewOp, MadeInInferenceMode, OfViewMadeWithoutGrad };
  ViewKind view_kind() const { return meta_ ? meta_->view_kind : ViewKind::Plain; }
  void set_view_kind(ViewKind k) {
    if (k != ViewKind::Plain || meta_) meta().view_kind = k;
  }

  // The storage version this view's history was made at; a later write to the base makes it stale.
  uint32_t view_version() const { return meta_ ? meta_->view_version : 0; }
  void set_view_version(uint32_t v) { meta().view_version = v; }

  // A leaf's gradient hooks (run before accumulation) and post-accumulate hooks; null until used.
  // The lists change only under hooks_mutex() (autograd/hooks.h), which also guards copying them.
  struct LeafHooks {
    std::vector<std::pair<int, std::function<Tensor(const Tensor&)>>> pre;
    std::vector<std::pair<int, std::function<void(const Tensor&)>>> post_accumulate;
  };
  LeafHooks& leaf_hooks() { return meta().leaf_hooks.ensure(); }
  LeafHooks* leaf_hooks_if_any() const { return meta_ ? meta_->leaf_hooks.get() : nullptr; }

  // The Python object now showing this tensor, so a tensor keeps one identity in Python (as
  // torch's does); the binding layer sets and clears it, the core never reads it.
  void* py_object() const { return py_object_; }
  void set_py_object(void* o) { py_object_ = o; }

 private:
  // What only leaves with gradients, views and hooked tensors need: allocated on first use, so
  // the many intermediate tensors of a graph stay small.
  struct AutogradExtras {
    std::mutex mu;  // guards grad
    SpinLock accumulator_lock;  // guards grad_accumulator: taken by every op on a leaf
    std::weak_ptr<Node> grad_accumulator;
    Tensor grad;
    Tensor view_base;
    LazyOwned<LeafHooks> leaf_hooks;
    uint32_t view_version = 0;
    ViewKind view_kind = ViewKind::Plain;
    bool retains_grad = false;
  };
  AutogradExtras& meta() { return meta_.ensure(); }
  static const Tensor& null_tensor();

  std::shared_ptr<Storage> storage_;
  Shape sizes_;
  Shape strides_;
  int64_t offset_ = 0;
  int64_t numel_ = 1;
  DType dtype_ = DType::Float32;
  bool requires_grad_ = false;
  bool is_inference_ = false;
  uint32_t output_nr_ = 0;
  std::shared_ptr<Node> grad_fn_;
  LazyOwned<AutogradExtras> meta_;  // made by whichever thread first needs it
  void* py_object_ = nullptr;
};

}  // namespace tapegrad

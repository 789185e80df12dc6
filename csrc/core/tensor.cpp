// TensorImpl construction, leaf rules and a destructor that never recurses down a long graph.
#include "core/tensor.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "autograd/hooks.h"
#include "autograd/node.h"
#include "core/error.h"
#include "core/pool.h"

namespace tapegrad {

thread_local bool InferenceMode::enabled_ = false;

// The bytes a contiguous tensor of these sizes needs; torch's error when that overflows.
size_t storage_bytes(const Shape& sizes, DType dtype) {
  int64_t numel = 1;
  bool overflow = false;
  for (int64_t d : sizes) {
    TG_CHECK(d >= 0, "Trying to create tensor with negative dimension ", d, ": ", shape_str(sizes));
    overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
  }
  size_t nbytes = 0;
  overflow = overflow || __builtin_mul_overflow(size_t(numel), itemsize(dtype), &nbytes) ||
             nbytes > size_t(PTRDIFF_MAX);
  TG_CHECK(!overflow, "Storage size calculation overflowed with sizes=", shape_str(sizes));
  return nbytes;
}

Tensor TensorImpl::empty(const Shape& sizes, DType dtype, Device device) {
  size_t nbytes = storage_bytes(sizes, dtype);
  auto t = std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
  t->sizes_ = sizes;
  t->strides_ = contiguous_strides(sizes);
  t->numel_ = numel_of(sizes);
  t->dtype_ = dtype;
  t->storage_ = Storage::allocate(nbytes, device);
  t->is_inference_ = InferenceMode::is_enabled();
  return t;
}

// The element count of a view's sizes; torch's error when it does not fit in int64 (a stride-0
// expand to 2**62 rows needs no memory, but its numel must still be a number).
int64_t view_numel(const Shape& sizes) {
  int64_t numel = 1;
  bool overflow = false, empty = false;
  for (int64_t d : sizes) {
    empty = empty || d == 0;
    overflow = overflow || __builtin_mul_overflow(numel, d, &numel);
  }
  if (empty) return 0;
  TG_CHECK(!overflow, "numel: integer multiplication overflow");
  return numel;
}

Tensor TensorImpl::view_of(std::shared_ptr<Storage> storage, Shape sizes, Shape strides, int64_t offset,
                           DType dtype) {
  auto t = std::allocate_shared<TensorImpl>(PoolAllocator<TensorImpl>());
  t->storage_ = std::move(storage);
  t->numel_ = view_numel(sizes);
  t->sizes_ = std::move(sizes);
  t->strides_ = std::move(strides);
  t->offset_ = offset;
  t->dtype_ = dtype;
  t->is_inference_ = InferenceMode::is_enabled();
  return t;
}

void TensorImpl::set_data(const TensorImpl& src) {
  storage_ = src.storage_;
  sizes_ = src.sizes_;
  strides_ = src.strides_;
  offset_ = src.offset_;
  numel_ = src.numel_;
  dtype_ = src.dtype_;
}

const Tensor& TensorImpl::null_tensor() {
  static const Tensor none;
  return none;
}

TensorImpl::~TensorImpl() {
  // A tensor may hold the only reference to the head of a long chain of nodes.
  release_node(std::move(grad_fn_));
}

bool TensorImpl::is_contiguous() const {
  if (numel_ == 0) return true;
  int64_t expected = 1;
  for (size_t i = sizes_.size(); i-- > 0;) {
    if (sizes_[i] == 1) continue;
    if (strides_[i] != expected) return false;
    expected *= sizes_[i];
  }
  return true;
}

bool TensorImpl::is_dense() const {
  if (numel_ == 0) return true;
  std::vector<size_t> order;
  for (size_t d = 0; d < sizes_.size(); ++d)
    if (sizes_[d] != 1) order.push_back(d);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return strides_[a] < strides_[b]; });
  int64_t expected = 1;
  for (size_t d : order) {
    if (strides_[d] != expected) return false;
    expected *= sizes_[d];
  }
  return true;
}

MemOverlap memory_overlap(const TensorImpl& a, const TensorImpl& b) {
  if (&a == &b) return MemOverlap::Full;
  if (a.numel() == 0 || b.numel() == 0 || a.storage() != b.storage()) return MemOverlap::No;
  if (!a.is_dense() || !b.is_dense()) return MemOverlap::TooHard;
  const char *a0 = a.data_ptr(), *b0 = b.data_ptr();
  const char *a1 = a0 + a.numel() * int64_t(itemsize(a.dtype())), *b1 = b0 + b.numel() * int64_t(itemsize(b.dtype()));
  if (a0 == b0 && a1 == b1) return a.strides() == b.strides() ? MemOverlap::Full : MemOverlap::Partial;
  return a0 < b1 && b0 < a1 ? MemOverlap::Partial : MemOverlap::No;
}

void TensorImpl::set_requires_grad(bool r) {
  if (!is_leaf()) {
    if (r) fail(ErrorKind::Runtime, "you can only change requires_grad flags of leaf variables.");
    fail(ErrorKind::Runtime,
         "you can only change requires_grad flags of leaf variables. If you want to use a computed variable "
         "in a subgraph that doesn't require differentiation use var_no_grad = var.detach().");
  }
  if (r && !is_floating(dtype_))
    fail(ErrorKind::Runtime, "only Tensors of floating point and complex dtype can require gradients");
  if (r && is_inference_ && !InferenceMode::is_enabled())
    fail(ErrorKind::Runtime, "Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.");
  requires_grad_ = r;
}

void TensorImpl::set_grad_fn(std::shared_ptr<Node> fn, uint32_t output_nr) {
  if (retains_grad() && grad_fn_ && fn && grad_fn_ != fn) move_retain_grad_hook(*grad_fn_, output_nr_, *fn, output_nr);
  grad_fn_ = std::move(fn);
  output_nr_ = output_nr;
}

std::shared_ptr<Node> TensorImpl::grad_accumulator(const Tensor& leaf) {
  // Under the lock: forward ops in one thread and create_graph backward passes in another may
  // both ask, and a leaf must have one accumulator so that accumulation into it is serialised.
  AutogradExtras& m = leaf->meta();
  std::lock_guard<SpinLock> lock(m.accumulator_lock);
  if (auto acc = m.grad_accumulator.lock()) return acc;
  auto acc = make_accumulate_grad(leaf);
  m.grad_accumulator = acc;
  return acc;
}

}  // namespace tapegrad

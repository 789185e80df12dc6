// SavedTensor: a tensor a node keeps for backward, with the version it had when saved.
#pragma once
#include <memory>

#include "core/tensor.h"

namespace tapegrad {

class SavedTensor {
 public:
  SavedTensor() = default;
  // An op's own output is kept without its grad_fn (which is the saving node: a cycle) and
  // gets it back on unpack, so double backward through a saved output still works.
  SavedTensor(const Tensor& t, bool is_output);

  // Checks the in-place version and that the graph has not been freed; `owner` names the node.
  Tensor unpack(const char* owner) const;
  [[noreturn]] static void raise_freed();
  bool is_output_of(const Tensor& t) const {
    return is_output_ && data_ && data_->storage() == t->storage() && data_->storage_offset() == t->storage_offset();
  }
  void release() {
    data_.reset();
    released_ = true;
  }

 private:
  Tensor data_;
  std::weak_ptr<Node> grad_fn_;  // only for outputs
  uint32_t saved_version_ = 0;
  uint32_t output_nr_ = 0;
  bool is_output_ = false;
  bool released_ = false;
};

}  // namespace tapegrad

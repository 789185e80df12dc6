// Saving and unpacking tensors for backward, with torch's errors for freed graphs and in-place edits.
#include "autograd/saved.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/error.h"

namespace tapegrad {

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : saved_version_(t->version()), is_output_(is_output) {
  if (is_output) {
    data_ = TensorImpl::view_of(t->storage(), t->sizes(), t->strides(), t->storage_offset(), t->dtype());
    grad_fn_ = t->grad_fn();
    output_nr_ = t->output_nr();
  } else {
    data_ = t;
  }
}

void SavedTensor::raise_freed() {
  fail(ErrorKind::Runtime,
       "Trying to backward through the graph a second time (or directly access saved tensors after they "
       "have already been freed). Saved intermediate values of the graph are freed when you call "
       ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
       "graph a second time or if you need to access saved tensors after calling backward.");
}

Tensor SavedTensor::unpack(const char* owner) const {
  if (released_) raise_freed();
  if (!data_) return Tensor();  // a saved None
  if (data_->version() != saved_version_) {
    std::string which = "[torch." + std::string(dtype_scalar_type_name(data_->dtype())) + "Tensor";
    if (data_->dim() > 0) which += " " + shape_str(data_->sizes());
    which += "]";
    std::string origin;
    if (is_output_) {
      origin = std::string(", which is output ") + std::to_string(output_nr_) + " of " + owner + ",";
    } else if (data_->grad_fn()) {
      origin = std::string(", which is output ") + std::to_string(data_->output_nr()) + " of " +
               data_->grad_fn()->name() + ",";
    }
    fail(ErrorKind::Runtime,
         "one of the variables needed for gradient computation has been modified by an inplace operation: ",
         which, origin, " is at version ", data_->version(), "; expected version ", saved_version_,
         " instead. Hint: enable anomaly detection to find the operation that failed to compute its "
         "gradient, with torch.autograd.set_detect_anomaly(True).");
  }
  if (is_output_ && GradMode::is_enabled()) {
    // Building a higher-order graph: the output must carry its grad_fn again.
    auto fn = grad_fn_.lock();
    if (fn) {
      Tensor t = TensorImpl::view_of(data_->storage(), data_->sizes(), data_->strides(), data_->storage_offset(),
                                     data_->dtype());
      t->set_grad_fn(std::move(fn), output_nr_);
      return t;
    }
  }
  return data_;
}

}  // namespace tapegrad

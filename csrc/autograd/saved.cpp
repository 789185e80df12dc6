// Saving and unpacking tensors for backward, with torch's errors for freed graphs and in-place edits.
#include "autograd/saved.h"

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/error.h"

namespace tapegrad {

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : saved_version_(t ? t->version() : 0), is_output_(is_output) {
  if (!t) return;  // a saved None (an absent weight)
  if (t->is_inference() && !InferenceMode::is_enabled())
    fail(ErrorKind::Runtime, "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                             "inference mode in computation tracked by autograd. To work around this, you can make a "
                             "clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` instead "
                             "of `torch.inference_mode()`.");
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
    which += " " + shape_str(data_->sizes());  // "[]" for a 0-d tensor
    which += "]";
    // torch names the op that last wrote the tensor, without the "Backward<n>" suffix.
    auto op_name = [](std::string n) {
      auto pos = n.rfind("Backward");
      return pos == std::string::npos ? n : n.substr(0, pos);
    };
    std::string origin;
    if (is_output_) {
      origin = std::string(", which is output ") + std::to_string(output_nr_) + " of " + op_name(owner) + ",";
    } else if (data_->view_base() && data_->version() != data_->view_version()) {
      origin = ", which is output 0 of AsStrided,";  // a view whose base was written: torch renews it as one
    } else if (data_->grad_fn()) {
      origin = std::string(", which is output ") + std::to_string(data_->output_nr()) + " of " +
               op_name(data_->grad_fn()->name()) + ",";
    }
    fail(ErrorKind::Runtime,
         "one of the variables needed for gradient computation has been modified by an inplace operation: ",
         which, origin, " is at version ", data_->version(), "; expected version ", saved_version_,
         " instead. Hint: enable anomaly detection to find the operation that failed to compute its "
         "gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).");
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

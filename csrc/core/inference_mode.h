// torch.inference_mode's per-thread flag: tensors made while it is on are inference tensors, and no op
// records autograd history (whatever the grad mode says).
#pragma once

namespace tapegrad {

struct InferenceMode {
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool e) { enabled_ = e; }

 private:
  static thread_local bool enabled_;
};

}  // namespace tapegrad

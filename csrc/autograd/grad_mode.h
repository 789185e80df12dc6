// Thread-local grad mode: no_grad / enable_grad / set_grad_enabled flip it per thread.
#pragma once
#include <string>

#include "core/inference_mode.h"

namespace tapegrad {

struct GradMode {
  // Whether ops record history: torch records nothing under inference_mode, even inside enable_grad.
  static bool is_enabled() { return enabled_ && !InferenceMode::is_enabled(); }
  // The flag itself (torch.is_grad_enabled() reports it unchanged under inference_mode).
  static bool flag() { return enabled_; }
  static void set_enabled(bool e) { enabled_ = e; }

 private:
  static thread_local bool enabled_;
};

// Anomaly detection (torch.autograd.set_detect_anomaly): nodes remember where they were made,
// and backward refuses NaN gradients. The Python layer installs how a trace is captured and
// how a warning is shown, since the core does not call Python itself.
struct AnomalyMode {
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool e) { enabled_ = e; }
  static inline std::string (*capture_trace)() = nullptr;
  static inline void (*warn)(const std::string& message) = nullptr;

 private:
  static inline bool enabled_ = false;
};

// Restores the previous mode on scope exit (used by C++ code such as the engine).
struct AutoGradMode {
  explicit AutoGradMode(bool enabled) : prev_(GradMode::flag()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }

 private:
  bool prev_;
};

}  // namespace tapegrad

// Thread-local grad mode: no_grad / enable_grad / set_grad_enabled flip it per thread.
#pragma once

namespace tapegrad {

struct GradMode {
  static bool is_enabled() { return enabled_; }
  static void set_enabled(bool e) { enabled_ = e; }

 private:
  static thread_local bool enabled_;
};

// Restores the previous mode on scope exit (used by C++ code such as the engine).
struct AutoGradMode {
  explicit AutoGradMode(bool enabled) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(enabled); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }

 private:
  bool prev_;
};

}  // namespace tapegrad

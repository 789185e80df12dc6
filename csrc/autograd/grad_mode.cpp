// Storage for the thread-local grad-mode flag (on by default in every thread).
#include "autograd/grad_mode.h"

namespace tapegrad {
thread_local bool GradMode::enabled_ = true;
}

// The process-wide default generator behind tapegrad.manual_seed.
#include "core/generator.h"

namespace tapegrad {
std::shared_ptr<Generator> default_generator() {
  static auto* g = new std::shared_ptr<Generator>(std::make_shared<Generator>());
  return *g;
}
}  // namespace tapegrad

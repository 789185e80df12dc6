// The process-wide default floating dtype (torch.get_default_dtype / set_default_dtype).
#include "core/dtype.h"

namespace tapegrad {
namespace {
DType g_default = DType::Float32;
}
DType default_dtype() { return g_default; }
void set_default_dtype(DType t) { g_default = t; }
}  // namespace tapegrad

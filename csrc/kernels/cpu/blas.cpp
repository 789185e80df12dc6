// Loads OpenBLAS (the scipy-openblas32 wheel, symbols prefixed scipy_) with dlopen on first use,
// so importing tapegrad costs nothing and the library is only needed by matmul.
#include "kernels/cpu/blas.h"

#include <dlfcn.h>

#include <mutex>

#include "core/error.h"
#include "kernels/dispatch.h"

namespace tapegrad {

namespace {
std::string g_blas_path;
}

void set_blas_library_path(const std::string& path) { g_blas_path = path; }

namespace cpu::blas {

const Library& library() {
  static Library lib;
  static std::once_flag once;
  static std::string error;
  std::call_once(once, [] {
    if (g_blas_path.empty()) {
      error = "tapegrad could not find a BLAS library: install scipy-openblas32 (a tapegrad dependency)";
      return;
    }
    void* h = dlopen(g_blas_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      error = std::string("tapegrad could not load BLAS from ") + g_blas_path + ": " + dlerror();
      return;
    }
    lib.sgemm = reinterpret_cast<sgemm_t>(dlsym(h, "scipy_cblas_sgemm"));
    lib.dgemm = reinterpret_cast<dgemm_t>(dlsym(h, "scipy_cblas_dgemm"));
    if (!lib.sgemm || !lib.dgemm) error = "the BLAS library at " + g_blas_path + " has no scipy_cblas_sgemm/dgemm";
  });
  if (!error.empty()) fail(ErrorKind::Runtime, error);
  return lib;
}

}  // namespace cpu::blas
}  // namespace tapegrad

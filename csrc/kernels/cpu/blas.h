// The BLAS entry points tapegrad uses, resolved at run time from scipy-openblas's shared library.
#pragma once
#include <string>

namespace tapegrad::cpu::blas {

enum Order { RowMajor = 101 };
enum Trans { NoTrans = 111, Transpose = 112 };

using sgemm_t = void (*)(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a, int lda,
                         const float* b, int ldb, float beta, float* c, int ldc);
using dgemm_t = void (*)(int order, int ta, int tb, int m, int n, int k, double alpha, const double* a, int lda,
                         const double* b, int ldb, double beta, double* c, int ldc);

struct Library {
  sgemm_t sgemm = nullptr;
  dgemm_t dgemm = nullptr;
};

// Loads the library on first call; raises a RuntimeError naming the path if it cannot.
const Library& library();

}  // namespace tapegrad::cpu::blas

// Vector transcendentals: glibc's libmvec has SIMD versions of these (within 4 ULP). Declaring them
// `simd` lets `#pragma omp simd` loops call them without -ffast-math, which would also change
// NaN handling and rounding everywhere else in the kernel.
#pragma once
#include <cmath>

#if defined(TAPEGRAD_HAVE_MVEC)
#define TG_SIMD_DECL noexcept(true) __attribute__((simd("notinbranch")))
extern "C" {
float expf(float) TG_SIMD_DECL;
float logf(float) TG_SIMD_DECL;
float sinf(float) TG_SIMD_DECL;
float cosf(float) TG_SIMD_DECL;
float tanhf(float) TG_SIMD_DECL;
float log1pf(float) TG_SIMD_DECL;
float expm1f(float) TG_SIMD_DECL;
float erff(float) TG_SIMD_DECL;
double exp(double) TG_SIMD_DECL;
double log(double) TG_SIMD_DECL;
double sin(double) TG_SIMD_DECL;
double cos(double) TG_SIMD_DECL;
double tanh(double) TG_SIMD_DECL;
double log1p(double) TG_SIMD_DECL;
double expm1(double) TG_SIMD_DECL;
double erf(double) TG_SIMD_DECL;
}
#undef TG_SIMD_DECL
#endif

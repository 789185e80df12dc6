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
float powf(float, float) TG_SIMD_DECL;
double exp(double) TG_SIMD_DECL;
double log(double) TG_SIMD_DECL;
double sin(double) TG_SIMD_DECL;
double cos(double) TG_SIMD_DECL;
double tanh(double) TG_SIMD_DECL;
double log1p(double) TG_SIMD_DECL;
double expm1(double) TG_SIMD_DECL;
double erf(double) TG_SIMD_DECL;
double pow(double, double) TG_SIMD_DECL;
}
#undef TG_SIMD_DECL
#endif

namespace tapegrad::cpu {

// Calls apply(f) with f(x) = x ** e, picking torch's special cases (squares, cubes, square roots,
// reciprocals computed directly, so they round as torch's do) before the loop, so each loop body
// is branch-free and vectorises; std::pow (libmvec's powf/pow) otherwise.
template <class T, class Apply>
void with_power(T e, Apply apply) {
  if (e == T(1)) apply([](T x) { return x; });
  else if (e == T(2)) apply([](T x) { return x * x; });
  else if (e == T(3)) apply([](T x) { return x * x * x; });
  else if (e == T(0.5)) apply([](T x) { return std::sqrt(x); });
  else if (e == T(-0.5)) apply([](T x) { return T(1) / std::sqrt(x); });
  else if (e == T(-1)) apply([](T x) { return T(1) / x; });
  else if (e == T(-2)) apply([](T x) { return T(1) / (x * x); });
  else apply([e](T x) { return std::pow(x, e); });
}

}  // namespace tapegrad::cpu

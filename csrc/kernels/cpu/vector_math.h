// Vector transcendentals: glibc's libmvec has SIMD versions of these (within 4 ULP). Declaring them
// `simd` lets `#pragma omp simd` loops call them without -ffast-math, which would also change
// NaN handling and rounding everywhere else in the kernel.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

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

// expf as torch's vectorized CPU kernels compute it (its Vectorized<float>::exp, SLEEF's 1-ULP
// algorithm): e^x = 2^q * p(s), q = round(x / ln 2), s = x - q ln 2 taken off in two parts, p a
// polynomial of degree 7 evaluated with fused multiply-adds, and 2^q applied in two halves so that
// subnormal results round as there. Same constants and order of operations, so sigmoid and silu
// come out bit for bit as torch's (tests/test_vector_math.py compares millions of inputs). It
// vectorizes under `#pragma omp simd`.
[[gnu::always_inline]] inline float torch_vec_expf(float x) {
  // Clamped before the integer conversion (whose NaN or overflow is undefined); results outside
  // [-104, 100] are replaced below anyway.
  // Round to nearest even by adding and taking off 1.5 * 2^23 (exact while |x / ln 2| < 2^22; beyond
  // that the result is replaced below); unlike nearbyint it vectorizes without -fno-trapping-math.
  const float shifted = x * 1.442695040888963407359924681001892137426645954152985934135449406931f + 12582912.0f;
  float qf = shifted - 12582912.0f;
  qf = !(qf >= -256.0f) ? -256.0f : qf > 256.0f ? 256.0f : qf;  // NaN too
  const int q = int(qf), half = q >> 1;
  float s = std::fma(qf, -0.693145751953125f, x);
  s = std::fma(qf, -1.428606765330187045e-06f, s);
  float u = 0.000198527617612853646278381f;
  u = std::fma(u, s, 0.00139304355252534151077271f);
  u = std::fma(u, s, 0.00833336077630519866943359f);
  u = std::fma(u, s, 0.0416664853692054748535156f);
  u = std::fma(u, s, 0.166666671633720397949219f);
  u = std::fma(u, s, 0.5f);
  u = 1.0f + std::fma(s * s, u, s);
  auto pow2 = [](int e) { return __builtin_bit_cast(float, uint32_t(e + 127) << 23); };
  u = u * pow2(half) * pow2(q - half);
  u = x < -104.0f ? 0.0f : u;
  u = x > 100.0f ? std::numeric_limits<float>::infinity() : u;
  return x != x ? x : u;
}

// glibc's expf, which torch's scalar tails call: out of line, so that no loop turns it into
// libmvec's vector expf (which rounds differently).
[[gnu::noinline]] inline float scalar_expf(float x) { return std::exp(x); }

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

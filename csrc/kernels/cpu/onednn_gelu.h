// float32 gelu as oneDNN's AVX2 code computes it, which torch hands contiguous float32 gelu of two or
// more elements to: reproduced operation by operation, so results agree bit for bit (also far in the
// negative tail, where x/2 * (1 + erf) is all rounding).
#pragma once
#include <cstdint>

namespace tapegrad::cpu {

inline float float_of_bits(uint32_t bits) { return __builtin_bit_cast(float, bits); }

// oneDNN's exp: clamped to [ln FLT_MIN, ln FLT_MAX] (below it 0), 2^n * p(r) with n = floor(x log2 e
// + 1/2), r = x - n ln 2, p a degree-5 polynomial, and 2^n applied as 2 * 2^(n-1).
[[gnu::always_inline]] inline float onednn_avx2_expf(float x) {
  const float ln_min = float_of_bits(0xc2aeac50), ln_max = float_of_bits(0x42b17218);
  const bool underflow = x < ln_min;
  x = x < ln_max ? x : ln_max;  // minps / maxps order: a NaN becomes the bound
  x = x > ln_min ? x : ln_min;
  float fx = x * float_of_bits(0x3fb8aa3b);
  fx = __builtin_floorf(fx + 0.5f);
  const float r = __builtin_fmaf(-fx, float_of_bits(0x3f317218), x);
  const float scale = underflow ? 0.0f : float_of_bits(uint32_t(int(fx - 1.0f) + 127) << 23);
  float p = float_of_bits(0x3c07cfce);
  p = __builtin_fmaf(p, r, float_of_bits(0x3d2b9d0d));
  p = __builtin_fmaf(p, r, float_of_bits(0x3e2aad40));
  p = __builtin_fmaf(p, r, float_of_bits(0x3efffee3));
  p = __builtin_fmaf(p, r, float_of_bits(0x3f7ffffb));
  p = __builtin_fmaf(p, r, 1.0f);
  return p * scale * 2.0f;
}

// gelu(s) = s/2 + s/2 * erf(s / sqrt 2), erf by Abramowitz & Stegun 7.1.26 (t = 1 / (1 + p|x|),
// erf = sign(x) (1 - t (a1 + t (a2 + ... + t a5)) e^(-x^2))), the last step one fused multiply-add.
[[gnu::always_inline]] inline float onednn_avx2_gelu(float s) {
  const float x = s * float_of_bits(0x3f3504f3);
  const float t = 1.0f / __builtin_fmaf(float_of_bits(0x3ea7ba05), __builtin_fabsf(x), 1.0f);
  const float e = -onednn_avx2_expf(-(x * x)) * t;
  float poly = float_of_bits(0x3f87dc22);
  poly = __builtin_fmaf(poly, t, float_of_bits(0xbfba00e3));
  poly = __builtin_fmaf(poly, t, float_of_bits(0x3fb5f0e3));
  poly = __builtin_fmaf(poly, t, float_of_bits(0xbe91a98e));
  poly = __builtin_fmaf(poly, t, float_of_bits(0x3e827906));
  const float magnitude = __builtin_fmaf(e, poly, 1.0f);
  const float erf = float_of_bits(__builtin_bit_cast(uint32_t, magnitude) ^
                                  (__builtin_bit_cast(uint32_t, x) & 0x80000000u));
  const float half = s * 0.5f;
  return __builtin_fmaf(erf, half, half);
}

}  // namespace tapegrad::cpu

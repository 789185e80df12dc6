// CPU kernels for the nn activations (forward) and the fused first-order backward of the
// floating unary ops: one pass computing grad * f'(x) instead of a chain of elementwise ops.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/map.h"
#include "kernels/cpu/onednn_gelu.h"

namespace tapegrad::cpu {
namespace {

template <class T>
constexpr T kSqrtHalf = T(0.70710678118654752440);
template <class T>
constexpr T kInvSqrt2Pi = T(0.39894228040143267794);
template <class T>
constexpr T kSqrt2OverPi = T(0.79788456080286535588);
template <class T>
constexpr T kGeluKappa = T(0.044715);

// e^x as torch's SIMD bodies take it: its vectorized exp for float32 (torch_vec_expf), for float64
// the library's (SLEEF's double exp is not reproduced; it differs from it in rare last bits).
template <class T>
[[gnu::always_inline]] inline T simd_body_exp(T x) {
  if constexpr (std::is_same_v<T, float>) return torch_vec_expf(x);
  else return std::exp(x);
}

template <class T>
void activation_typed(UnaryOp op, const TensorImpl& in, TensorImpl& out, T a, T b) {
  switch (op) {
    case UnaryOp::LeakyRelu: map1<T>(in, out, [a](T x) { return x > T(0) ? x : x * a; }); break;
    case UnaryOp::Elu: map1<T>(in, out, [a](T x) { return x > T(0) ? x : a * std::expm1(x); }); break;
    case UnaryOp::Softplus:
      map1<T>(in, out, [a, b](T x) { return x * a > b ? x : std::log1p(std::exp(x * a)) / a; });
      break;
    case UnaryOp::Gelu:
      if constexpr (std::is_same_v<T, float>) {
        // torch hands contiguous float32 of two or more elements to oneDNN: its AVX2 arithmetic.
        if (in.numel() > 1 && in.is_contiguous() && out.is_contiguous() && !onednn_runs_avx512()) {
          map1<T>(in, out, [](T x) { return onednn_avx2_gelu(x); });
          break;
        }
      }
      map1<T>(in, out, [](T x) { return x * T(0.5) * (T(1) + std::erf(x * kSqrtHalf<T>)); });
      break;
    case UnaryOp::GeluTanh:
      map1<T>(in, out, [](T x) {
        T inner = kSqrt2OverPi<T> * (x + kGeluKappa<T> * x * x * x);
        return T(0.5) * x * (T(1) + std::tanh(inner));
      });
      break;
    case UnaryOp::Silu:
      if constexpr (std::is_same_v<T, float>)  // torch's SIMD body and scalar tail take e^-x differently
        map2_torch_split<T>(in, in, out, [](T x, T) { return x / (1.0f + torch_vec_expf(-x)); },
                            [](T x, T) { return x / (1.0f + scalar_expf(-x)); }, torch_native_vector_bytes());
      else
        map1<T>(in, out, [](T x) { return x / (T(1) + std::exp(-x)); });
      break;
    case UnaryOp::Log1p: map1<T>(in, out, [](T x) { return std::log1p(x); }); break;
    case UnaryOp::Erf: map1<T>(in, out, [](T x) { return std::erf(x); }); break;
    case UnaryOp::Hardtanh: map1<T>(in, out, [a, b](T x) { return x < a ? a : (x > b ? b : x); }); break;
    case UnaryOp::Hardsigmoid:
      map1<T>(in, out, [](T x) { return std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
      break;
    case UnaryOp::Hardswish:
      map1<T>(in, out, [](T x) { return x * std::min(std::max(x + T(3), T(0)), T(6)) / T(6); });
      break;
    case UnaryOp::Mish: map1<T>(in, out, [](T x) { return x * std::tanh(std::log1p(std::exp(x))); }); break;
    case UnaryOp::LogSigmoid:
      map1<T>(in, out, [](T x) { return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x))); });
      break;
    case UnaryOp::Celu: map1<T>(in, out, [a](T x) { return x > T(0) ? x : std::expm1(x * (T(1) / a)) * a; }); break;
    case UnaryOp::Hardshrink: map1<T>(in, out, [a](T x) { return x >= -a && x <= a ? T(0) : x; }); break;
    case UnaryOp::Softshrink:
      // Inside the band torch's SIMD body gives +0.0 (NaN kept), its scalar tail x * 0 (-0.5 gives -0.0).
      map2_torch_split<T>(
          in, in, out, [a](T x, T) { return x > a ? x - a : (x < -a ? x + a : (x != x ? x : T(0))); },
          [a](T x, T) { return x > a ? x - a : (x < -a ? x + a : x * T(0)); });
      break;
    case UnaryOp::Threshold: map1<T>(in, out, [a, b](T x) { return x <= a ? b : x; }); break;
    default: break;
  }
}

template <class T>
void unary_grad_typed(UnaryOp op, const TensorImpl& g, const TensorImpl& s, TensorImpl& out, T a, T b) {
  auto m = [&](auto f) { map2<T>(g, s, out, f); };
  switch (op) {
    // The math ops, in the order their composed rules round (so both paths agree).
    case UnaryOp::Exp: m([](T gv, T y) { return gv * y; }); break;
    case UnaryOp::Log: m([](T gv, T x) { return gv / x; }); break;
    case UnaryOp::Sin: m([](T gv, T x) { return gv * std::cos(x); }); break;
    case UnaryOp::Cos: m([](T gv, T x) { return gv * -std::sin(x); }); break;
    case UnaryOp::Sqrt: m([](T gv, T y) { return gv / (y * T(2)); }); break;
    case UnaryOp::Reciprocal: m([](T gv, T y) { return -gv * (y * y); }); break;
    case UnaryOp::Relu: m([](T gv, T y) { return y <= T(0) ? T(0) : gv; }); break;  // NaN passes, as torch
    case UnaryOp::PowScalar:
      with_power<T>(a - T(1), [&](auto pw) { m([a, pw](T gv, T x) { return gv * (pw(x) * a); }); });
      break;
    case UnaryOp::Tanh: m([](T gv, T y) { return gv * (T(1) - y * y); }); break;
    case UnaryOp::Sigmoid: m([](T gv, T y) { return gv * (T(1) - y) * y; }); break;
    case UnaryOp::LeakyRelu: m([a](T gv, T x) { return x > T(0) ? gv : gv * a; }); break;
    // x <= 0 picks the exponential side, as torch's kernel: NaN passes the gradient unchanged.
    case UnaryOp::Elu:
      // torch's SIMD body (its AVX-512 build here, its vectorized exp) takes the exponential side
      // unless x > 0, so NaN gives NaN; its scalar tail passes the gradient at NaN.
      map2_torch_split<T>(g, s, out, [a](T gv, T x) { return x > T(0) ? gv : gv * a * simd_body_exp(x); },
                          [a](T gv, T x) { return x <= T(0) ? gv * a * std::exp(x) : gv; }, torch_native_vector_bytes());
      break;
    case UnaryOp::Softplus:
      m([a, b](T gv, T x) {
        T z = std::exp(x * a);
        return x * a > b ? gv : gv * z / (z + T(1));
      });
      break;
    case UnaryOp::Gelu:
      m([](T gv, T x) {
        T cdf = T(0.5) * (T(1) + std::erf(x * kSqrtHalf<T>));
        T pdf = kInvSqrt2Pi<T> * std::exp(T(-0.5) * x * x);
        return gv * (cdf + x * pdf);
      });
      break;
    case UnaryOp::GeluTanh:
      m([](T gv, T x) {
        T x2 = x * x;
        T t = std::tanh(kSqrt2OverPi<T> * (x + kGeluKappa<T> * x2 * x));
        T left = T(0.5) * (T(1) + t);
        T right = T(0.5) * x * (T(1) - t * t) * kSqrt2OverPi<T> * (T(1) + T(3) * kGeluKappa<T> * x2);
        return gv * (left + right);
      });
      break;
    case UnaryOp::Silu:
      if constexpr (std::is_same_v<T, float>) {
        map2_torch_split<T>(
            g, s, out,
            [](T gv, T x) {
              const T sig = 1.0f / (1.0f + torch_vec_expf(-x));
              return gv * sig * std::fma(x, 1.0f - sig, 1.0f);  // fused in torch's build
            },
            [](T gv, T x) {
              const T sig = 1.0f / (1.0f + scalar_expf(-x));
              return gv * sig * std::fma(x, 1.0f - sig, 1.0f);
            },
            torch_native_vector_bytes());
      } else {
        m([](T gv, T x) {
          T sig = T(1) / (T(1) + std::exp(-x));
          return gv * sig * (T(1) + x * (T(1) - sig));
        });
      }
      break;
    case UnaryOp::Log1p: m([](T gv, T x) { return gv / (T(1) + x); }); break;
    case UnaryOp::Erf: m([](T gv, T x) { return gv * T(1.12837916709551257390) * std::exp(-x * x); }); break;
    // torch's backward kernels, condition for condition.
    // At NaN torch's SIMD body gives 0 (x > a && x < b fails), its scalar tail the gradient.
    case UnaryOp::Hardtanh:
      map2_torch_split<T>(g, s, out, [a, b](T gv, T x) { return x > a && x < b ? gv : T(0); },
                          [a, b](T gv, T x) { return x <= a || x >= b ? T(0) : gv; });
      break;
    // torch multiplies by the float constant 1/6 for every dtype.
    case UnaryOp::Hardsigmoid: m([](T gv, T x) { return x > T(-3) && x < T(3) ? gv * T(1.0f / 6.0f) : T(0); }); break;
    case UnaryOp::Hardswish:
      // At NaN torch's SIMD body (its AVX-512 build here) gives NaN, its scalar tail the gradient.
      map2_torch_split<T>(
          g, s, out, [](T gv, T x) { return x <= T(-3) ? T(0) : (x >= T(3) ? gv : gv * ((x / T(3)) + T(0.5))); },
          [](T gv, T x) { return x <= T(-3) ? T(0) : (x < T(3) ? gv * ((x / T(3)) + T(0.5)) : gv); },
          torch_native_vector_bytes());
      break;
    case UnaryOp::Mish:
      m([](T gv, T x) {
        T sig = T(1) / (T(1) + std::exp(-x));
        T t = std::tanh(std::log1p(std::exp(x)));
        return gv * (t + x * sig * (T(1) - t * t));
      });
      break;
    case UnaryOp::LogSigmoid:
      m([](T gv, T x) {
        bool negative = x < T(0);
        T z = std::exp(-std::abs(x));
        return gv * (T(negative ? 1 : 0) - T(negative ? 1 : -1) * (z / (T(1) + z)));
      });
      break;
    case UnaryOp::Celu: {  // split as elu's; torch's derivative takes 1 / alpha in float (its forward in double)
      const T inv = T(1.0 / double(float(a)));
      map2_torch_split<T>(
          g, s, out, [a, inv](T gv, T x) { return x > T(0) ? gv : gv * inv * a * simd_body_exp(x * inv); },
          [a, inv](T gv, T x) { return x <= T(0) ? gv * inv * a * std::exp(x * inv) : gv; }, torch_native_vector_bytes());
      break;
    }
      break;
    case UnaryOp::Hardshrink:
    case UnaryOp::Softshrink:
      // At NaN torch's SIMD body gives 0 (x < -a || x > a fails), its scalar tail the gradient.
      map2_torch_split<T>(g, s, out, [a](T gv, T x) { return x < -a || x > a ? gv : T(0); },
                          [a](T gv, T x) { return x >= -a && x <= a ? T(0) : gv; });
      break;
    case UnaryOp::Threshold: m([a](T gv, T x) { return x <= a ? T(0) : gv; }); break;
    default: fail(ErrorKind::Runtime, "no fused backward kernel for this op");
  }
}

}  // namespace

void activation(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b) {
  TG_DISPATCH_FLOATING(out.dtype(), "activation", activation_typed<scalar_t>(op, in, out, scalar_t(a), scalar_t(b)));
}

void unary_grad(UnaryOp op, const TensorImpl& grad, const TensorImpl& saved, TensorImpl& out, double a, double b) {
  TG_DISPATCH_FLOATING(out.dtype(), "unary_grad", unary_grad_typed<scalar_t>(op, grad, saved, out, scalar_t(a), scalar_t(b)));
}

}  // namespace tapegrad::cpu

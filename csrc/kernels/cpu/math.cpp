// CPU kernels for the rounding, inverse-trigonometric, hyperbolic and base-2/10 math ops.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/map.h"

namespace tapegrad::cpu {
namespace {

// x rounded half to even at `decimals` places, as torch.round: scaled by 10^d, or divided by
// 10^-d for negative d (so that 1234.5 at -2 is 1200).
template <class T>
T round_at(T x, int decimals) {
  if (decimals == 0) return std::nearbyint(x);
  if (decimals > 0) {
    T scale = T(std::pow(10.0, decimals));
    return std::nearbyint(x * scale) / scale;
  }
  T scale = T(std::pow(10.0, -decimals));
  return std::nearbyint(x / scale) * scale;
}

template <class T>
void math_typed(UnaryOp op, const TensorImpl& in, TensorImpl& out, T a) {
  auto m = [&](auto f) { map1<T>(in, out, f); };
  switch (op) {
    case UnaryOp::Floor: m([](T x) { return std::floor(x); }); break;
    case UnaryOp::Ceil: m([](T x) { return std::ceil(x); }); break;
    case UnaryOp::Trunc: m([](T x) { return std::trunc(x); }); break;
    case UnaryOp::Frac: m([](T x) { return x - std::trunc(x); }); break;
    case UnaryOp::Round: {
      // Past +-1000 places every scale is infinite anyway (NaN results, as torch's); clamping first keeps
      // the int conversion and the negation in round_at defined for any int64.
      int decimals = int(std::clamp(double(a), -1000.0, 1000.0));
      m([decimals](T x) { return round_at(x, decimals); });
      break;
    }
    case UnaryOp::Expm1: m([](T x) { return std::expm1(x); }); break;
    case UnaryOp::Log2: m([](T x) { return std::log2(x); }); break;
    case UnaryOp::Log10: m([](T x) { return std::log10(x); }); break;
    case UnaryOp::Exp2: m([](T x) { return std::exp2(x); }); break;
    case UnaryOp::Rsqrt: m([](T x) { return T(1) / std::sqrt(x); }); break;
    case UnaryOp::Asin: m([](T x) { return std::asin(x); }); break;
    case UnaryOp::Acos: m([](T x) { return std::acos(x); }); break;
    case UnaryOp::Atan: m([](T x) { return std::atan(x); }); break;
    case UnaryOp::Sinh: m([](T x) { return std::sinh(x); }); break;
    case UnaryOp::Cosh: m([](T x) { return std::cosh(x); }); break;
    case UnaryOp::Asinh: m([](T x) { return std::asinh(x); }); break;
    case UnaryOp::Acosh: m([](T x) { return std::acosh(x); }); break;
    case UnaryOp::Atanh: m([](T x) { return std::atanh(x); }); break;
    default: break;
  }
}

}  // namespace

void math(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a) {
  TG_DISPATCH_FLOATING(out.dtype(), "math", math_typed<scalar_t>(op, in, out, scalar_t(a)));
}

}  // namespace tapegrad::cpu

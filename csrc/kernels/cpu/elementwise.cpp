// CPU elementwise kernels: one functor per op fed to map1/map2, which pick contiguous,
// scalar-broadcast or strided inner loops.
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/map.h"
#include "kernels/cpu/wrapping.h"

namespace tapegrad::cpu {
namespace {

// torch's integer power: exact by repeated squaring, wrapping as two's complement does; a
// negative exponent leaves only 1 and -1 nonzero.
template <class T>
T int_pow(T base, T exp) {
  if (exp < T(0)) return base == T(1) ? T(1) : base == T(-1) ? T((exp % T(2)) ? -1 : 1) : T(0);
  using U = std::make_unsigned_t<T>;
  U result = 1, b = U(base);
  for (U e = U(exp); e; e >>= 1) {
    if (e & 1) result *= b;
    b *= b;
  }
  return T(result);
}

// A bound given as a double, as an integer of T: saturated at T's ends (2**63 is past int64's).
template <class T>
T saturate(double v) {
  if (std::isnan(v)) return T(0);
  if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
  if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
  return T(v);
}

template <class T>
void unary_typed(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a_, double b_) {
  using M = math_t<T>;
  const M a = M(a_), b = M(b_);
  const bool has_lo = !std::isnan(a_), has_hi = !std::isnan(b_);
  auto m = [&](auto f) { map1<T>(in, out, [f](T x) { return T(f(M(x))); }); };
  switch (op) {
    case UnaryOp::Neg:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)  // in T, wrapping: int64 does not survive a double
        map1<T>(in, out, [](T x) { return wrapping_sub(T(0), x); });
      else
        m([](M x) { return -x; });
      break;
    case UnaryOp::Exp: m([](M x) { return std::exp(x); }); break;
    case UnaryOp::Log: m([](M x) { return std::log(x); }); break;
    case UnaryOp::Sin: m([](M x) { return std::sin(x); }); break;
    case UnaryOp::Cos: m([](M x) { return std::cos(x); }); break;
    case UnaryOp::Tanh: m([](M x) { return std::tanh(x); }); break;
    case UnaryOp::Sigmoid:
      if constexpr (std::is_same_v<T, float>)  // torch's SIMD body and scalar tail take e^-x differently
        map2_torch_split<T>(in, in, out, [](T x, T) { return 1.0f / (1.0f + torch_vec_expf(0.0f - x)); },
                            [](T x, T) { return 1.0f / (1.0f + scalar_expf(-x)); }, torch_native_vector_bytes());
      else
        m([](M x) { return M(1) / (M(1) + std::exp(-x)); });
      break;
    case UnaryOp::Relu:
      if constexpr (std::is_integral_v<T>)  // in T itself: int64's extremes do not survive a double
        map1<T>(in, out, [](T x) { return x > T(0) ? x : T(0); });
      else
        m([](M x) { return x < M(0) ? M(0) : x; });  // NaN and -0.0 pass, as torch's clamp_min
      break;
    case UnaryOp::Abs:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)  // in T: the most negative stays itself
        map1<T>(in, out, [](T x) { return x < T(0) ? wrapping_sub(T(0), x) : x; });
      else
        m([](M x) { return std::abs(x); });
      break;
    case UnaryOp::Sqrt: m([](M x) { return std::sqrt(x); }); break;
    case UnaryOp::Reciprocal: m([](M x) { return M(1) / x; }); break;
    case UnaryOp::Sign: m([](M x) { return M((x > M(0)) - (x < M(0))); }); break;
    case UnaryOp::PowScalar:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        map1<T>(in, out, [e = T(a_)](T x) { return int_pow(x, e); });
      else
        with_power<M>(a, [&](auto pw) { m(pw); });
      break;
    case UnaryOp::RPowScalar:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)  // exact, as torch's integer pow
        map1<T>(in, out, [base = T(a_)](T x) { return int_pow(base, x); });
      else
        m([a](M x) { return std::pow(a, x); });
      break;
    case UnaryOp::Clamp:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {  // compared in T, as relu
        const T lo = saturate<T>(a_), hi = saturate<T>(b_);
        map1<T>(in, out, [=](T x) {
          if (has_lo && x < lo) x = lo;
          return has_hi && x > hi ? hi : x;
        });
        break;
      }
      // torch propagates NaN inputs through clamp.
      m([=](M x) {
        if (std::isnan(x)) return x;
        if (has_lo && x < a) x = a;
        if (has_hi && x > b) x = b;
        return x;
      });
      break;
    case UnaryOp::InRangeMask:
      m([=](M x) { return M((!has_lo || x >= a) && (!has_hi || x <= b)); });
      break;
    case UnaryOp::GtMask: m([a](M x) { return M(x > a); }); break;
    case UnaryOp::LtMask: m([a](M x) { return M(x < a); }); break;
    case UnaryOp::NeMask: m([a](M x) { return M(x != a); }); break;
    case UnaryOp::AddScalar: m([a](M x) { return x + a; }); break;
    case UnaryOp::RSubScalar: m([a](M x) { return a - x; }); break;
    case UnaryOp::MulScalar: m([a](M x) { return x * a; }); break;
    case UnaryOp::DivScalar: m([a](M x) { return x / a; }); break;
    case UnaryOp::BitNot:
      if constexpr (std::is_same_v<T, bool>) map1<T>(in, out, [](T x) { return !x; });
      else if constexpr (std::is_integral_v<T>) map1<T>(in, out, [](T x) { return T(~x); });
      break;
    default: break;  // the activations: activation.cpp
  }
}

// The division family per element, as torch computes it. Integer `b` is never 0 here (the op
// checks); b == -1 is spelled out because INT_MIN / -1 traps on x86.
template <class T>
T fmod_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
  else if constexpr (std::is_same_v<T, bool>) return a;
  else return b == T(-1) ? T(0) : T(a % b);
}

template <class T>
T remainder_of(T a, T b) {
  T m = fmod_of(a, b);
  if constexpr (!std::is_same_v<T, bool>)
    if (m != T(0) && ((b < T(0)) != (m < T(0)))) m += b;
  return m;
}

template <class T>
T floor_divide_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == T(0)) return a / b;
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != T(0) && ((b < T(0)) != (mod < T(0)))) div -= T(1);
    if (div == T(0)) return std::copysign(T(0), a / b);
    T floored = std::floor(div);
    return div - floored > T(0.5) ? floored + T(1) : floored;
  } else if constexpr (std::is_same_v<T, bool>) {
    return a;
  } else {
    using U = std::make_unsigned_t<T>;
    if (b == T(-1)) return T(U(0) - U(a));  // wraps for INT_MIN, as two's complement does
    T q = T(a / b);
    if (a % b != 0 && ((a < T(0)) != (b < T(0)))) --q;
    return q;
  }
}

template <class T>
void binary_typed(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  using M = math_t<T>;
  switch (op) {
    case BinaryOp::Add:
      if constexpr (std::is_same_v<T, bool>) map2<T>(x, y, out, [](T a, T b) { return T(a || b); });
      else map2<T>(x, y, out, [](T a, T b) { return wrapping_add(a, b); });
      break;
    case BinaryOp::Sub: map2<T>(x, y, out, [](T a, T b) { return wrapping_sub(a, b); }); break;
    case BinaryOp::Mul:
      if constexpr (std::is_same_v<T, bool>) map2<T>(x, y, out, [](T a, T b) { return T(a && b); });
      else map2<T>(x, y, out, [](T a, T b) { return wrapping_mul(a, b); });
      break;
    case BinaryOp::Div: map2<T>(x, y, out, [](T a, T b) { return T(M(a) / M(b)); }); break;
    case BinaryOp::Pow:
      if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        map2<T>(x, y, out, [](T a, T b) { return int_pow(a, b); });
      else
        map2<T>(x, y, out, [](T a, T b) { return T(std::pow(M(a), M(b))); });
      break;
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: {
      const bool is_max = op == BinaryOp::Maximum;
      if constexpr (std::is_floating_point_v<T>) {
        // Between equal values (0.0 and -0.0) torch's SIMD body (max_ps/min_ps) picks b, its scalar
        // tail (std::max/std::min) a: the sign of a zero result follows the element's place.
        auto nan = [](T a, T b) { return std::isnan(a) ? a : b; };
        if (is_max)
          map2_torch_split<T>(x, y, out, [nan](T a, T b) { return a != a || b != b ? nan(a, b) : (a > b ? a : b); },
                              [nan](T a, T b) { return a != a || b != b ? nan(a, b) : (a < b ? b : a); });
        else
          map2_torch_split<T>(x, y, out, [nan](T a, T b) { return a != a || b != b ? nan(a, b) : (a < b ? a : b); },
                              [nan](T a, T b) { return a != a || b != b ? nan(a, b) : (b < a ? b : a); });
      } else if (is_max) {
        map2<T>(x, y, out, [](T a, T b) { return a > b ? a : b; });
      } else {
        map2<T>(x, y, out, [](T a, T b) { return a < b ? a : b; });
      }
      break;
    }
    case BinaryOp::BitAnd:
    case BinaryOp::BitOr:
    case BinaryOp::BitXor:
      if constexpr (std::is_integral_v<T>) {
        if (op == BinaryOp::BitAnd) map2<T>(x, y, out, [](T a, T b) { return T(a & b); });
        else if (op == BinaryOp::BitOr) map2<T>(x, y, out, [](T a, T b) { return T(a | b); });
        else map2<T>(x, y, out, [](T a, T b) { return T(a ^ b); });
      }
      break;
    case BinaryOp::KeepWhere: map2<T>(x, y, out, [](T a, T b) { return b != T(0) ? a : T(0); }); break;
    case BinaryOp::PowExpMask:
      map2<T>(x, y, out, [](T a, T b) { return T(!(a == T(0) && b >= T(0))); });
      break;
    case BinaryOp::Remainder: map2<T>(x, y, out, [](T a, T b) { return remainder_of(a, b); }); break;
    case BinaryOp::Fmod: map2<T>(x, y, out, [](T a, T b) { return fmod_of(a, b); }); break;
    case BinaryOp::FloorDivide: map2<T>(x, y, out, [](T a, T b) { return floor_divide_of(a, b); }); break;
    case BinaryOp::Atan2: map2<T>(x, y, out, [](T a, T b) { return T(std::atan2(M(a), M(b))); }); break;
  }
}

template <class T, class F>
void compare_map(const TensorImpl& x, const TensorImpl& y, TensorImpl& out, F f) {
  const Shape& shape = out.sizes();
  strided_loop<3>(shape, {byte_strides(out, shape), byte_strides(x, shape), byte_strides(y, shape)},
                  {out.data_ptr(), x.data_ptr(), y.data_ptr()}, [&](char** p, const int64_t* s, int64_t n) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<bool*>(p[0] + i * s[0]) =
                          f(*reinterpret_cast<const T*>(p[1] + i * s[1]), *reinterpret_cast<const T*>(p[2] + i * s[2]));
                  });
}

template <class T>
void compare_typed(CompareOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  switch (op) {
    case CompareOp::Eq: compare_map<T>(x, y, out, [](T a, T b) { return a == b; }); break;
    case CompareOp::Ne: compare_map<T>(x, y, out, [](T a, T b) { return a != b; }); break;
    case CompareOp::Lt: compare_map<T>(x, y, out, [](T a, T b) { return a < b; }); break;
    case CompareOp::Le: compare_map<T>(x, y, out, [](T a, T b) { return a <= b; }); break;
    case CompareOp::Gt: compare_map<T>(x, y, out, [](T a, T b) { return a > b; }); break;
    case CompareOp::Ge: compare_map<T>(x, y, out, [](T a, T b) { return a >= b; }); break;
  }
}

template <class T>
void where_typed(const TensorImpl& cond, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  const Shape& shape = out.sizes();
  strided_loop<4>(shape,
                  {byte_strides(out, shape), byte_strides(cond, shape), byte_strides(x, shape), byte_strides(y, shape)},
                  {out.data_ptr(), cond.data_ptr(), x.data_ptr(), y.data_ptr()},
                  [](char** p, const int64_t* s, int64_t n) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const bool*>(p[1] + i * s[1])
                                                                   ? *reinterpret_cast<const T*>(p[2] + i * s[2])
                                                                   : *reinterpret_cast<const T*>(p[3] + i * s[3]);
                  });
}

template <typename T>
void fused_multiply_add_typed(const TensorImpl& x, const TensorImpl& y, const TensorImpl& z, TensorImpl& out) {
  const Shape& shape = out.sizes();
  strided_loop<4>(shape, {byte_strides(out, shape), byte_strides(x, shape), byte_strides(y, shape), byte_strides(z, shape)},
                  {out.data_ptr(), x.data_ptr(), y.data_ptr(), z.data_ptr()}, [](char** p, const int64_t* s, int64_t n) {
                    for (int64_t i = 0; i < n; ++i)
                      *reinterpret_cast<T*>(p[0] + i * s[0]) = std::fma(*reinterpret_cast<const T*>(p[1] + i * s[1]),
                                                                        *reinterpret_cast<const T*>(p[2] + i * s[2]),
                                                                        *reinterpret_cast<const T*>(p[3] + i * s[3]));
                  });
}

}  // namespace

void fused_multiply_add(const TensorImpl& x, const TensorImpl& y, const TensorImpl& z, TensorImpl& out) {
  switch (out.dtype()) {
    case DType::Float32: return fused_multiply_add_typed<float>(x, y, z, out);
    case DType::Float64: return fused_multiply_add_typed<double>(x, y, z, out);
    default: fail(ErrorKind::Runtime, "fused_multiply_add: floating dtypes only");
  }
}

void compare(CompareOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  TG_DISPATCH_ALL(x.dtype(), compare_typed<scalar_t>(op, x, y, out));
}

void where(const TensorImpl& cond, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  TG_DISPATCH_ALL(out.dtype(), where_typed<scalar_t>(cond, x, y, out));
}

void unary(UnaryOp op, const TensorImpl& in, TensorImpl& out, double a, double b) {
  if (op >= UnaryOp::Floor) return math(op, in, out, a);
  if (op >= UnaryOp::LeakyRelu) return activation(op, in, out, a, b);
  TG_DISPATCH_ALL(out.dtype(), unary_typed<scalar_t>(op, in, out, a, b));
}

void binary(BinaryOp op, const TensorImpl& x, const TensorImpl& y, TensorImpl& out) {
  TG_DISPATCH_ALL(out.dtype(), binary_typed<scalar_t>(op, x, y, out));
}

}  // namespace tapegrad::cpu

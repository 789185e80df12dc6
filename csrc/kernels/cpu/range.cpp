// CPU range kernels, arange and linspace, rounding every element as torch's CPU kernels do.
//
// Users print these and compare them with torch's, so the last bit matters. torch computes each
// element with one fused multiply-add (its kernels are built with FMA contraction); arange
// additionally writes whole SIMD vectors from one rounded base, so an element's rounding depends
// on where it sits in its vector. Both are written out here with std::fma.
#include <cmath>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/torch_loops.h"

namespace tapegrad::cpu {
namespace {

template <class T>
void arange_floating(T* d, int64_t n, double start, double step) {
  // The SIMD body writes vectors of `lanes` elements, each from its own base rounded to T; the
  // tail goes element by element.
  const int64_t lanes = torch_vector_bytes() / int64_t(sizeof(T));
  torch_chunks(n, [&](int64_t begin, int64_t end) {
    const int64_t body = begin + torch_simd_part(end - begin, int64_t(sizeof(T)));
    for (int64_t v = begin; v < body; v += lanes) {
      const double base = double(T(std::fma(step, double(v), start)));
      for (int64_t k = 0; k < lanes; ++k) d[v + k] = T(std::fma(double(k), step, base));
    }
    for (int64_t i = body; i < end; ++i) d[i] = T(std::fma(step, double(i), start));
  });
}

template <class T>
void arange_typed(TensorImpl& dst, const Scalar& start, const Scalar& step) {
  T* d = dst.data<T>();
  const int64_t n = dst.numel();
  if constexpr (std::is_floating_point_v<T>) {
    arange_floating(d, n, start.value, step.value);
  } else {
    // Integers count in int64 (torch's accumulate type), exactly.
    const uint64_t first = uint64_t(start.ivalue), by = uint64_t(step.ivalue);  // wraps as torch's does
    for (int64_t i = 0; i < n; ++i) d[i] = T(int64_t(first + by * uint64_t(i)));
  }
}

// One element of torch's symmetric linspace: the first half counts up from start, the second
// half down from end, so both ends are exact. Integer results truncate a double.
template <class T, class Step>
T linspace_at(int64_t i, int64_t n, Step first, Step last, Step step) {
  Step v = i < n / 2 ? std::fma(step, Step(i), first) : std::fma(-step, Step(n - i - 1), last);
  return T(v);
}

template <class T>
void linspace_typed(TensorImpl& dst, double start, double end) {
  T* d = dst.data<T>();
  const int64_t n = dst.numel();
  if constexpr (std::is_same_v<T, float>) {
    // float32 steps in float32: (end - start) rounded, then divided, as torch's kernel does.
    const float first = float(start), last = float(end), step = (last - first) / float(n - 1);
    for (int64_t i = 0; i < n; ++i) d[i] = linspace_at<T, float>(i, n, first, last, step);
  } else {
    // float64 and the integers step in double; an integer's ends are truncated first.
    const double first = std::is_integral_v<T> ? std::trunc(start) : start;
    const double last = std::is_integral_v<T> ? std::trunc(end) : end;
    const double step = (last - first) / double(n - 1);
    for (int64_t i = 0; i < n; ++i) d[i] = linspace_at<T, double>(i, n, first, last, step);
  }
}

}  // namespace

void arange(TensorImpl& dst, const Scalar& start, const Scalar& step) {
  TG_DISPATCH_ALL(dst.dtype(), arange_typed<scalar_t>(dst, start, step));
}

void linspace(TensorImpl& dst, double start, double end) {
  switch (dst.dtype()) {
    case DType::Float32: return linspace_typed<float>(dst, start, end);
    case DType::Float64: return linspace_typed<double>(dst, start, end);
    case DType::Int64: return linspace_typed<int64_t>(dst, start, end);
    case DType::Int32: return linspace_typed<int32_t>(dst, start, end);
    case DType::Bool: fail(ErrorKind::NotImplemented, "\"linspace_cpu\" not implemented for 'Bool'");
  }
}

}  // namespace tapegrad::cpu

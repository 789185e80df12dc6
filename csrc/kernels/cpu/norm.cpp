// CPU normalisation kernels: batch_norm's per-channel statistics (accumulated in the order and
// precision of torch's CPU kernel, so both libraries normalise with the same numbers) and
// layer_norm's whole forward, one row at a time.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"

namespace tapegrad::cpu {
namespace {

template <class T>
void batch_norm_stats_typed(const TensorImpl& x, TensorImpl& mean, TensorImpl& var_sum) {
  const int64_t batch = x.sizes()[0], channels = x.sizes()[1];
  const int64_t image = batch && channels ? x.numel() / batch / channels : 0, count = batch * image;
  const T* in = x.data<T>();
  T* mean_out = mean.data<T>();
  T* var_out = var_sum.data<T>();
  parallel_for(channels, std::max<int64_t>(1, (int64_t(1) << 15) / std::max<int64_t>(count, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      if (image == 1 && batch > 1) {
        // torch's (N, C) path as one thread runs it (its result there depends on its thread count):
        // rows summed in T, then the squares fused into a T sum.
        T sum = 0;
        for (int64_t n = 0; n < batch; ++n) sum += in[n * channels + c];
        const T m = T(double(sum) / double(count));
        T acc = 0;
        for (int64_t n = 0; n < batch; ++n) {
          const T d = in[n * channels + c] - m;
          acc = std::fma(d, d, acc);
        }
        mean_out[c] = m;
        var_out[c] = acc;
        continue;
      }
      double sum = 0;  // the plane of each batch entry in turn, in double
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t i = 0; i < image; ++i) sum += in[(n * channels + c) * image + i];
      const T m = T(sum / double(count));
      double acc = 0;
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t i = 0; i < image; ++i) {
          const T d = in[(n * channels + c) * image + i] - m;
          acc += double(d * d);  // the square rounded in T before it joins the sum
        }
      mean_out[c] = m;
      var_out[c] = T(acc);
    }
  });
}

// One row of n: mean and variance in double (the mean refined by the mean deviation from it, so a
// constant row has its value as mean and 0 variance exactly, as torch's Welford moments), then
// out = (x - mean) * rstd * w + b in T, as torch's kernel.
template <class T>
void layer_norm_typed(const TensorImpl& x, const TensorImpl* w, const TensorImpl* b, int64_t n, double eps,
                      TensorImpl& out, TensorImpl& mean, TensorImpl& rstd) {
  const int64_t rows = n ? x.numel() / n : 0;
  const T* in = x.data<T>();
  const T* wd = w ? w->data<T>() : nullptr;
  const T* bd = b ? b->data<T>() : nullptr;
  T* y = out.data<T>();
  T* mean_out = mean.data<T>();
  T* rstd_out = rstd.data<T>();
  parallel_for(rows, std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* row = in + r * n;
      double sum = 0, deviation = 0, squares = 0;  // SIMD lanes: the order is free, not torch's anyway
#pragma omp simd reduction(+ : sum)
      for (int64_t i = 0; i < n; ++i) sum += double(row[i]);
      const double rough = sum / double(n);
#pragma omp simd reduction(+ : deviation)
      for (int64_t i = 0; i < n; ++i) deviation += double(row[i]) - rough;
      const double m = rough + deviation / double(n);
#pragma omp simd reduction(+ : squares)
      for (int64_t i = 0; i < n; ++i) squares += (double(row[i]) - m) * (double(row[i]) - m);
      const T mu = T(m), var = T(squares / double(n));
      const T inv = T(1.0 / std::sqrt(double(var) + eps));
      mean_out[r] = mu;
      rstd_out[r] = inv;
      T* yr = y + r * n;
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) {
        T v = (row[i] - mu) * inv;
        if (wd) v = v * wd[i];
        v = v + (bd ? bd[i] : T(0));  // torch adds a bias of +0 when there is none: -0.0 comes out +0.0
        yr[i] = v;
      }
    }
  });
}

}  // namespace

void layer_norm(const TensorImpl& x, const TensorImpl* w, const TensorImpl* b, int64_t n, double eps, TensorImpl& out,
                TensorImpl& mean, TensorImpl& rstd) {
  switch (x.dtype()) {
    case DType::Float32: return layer_norm_typed<float>(x, w, b, n, eps, out, mean, rstd);
    case DType::Float64: return layer_norm_typed<double>(x, w, b, n, eps, out, mean, rstd);
    default: fail(ErrorKind::Runtime, "layer_norm: floating dtypes only");
  }
}

void batch_norm_stats(const TensorImpl& x, TensorImpl& mean, TensorImpl& var_sum) {
  switch (x.dtype()) {
    case DType::Float32: return batch_norm_stats_typed<float>(x, mean, var_sum);
    case DType::Float64: return batch_norm_stats_typed<double>(x, mean, var_sum);
    default: fail(ErrorKind::Runtime, "batch_norm_stats: floating dtypes only");
  }
}

}  // namespace tapegrad::cpu

// CPU normalisation kernels: batch_norm's per-channel statistics (accumulated in the order and
// precision of torch's CPU kernel, so both libraries normalise with the same numbers) and
// layer_norm's whole forward, one row at a time.
#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

// torch's RowwiseMoments for one row, in the order and roundings of its AVX2 build (which this
// kernel also runs on AVX-512 machines): Welford's update per SIMD lane (8 floats or 4 doubles) over
// chunks of 16 vectors, the chunks merged pairwise, then the scalar tail and each lane merged into
// one mean and sum of squared deviations. Its compiler fuses the multiply-adds marked fma here.
// An overflowing deviation gives NaN, as torch's (inf * 0 in a merge).
template <class T>
void merge_moments(int64_t count_add, T mean_add, T m2_add, int64_t& count, T& mean, T& m2) {
  const int64_t total = count + count_add;
  const T c = total == 0 ? T(0) : T(count_add) / T(total);
  const T delta = mean_add - mean;
  mean = std::fma(c, delta, mean);
  m2 = m2 + std::fma(delta * delta * c, T(count), m2_add);
  count = total;
}

template <class T>
std::pair<T, T> torch_row_moments(const T* x, int64_t N) {
  constexpr int64_t W = 32 / sizeof(T), kChunk = 16;
  struct Lanes {
    int64_t count = 0;
    T mean[W] = {}, m2[W] = {};
  };
  auto merge_lanes = [](const Lanes& add, Lanes& into) {
    const int64_t total = into.count + add.count;
    const T c = total == 0 ? T(0) : T(add.count) / T(total);
    for (int64_t l = 0; l < W; ++l) {
      const T delta = add.mean[l] - into.mean[l];
      into.mean[l] = into.mean[l] + c * delta;
      into.m2[l] = into.m2[l] + std::fma(delta * delta * c, T(into.count), add.m2[l]);
    }
    into.count = total;
  };
  const int64_t n = N / W, chunks = (n + kChunk - 1) / kChunk;
  int64_t depth = 0;
  while ((int64_t(1) << depth) < chunks) ++depth;
  std::vector<Lanes> stack(size_t(std::max<int64_t>(depth, 1)));
  for (int64_t i = 0; i < chunks; ++i) {
    const T* p = x + i * kChunk * W;
    Lanes chunk;
    chunk.count = std::min(kChunk, n - i * kChunk);
    for (int64_t j = 0; j < chunk.count; ++j) {
      const T c = T(1) / T(j + 1);
      for (int64_t l = 0; l < W; ++l) {
        const T v = p[j * W + l], delta = v - chunk.mean[l];
        chunk.mean[l] = std::fma(delta, c, chunk.mean[l]);
        chunk.m2[l] = std::fma(delta, v - chunk.mean[l], chunk.m2[l]);
      }
    }
    merge_lanes(chunk, stack[0]);
    int64_t mask = i + 1;
    for (int64_t j = 1; j < depth && (mask & 1) == 0; ++j, mask >>= 1) {
      merge_lanes(stack[size_t(j - 1)], stack[size_t(j)]);
      stack[size_t(j - 1)] = Lanes();
    }
  }
  for (int64_t j = 1; j < depth; ++j) merge_lanes(stack[size_t(j)], stack[0]);
  int64_t count = 0;
  T mean = 0, m2 = 0;
  for (int64_t i = n * W; i < N; ++i) {
    const T delta = x[i] - mean;
    ++count;
    mean += delta / T(count);
    m2 = m2 + delta * (x[i] - mean);
  }
  for (int64_t l = 0; l < W; ++l) merge_moments(n, stack[0].mean[l], stack[0].m2[l], count, mean, m2);
  return {mean, m2 / T(N)};
}

// One row of n: torch's moments, then out = (x - mean) * rstd * w + b in T, as torch's kernel.
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
      const auto [mu, var] = torch_row_moments(row, n);
      const T inv = T(1) / std::sqrt(var + T(eps));
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

// CPU batch_norm statistics: each channel's mean and sum of squared deviations, accumulated in the
// order and precision of torch's CPU kernel so both libraries normalise with the same numbers.
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

}  // namespace

void batch_norm_stats(const TensorImpl& x, TensorImpl& mean, TensorImpl& var_sum) {
  switch (x.dtype()) {
    case DType::Float32: return batch_norm_stats_typed<float>(x, mean, var_sum);
    case DType::Float64: return batch_norm_stats_typed<double>(x, mean, var_sum);
    default: fail(ErrorKind::Runtime, "batch_norm_stats: floating dtypes only");
  }
}

}  // namespace tapegrad::cpu

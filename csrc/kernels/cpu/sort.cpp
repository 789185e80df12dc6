// CPU sort: each row of a contiguous [rows, n] tensor, stable, with torch's place for NaN.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>
#include <vector>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"

namespace tapegrad::cpu {
namespace {

template <class T>
bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
  else return false;
}

template <class T>
void sort_typed(const TensorImpl& in, bool descending, TensorImpl& values, TensorImpl& indices) {
  const int64_t n = in.dim() ? in.sizes().back() : 1;
  const int64_t rows = n ? in.numel() / n : 0;
  const T* src = in.data<T>();
  T* out = values.data<T>();
  int64_t* idx = indices.data<int64_t>();
  // NaN is above every number: it sorts last ascending and first descending.
  auto before = [descending](T a, T b) {
    if (is_nan(a) || is_nan(b)) return descending ? is_nan(a) && !is_nan(b) : !is_nan(a) && is_nan(b);
    return descending ? a > b : a < b;
  };
  parallel_for(rows, std::max<int64_t>(1, (int64_t(1) << 14) / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = lo; r < hi; ++r) {
      const T* row = src + r * n;
      std::iota(order.begin(), order.end(), int64_t(0));
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return before(row[a], row[b]); });
      for (int64_t j = 0; j < n; ++j) {
        out[r * n + j] = row[order[size_t(j)]];
        idx[r * n + j] = order[size_t(j)];
      }
    }
  });
}

}  // namespace

void sort(const TensorImpl& in, bool descending, TensorImpl& values, TensorImpl& indices) {
  TG_DISPATCH_ALL(in.dtype(), sort_typed<scalar_t>(in, descending, values, indices));
}

}  // namespace tapegrad::cpu

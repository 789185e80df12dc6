// CPU random fills from a Generator's mt19937_64 stream; the conversions are written out here
// (not std:: distributions) so a seed gives the same numbers with any standard library.
#include <cmath>
#include <limits>
#include <utility>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"

namespace tapegrad::cpu {
namespace {

double uniform01(std::mt19937_64& e) { return double(e() >> 11) * (1.0 / 9007199254740992.0); }

template <class T>
void random_typed(RandomDist dist, TensorImpl& dst, double a, double b, Generator& gen) {
  auto lock = gen.lock();
  auto& e = gen.engine();
  T* d = dst.data<T>();
  const int64_t n = dst.numel();
  switch (dist) {
    case RandomDist::Uniform:
      for (int64_t i = 0; i < n; ++i) {
        T v = T(a + (b - a) * uniform01(e));
        d[i] = v < T(b) ? v : T(a);  // rounding to T must not reach the open upper bound
      }
      break;
    case RandomDist::Normal:
      // Box-Muller: each pair of uniforms gives two normals.
      for (int64_t i = 0; i < n; i += 2) {
        double u1 = 1.0 - uniform01(e), u2 = uniform01(e);
        double r = std::sqrt(-2.0 * std::log(u1));
        d[i] = T(a + b * r * std::cos(2 * M_PI * u2));
        if (i + 1 < n) d[i + 1] = T(a + b * r * std::sin(2 * M_PI * u2));
      }
      break;
    case RandomDist::Integers: {
      // Bounds arrive as doubles; saturate them into int64 and do the span arithmetic unsigned, so
      // the full int64 range neither overflows nor divides by zero.
      auto to_int = [](double v) {
        if (v >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
        if (v <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
        return int64_t(v);
      };
      const uint64_t lo = uint64_t(to_int(a)), range = uint64_t(to_int(b)) - lo;
      for (int64_t i = 0; i < n; ++i) d[i] = T(int64_t(lo + (range ? e() % range : e())));
      break;
    }
    case RandomDist::Permutation:
      for (int64_t i = 0; i < n; ++i) d[i] = T(i);
      for (int64_t i = n - 1; i > 0; --i) std::swap(d[i], d[int64_t(e() % uint64_t(i + 1))]);
      break;
  }
}

}  // namespace

void random(RandomDist dist, TensorImpl& dst, double a, double b, Generator& gen) {
  TG_DISPATCH_ALL(dst.dtype(), random_typed<scalar_t>(dist, dst, a, b, gen));
}

}  // namespace tapegrad::cpu

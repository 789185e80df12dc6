// CPU batched matrix multiply: BLAS gemm per batch for floats (any row- or column-major operand
// is passed without copying), a plain loop for integer dtypes (never a hot path).
#include <algorithm>
#include <optional>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/wrapping.h"

namespace tapegrad::cpu {
namespace {

// How a [rows, cols] matrix with strides (rs, cs) is handed to BLAS: transposed or not, and its
// leading dimension; nullopt when neither layout fits.
struct Layout {
  int trans;
  int ld;
};
std::optional<Layout> blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  if (cs == 1 && (rs >= std::max<int64_t>(cols, 1) || rows == 1)) return Layout{blas::NoTrans, int(std::max<int64_t>(rows == 1 ? cols : rs, 1))};
  if (rs == 1 && (cs >= std::max<int64_t>(rows, 1) || cols == 1)) return Layout{blas::Transpose, int(std::max<int64_t>(cols == 1 ? rows : cs, 1))};
  return std::nullopt;
}

template <class T>
void gemm_batch(const TensorImpl& a, const TensorImpl& b, TensorImpl& out) {
  const int64_t B = out.sizes()[0], M = out.sizes()[1], N = out.sizes()[2], K = a.sizes()[2];
  // An empty result has nothing to write, and its empty operands have no BLAS layout.
  if (out.numel() == 0) return;
  Tensor ac, bc;  // contiguous copies, only when an operand has an unusable layout
  const TensorImpl* A = &a;
  const TensorImpl* Bm = &b;
  auto la = blas_layout(M, K, a.strides()[1], a.strides()[2]);
  if (!la) {
    ac = TensorImpl::empty(a.sizes(), a.dtype());
    copy(a, *ac);
    A = ac.get();
    la = blas_layout(M, K, K, 1);
  }
  auto lb = blas_layout(K, N, b.strides()[1], b.strides()[2]);
  if (!lb) {
    bc = TensorImpl::empty(b.sizes(), b.dtype());
    copy(b, *bc);
    Bm = bc.get();
    lb = blas_layout(K, N, N, 1);
  }
  const T* ap = A->data<T>();
  const T* bp = Bm->data<T>();
  T* op = out.data<T>();
  const int64_t sa = A->sizes()[0] == 1 ? 0 : A->strides()[0], sb = Bm->sizes()[0] == 1 ? 0 : Bm->strides()[0];
  if (K == 0) {
    fill(out, 0.0);
    return;
  }
  const auto& lib = blas::library();
  for (int64_t i = 0; i < B; ++i) {
    if constexpr (std::is_same_v<T, float>) {
      lib.sgemm(blas::RowMajor, la->trans, lb->trans, int(M), int(N), int(K), 1.0f, ap + i * sa, la->ld, bp + i * sb,
                lb->ld, 0.0f, op + i * M * N, int(std::max<int64_t>(N, 1)));
    } else {
      lib.dgemm(blas::RowMajor, la->trans, lb->trans, int(M), int(N), int(K), 1.0, ap + i * sa, la->ld, bp + i * sb,
                lb->ld, 0.0, op + i * M * N, int(std::max<int64_t>(N, 1)));
    }
  }
}

template <class T>
void naive_batch(const TensorImpl& a, const TensorImpl& b, TensorImpl& out) {
  const int64_t B = out.sizes()[0], M = out.sizes()[1], N = out.sizes()[2], K = a.sizes()[2];
  const auto& as = a.strides();
  const auto& bs = b.strides();
  int64_t sa = a.sizes()[0] == 1 ? 0 : as[0], sb = b.sizes()[0] == 1 ? 0 : bs[0];
  for (int64_t i = 0; i < B; ++i)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        std::conditional_t<std::is_same_v<T, bool>, bool, T> acc = 0;
        for (int64_t k = 0; k < K; ++k) {
          T x = a.data<T>()[i * sa + m * as[1] + k * as[2]];
          T y = b.data<T>()[i * sb + k * bs[1] + n * bs[2]];
          if constexpr (std::is_same_v<T, bool>) acc = acc || (x && y);
          else acc = wrapping_add(acc, wrapping_mul(x, y));
        }
        out.data<T>()[(i * M + m) * N + n] = acc;
      }
}

}  // namespace

void bmm(const TensorImpl& a, const TensorImpl& b, TensorImpl& out) {
  switch (out.dtype()) {
    case DType::Float32: gemm_batch<float>(a, b, out); break;
    case DType::Float64: gemm_batch<double>(a, b, out); break;
    default: TG_DISPATCH_ALL(out.dtype(), naive_batch<scalar_t>(a, b, out));
  }
}

}  // namespace tapegrad::cpu

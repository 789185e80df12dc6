// CPU reductions. Contiguous inputs reduced over one block of adjacent dims take fast paths
// (a row reduced in SIMD, or rows accumulated into a vector); everything else is first made
// contiguous and reduced one block at a time.
#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <limits>
#include <vector>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loop.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/wrapping.h"

namespace tapegrad::cpu {
namespace {

constexpr int64_t kGrain = 1 << 15;  // elements per thread below which threads cost more than they save

// Accumulation rules per op. Float sums accumulate in double (blocks of float SIMD first).
template <class T, ReduceOp Op>
struct Rule;
template <class T>
struct Rule<T, ReduceOp::Sum> {
  using A = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  static A init() { return 0; }
  static A step(A a, T x) { return wrapping_add(a, A(x)); }
  static A merge(A a, A b) { return wrapping_add(a, b); }
};
template <class T>
struct Rule<T, ReduceOp::Prod> {
  using A = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  static A init() { return 1; }
  static A step(A a, T x) { return wrapping_mul(a, A(x)); }
  static A merge(A a, A b) { return wrapping_mul(a, b); }
};
template <class T>
struct Rule<T, ReduceOp::Max> {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
  }
  static A step(A a, T x) {
    if constexpr (std::is_floating_point_v<T>) return (x > a || std::isnan(x)) && !std::isnan(a) ? x : a;
    else return x > a ? x : a;
  }
  static A merge(A a, A b) { return step(a, b); }
};
template <class T>
struct Rule<T, ReduceOp::Min> {
  using A = T;
  static A init() {
    if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
  }
  static A step(A a, T x) {
    if constexpr (std::is_floating_point_v<T>) return (x < a || std::isnan(x)) && !std::isnan(a) ? x : a;
    else return x < a ? x : a;
  }
  static A merge(A a, A b) { return step(a, b); }
};

// Reduces one contiguous row of n elements.
template <class T, ReduceOp Op>
typename Rule<T, Op>::A reduce_row(const T* x, int64_t n) {
  using R = Rule<T, Op>;
  using A = typename R::A;
  if constexpr (Op == ReduceOp::Sum && std::is_floating_point_v<T>) {
    // 32 independent lanes hide the add latency (the compiler keeps them in vector registers);
    // short float blocks folded into a double keep the rounding error tiny.
    constexpr int kLanes = 32;
    double total = 0;
    int64_t i = 0;
    for (int64_t b = 0; b + kLanes <= n; b = i) {
      int64_t e = std::min(n - (n - b) % kLanes, b + 4096);
      T lane[kLanes] = {};
      for (i = b; i < e; i += kLanes)
#pragma omp simd
        for (int j = 0; j < kLanes; ++j) lane[j] += x[i + j];
      T block = 0;
      for (int j = 0; j < kLanes; ++j) block += lane[j];
      total += double(block);
    }
    for (; i < n; ++i) total += double(x[i]);
    return total;
  } else {
    A acc = R::init();
    for (int64_t i = 0; i < n; ++i) acc = R::step(acc, x[i]);
    return acc;
  }
}

// in viewed as [A, R, C] (contiguous), out as [A, C]: reduce over R.
template <class T, ReduceOp Op>
void reduce_block(const T* in, T* out, int64_t A_, int64_t R_, int64_t C_) {
  using Ru = Rule<T, Op>;
  using Acc = typename Ru::A;
  if (C_ == 1) {
    if (A_ == 1) {
      // One long row: threads take slices; partials merge in slice order so results are reproducible.
      std::vector<std::pair<int64_t, Acc>> partial;
      std::mutex mu;
      parallel_for(R_, kGrain, [&](int64_t b, int64_t e) {
        Acc r = reduce_row<T, Op>(in + b, e - b);
        std::lock_guard<std::mutex> lock(mu);
        partial.emplace_back(b, r);
      });
      std::sort(partial.begin(), partial.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      Acc acc = Ru::init();
      for (auto& p : partial) acc = Ru::merge(acc, p.second);
      *out = T(acc);
      return;
    }
    parallel_for(A_, std::max<int64_t>(1, kGrain / std::max<int64_t>(R_, 1)), [&](int64_t b, int64_t e) {
      for (int64_t a = b; a < e; ++a) out[a] = T(reduce_row<T, Op>(in + a * R_, R_));
    });
    return;
  }
  // Rows accumulate into a vector of C accumulators; threads split A, or C when A is small.
  auto run = [&](int64_t a0, int64_t a1, int64_t c0, int64_t c1) {
    std::unique_ptr<Acc[]> acc(new Acc[size_t(c1 - c0)]);
    Acc* ac = acc.get();
    for (int64_t a = a0; a < a1; ++a) {
      std::fill(ac, ac + (c1 - c0), Ru::init());
      for (int64_t r = 0; r < R_; ++r) {
        const T* row = in + (a * R_ + r) * C_ + c0;
        if constexpr (Op == ReduceOp::Sum) {
#pragma omp simd
          for (int64_t c = 0; c < c1 - c0; ++c) ac[c] = wrapping_add(ac[c], Acc(row[c]));
        } else {
          for (int64_t c = 0; c < c1 - c0; ++c) ac[c] = Ru::step(ac[c], row[c]);
        }
      }
      for (int64_t c = c0; c < c1; ++c) out[a * C_ + c] = T(ac[c - c0]);
    }
  };
  int64_t per_a = R_ * C_;
  if (A_ >= num_threads()) {
    parallel_for(A_, std::max<int64_t>(1, kGrain / std::max<int64_t>(per_a, 1)),
                 [&](int64_t b, int64_t e) { run(b, e, 0, C_); });
  } else {
    for (int64_t a = 0; a < A_; ++a)
      parallel_for(C_, std::max<int64_t>(64, kGrain / std::max<int64_t>(R_, 1)),
                   [&](int64_t b, int64_t e) { run(a, a + 1, b, e); });
  }
}

template <class T, ReduceOp Op>
void reduce_typed(const TensorImpl& in, TensorImpl& out) {
  const Shape& shape = in.sizes();
  Shape ost = broadcast_strides(out.sizes(), out.strides(), shape);
  // Which dims are reduced (size-1 dims are neither); dim_of maps back to in's dims.
  std::vector<int> kind;  // 0 kept, 1 reduced
  Shape sizes, dim_of;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    sizes.push_back(shape[d]);
    dim_of.push_back(int64_t(d));
    kind.push_back(ost[d] == 0 ? 1 : 0);
  }
  if (in.numel() == 0) {
    Tensor tmp = TensorImpl::empty(out.sizes(), out.dtype());
    fill(*tmp, double(Rule<T, Op>::init()));
    copy(*tmp, out);
    return;
  }
  int first = -1, last = -1, blocks = 0;
  for (size_t i = 0; i < kind.size(); ++i) {
    if (kind[i] && (i == 0 || !kind[i - 1])) ++blocks;
    if (kind[i]) {
      if (first < 0) first = int(i);
      last = int(i);
    }
  }
  if (blocks == 0) {
    // Nothing to reduce (only size-1 dims differ): copy through out viewed with in's shape.
    Tensor view = TensorImpl::view_of(out.storage(), shape, ost, out.storage_offset(), out.dtype());
    if constexpr (Op == ReduceOp::Sum && std::is_floating_point_v<T>) {
      // torch adds each element to a zero accumulator even here: the sum of a lone -0.0 is +0.0.
      Tensor tmp = TensorImpl::empty(in.sizes(), in.dtype());
      copy(in, *tmp);
      T* p = tmp->data<T>();
      for (int64_t i = 0; i < tmp->numel(); ++i) p[i] += T(0);
      copy(*tmp, *view);
      return;
    }
    copy(in, *view);
    return;
  }
  if (!in.is_contiguous()) {
    Tensor c = TensorImpl::empty(in.sizes(), in.dtype());
    copy(in, *c);
    reduce_typed<T, Op>(*c, out);
    return;
  }
  if (blocks > 1) {
    // Reduce the innermost block into an intermediate, then the remaining blocks from it.
    int lb = last;
    while (lb > 0 && kind[size_t(lb - 1)]) --lb;
    Shape mid = in.sizes();
    for (int i = lb; i <= last; ++i) mid[size_t(dim_of[size_t(i)])] = 1;
    Tensor tmp = TensorImpl::empty(mid, in.dtype());
    reduce_typed<T, Op>(in, *tmp);
    reduce_typed<T, Op>(*tmp, out);
    return;
  }
  int64_t A_ = 1, R_ = 1, C_ = 1;
  for (size_t i = 0; i < sizes.size(); ++i) (int(i) < first ? A_ : int(i) <= last ? R_ : C_) *= sizes[i];
  if (out.is_contiguous()) {
    reduce_block<T, Op>(in.data<T>(), out.data<T>(), A_, R_, C_);
  } else {
    Tensor tmp = TensorImpl::empty(out.sizes(), out.dtype());
    reduce_block<T, Op>(in.data<T>(), tmp->data<T>(), A_, R_, C_);
    copy(*tmp, out);
  }
}

template <class T>
void reduce_dispatch(ReduceOp op, const TensorImpl& in, TensorImpl& out) {
  switch (op) {
    case ReduceOp::Sum: reduce_typed<T, ReduceOp::Sum>(in, out); break;
    case ReduceOp::Prod: reduce_typed<T, ReduceOp::Prod>(in, out); break;
    case ReduceOp::Max: reduce_typed<T, ReduceOp::Max>(in, out); break;
    case ReduceOp::Min: reduce_typed<T, ReduceOp::Min>(in, out); break;
  }
}

}  // namespace

void reduce(ReduceOp op, const TensorImpl& in, TensorImpl& out) {
  TG_DISPATCH_ALL(in.dtype(), reduce_dispatch<scalar_t>(op, in, out));
}

}  // namespace tapegrad::cpu

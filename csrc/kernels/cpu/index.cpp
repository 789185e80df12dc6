// CPU indexing kernels: gather and scatter through int64 index tensors, nonzero.
#include <vector>

#include "kernels/cpu/dispatch_types.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/loop.h"
#include "kernels/cpu/wrapping.h"

namespace tapegrad::cpu {
namespace {

// Walks the index space B once, yielding for each b the element offset into the indexed
// source dims and the element offset of b in a second tensor laid out as B + rest.
struct IndexWalker {
  const TensorList& idx;
  const Shape& src_sizes;
  const Shape& src_strides;
  Shape b_sizes;

  template <class F>
  void each(const Shape& other_strides, F f) const {
    const size_t nb = b_sizes.size();
    const int64_t total = numel_of(b_sizes);
    Shape counter(nb, 0);
    for (int64_t lin = 0; lin < total; ++lin) {
      int64_t src_off = 0;
      for (size_t k = 0; k < idx.size(); ++k) {
        int64_t e = 0;
        for (size_t d = 0; d < nb; ++d) e += counter[d] * idx[k]->strides()[d];
        int64_t v = idx[k]->data<int64_t>()[e];
        int64_t size = src_sizes[k];
        if (v < -size || v >= size) throw IndexOutOfRange(v, int64_t(k), size);
        src_off += (v < 0 ? v + size : v) * src_strides[k];
      }
      int64_t other_off = 0;
      for (size_t d = 0; d < nb; ++d) other_off += counter[d] * other_strides[d];
      f(src_off, other_off);
      for (size_t d = nb; d-- > 0;) {
        if (++counter[d] < b_sizes[d]) break;
        counter[d] = 0;
      }
    }
  }
};

template <class T>
void index_typed(const TensorImpl& src, const TensorList& idx, TensorImpl& out) {
  const size_t k = idx.size();
  Shape rest(src.sizes().begin() + k, src.sizes().end());
  if (numel_of(rest) == 0) return;  // nothing to read: torch checks no index then
  Shape src_rest_st(src.strides().begin() + k, src.strides().end());
  IndexWalker w{idx, src.sizes(), src.strides(), idx[0]->sizes()};
  const size_t nb = w.b_sizes.size();
  Shape out_rest_st(out.strides().begin() + nb, out.strides().end());
  for (auto& v : src_rest_st) v *= sizeof(T);
  for (auto& v : out_rest_st) v *= sizeof(T);
  const T* s = src.data<T>();
  T* o = out.data<T>();
  const bool scalar_rest = rest.empty();
  w.each(out.strides(), [&](int64_t src_off, int64_t out_off) {
    if (scalar_rest) {
      o[out_off] = s[src_off];
      return;
    }
    strided_loop<2>(rest, {out_rest_st, src_rest_st},
                    {reinterpret_cast<char*>(o + out_off), reinterpret_cast<char*>(const_cast<T*>(s + src_off))},
                    [](char** p, const int64_t* st, int64_t n) {
                      for (int64_t i = 0; i < n; ++i)
                        *reinterpret_cast<T*>(p[0] + i * st[0]) = *reinterpret_cast<const T*>(p[1] + i * st[1]);
                    });
  });
}

template <class T>
void index_put_typed(TensorImpl& dst, const TensorList& idx, const TensorImpl& values, bool accumulate) {
  const size_t k = idx.size();
  IndexWalker w{idx, dst.sizes(), dst.strides(), idx[0]->sizes()};
  const size_t nb = w.b_sizes.size();
  Shape rest(dst.sizes().begin() + k, dst.sizes().end());
  if (numel_of(rest) == 0) return;  // nothing to write: torch checks no index then
  Shape full = w.b_sizes;
  full.insert(full.end(), rest.begin(), rest.end());
  Shape val_st = broadcast_strides(values.sizes(), values.strides(), full);
  Shape val_rest_st(val_st.begin() + nb, val_st.end());
  Shape dst_rest_st(dst.strides().begin() + k, dst.strides().end());
  for (auto& v : val_rest_st) v *= sizeof(T);
  for (auto& v : dst_rest_st) v *= sizeof(T);
  T* d = dst.data<T>();
  const T* v = values.data<T>();
  w.each(val_st, [&](int64_t dst_off, int64_t val_off) {
    strided_loop<2>(rest, {dst_rest_st, val_rest_st},
                    {reinterpret_cast<char*>(d + dst_off), reinterpret_cast<char*>(const_cast<T*>(v + val_off))},
                    [accumulate](char** p, const int64_t* st, int64_t n) {
                      for (int64_t i = 0; i < n; ++i) {
                        T* out = reinterpret_cast<T*>(p[0] + i * st[0]);
                        T in = *reinterpret_cast<const T*>(p[1] + i * st[1]);
                        if constexpr (std::is_same_v<T, bool>) *out = accumulate ? (*out || in) : in;
                        else *out = accumulate ? wrapping_add(*out, in) : in;
                      }
                    });
  });
}

template <class T>
Tensor nonzero_typed(const TensorImpl& in) {
  const Shape& shape = in.sizes();
  const size_t nd = shape.size();
  std::vector<int64_t> coords;
  Shape counter(nd, 0);
  const int64_t total = in.numel();
  for (int64_t lin = 0; lin < total; ++lin) {
    int64_t off = 0;
    for (size_t d = 0; d < nd; ++d) off += counter[d] * in.strides()[d];
    if (in.data<T>()[off] != T(0)) coords.insert(coords.end(), counter.begin(), counter.end());
    for (size_t d = nd; d-- > 0;) {
      if (++counter[d] < shape[d]) break;
      counter[d] = 0;
    }
  }
  int64_t n = nd ? int64_t(coords.size() / nd) : (total == 1 && in.data<T>()[0] != T(0) ? 1 : 0);
  Tensor out = TensorImpl::empty({n, int64_t(nd)}, DType::Int64, in.device());
  std::copy(coords.begin(), coords.end(), out->data<int64_t>());
  return out;
}

}  // namespace

void index(const TensorImpl& src, const TensorList& idx, TensorImpl& out) {
  TG_DISPATCH_ALL(src.dtype(), index_typed<scalar_t>(src, idx, out));
}
void index_put(TensorImpl& dst, const TensorList& idx, const TensorImpl& values, bool accumulate) {
  TG_DISPATCH_ALL(dst.dtype(), index_put_typed<scalar_t>(dst, idx, values, accumulate));
}
Tensor nonzero(const TensorImpl& in) {
  Tensor out;
  TG_DISPATCH_ALL(in.dtype(), out = nonzero_typed<scalar_t>(in));
  return out;
}

}  // namespace tapegrad::cpu

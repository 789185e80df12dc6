// Shapes and strides: element counts, contiguous strides, broadcasting.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tapegrad {

using Shape = std::vector<int64_t>;

inline int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

inline Shape contiguous_strides(const Shape& sizes) {
  Shape strides(sizes.size());
  int64_t st = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = st;
    st *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return strides;
}

// "[2, 3]", as torch writes a size in messages.
std::string shape_str(const Shape& s);

// A possibly negative dim as an index in [0, ndim); torch's IndexError when out of range.
// A 0-dim tensor accepts dims -1 and 0, as in torch.
int64_t wrap_dim(int64_t dim, int64_t ndim);

// torch's broadcasting; raises torch's RuntimeError when the shapes do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Whether `from` broadcasts to `to` (used to sum gradients back to an input's shape).
bool is_expandable_to(const Shape& from, const Shape& to);

// Strides of a tensor (sizes, strides) viewed as broadcast to `out` (0 in broadcast dims).
Shape broadcast_strides(const Shape& sizes, const Shape& strides, const Shape& out);

}  // namespace tapegrad

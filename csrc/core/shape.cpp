// Broadcasting rules and shape formatting shared by every op.
#include "core/shape.h"

#include "core/error.h"

namespace tapegrad {

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += std::to_string(s[i]);
  }
  return r + "]";
}

int64_t wrap_dim(int64_t dim, int64_t ndim) {
  int64_t n = ndim == 0 ? 1 : ndim;
  if (dim < -n || dim >= n)
    fail(ErrorKind::Index, "Dimension out of range (expected to be in range of [", -n, ", ", n - 1, "], but got ",
         dim, ")");
  return dim < 0 ? dim + n : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  if (a == b) return a;
  size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n);
  for (size_t i = n; i-- > 0;) {
    // Align from the right, as numpy and torch do (and report the rightmost mismatch, as torch does).
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db || db == 1) {
      out[i] = da;
    } else if (da == 1) {
      out[i] = db;
    } else {
      fail(ErrorKind::Runtime, "The size of tensor a (", da, ") must match the size of tensor b (", db,
           ") at non-singleton dimension ", i);
    }
  }
  return out;
}

bool is_expandable_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  size_t off = to.size() - from.size();
  for (size_t i = 0; i < from.size(); ++i)
    if (from[i] != to[i + off] && from[i] != 1) return false;
  return true;
}

Shape broadcast_strides(const Shape& sizes, const Shape& strides, const Shape& out) {
  Shape r(out.size(), 0);
  size_t off = out.size() - sizes.size();
  for (size_t i = 0; i < sizes.size(); ++i)
    r[i + off] = (sizes[i] == 1 && out[i + off] != 1) ? 0 : strides[i];
  return r;
}

}  // namespace tapegrad

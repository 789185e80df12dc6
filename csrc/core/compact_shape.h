// CompactShape: a shape in 8 bytes, for the sizes that nodes and edges keep (a graph holds
// millions of them): null for a 0-dim shape, else one pooled block with the length then the dims.
#pragma once
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <utility>

#include "core/pool.h"
#include "core/shape.h"

namespace tapegrad {

class CompactShape {
 public:
  CompactShape() = default;
  CompactShape(const Shape& s) { assign(s.data(), s.size()); }  // NOLINT: converts like a Shape
  CompactShape(std::initializer_list<int64_t> s) { assign(s.begin(), s.size()); }
  CompactShape(const CompactShape& o) { assign(o.begin(), o.size()); }
  CompactShape(CompactShape&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  CompactShape& operator=(const CompactShape& o) {
    if (this != &o) reset(o.begin(), o.size());
    return *this;
  }
  CompactShape& operator=(CompactShape&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  CompactShape& operator=(const Shape& s) {
    reset(s.data(), s.size());
    return *this;
  }
  CompactShape& operator=(std::initializer_list<int64_t> s) {
    reset(s.begin(), s.size());
    return *this;
  }
  ~CompactShape() { release(); }

  size_t size() const { return p_ ? size_t(p_[0]) : 0; }
  bool empty() const { return size() == 0; }
  const int64_t* begin() const { return p_ ? p_ + 1 : nullptr; }
  const int64_t* end() const { return begin() + size(); }
  int64_t operator[](size_t i) const { return p_[i + 1]; }
  int64_t back() const { return p_[size()]; }
  operator Shape() const { return Shape(begin(), end()); }  // NOLINT: used where a Shape is expected

  friend bool operator==(const CompactShape& a, const Shape& b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const Shape& a, const CompactShape& b) { return b == a; }
  friend bool operator!=(const CompactShape& a, const Shape& b) { return !(a == b); }
  friend bool operator!=(const Shape& a, const CompactShape& b) { return !(b == a); }

 private:
  static size_t bytes_for(size_t n) { return (n + 1) * sizeof(int64_t); }
  void reset(const int64_t* dims, size_t n) {
    release();
    assign(dims, n);
  }
  void assign(const int64_t* dims, size_t n) {
    if (n == 0) return;
    size_t bytes = bytes_for(n);
    p_ = static_cast<int64_t*>(bytes <= kPoolMaxBytes ? pool_alloc(bytes) : ::operator new(bytes));
    p_[0] = int64_t(n);
    std::memcpy(p_ + 1, dims, n * sizeof(int64_t));
  }
  void release() {
    if (!p_) return;
    size_t bytes = bytes_for(size());
    if (bytes <= kPoolMaxBytes) pool_free(p_, bytes);
    else ::operator delete(p_);
    p_ = nullptr;
  }
  int64_t* p_ = nullptr;
};

}  // namespace tapegrad

// Integer arithmetic that wraps as torch's does, without C++'s undefined behaviour on signed overflow.
#pragma once
#include <type_traits>

namespace tapegrad::cpu {

// The type to add, subtract and multiply in: unsigned for signed integers (where wrapping is
// defined; a signed overflow is undefined behaviour, which UBSan stops on), the type itself otherwise.
template <class T, bool = std::is_integral_v<T> && !std::is_same_v<T, bool>>
struct wrapping { using type = T; };
template <class T>
struct wrapping<T, true> { using type = std::make_unsigned_t<T>; };
template <class T>
using wrap_t = typename wrapping<T>::type;

template <class T>
T wrapping_add(T a, T b) { return T(wrap_t<T>(a) + wrap_t<T>(b)); }
template <class T>
T wrapping_sub(T a, T b) { return T(wrap_t<T>(a) - wrap_t<T>(b)); }
template <class T>
T wrapping_mul(T a, T b) { return T(wrap_t<T>(a) * wrap_t<T>(b)); }

}  // namespace tapegrad::cpu

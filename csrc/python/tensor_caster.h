// pybind11's conversion of a Tensor (std::shared_ptr<TensorImpl>) result to Python, specialised:
// the generic holder caster looks the C++ type up by hashing its name for every result, which
// costs more than a small op's own work; here pybind11's type record is found once.
#pragma once
#include <pybind11/pybind11.h>

#include "core/tensor.h"

namespace pybind11::detail {

template <>
struct type_caster<std::shared_ptr<tapegrad::TensorImpl>>
    : copyable_holder_caster<tapegrad::TensorImpl, std::shared_ptr<tapegrad::TensorImpl>> {
  static handle cast(const std::shared_ptr<tapegrad::TensorImpl>& src, return_value_policy, handle) {
    static const type_info* const record = get_type_info(typeid(tapegrad::TensorImpl));
    return type_caster_generic::cast(src.get(), return_value_policy::take_ownership, handle(), record, nullptr,
                                     nullptr, &src);
  }
};

}  // namespace pybind11::detail

// Where a tensor's storage lives: the CPU or one CUDA device.
#pragma once
#include <cstdint>
#include <string>

namespace tapegrad {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };
constexpr int kNumDeviceTypes = 2;

struct Device {
  DeviceType type = DeviceType::CPU;
  int8_t index = -1;  // -1: the current device of that type

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const {
    if (type == DeviceType::CPU) return "cpu";
    return index < 0 ? std::string("cuda") : "cuda:" + std::to_string(index);
  }
};

// Parses torch's device strings: "cpu", "cuda", "cuda:1".
Device parse_device(const std::string& s);

}  // namespace tapegrad

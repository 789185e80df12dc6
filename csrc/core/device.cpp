// Parsing torch's device strings.
#include "core/device.h"

#include "core/error.h"

namespace tapegrad {

Device parse_device(const std::string& s) {
  Device d;
  std::string kind = s, idx;
  auto colon = s.find(':');
  if (colon != std::string::npos) {
    kind = s.substr(0, colon);
    idx = s.substr(colon + 1);
  }
  if (kind == "cpu") {
    d.type = DeviceType::CPU;
  } else if (kind == "cuda") {
    d.type = DeviceType::CUDA;
  } else {
    fail(ErrorKind::Runtime,
         "Expected one of cpu, cuda device type at start of device string: ", s);
  }
  if (colon != std::string::npos) {
    bool ok = !idx.empty() && idx.size() < 4;
    for (char c : idx) ok = ok && c >= '0' && c <= '9';
    TG_CHECK(ok, "Invalid device string: '", s, "'");
    d.index = int8_t(std::stoi(idx));
    if (d.type == DeviceType::CPU) d.index = -1;
  }
  return d;
}

}  // namespace tapegrad

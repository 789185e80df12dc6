// Anomaly detection for Python: the switch, the forward traceback capture and the warning.
#include "autograd/grad_mode.h"
#include "python/bind_common.h"

namespace tapegrad::py {
namespace {

std::string capture_trace() {
  // Called from ops: during forward with the GIL held, during a create_graph backward without it.
  pyb::gil_scoped_acquire gil;
  pyb::object tb = pyb::module_::import("traceback");
  pyb::object lines = tb.attr("format_stack")();
  return pyb::str("").attr("join")(lines).cast<std::string>();
}

void warn(const std::string& message) {
  pyb::gil_scoped_acquire gil;
  PyErr_WarnEx(PyExc_UserWarning, message.c_str(), 1);
  if (PyErr_Occurred()) PyErr_Clear();  // a warning turned into an error must not mask the real one
}

}  // namespace

void bind_anomaly(Module& m) {
  AnomalyMode::capture_trace = &capture_trace;
  AnomalyMode::warn = &warn;
  m.def("_set_anomaly_enabled", &AnomalyMode::set_enabled);
  m.def("is_anomaly_enabled", &AnomalyMode::is_enabled);
}

}  // namespace tapegrad::py

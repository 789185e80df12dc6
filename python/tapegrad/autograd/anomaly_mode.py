"""detect_anomaly / set_detect_anomaly: NaN gradients raise, naming the op and its forward traceback."""
import warnings

from tapegrad import _C


def is_anomaly_enabled():
    return _C.is_anomaly_enabled()


class detect_anomaly:
    """Context manager (and decorator) that enables anomaly detection inside it."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should only be enabled "
            "for debugging.",
            UserWarning,
            stacklevel=2,
        )

    def __enter__(self):
        self._prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(True)

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self._prev)
        return False

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with self.__class__(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """Turns anomaly detection on or off now; as a context manager, restores the old state on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = _C.is_anomaly_enabled()
        _C._set_anomaly_enabled(bool(mode))

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _C._set_anomaly_enabled(self._prev)
        return False

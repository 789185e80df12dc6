"""no_grad / enable_grad / set_grad_enabled: context managers and decorators over the C++ thread-local flag."""
import functools

from tapegrad import _C


class _GradModeContext:
    """Base: sets the mode on enter, restores the previous one on exit; also works as a decorator."""

    _enabled = True

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._enabled)
        return None

    def __exit__(self, exc_type, exc, tb):
        _C._set_grad_enabled(self._prev)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Disables gradient recording in this thread: results have requires_grad=False."""

    _enabled = False
    _prev = False  # as torch's: leaving a no_grad never entered enables nothing

    def __init__(self, orig_func=None):
        # Allows the bare decorator form `@no_grad` as well as `@no_grad()`.
        if orig_func is not None:
            self._wrapped = self(orig_func)

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


class enable_grad(_GradModeContext):
    """Re-enables gradient recording inside a no_grad region."""

    _enabled = True

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __init__(self, orig_func=None):
        pass


class set_grad_enabled(_GradModeContext):
    """Sets grad mode to `mode` immediately (like torch) and restores the old mode on exit when used with `with`."""

    def __init__(self, mode):
        self._prev = _C.is_grad_enabled()
        self._enabled = bool(mode)
        _C._set_grad_enabled(self._enabled)

    def __enter__(self):
        return None

    def __exit__(self, exc_type, exc, tb):
        _C._set_grad_enabled(self._prev)

    def __call__(self, fn):
        _C._set_grad_enabled(self._prev)
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__(self._enabled)


def is_grad_enabled():
    return _C.is_grad_enabled()


class inference_mode(_GradModeContext):
    """no_grad and more: tensors made inside are inference tensors, which autograd refuses to save
    for backward or update in place once outside (torch.inference_mode)."""

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __new__(cls, mode=True):
        if callable(mode):  # used as a bare decorator
            return cls()(mode)
        return super().__new__(cls)

    def __enter__(self):
        self._prev = (_C.is_grad_enabled(), _C.is_inference_mode_enabled())
        if self.mode:
            _C._set_grad_enabled(False)
        _C._set_inference_mode(self.mode)

    def __exit__(self, exc_type, exc, tb):
        _C._set_grad_enabled(self._prev[0])
        _C._set_inference_mode(self._prev[1])
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__(self.mode)


def is_inference_mode_enabled():
    return _C.is_inference_mode_enabled()

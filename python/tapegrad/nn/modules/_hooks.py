"""Hook handles for Module.register_forward_(pre_)hook, as torch.utils.hooks.RemovableHandle."""
import itertools
import weakref


class RemovableHandle:
    """Returned by the register_*_hook methods; remove() unregisters the hook (also as a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, *extra_dicts):
        # Weak references: a handle kept by the user must not keep a dead module's hooks alive.
        self.id = next(RemovableHandle._ids)
        self._refs = [weakref.ref(d) for d in (hooks_dict, *extra_dicts)]

    def remove(self):
        for ref in self._refs:
            d = ref()
            if d is not None:
                d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookDict(dict):
    """A plain dict that can be weakly referenced (handles hold it weakly)."""


def _insert_hook(hooks, hook_id, hook, prepend):
    hooks[hook_id] = hook
    if prepend:
        for other in [k for k in hooks if k != hook_id]:
            hooks[other] = hooks.pop(other)

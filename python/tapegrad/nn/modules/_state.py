"""Module.state_dict / load_state_dict: saving and restoring parameters and persistent buffers, as torch does."""
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from tapegrad import _C
from tapegrad.autograd.grad_mode import no_grad
from tapegrad.nn.parameter import Parameter

_EXTRA_STATE = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict returns; prints a friendly line when everything matched."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _overrides(module, name):
    """Whether module's class replaces Module's default `name` (the extra-state protocol is opt-in)."""
    from tapegrad.nn.modules.module import Module

    return getattr(type(module), name) is not getattr(Module, name)


def save_to_state_dict(self, destination, prefix, keep_vars):
    """This module's own entries (not its children's) into destination."""
    for name, param in self._parameters.items():
        if param is not None:
            destination[prefix + name] = param if keep_vars else param.detach()
    for name, buf in self._buffers.items():
        if buf is not None and name not in self._non_persistent_buffers_set:
            destination[prefix + name] = buf if keep_vars else buf.detach()
    if _overrides(self, "get_extra_state"):
        destination[prefix + _EXTRA_STATE] = self.get_extra_state()


def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
    """OrderedDict of parameters and persistent buffers by qualified name; detached unless keep_vars."""
    if args:
        warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                      "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict"
                      " for details.", FutureWarning, stacklevel=2)
        destination = args[0] if destination is None else destination
        prefix = args[1] if len(args) > 1 and prefix == "" else prefix
        keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    # Per-module versions let a module read checkpoints saved by an older layout of itself.
    if hasattr(destination, "_metadata"):
        destination._metadata[prefix[:-1]] = {"version": self._version}
    self._save_to_state_dict(destination, prefix, keep_vars)
    for name, child in self._modules.items():
        if child is not None:
            child.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
    return destination


def load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                         error_msgs):
    """Copies this module's own entries from state_dict, recording missing/unexpected keys and errors."""
    persistent_buffers = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
    local_state = {k: v for k, v in [*self._parameters.items(), *persistent_buffers.items()] if v is not None}
    assign = local_metadata.get("assign_to_params_buffers", False)

    for name, param in local_state.items():
        key = prefix + name
        if key not in state_dict:
            if strict:
                missing_keys.append(key)
            continue
        value = state_dict[key]
        if not isinstance(value, _C.Tensor):
            error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                              f"object from checkpoint but received {type(value)}")
            continue
        # Checkpoints from very old torch stored scalars as 1-element vectors.
        if len(param.shape) == 0 and len(value.shape) == 1 and value.shape[0] == 1:
            value = value[0]
        if value.shape != param.shape:
            error_msgs.append(f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                              f"the shape in current model is {param.shape}.")
            continue
        try:
            with no_grad():
                if assign:
                    if isinstance(param, Parameter):
                        if isinstance(value, Parameter):
                            value.requires_grad_(param.requires_grad)
                        else:
                            value = Parameter(value, requires_grad=param.requires_grad)
                    setattr(self, name, value)
                else:
                    # In place: whoever holds the parameter (an optimizer) sees the loaded values.
                    param.copy_(value)
        except Exception as ex:  # noqa: BLE001 - reported together with the other errors, as torch does
            error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                              f"{param.size()} and whose dimensions in the checkpoint are {value.size()}, "
                              f"an exception occurred : {ex.args}.")

    extra_key = prefix + _EXTRA_STATE
    if _overrides(self, "set_extra_state"):
        if extra_key in state_dict:
            self.set_extra_state(state_dict[extra_key])
        elif strict:
            missing_keys.append(extra_key)
    elif strict and extra_key in state_dict:
        unexpected_keys.append(extra_key)

    if strict:
        for key in state_dict:
            if not key.startswith(prefix) or key == extra_key:
                continue
            head, *rest = key[len(prefix):].split(".", 1)
            # A dotted key belongs to a child, which reports its own keys; only unknown children are ours.
            if (rest and head not in self._modules) or (not rest and head not in local_state):
                unexpected_keys.append(key)


def load_state_dict(self, state_dict, strict=True, assign=False):
    """Loads parameters and persistent buffers; returns (missing_keys, unexpected_keys) or raises if strict."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing_keys, unexpected_keys, error_msgs = [], [], []
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)  # modules may add keys while loading (old-format upgrades)
    if metadata is not None:
        state_dict._metadata = metadata

    # Iterative walk, parents before children, as torch's recursive one visits them.
    stack = [(self, state_dict, "")]
    while stack:
        module, local_dict, prefix = stack.pop()
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = True
        module._load_from_state_dict(local_dict, prefix, local_metadata, True, missing_keys, unexpected_keys,
                                     error_msgs)
        children = []
        for name, child in module._modules.items():
            if child is not None:
                child_prefix = prefix + name + "."
                children.append((child, {k: v for k, v in local_dict.items() if k.startswith(child_prefix)},
                                 child_prefix))
        stack.extend(reversed(children))

    if strict:
        if unexpected_keys:
            error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected_keys)))
        if missing_keys:
            error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing_keys)))
    if error_msgs:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(self).__name__, "\n\t".join(error_msgs)))
    return _IncompatibleKeys(missing_keys, unexpected_keys)

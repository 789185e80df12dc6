"""Optimizer: base of tapegrad.optim (param groups, per-parameter state, zero_grad, torch-format state_dict)."""
import warnings
from collections import defaultdict
from copy import deepcopy
from itertools import chain

import tapegrad
from tapegrad import _C
from tapegrad._grads import zero_grads
from tapegrad.autograd.grad_mode import enable_grad, no_grad

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter with no default: every param group must then give it."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()

# torch's error texts name tensors by their legacy type ("torch.FloatTensor"), so ours do too.
_LEGACY_TENSOR_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "int64": "LongTensor",
                        "int32": "IntTensor", "bool": "BoolTensor"}


def _typename(obj):
    """torch.typename: what torch's optimizer errors print for an object of the wrong type."""
    if isinstance(obj, _C.Tensor):
        name = _LEGACY_TENSOR_NAMES.get(str(obj.dtype).replace("torch.", ""), "Tensor")
        return f"torch.cuda.{name}" if obj.device.type == "cuda" else f"torch.{name}"
    module, qualname = getattr(obj, "__module__", "") or "", ""
    if hasattr(obj, "__qualname__"):
        qualname = obj.__qualname__
    elif hasattr(obj, "__name__"):
        qualname = obj.__name__
    else:
        module, qualname = obj.__class__.__module__ or "", obj.__class__.__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _scalar_dtype():
    """The dtype of state['step']: torch keeps it float32 unless the default dtype is float64."""
    return _C.float64 if _C.get_default_dtype() == _C.float64 else _C.float32


def _new_step():
    return tapegrad.tensor(0.0, dtype=_scalar_dtype())


def _to_scalar(x):
    """A hyperparameter as a Python number (a 1-element tensor lr is read once per step)."""
    return x.item() if isinstance(x, _C.Tensor) else x


def _check_tensor_lr(lr):
    if isinstance(lr, _C.Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def _check_unsupported(differentiable=False, fused=None, capturable=False):
    """Only the single-tensor update exists; refuse modes whose semantics we would silently change."""
    for name, value in (("differentiable", differentiable), ("fused", fused), ("capturable", capturable)):
        if value:
            raise NotImplementedError(f"tapegrad.optim does not support {name}=True")


# Fused pointwise ops tapegrad lacks, composed from existing ones. Each keeps torch's CPU kernel's
# order of operations (value * t1 first) so results stay within float32 rounding of torch's.
def _addcmul_(t, t1, t2, value=1.0):
    """t.addcmul_(t1, t2, value=value): t += value * t1 * t2."""
    return t.add_(t1 * t2 if value == 1 else t1 * value * t2)


def _addcdiv_(t, t1, t2, value=1.0):
    """t.addcdiv_(t1, t2, value=value): t += value * t1 / t2."""
    return t.add_(t1 / t2 if value == 1 else t1 * value / t2)


def _lerp_(t, end, weight):
    """t.lerp_(end, weight) with torch's two-sided formula (exact at weight 0 and 1)."""
    diff = end - t
    if abs(weight) < 0.5:
        return t.add_(diff * weight)
    return t.copy_(end - diff * (1 - weight))


class Optimizer:
    """Base class: subclasses set defaults and implement _step_group(group) for one param group."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, _C.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for key, value in self._group_setdefaults().items():
                group.setdefault(key, value)
            # Old checkpoints stored 'step' as a number; the update reads it as a tensor.
            for p in group["params"]:
                p_state = self.state.get(p)
                if p_state and "step" in p_state and not isinstance(p_state["step"], _C.Tensor):
                    p_state["step"] = tapegrad.tensor(float(p_state["step"]), dtype=_scalar_dtype())

    def _group_setdefaults(self):
        """Keys an older state dict may lack, with the values torch fills in on load."""
        return {}

    def __repr__(self):
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    def zero_grad(self, set_to_none=True):
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a grad; returns closure()'s loss (computed with grad on)."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        raise NotImplementedError

    def add_param_group(self, param_group):
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, _C.Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        param_group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in param_group["params"]:
            if not isinstance(param, _C.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)

        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def state_dict(self):
        """{'state': {index: per-param state}, 'param_groups': [group with 'params' as indices]}.

        Like torch's, the per-parameter state entries are the live tensors, not copies.
        """
        index_of = {}

        def pack(group):
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(index_of[id(k)] if isinstance(k, _C.Tensor) else k): v for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")

        param_of = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                            chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                state[param_of[key]] = _cast_state(param_of[key], value, _group_flags(key, state_dict))
            else:
                state[key] = value

        new_groups = []
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            new_groups.append(saved)
        self.__setstate__({"state": state, "param_groups": new_groups})


def _group_flags(param_id, state_dict):
    """Whether the saved group holding param_id was fused or capturable (they host 'step' differently)."""
    for group in state_dict["param_groups"]:
        if param_id in group["params"]:
            return bool(group.get("fused", False) or group.get("capturable", False))
    return False


def _cast_state(param, value, step_on_device, key=None):
    """Float state follows the parameter's dtype and device; 'step' stays as saved, as in torch."""
    if isinstance(value, _C.Tensor):
        if key == "step":
            return value.to(dtype=_C.float32, device=param.device) if step_on_device else value
        if param.is_floating_point():
            return value.to(dtype=param.dtype, device=param.device)
        return value.to(device=param.device)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, step_on_device, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, step_on_device) for v in value)
    return value

"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients (torch.optim.Adagrad)."""
from tapegrad import _C
from tapegrad.optim.optimizer import (
    Optimizer,
    _addcdiv_,
    _addcmul_,
    _check_tensor_lr,
    _check_unsupported,
    _new_step,
    _to_scalar,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_unsupported(differentiable, fused)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        # Unlike the other optimizers, torch creates Adagrad's state eagerly, so a fresh state_dict has it.
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _new_step()
        # torch seeds every group's accumulator from the constructor's value, not the group's own.
        state["sum"] = _C.full_like(p, self.defaults["initial_accumulator_value"])

    def _group_setdefaults(self):
        return {"foreach": None, "maximize": False, "differentiable": False, "fused": None}

    def _step_group(self, group):
        lr, lr_decay, eps = _to_scalar(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:  # a parameter added by add_param_group after construction
                self._init_state(p)
            step_t = state["step"]
            step_t += 1
            step = step_t.item()
            if group["maximize"]:
                grad = -grad
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum = _addcmul_(state["sum"], grad, grad, 1)
            std = state_sum.sqrt().add_(eps)
            _addcdiv_(p, grad, std, -clr)

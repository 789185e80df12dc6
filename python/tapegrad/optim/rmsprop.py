"""RMSprop: divides the gradient by a running RMS of recent gradients, optionally centered and with momentum."""
from tapegrad import _C
from tapegrad.optim.optimizer import (
    Optimizer,
    _addcdiv_,
    _addcmul_,
    _check_tensor_lr,
    _check_unsupported,
    _lerp_,
    _new_step,
    _to_scalar,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_tensor_lr(lr)
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_unsupported(differentiable, capturable=capturable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _group_setdefaults(self):
        return {"momentum": 0, "centered": False, "foreach": None, "maximize": False, "differentiable": False,
                "capturable": False}

    def _step_group(self, group):
        lr, alpha, eps = _to_scalar(group["lr"]), group["alpha"], group["eps"]
        weight_decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _new_step()
                state["square_avg"] = _C.zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = _C.zeros_like(p)
                if centered:
                    state["grad_avg"] = _C.zeros_like(p)
            if group["maximize"]:
                grad = -grad
            state["step"] += 1
            if weight_decay != 0:
                grad = grad.add(p, alpha=weight_decay)

            square_avg = _addcmul_(state["square_avg"].mul_(alpha), grad, grad, 1 - alpha)
            if centered:
                grad_avg = _lerp_(state["grad_avg"], grad, 1 - alpha)
                # Variance estimate E[g^2] - E[g]^2, computed out of place so square_avg keeps E[g^2].
                avg = _addcmul_(square_avg.clone(), grad_avg, grad_avg, -1).sqrt_()
            else:
                avg = square_avg.sqrt()
            avg = avg.add_(eps)

            if momentum > 0:
                buf = _addcdiv_(state["momentum_buffer"].mul_(momentum), grad, avg)
                p.add_(buf, alpha=-lr)
            else:
                _addcdiv_(p, grad, avg, -lr)

"""Clearing parameters' gradients as torch's Module.zero_grad and Optimizer.zero_grad both do."""


def zero_grads(params, set_to_none=True):
    """Drops each .grad (set_to_none) or zeroes it in place, first detaching one that has history."""
    for param in params:
        grad = param.grad
        if grad is None:
            continue
        if set_to_none:
            param.grad = None
            continue
        if grad.grad_fn is not None:
            grad.detach_()
        else:
            grad.requires_grad_(False)
        grad.zero_()

"""torch.autograd.gradcheck and gradgradcheck. The implementation (and numpy) loads on first use,
so importing tapegrad stays fast."""

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    r"""Error raised by :func:`gradcheck` and :func:`gradgradcheck`."""


def gradcheck(func, inputs, **kwargs):
    """Checks func's gradients with respect to the float64 inputs that require grad against
    central finite differences; returns True, or raises GradcheckError (raise_exception=True)."""
    from tapegrad.autograd._gradcheck import gradcheck_impl

    return gradcheck_impl(func, inputs, **kwargs)


def gradgradcheck(func, inputs, grad_outputs=None, **kwargs):
    """Checks the gradients of func's gradients (second order) the same way."""
    from tapegrad.autograd._gradcheck import gradgradcheck_impl

    return gradgradcheck_impl(func, inputs, grad_outputs, **kwargs)

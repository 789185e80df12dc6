"""tapegrad.autograd.Function: user-defined ops with their own backward, recorded on the tape like built-ins."""
import warnings

from tapegrad import _C
from tapegrad.autograd.grad_mode import no_grad


class FunctionCtx:
    """The `ctx` handed to forward/backward: saves tensors and flags, as torch's does."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._to_save = ()
        self._non_differentiable = ()
        self._dirty = ()
        self._materialize_grads = True
        self._saved = None

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    @property
    def saved_tensors(self):
        # During backward the node hands over its (version-checked) saved tensors.
        return self._saved if self._saved is not None else tuple(self._to_save)

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        self._dirty = tensors


class Function:
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grad_outputs)` (or forward(*args)
    plus `setup_context(ctx, inputs, output)`), then call `YourFunction.apply(*args)`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise RuntimeError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise RuntimeError("You must implement either the backward or vjp method for your custom "
                           "autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise RuntimeError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx(tuple(isinstance(a, _C.Tensor) and a.requires_grad for a in args))
        separate_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            output = cls.forward(*args) if separate_setup else cls.forward(ctx, *args)
        if separate_setup:
            cls.setup_context(ctx, args, output)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        dirty = _dirty_inputs(ctx._dirty, args, outputs)
        # An input returned as is gets its own tensor object, so its history can differ; one the
        # forward wrote in place (mark_dirty) stays the same object, and its history moves on.
        outputs = tuple(o.detach() if isinstance(o, _C.Tensor) and _is_in(o, args) and not _is_in(o, dirty) else o
                        for o in outputs)
        tensors = [o for o in outputs if isinstance(o, _C.Tensor)]

        def run_backward(saved, *grads):
            ctx._saved = saved
            try:
                result = cls.backward(ctx, *grads)
            finally:
                ctx._saved = None
            return result if isinstance(result, tuple) else (result,)

        _C._make_function_node(f"{cls.__name__}Backward", run_backward, list(args), tensors,
                               list(ctx._to_save), list(ctx._non_differentiable), dirty, ctx._materialize_grads)
        # The node now holds what was saved; ctx keeping the outputs too would be a reference cycle.
        ctx._to_save = ctx._non_differentiable = ctx._dirty = ()
        return outputs[0] if single else outputs


def _is_in(t, seq):
    return any(t is x for x in seq)


def _dirty_inputs(marked, args, outputs):
    """The inputs marked dirty, checked as torch checks them: each must also be an output."""
    dirty = []
    for t in marked:
        if not _is_in(t, args):
            warnings.warn("ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that have "
                          "been mutated should be passed to ctx.mark_dirty().", UserWarning, stacklevel=3)
        else:
            dirty.append(t)
    if any(not _is_in(t, outputs) for t in dirty):
        raise RuntimeError("Some elements marked as dirty during the forward method were not returned as output. The "
                           "inputs that are modified inplace must all be outputs of the Function.")
    return dirty

"""Forward-mode Jacobians for autograd.functional, through the double-backward trick."""
import tapegrad
from tapegrad.autograd.functional import (
    _as_tuple,
    _autograd_grad,
    _grad_preprocess,
    _tuple_postprocess,
)


def _jacfwd(func, inputs, strict=False, vectorize=False):
    """Forward-mode Jacobian: one Jacobian-vector product per input element (double-backward trick).

    tapegrad has no forward-mode AD; the columns J e_k come from jvp's trick instead. Like torch,
    only vectorize=True is accepted for this strategy, and the result has the output's dtype.
    """
    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` "
            'and `strategy="forward-mode"` are not supported together (yet). '
            "Please either set `strict=False` or "
            '`strategy="reverse-mode"`.'
        )
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
            "only implemented for `vectorize=True`."
        )

    with tapegrad.enable_grad():
        inputs = _grad_preprocess(inputs, create_graph=False, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs")
        grad_outputs = tuple(tapegrad.zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)

    # columns[i][j]: over the elements k of input j, J_ij e_k (shaped like output i). J v is
    # linear in v, so the tangent for input j alone only needs grad_inputs[j].
    columns = [[[] for _ in inputs] for _ in outputs]
    for j, inp in enumerate(inputs):
        for k in range(inp.nelement()):
            with tapegrad.no_grad():
                basis = tapegrad.zeros(inp.nelement(), dtype=inp.dtype, device=inp.device)
                basis[k] = 1.0
            if grad_inputs[j] is None:
                cols = (None,) * len(outputs)
            else:
                cols = _autograd_grad((grad_inputs[j],), grad_outputs, (basis.view(inp.shape),), retain_graph=True)
            for i, out in enumerate(outputs):
                columns[i][j].append(tapegrad.zeros_like(out.detach()) if cols[i] is None else cols[i].detach())

    # lists, not tuples, like torch's forward-mode result
    jacobian_output_input = [
        [
            tapegrad.stack(columns[i][j], dim=-1).reshape(tuple(out.shape) + tuple(inp.shape))
            if inp.nelement() > 0
            else tapegrad.zeros(tuple(out.shape) + tuple(inp.shape), dtype=out.dtype, device=out.device)
            for j, inp in enumerate(inputs)
        ]
        for i, out in enumerate(outputs)
    ]
    return _tuple_postprocess(jacobian_output_input, (is_outputs_tuple, is_inputs_tuple))

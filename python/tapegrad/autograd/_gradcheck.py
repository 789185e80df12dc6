"""The work behind tapegrad.autograd.gradcheck: central-difference Jacobians (through numpy) checked
against autograd's, and gradgradcheck."""
import warnings

import numpy as np

import tapegrad
from tapegrad import _C
from tapegrad.autograd._numerical import (
    _as_tuple,
    _differentiable_outputs,
    _is_float,
    _is_tensor,
    _np_dtype,
    _numerical_jacobians,
    _numerical_jvp_wrt_input,
    _refresh_outputs,
    _to_numpy,
    _to_tensor,
)

_Tensor = _C.Tensor


from tapegrad.autograd.gradcheck import GradcheckError  # noqa: E402


# ---- argument checks ----


def _check_inputs(tupled_inputs):
    any_input_requiring_grad = False
    for idx, inp in enumerate(tupled_inputs):
        if _is_tensor(inp) and inp.requires_grad:
            if inp.dtype != tapegrad.float64:
                warnings.warn(
                    f"Input #{idx} requires gradient and "
                    "is not a double precision floating point or complex. "
                    "This check will likely fail if all the inputs are "
                    "not of double precision floating point or complex. ",
                    UserWarning,
                    stacklevel=4,
                )
            if not all(st > 0 or sz <= 1 for st, sz in zip(inp.stride(), inp.size())):
                raise RuntimeError(
                    f"The {idx}th input has a dimension with stride 0. gradcheck only "
                    "supports inputs that are non-overlapping to be able to "
                    "compute the numerical gradients correctly. You should call "
                    ".contiguous on the input before passing it to gradcheck."
                )
            any_input_requiring_grad = True

    if not any_input_requiring_grad:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, "
            "but none of them have requires_grad=True."
        )
    return True


def _diff_inputs(inputs):
    return [a for a in inputs if _is_tensor(a) and a.requires_grad]


def _analytical_rows(output, diff_inputs, grad_outputs):
    """For each grad_output g: autograd's g^T J for every differentiable input (None if unused)."""
    rows = []
    for g in grad_outputs:
        grads = tapegrad.autograd.grad(output, diff_inputs, g, retain_graph=True, allow_unused=True)
        rows.append([None if gi is None else (gi, _to_numpy(gi)) for gi in grads])
    return rows


def _stack_rows(rows, diff_inputs, check_grad_dtypes):
    """rows[r][i] -> one (numel_in, len(rows)) array per input, checking sizes and dtypes."""
    jacs = []
    for i, inp in enumerate(diff_inputs):
        jac = np.zeros((inp.numel(), len(rows)), dtype=_np_dtype(inp))
        for r, row in enumerate(rows):
            if row[i] is None:
                continue
            gi, arr = row[i]
            if tuple(gi.shape) != tuple(inp.shape):
                raise GradcheckError("Analytical gradient has incorrect size")
            if check_grad_dtypes and gi.dtype != inp.dtype:
                raise GradcheckError("Gradient has dtype mismatch")
            jac[:, r] = arr.reshape(-1)
        jacs.append(jac)
    return jacs


_FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""


def _analytical_jacobians(inputs, output, nondet_tol, check_grad_dtypes, grad_outputs):
    """Rows of the Jacobian of `output` (one per grad_output), computed twice to check reentrancy."""
    diff_inputs = _diff_inputs(inputs)
    jacs1 = _stack_rows(_analytical_rows(output, diff_inputs, grad_outputs), diff_inputs, check_grad_dtypes)
    jacs2 = _stack_rows(_analytical_rows(output, diff_inputs, grad_outputs), diff_inputs, check_grad_dtypes)
    for a, b in zip(jacs1, jacs2):
        if a.size and np.abs(a - b).max() > nondet_tol:
            raise GradcheckError(
                "Backward is not reentrant, i.e., running backward with "
                "same input and grad_output multiple times gives different values, "
                "although analytical gradient matches numerical gradient."
                f"The tolerance for nondeterminism was {nondet_tol}." + _FAILED_NONDET_MSG
            )
    return jacs1


def _basis_grad_outputs(output):
    """The standard basis of output's space, one tensor shaped like output per element."""
    res = []
    for j in range(output.numel()):
        g = np.zeros(output.numel(), dtype=_np_dtype(output))
        g[j] = 1.0
        res.append(_to_tensor(g.reshape(tuple(output.shape)), output))
    return res


def _allclose(a, b, rtol, atol):
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _notallclose_msg(analytical, numerical, output_idx, input_idx):
    """torch's text; arrays print as tensors, the scalars of fast mode as Python floats."""
    if isinstance(numerical, np.ndarray):
        numerical, analytical = _to_tensor(numerical), _to_tensor(analytical)
    return (
        f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
        f"numerical:{numerical}\nanalytical:{analytical}\n"
    )


def _check_no_differentiable_outputs(func, inputs, func_out, eps):
    for per_input in _numerical_jacobians(func, inputs, func_out, eps):
        for jac in per_input:
            if np.count_nonzero(jac) > 0:
                raise GradcheckError("Numerical gradient for function expected to be zero")
    return True


def _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol):
    func_out = _as_tuple(func_out)
    if not outputs:
        _check_no_differentiable_outputs(func, inputs, func_out, eps)
        return outputs
    # numerical[input][output] -> numerical[output][input], differentiable outputs only
    numerical = list(zip(*_numerical_jacobians(func, inputs, func_out, eps)))
    numerical = [nj for o, nj in zip(func_out, numerical) if o.requires_grad]
    outputs = _refresh_outputs(func, inputs, outputs)
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobians(inputs, o, nondet_tol, check_grad_dtypes, _basis_grad_outputs(o))
        for j, (a, n) in enumerate(zip(analytical, numerical[i])):
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(_notallclose_msg(a, n, i, j))
    return outputs


# ---- fast mode: compare v^T J u, numerically (J u) and analytically (v^T J) ----

_FAST_FAIL_SLOW_OK_MSG = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()


def _unit_random(rng, n, dtype):
    vec = rng.random(n).astype(dtype)
    norm = np.linalg.norm(vec)
    return vec / norm if norm > 0 else vec


def _slow_mode_error(func, inputs, outputs, func_out, input_idx, output_idx, rtol, atol, eps, nondet_tol):
    func_out = _as_tuple(func_out)
    numerical = _numerical_jacobians(func, inputs, func_out, eps)[input_idx]
    diff_out_positions = [k for k, o in enumerate(func_out) if o.requires_grad]
    slow_numerical = numerical[diff_out_positions[output_idx]]
    o = _refresh_outputs(func, inputs, outputs)[output_idx]
    slow_analytical = _analytical_jacobians(inputs, o, float("inf"), False, _basis_grad_outputs(o))[input_idx]
    slow_max_diff = np.abs(slow_numerical - slow_analytical).max()
    msg = (
        "\nThe above quantities relating the numerical and analytical jacobians are computed \n"
        "in fast mode. See: https://github.com/pytorch/pytorch/issues/53876 for more background \n"
        "about fast mode. Below, we recompute numerical and analytical jacobians in slow mode:\n\n"
        f"Numerical:\n {_to_tensor(slow_numerical)}\n"
        f"Analytical:\n{_to_tensor(slow_analytical)}\n\n"
        f"The max per-element difference (slow mode) is: {float(slow_max_diff)}.\n"
    )
    if _allclose(slow_analytical, slow_numerical, rtol, atol):
        msg += _FAST_FAIL_SLOW_OK_MSG
    return msg


def _fast_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol):
    rng = np.random.default_rng(0)  # private generator: the user's RNG state is left alone
    inp_idx = [i for i, a in enumerate(inputs) if _is_tensor(a) and a.requires_grad]
    all_u = [_unit_random(rng, inputs[i].numel(), _np_dtype(inputs[i])) for i in inp_idx]
    all_v = [_unit_random(rng, o.numel(), _np_dtype(o)) for o in outputs]
    func_out = _as_tuple(func_out)

    numerical_Ju = []  # [input][output over all outputs]
    for i, u in zip(inp_idx, all_u):
        numerical_Ju.append(_numerical_jvp_wrt_input(func, inputs, i, u, eps))

    if not outputs:
        for per_input in numerical_Ju:
            for jvp in per_input:
                if jvp.size and np.abs(jvp).max() > nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return outputs

    outputs = _refresh_outputs(func, inputs, outputs)
    diff_positions = [k for k, o in enumerate(func_out) if o.requires_grad and _is_float(o)]
    for j, (o, v) in enumerate(zip(outputs, all_v)):
        g = _to_tensor(v.reshape(tuple(o.shape)), o)
        vJ = _analytical_jacobians(inputs, o, nondet_tol, check_grad_dtypes, [g])  # per input: (numel_in, 1)
        for i, u in enumerate(all_u):
            a = float(vJ[i][:, 0] @ u)
            n = float(v @ numerical_Ju[i][diff_positions[j]])
            adjusted_atol = atol * float(u.sum()) * float(v.sum())
            if not _allclose(a, n, rtol, adjusted_atol):
                raise GradcheckError(
                    _notallclose_msg(a, n, j, i)
                    + _slow_mode_error(func, inputs, outputs, func_out, i, j, rtol, atol, eps, nondet_tol)
                )
    return outputs


# ---- the extra backward-mode checks ----


def _test_backward_mul_by_grad_output(outputs, inputs):
    diff_input_list = _diff_inputs(inputs)
    if not diff_input_list:
        raise GradcheckError("no Tensors requiring grad found in input")
    grads_input = tapegrad.autograd.grad(
        outputs, diff_input_list, [tapegrad.zeros_like(o) for o in outputs], allow_unused=True
    )
    for gi, di in zip(grads_input, diff_input_list):
        if gi is None:
            continue
        if not np.all(_to_numpy(gi) == 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if gi.dtype != di.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi.device != di.device:
            raise GradcheckError("grad is incorrect device")
        if tuple(gi.size()) != tuple(di.size()):
            raise GradcheckError("grad is incorrect size")
    return True


def _test_undefined_backward_mode(func, outputs, inputs):
    """Backward must cope with outputs that receive no gradient at all.

    torch feeds undefined gradients through UndefinedGrad; in tapegrad an output that receives no
    gradient is simply left out of autograd.grad. With a single output that leaves nothing to run.
    """
    diff_input_list = _diff_inputs(inputs)
    if not diff_input_list:
        raise GradcheckError("no Tensors requiring grad found in input")

    def warn_bc_breaking():
        warnings.warn(
            "Backwards compatibility: New undefined gradient support checking "
            "feature is enabled by default, but it may break existing callers "
            "of this function. If this is true for you, you can call this "
            'function with "check_undefined_grad=False" to disable the feature',
            UserWarning,
            stacklevel=4,
        )

    if len(outputs) <= 1:
        return True
    for undef_idx in range(len(outputs)):
        fresh = _differentiable_outputs(func(*inputs))
        kept = [o for k, o in enumerate(fresh) if k != undef_idx]
        try:
            grads_input = tapegrad.autograd.grad(
                kept, diff_input_list, [tapegrad.zeros_like(o) for o in kept], allow_unused=True
            )
        except RuntimeError as e:
            warn_bc_breaking()
            raise GradcheckError(
                "Expected backward function to handle undefined output grads. "
                'Please look at "Notes about undefined output gradients" in '
                '"tools/autograd/derivatives.yaml"'
            ) from e
        for gi in grads_input:
            if gi is not None and not np.all(_to_numpy(gi) == 0):
                warn_bc_breaking()
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads are undefined "
                    'or zero. Please look at "Notes about undefined output gradients" in '
                    '"tools/autograd/derivatives.yaml"'
                )
    return True


# ---- the public functions (called through gradcheck.py) ----


def gradcheck_impl(
    func,
    inputs,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    raise_exception=True,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_batched_forward_grad=False,
    check_forward_ad=False,
    check_backward_ad=True,
    fast_mode=False,
    masked=None,
):
    """Checks autograd's gradients of func at inputs against central finite differences.

    Perturbs every element of every input that requires grad (inputs should be float64) and
    compares the numerical Jacobian with the one autograd.grad gives, row by row (fast_mode
    compares the random projections v^T J u instead). Returns True, or raises GradcheckError
    (returns False when raise_exception=False).

    tapegrad has neither vmap nor forward-mode AD: check_batched_grad=True adds nothing (a batched
    gradient here is the loop of the gradients already checked) and check_forward_ad=True raises
    NotImplementedError. `masked` only matters for sparse tensors, which tapegrad does not have.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    if check_forward_ad:
        raise NotImplementedError("gradcheck(check_forward_ad=True): tapegrad has no forward-mode AD")
    try:
        return _gradcheck_helper(
            func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes, fast_mode
        )
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck_helper(func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes, fast_mode):
    tupled_inputs = _as_tuple(inputs)
    _check_inputs(tupled_inputs)
    func_out = func(*tupled_inputs)
    outputs = _differentiable_outputs(func_out)
    check = _fast_gradcheck if fast_mode else _slow_gradcheck
    outputs = check(func, func_out, tupled_inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol)
    if outputs:  # with none, the numerical Jacobian was checked to be zero and there is no backward
        _test_backward_mul_by_grad_output(outputs, tupled_inputs)
        if check_undefined_grad:
            _test_undefined_backward_mode(func, outputs, tupled_inputs)
    return True


def _random_grad_output(x, noncontiguous):
    """torch.testing.make_tensor(low=-1, high=1, requires_grad=True) for x's shape, dtype and device."""
    dtype = x.dtype if x.dtype.is_floating_point else tapegrad.float64
    shape = tuple(x.shape)
    if noncontiguous and x.numel() > 1:
        base = tapegrad.rand(shape[:-1] + (2 * shape[-1],), dtype=dtype) * 2 - 1
        out = base[..., ::2].detach()
    else:
        out = tapegrad.rand(shape, dtype=dtype) * 2 - 1
    if x.device.type != "cpu":
        out = out.to(x.device)
    return out.detach().requires_grad_(True)


def gradgradcheck_impl(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps=1e-6,
    atol=1e-5,
    rtol=1e-3,
    gen_non_contig_grad_outputs=False,
    raise_exception=True,
    nondet_tol=0.0,
    check_undefined_grad=True,
    check_grad_dtypes=False,
    check_batched_grad=False,
    check_fwd_over_rev=False,
    check_rev_over_rev=True,
    fast_mode=False,
    masked=False,
):
    """gradcheck of the map (inputs, grad_outputs) -> autograd.grad(func(inputs), inputs, grad_outputs).

    grad_outputs default to random tensors in [-1, 1) shaped like the differentiable outputs.
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError("Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True")
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_undefined_grad=True requires check_rev_over_rev to be True")
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError("Setting check_batched_grad=True requires check_rev_over_rev to be True")
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(_random_grad_output(x, gen_non_contig_grad_outputs) for x in outputs)
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)

    num_outputs = len(tupled_grad_outputs)
    diff_input_args_indices = {i for i, x in enumerate(tupled_inputs) if _is_tensor(x) and x.requires_grad}
    diff_grad_output_indices = {i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad}

    def new_func(*args):
        input_args = tuple(
            x.requires_grad_() if i in diff_input_args_indices else x for i, x in enumerate(args[:-num_outputs])
        )
        outputs = _differentiable_outputs(func(*input_args))
        grad_outputs = tuple(
            x.requires_grad_() if i in diff_grad_output_indices else x for i, x in enumerate(args[-num_outputs:])
        )
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_args_indices)
        grad_inputs = tapegrad.autograd.grad(
            outputs, diff_input_args, grad_outputs, create_graph=True, allow_unused=True
        )
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck_impl(
        new_func,
        tupled_inputs + tupled_grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        fast_mode=fast_mode,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        masked=masked,
    )

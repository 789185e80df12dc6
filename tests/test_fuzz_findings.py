"""What the differential fuzzer found (issue 12), pinned as programs compared with torch: values, dtypes,
requires_grad, grad_fn names, and the exception type where torch raises."""
import os
import subprocess
import sys

import pytest
import torch

from conftest import SANITIZED, SANITIZER_VARS, package_root, same_program


def functional(T):
    return __import__(T.__name__ + ".nn.functional", fromlist=["F"])


def z(T, *shape, dtype=None):
    return T.zeros(shape, dtype=dtype or T.float32)


def inference_graph(T, make):
    """make(T, x) under inference_mode, x a leaf that requires grad."""
    x = T.tensor([0.25, -1.0, 2.0], requires_grad=True)
    with T.inference_mode():
        return make(T, x)


INFERENCE = {
    "enable_grad_inside": lambda T, x: _under_enable_grad(T, x),
    "hvp": lambda T, x: T.autograd.functional.hvp(lambda a: (a ** 3).sum(), x, T.ones(3)),
    "jacobian": lambda T, x: T.autograd.functional.jacobian(lambda a: T.sin(a).sum(), x, create_graph=True),
    "vjp": lambda T, x: T.autograd.functional.vjp(lambda a: T.sin(a).sum(), x),
    "hessian": lambda T, x: T.autograd.functional.hessian(lambda a: (a * a * a).sum(), x),
    "grad_enabled_flag": lambda T, x: _flag_inside(T),
}


def _under_enable_grad(T, x):
    with T.enable_grad():
        a = T.tensor([0.5]).requires_grad_()
        b = a * a
        return a, b, T.tensor(float(a.is_inference())), T.tensor(float(b.is_inference()))


def _flag_inside(T):
    with T.enable_grad():
        return T.tensor([float(T.is_grad_enabled()), float(T.is_inference_mode_enabled())])


@pytest.mark.parametrize("case", INFERENCE)
def test_inference_mode_records_no_history_even_inside_enable_grad(case):
    same_program(lambda T: inference_graph(T, INFERENCE[case]))


VIEWS = {
    "narrow": lambda v: v.narrow(0, 1, 1),
    "T": lambda v: v.T,
    "view": lambda v: v.view(6),
    "getitem": lambda v: v[0],
    "transpose": lambda v: v.transpose(0, 1),
    "expand": lambda v: v.expand(2, 3, 2),
    "detach": lambda v: v.detach(),
}


@pytest.mark.parametrize("op", VIEWS)
def test_view_of_an_inference_tensor_outside_inference_mode(op):
    def program(T):
        with T.inference_mode():
            v = T.tensor([[2.75, -0.75], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        r = VIEWS[op](v)
        return r, T.tensor([float(r.is_inference()), float(r._is_view())])
    same_program(program)


def test_view_of_a_normal_tensor_inside_inference_mode_is_normal():
    def program(T):
        x = T.ones(2, 3)
        with T.inference_mode():
            v = x.view(6)
        return T.tensor([float(v.is_inference()), float(v._is_view())])
    same_program(program)


BATCH_NORM = [
    "F.batch_norm(z(T, 3, 2, dtype=T.int64), z(T, 2), z(T, 2) + 1)",
    "F.batch_norm(z(T, 3, 2, dtype=T.bool), z(T, 2), z(T, 2) + 1, training=True)",
    "F.batch_norm(z(T, 3, 2, dtype=T.float64), z(T, 2), z(T, 2) + 1)",
    "F.batch_norm(z(T, 3, 2), z(T, 2, dtype=T.float64), z(T, 2, dtype=T.float64) + 1, training=True)",
    "F.batch_norm(z(T, 3, 2), z(T, 2), z(T, 2) + 1, bias=z(T, 2, dtype=T.int64))",
    "F.batch_norm(z(T, 3, 2, dtype=T.float64), None, None, weight=z(T, 2))",
    "F.batch_norm(z(T, 0, 2), z(T, 2), z(T, 2), training=True)",
    "F.batch_norm(z(T, 0, 2, dtype=T.int64), z(T, 2), z(T, 2))",
    "F.batch_norm(z(T, 0, 2), z(T, 3), z(T, 2))",
    "F.batch_norm(z(T, 0, 2), z(T, 2), z(T, 2), weight=z(T, 0))",
    "F.batch_norm(z(T, 3, 0), z(T, 0), z(T, 0), weight=z(T, 0), bias=z(T, 0))",
    "F.batch_norm(z(T, 3, 0, 4), z(T, 0), z(T, 0), training=True)",
    "F.batch_norm(z(T, 1, 0), z(T, 0), z(T, 0), training=True)",
    "F.batch_norm(z(T, 7), None, z(T, 1), weight=z(T, 1), training=True)",
    "F.batch_norm(z(T, 7), None, None, training=True)",
    "F.batch_norm(z(T, 7), z(T, 7), z(T, 7))",
    "F.batch_norm(z(T), z(T, 1), z(T, 1), training=True)",
    "F.batch_norm(z(T), z(T, 1), z(T, 1))",
    "F.batch_norm(z(T, 0), z(T, 1), z(T, 1))",
    "F.batch_norm(z(T, 1, 3, 1), z(T, 3), z(T, 3), training=True)",
    "F.batch_norm(z(T, 2, 3), None, z(T, 3))",
    "F.batch_norm(z(T, 2, 3), z(T, 3), None)",
    "F.batch_norm(z(T, 2, 3), z(T, 3), z(T, 3), bias=z(T, 4))",
    "F.batch_norm(z(T, 0), z(T, 0), z(T, 0), training=True, momentum=[1.0])",
    # torch's kernel computes x * (rstd * w) + (b - mean * rstd * w): an infinite weight makes NaN there
    "F.batch_norm(T.tensor([[-0.5, -0.0]]), T.tensor([-3.0, -3.0]), T.tensor([3.0, 2.0]), "
    "weight=T.tensor([-float('inf'), -0.5]), bias=T.tensor([-3.0, -1.5]))",
    "F.batch_norm(T.tensor([[1.0, 2.0], [3.0, float('inf')]]), None, None, weight=T.tensor([float('inf'), 1.0]), "
    "training=True)",
]


@pytest.mark.parametrize("source", BATCH_NORM)
def test_batch_norm_checks_and_values(source):
    same_program(lambda T: eval(source, {"T": T, "F": functional(T), "z": z}))


def test_batch_norm_refuses_backward_after_its_input_was_modified():
    def program(T):
        x = T.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
        h = x * 1
        y = functional(T).batch_norm(h, T.zeros(2), T.ones(2), training=True)
        h.sinh_()
        y.sum().backward()
    same_program(program)


NORM_AND_GLU = [
    "F.glu(T.tensor(1))",
    "F.glu(T.tensor([1, 2, 3]))",
    "F.glu(T.tensor([1, 2]))",
    "F.glu(T.tensor(1.0), dim=3)",
    "F.layer_norm(T.tensor([1, 2]), (2,))",
    "F.layer_norm(T.tensor([True]), (1,))",
    "F.layer_norm(T.tensor([1, 2]), (3,))",
    "F.layer_norm(T.tensor([1.0, 2.0]), (2,), weight=T.ones(2, dtype=T.float64))",
    "F.layer_norm(T.tensor([1.0, 2.0], dtype=T.float64), (2,), weight=T.ones(2))",
    "F.layer_norm(T.tensor([1.0, 2.0]), (2,), bias=T.ones(3))",
    "F.layer_norm(T.tensor([1.0, 2.0]), ())",
    "F.layer_norm(T.zeros(0, 2, dtype=T.int64), (2,))",
    "F.layer_norm(T.zeros(0, 2), (2,))",
    "F.layer_norm(T.tensor([True, False]), (2,), weight=T.ones(2))",  # torch: parameters checked first
    "F.layer_norm(T.tensor([1, 2]), (2,), bias=T.ones(2, dtype=T.int64))",
]


@pytest.mark.parametrize("source", NORM_AND_GLU)
def test_layer_norm_and_glu_checks(source):
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}), message=True)


LOSS_DTYPES = ["huber_loss", "soft_margin_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "hinge_embedding_loss"]


@pytest.mark.parametrize("loss", LOSS_DTYPES)
def test_loss_result_dtype_with_a_target_of_another_dtype(loss):
    def program(T):
        x = T.tensor([0.5, -1.5, 2.0], requires_grad=True)
        return getattr(functional(T), loss)(x, T.tensor([1.0, -1.0, 1.0], dtype=T.float64))
    same_program(program)


INDEX_READS = [
    "x[[[0, 1], [1, 0]]]",      # a list holding lists indexes as a tuple (torch's legacy rule)
    "x[[[0, 1], [2]]]",
    "x[[0, slice(None)]]",
    "x[[0, None]]",
    "x[[T.tensor(0), 1]]",
    "x[[[1]]]",
    "x[[0, 1]]",                # a flat list stays one index
    "x[..., ...]",              # several ellipses
    "x[..., ..., ...]",
    "x[0, ..., ...]",
    "x[..., None, ...]",
    "x[..., 0, ...]",
    "x[..., ..., 0]",
    "x[..., ..., :]",
    "x[..., ..., 1:]",
    "x[..., ..., None]",
    "x[..., ..., T.tensor([0])]",
    "x[..., 1:, ...]",
]


@pytest.mark.parametrize("source", INDEX_READS)
def test_index_reads(source):
    def program(T):
        x = T.arange(6.0).reshape(2, 3).requires_grad_()
        return eval(source, {"T": T, "x": x})
    same_program(program, quiet=True)


INDEX_WRITES = [
    "x[:] = None", "x[:] = 'a'", "x[:] = [1, 2, 3]", "x[0] = (1, 2, 3)", "x[:] = object()",
    "x[m] = T.tensor(2.5)", "x[m] = T.tensor([2.5])", "x[m] = T.tensor([2.5, 3.5])",
    "x[[0, 1]] = T.tensor(2.5)", "x[m] = T.tensor(True)", "x[T.tensor(True)] = T.tensor(2.5)",
    "x[:, T.tensor([True, False, True])] = T.tensor(2.5)", "x[m, 1] = T.tensor(2.5)",
]


@pytest.mark.parametrize("source", INDEX_WRITES)
def test_index_writes(source):
    def program(T):
        x = T.zeros(2, 3, dtype=T.int64)
        m = T.tensor([True, False])
        exec(source, {"T": T, "x": x, "m": m})
        return x
    same_program(program, quiet=True)


def test_one_value_written_through_a_mask_keeps_its_gradient():
    def program(T):
        w = T.tensor(2.5, dtype=T.float64, requires_grad=True)
        y = T.zeros(3, requires_grad=True).clone()
        y[T.tensor([True, False, True])] = w
        (y * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        return y, w.grad
    same_program(program)


NORM_ZERO = {
    "backward": lambda T, x: (x.norm(0).backward(), x.grad)[1],
    "with_another_use": lambda T, x: ((x.norm(0) + x.sum()).backward(), x.grad)[1],
    "grad_unused": lambda T, x: T.autograd.grad((x * 2).norm(0), x, allow_unused=True),
    "grad_refused": lambda T, x: T.autograd.grad(x.norm(0), x),
    "materialize": lambda T, x: T.autograd.grad(x.norm(0), x, materialize_grads=True),
    "materialize_create_graph": lambda T, x: T.autograd.grad(x.norm(0), x, create_graph=True, materialize_grads=True),
    "materialize_refused": lambda T, x: T.autograd.grad(x.norm(0), x, materialize_grads=True, allow_unused=False),
}


@pytest.mark.parametrize("case", NORM_ZERO)
def test_norm_of_order_zero_passes_no_gradient(case):
    same_program(lambda T: NORM_ZERO[case](T, T.tensor([1.0, 0.0, -2.0], requires_grad=True)), message=True)


BACKWARD_INPUTS = {
    "leaves": lambda T, x, w: ((x * w).sum().backward(inputs=[x]), x.grad, w.grad)[1:],
    "one_tensor": lambda T, x, w: ((x * w).sum().backward(inputs=x), x.grad, w.grad)[1:],
    "unreached": lambda T, x, w: ((x * 2).sum().backward(inputs=[x, w]), x.grad, w.grad)[1:],
    "non_leaf": lambda T, x, w: _non_leaf_input(T, x),
    "functional": lambda T, x, w: (T.autograd.backward([(x * w).sum()], inputs=[w]), x.grad, w.grad)[1:],
    "accumulates": lambda T, x, w: _twice(T, x, w),
    "empty": lambda T, x, w: (x * w).sum().backward(inputs=[]),
}


def _non_leaf_input(T, x):
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    return h.grad, x.grad


def _twice(T, x, w):
    y = (x * w).sum()
    y.backward(inputs=[x], retain_graph=True)
    y.backward(inputs=[x])
    return x.grad, w.grad


@pytest.mark.parametrize("case", BACKWARD_INPUTS)
def test_backward_into_chosen_inputs(case):
    def program(T):
        x = T.tensor([1.0, -2.0], requires_grad=True)
        w = T.tensor([3.0, 0.5], requires_grad=True)
        return BACKWARD_INPUTS[case](T, x, w)
    same_program(program, message=True)


OVERLAPPING_WRITES = [
    "x[[1, 0]] = x[:2]", "x[[1, 0, 2]] = x", "x[0:2] = x[1:3]", "x[:] = x", "x[0] = x[1]", "x[0] = x[0]",
    "x[[0]] = x[0]", "x[T.tensor([True, False, True])] = x[:2]", "x.copy_(x.flip(0))", "x.copy_(x)", "x[1:] = x[:2]",
    "x[:, 0] = x[:, 1]", "x.index_put_((T.tensor([0, 1]),), x[1:])", "x[[0, 1]] = x[[1, 0]]", "x[0] = x[:, 0][:2]",
    "x.index_add_(0, T.tensor([0]), x[1:2])", "x.add_(x)", "x.mul_(x[0])", "x.add_(x[1])", "x.copy_(x[0])",
    "x.index_put_((T.tensor([True, False, True]),), T.tensor(2.5, dtype=T.float64))",
]


@pytest.mark.parametrize("source", OVERLAPPING_WRITES)
def test_writes_from_memory_shared_with_the_destination(source):
    def program(T):
        x = T.arange(6.0).reshape(3, 2)
        exec(source, {"T": T, "x": x})
        return x
    same_program(program, message=True)


SMALL_CHECKS = [
    "F.pad(T.zeros(2, 0, 3), (1, 1), mode='replicate')",
    "F.pad(T.zeros(0, 3), (1, 1), mode='replicate')",
    "F.pad(T.zeros(3, 0), (1, 1), mode='reflect')",
    "F.pad(T.zeros(2, 0, 3, dtype=T.bool), (1, 1), mode='reflect')",
    "F.pad(T.zeros(2, 3, 0, 3), (1, 1, 1, 1), mode='replicate')",
    "F.pad(T.zeros(2, 3, 3, dtype=T.bool), (1, 1), mode='replicate')",
    "F.pad(T.zeros(2, 2, 2, 3, dtype=T.bool), (1, 1, 1, 1), mode='reflect')",
    "F.pad(T.zeros(0, 3, 3), (1, 1), mode='replicate')",
    "F.pad(T.zeros(0, 3, 3), (2, 2, 1, 2), mode='reflect')",
    "T.tensor([2.75, -1.25]).repeat_interleave(2, dim=-4)",
    "T.tensor(3.0).repeat_interleave(2, dim=1)",
    "T.zeros(0).unflatten(3, (1, 0))",
    "T.zeros(0).unflatten(-1, (1, 0))",
    "T.tensor(3.0).unflatten(0, (1,))",
    "F.one_hot(T.zeros((0, 2), dtype=T.int64), num_classes=0)",
    "F.one_hot(T.zeros((0, 2), dtype=T.int64), num_classes=3)",
    "F.binary_cross_entropy(T.tensor([float('nan')]), T.tensor([1.0]))",
    "F.binary_cross_entropy(T.tensor([0.5, 1.0]), T.tensor([1.0, float('nan')]))",
    "F.binary_cross_entropy(T.tensor([0.5]), T.tensor([2.0]))",
    "F.binary_cross_entropy(T.tensor([0.5]), T.tensor([-0.0]))",
]


@pytest.mark.parametrize("source", SMALL_CHECKS)
def test_argument_checks_found_by_the_fuzzer(source):
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}))


NO_GRAD_VIEW_ROOTS = {
    "view_backward": lambda T, v: v.backward(T.ones(2)),
    "through_sum": lambda T, v: v.sum().backward(),
    "implicit_non_scalar": lambda T, v: v.backward(),
}


@pytest.mark.parametrize("case", NO_GRAD_VIEW_ROOTS)
def test_backward_from_a_view_made_under_no_grad(case):
    def program(T):
        x = T.tensor([2.5, -0.75], requires_grad=True)
        with T.no_grad():
            v = x[:]
        NO_GRAD_VIEW_ROOTS[case](T, v)
        return x.grad, T.tensor([float(v.requires_grad), float(v.is_leaf)])
    same_program(program, message=True)


CREATE_GRAPH_QUOTIENTS = {
    "remainder_self": lambda T, x: x.remainder(x),
    "fmod_self": lambda T, x: T.fmod(x, x),
    "remainder_other": lambda T, x: T.tensor([2.0, 3.0]).remainder(x),
    "fmod_other": lambda T, x: T.fmod(T.tensor([2.0, -3.0]), x),
}


@pytest.mark.parametrize("case", CREATE_GRAPH_QUOTIENTS)
def test_remainder_gradient_under_create_graph_stays_tied_to_the_inputs(case):
    def program(T):
        x = T.tensor([1.5, 2.0], requires_grad=True)
        return T.autograd.grad(CREATE_GRAPH_QUOTIENTS[case](T, x).sum(), x, create_graph=True)
    same_program(program)


@pytest.mark.parametrize("alpha", [0.5, 0, -1, 2.5])
@pytest.mark.parametrize("dtype", ["bool", "int64", "float32"])
def test_index_add_alpha_is_cast_to_the_tensor_dtype(alpha, dtype):
    def program(T):
        x = T.tensor([0, 1, 1]).to(getattr(T, dtype))
        return x.index_add(0, T.tensor([0, 2]), T.tensor([1, 1]).to(getattr(T, dtype)), alpha=alpha)
    same_program(program)


INPLACE_ORDER = [
    "v.add_(w)", "v.mul_(2)", "hv.add_(1)", "hv.exp_()", "hv.bitwise_not_()", "hvi.bitwise_not_()",
    "hv.pow_(T.tensor(2.0))", "hv.index_add_(0, T.tensor([0]), T.ones(1))", "hv.copy_(T.ones(2))", "hv.zero_()",
    "inf.add_(1)", "inf.bitwise_not_()", "inf.index_add_(0, T.tensor([0]), T.ones(1, dtype=T.int64))", "inf[0] *= 2",
    "hv.masked_fill_(T.tensor([True, False]), 1.0)", "hv.le_(0)", "hv.clamp_(0, 1)", "v.copy_(w.expand(1))",
    "hv.fill_(1)", "hv.sub_(T.ones(2, dtype=T.int64))", "hv.add_(T.ones(5))",
]


@pytest.mark.parametrize("source", INPLACE_ORDER)
def test_inplace_checks_come_in_torch_order(source):
    """torch refuses a view made under no_grad before its kernels look at dtypes and shapes; an inference
    tensor only after them."""
    def program(T):
        x, w = T.zeros(3), T.ones(1, requires_grad=True)
        h = T.ones(3, requires_grad=True) * 1
        with T.no_grad():
            v, hv, hvi = x[:1], h[:2], (h * 1).long()[:2]
        with T.inference_mode():
            inf = T.ones(3)
        exec(source, {"T": T, "v": v, "w": w, "hv": hv, "hvi": hvi, "inf": inf})
    same_program(program)


MORE_FINDINGS = [
    "T.eye(4, dtype=float)", "T.zeros(2, dtype=int)", "T.tensor([1], dtype=float)", "T.ones(2).to(bool)",
    "T.ones(2).to('cpu', float)", "T.ones(2).softmax(0, dtype=float)", "T.arange(3, dtype=float)", "T.zeros(2, dtype=str)",
    "T.floor_divide(T.zeros(0, dtype=T.int64), T.tensor([False]))",
    "T.remainder(T.zeros(2, 0, dtype=T.int64), T.tensor([0]))",
    "T.fmod(T.ones(2, dtype=T.int64), T.tensor([0, 1]))",
    "T.tensor([[1.5], [2.0]]).matmul(T.tensor([1.5]))._is_view()",
    "T.ones(3).matmul(T.ones(3, 2))._is_view()",
    "T.ones(2, 2, 3).matmul(T.ones(3, 2))._is_view()",
    "(lambda v: (T.autograd.backward([(v * v).sum()], retain_graph=2), v.grad)[1])(T.ones(2, requires_grad=True))",
]


@pytest.mark.parametrize("source", MORE_FINDINGS)
def test_dtype_types_empty_division_and_matmul_results(source):
    same_program(lambda T: eval(source, {"T": T}))


def test_detach_inplace_on_a_batched_matmul_result():
    def program(T):
        x = T.ones(2, 3, 1, requires_grad=True)
        y = x @ T.tensor([1.5])
        y.detach_()
        return y
    same_program(program)


SHAPE_BEFORE_DTYPE = [
    "x.bitwise_and_(T.ones(2, 2, dtype=T.int64))", "x.__iand__(T.ones(2, 2, dtype=T.int64))",
    "x.bitwise_xor_(T.ones(3, dtype=T.int64))", "x.bitwise_or_(T.ones(2, 1, dtype=T.int64))",
    "T.zeros(0, 2, 2, 2).unflatten(2, (2, 1, -1))", "T.zeros(0, 2, 0, 2).unflatten(2, (2, -1))",
    "T.zeros(2, 6).unflatten(1, (4, -1))", "T.zeros(2, 0).unflatten(1, (0, -1))", "T.zeros(2, 6).unflatten(1, (-1, -1))",
    "T.zeros(2, 6).unflatten(1, (2, 2))",
]


@pytest.mark.parametrize("source", SHAPE_BEFORE_DTYPE)
def test_shapes_checked_before_dtypes(source):
    same_program(lambda T: eval(source, {"T": T, "x": T.tensor([[-2.75], [0.75]])}))


STRIDED_OVERLAPS = [
    "x[None] = x", "x[:] = x", "x[...] = x", "x.copy_(x[:])", "x[:].copy_(x)", "y[::3, ...] += y", "y[:, ...] += y",
    "z[None] = z", "z[0] = z", "x.view(1, 2).copy_(x)", "x.add_(x[:])", "x.add_(x.view(1, 2)[0])",
    "x.unsqueeze(0).copy_(x)",
]


@pytest.mark.parametrize("source", STRIDED_OVERLAPS)
def test_same_memory_with_other_strides_is_a_partial_overlap(source):
    def program(T):
        x, y, z = T.tensor([1.0, 2.0]), T.tensor([[1.25]]), T.tensor([3.0])
        exec(source, {"x": x, "y": y, "z": z})
        return x, y, z
    same_program(program)


@pytest.mark.parametrize("shape", [(1, 2), (3, 2), (1, 1, 2), (2, 1, 2), (1, 3, 2)])
@pytest.mark.parametrize("source", ["T.ones(2)", "T.tensor(1.0)", "T.ones(3, 1)[:, :1]", "T.ones(2, 3)[:, :1].t()"])
def test_expand_strides(source, shape):
    def program(T):
        x = eval(source, {"T": T})
        try:
            return T.tensor(list(x.expand(*shape).stride()))
        except RuntimeError as e:
            return str(e)[:20]
    same_program(program)


@pytest.mark.parametrize("op", ["addcdiv", "addcmul"])
@pytest.mark.parametrize("dtypes", [("float64", "float32", "float64"), ("float32", "float32", "float64"),
                                    ("float64", "float64", "float32"), ("float32", "float64", "float64")])
@pytest.mark.parametrize("zero_dim", [False, True])
def test_addc_ops_compute_in_the_dtype_of_all_three(op, dtypes, zero_dim):
    def program(T):
        self = T.tensor([[1.0, -0.3], [0.7, 2.0]], dtype=getattr(T, dtypes[0]))
        t1 = T.tensor([0.1, 3.0], dtype=getattr(T, dtypes[1]))
        t2 = T.tensor(1.7 if zero_dim else [1.7, 0.3], dtype=getattr(T, dtypes[2]))
        return getattr(T, op)(self, t1, t2, value=0.3)
    same_program(program)


@pytest.mark.parametrize("source", ["T.tensor(True).cumsum_(0)", "T.tensor(True).cumsum_(-1)", "T.tensor(True).cumsum_(1)",
                                    "T.zeros(0, dtype=T.bool).cumsum_(3)", "T.tensor([True]).cumsum_(0)",
                                    "T.tensor([[True, False]]).cumsum_(1)"])
def test_cumsum_inplace_on_bool(source):
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("source", [
    "F.relu(T.tensor([2**63 - 1, -2**63]))", "T.tensor([2**63 - 1, -2**63]).clamp_min(0)",
    "T.tensor([2**63 - 1, -2**63, 3]).clamp(5, -5)", "T.tensor([2**63 - 1, -2**63]).clamp(-5, 5)",
    "T.tensor([2**63 - 1, -2**63]).clamp(max=2.5)", "T.tensor([1, 2, 3], dtype=T.int32).clamp(1.5, 2.5)",
    "F.relu(T.tensor([-3, 4], dtype=T.int32))",
])
def test_integer_relu_and_clamp_keep_extreme_values(source):
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}))


@pytest.mark.parametrize("grad", [1.0, float("inf")])
def test_atan2_gradient_where_its_denominator_is_zero(grad):
    """torch zeroes 1/(x*x + y*y) where the sum is 0: at the origin, and where both squares underflow."""
    def program(T):
        y = T.tensor([0.0, 0.0, 1.0, 1e-30, float("inf"), 0.0], requires_grad=True)
        x = T.tensor([0.0, -0.0, 0.0, 1e-30, 1.0, float("nan")], requires_grad=True)
        T.atan2(y, x).backward(T.full((6,), grad))
        return y.grad, x.grad
    same_program(program)


def _square_of_a_view(T, x):
    v = T.outer(x, T.tensor([2.5, -1.5])).expand_as(T.zeros(3, 2))
    v.square_()
    return (T.erf(v) * T.tensor([[-2.25, -1.75], [1.0, -1.0], [1.0, -0.5]])).sum()


def _slice_written(T, x):
    y = x * 1
    y[1:] = x[:2] * 3
    return (y ** 3).sum()


def _mask_written(T, x):
    y = x * 2
    y[y > 0] = x[0] ** 2
    return (y * y).sum()


def _view_mul_inplace(T, x):
    y = x.clone()
    y[::2].mul_(x[1])
    return (y.sin()).sum()


def _saved_view_after_write(T, x):
    v = (x * 2)[:]
    v.mul_(3)
    return (v * v).sum()  # v is saved with its renewed history (AsStridedBackward0)


CREATE_GRAPH_THROUGH_WRITES = {"square_of_expand": _square_of_a_view, "slice": _slice_written,
                               "mask": _mask_written, "mul_on_strided_view": _view_mul_inplace,
                               "saved_view_after_write": _saved_view_after_write}


@pytest.mark.parametrize("case", CREATE_GRAPH_THROUGH_WRITES)
def test_create_graph_through_writes_into_views(case):
    """The base's rewritten history (CopySlices) is differentiable again under create_graph."""
    def program(T):
        x = T.tensor([-2.5, 1.25, 2.75], requires_grad=True)
        g, = T.autograd.grad(CREATE_GRAPH_THROUGH_WRITES[case](T, x), x, create_graph=True)
        gg, = T.autograd.grad((g * T.tensor([1.0, -2.0, 0.5])).sum(), x, allow_unused=True)
        return g, gg
    same_program(program)


@pytest.mark.parametrize("shape", [(9,), (16,), (17,), (33,), (4, 2, 2, 2), (3, 7, 5), (40000,)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layout", ["contiguous", "transposed"])
def test_hardtanh_gradient_at_nan_follows_torchs_simd_split(shape, dtype, layout):
    """At NaN torch's SIMD body passes 0 and its scalar tail the gradient, by position in the run."""
    def program(T):
        x = T.full(shape, float("nan"), dtype=getattr(T, dtype))
        x[..., ::3] = 0.5
        x = x.requires_grad_()
        y = x.transpose(0, -1) if layout == "transposed" else x
        functional(T).hardtanh(y).sum().backward()
        return x.grad
    same_program(program)


@pytest.mark.parametrize("view", ["expand", "broadcast_to", "slice", "transpose"])
def test_gradient_of_a_view_read_after_its_base_was_written(view):
    """A view renewed after its base changed sums the gradient of every place it reads: an expand
    reads each base element several times (this gave 6 where torch gives 24)."""
    def program(T):
        x = T.ones(3, 1, requires_grad=True)
        b = x * 2
        v = {"expand": lambda: b.expand(3, 4), "broadcast_to": lambda: b.broadcast_to((2, 3, 4)),
             "slice": lambda: b[1:], "transpose": lambda: b.t()}[view]()
        b.mul_(T.tensor([[1.0], [3.0], [-2.0]]))
        (v * T.arange(float(v.numel())).reshape(v.shape)).sum().backward()
        return x.grad
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.ones(2).remainder(1j)", "T.ones(2).lt_(1j)", "T.ones(2).clamp_max_(1j)", "T.fmod(T.ones(2), 1j)",
    "T.ones(2, dtype=T.int64).bitwise_and(1j)",
    "T.ones(2, 3).movedim(-1, (0, 1))", "T.ones(2, 3).movedim((0,), 1)", "T.movedim(T.ones(2, 3), [0], 1)",
    "T.clip(T.ones(2), min=0.25, max=T.zeros(2))", "T.clamp(T.ones(2), min=T.zeros(2), max=0.5)",
    "T.ones(2).clamp_(T.zeros(2), 3)", "T.ones(2).clamp(None, T.zeros(2))",
    "T.sort(T.ones(3), stable=1.5)", "T.ones(3).sort(stable=1)", "T.sort(T.ones(3), stable=None)",
])
def test_argument_kinds_torch_refuses(source):
    """Complex numbers (torch: NotImplementedError where an op has no complex kernel), mixed int and
    tuple dims, mixed Tensor and Number bounds, a non-bool `stable`."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("op", ["maximum", "minimum", "fmax_free"])
def test_maximum_and_minimum_pass_the_gradient_to_both_sides_at_nan(op):
    """torch zeroes only where a side loses; at a NaN nothing compares, so both sides get it all."""
    def program(T):
        a = T.tensor([float("nan"), 1.0, 2.0, float("nan"), 3.0], requires_grad=True)
        b = T.tensor([0.0, float("nan"), 2.0, float("nan"), -1.0], requires_grad=True)
        f = T.maximum if op == "fmax_free" else getattr(T, op)
        f(a, b if op != "fmax_free" else T.tensor(-0.75)).sum().backward()
        return a.grad, b.grad
    same_program(program)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 0.0, -2.0])
@pytest.mark.parametrize("with_dim", [False, True])
def test_prod_of_a_zero_dim_tensor_passes_the_gradient_through(value, with_dim):
    def program(T):
        x = T.tensor(value, requires_grad=True)
        (x.prod(0) if with_dim else x.prod()).backward(T.tensor(3.0))
        return x.grad
    same_program(program)


def _unbind_then_view(T):
    v = T.ones(2, 3, requires_grad=True).exp().unbind()[1].view(1, 3)
    v.mul_(2)


def _split_then_select(T):
    v = T.ones(2, 3, requires_grad=True).exp().split(1)[1][0]
    v.add_(1)


def _inference_setitem(T, key):
    base = T.ones(3, 3)
    with T.inference_mode():
        x = base * 2
    x[key(T, x)] = 1.0


@pytest.mark.parametrize("program", [
    _unbind_then_view, _split_then_select,
    lambda T: _inference_setitem(T, lambda T, x: 0),
    lambda T: _inference_setitem(T, lambda T, x: x > 0),
    lambda T: _inference_setitem(T, lambda T, x: (T.tensor([1, 0]), -2)),
], ids=["unbind_then_view", "split_then_select", "inference_int", "inference_mask", "inference_advanced"])
def test_writes_torch_refuses_through_views_and_into_inference_tensors(program):
    """A view of a multi-output view's output is refused as the output itself is; an inference
    tensor cannot be written by indexing outside inference_mode."""
    same_program(program)


def _view_of_no_grad_view(T):
    x = T.ones(4, requires_grad=True).exp()
    with T.no_grad():
        v = x[1:]
    v[1:].mul_(2)


def _view_made_in_inference_mode(T):
    x = T.ones(4)
    with T.inference_mode():
        v = x[1:]
    v.add_(T.ones(3, requires_grad=True))


def _requires_grad_view_of_plain_leaf(T):
    v = T.ones(4)[1:]
    v.requires_grad_()
    v.mul_(2)


@pytest.mark.parametrize("program", [_view_of_no_grad_view, _view_made_in_inference_mode, _requires_grad_view_of_plain_leaf],
                         ids=["view_of_no_grad_view", "inference_mode_view", "requires_grad_view_of_leaf"])
def test_in_place_writes_torch_refuses_by_how_the_view_was_made(program):
    """torch remembers whether a view (or the view it was taken from) was made without grad or in
    inference mode and refuses writes with grad through it, naming which; a view that was made to
    require grad is a view of a leaf."""
    same_program(program, message=True)


def test_binary_cross_entropy_keeps_the_input_dtype_with_a_wider_weight():
    same_program(lambda T: functional(T).binary_cross_entropy(
        T.tensor([[0.7]]), T.full((1, 1), 0.25), weight=T.tensor([1.0], dtype=T.float64)))


@pytest.mark.parametrize("norm", ["layer", "batch_training", "batch_eval"])
def test_norm_input_gradients_follow_torchs_terms_where_they_are_infinite(norm):
    """torch's CPU formulas decide the NaN pattern: an infinite layer_norm weight spoils the row."""
    def program(T):
        F = functional(T)
        x = T.tensor([[-2.0, 0.0, -2.0], [-0.5, -2.25, 2.0], [-2.75, 0.75, 0.25]], requires_grad=True)
        w = T.tensor([-2.25, float("inf"), 0.75])
        if norm == "layer":
            y = F.layer_norm(x, (3,), weight=w)
        else:
            y = F.batch_norm(x, T.zeros(3), T.ones(3), weight=w, training=norm == "batch_training")
        return T.autograd.grad((y * T.tensor([1.0, -2.0, 0.5])).sum(), [x], create_graph=True)[0].detach()
    same_program(program)


@pytest.mark.parametrize("value", [[1.5, 1.5, 1.5], [0.1, 0.1, 0.1, 0.1, 0.1], [3.0, 3.0000002]])
def test_batch_norm_statistics_are_taken_in_double(value):
    """A (nearly) constant channel: torch's mean and inverse std come from double sums, rounded once."""
    def program(T):
        x = T.tensor([value, value[::-1]]).t().contiguous()
        rm, rv = T.zeros(2), T.ones(2)
        y = functional(T).batch_norm(x, rm, rv, training=True)
        return y, rm, rv
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.ones(3) + 2**63", "T.ones(3, dtype=T.int64) + 2**63", "T.ones(3).mul(2**64 - 1)",
    "T.ones(2, dtype=T.int32) * 2**40", "T.ones(2, dtype=T.int32) == 2**32 + 1", "T.ones(3) + 2**64",
    "T.full((2,), 2**63)", "T.ones(2, dtype=T.int32).clamp(max=2**40)", "T.ones(2, dtype=T.int64).clamp(max=2**63)",
    "T.ones(3).var(0, correction=2**63)", "T.ones(2, dtype=T.int32).fill_(2**40)",
])
def test_integers_beyond_int64_are_unsigned_scalars_as_in_torch(source):
    """torch takes ints up to 2**64 - 1 as numbers: float ops see the value, integer ops the wrapped
    bits, and fills and clamp bounds must fit."""
    same_program(lambda T: eval(source), message=True, quiet=True)


@pytest.mark.parametrize("source", [
    "T.std(T.ones(2, dtype=T.bool), -2)", "T.ones(3, dtype=T.int64).var(0, correction=2**63)",
    "T.zeros(7, 5) & T.tensor([-2.75, 0.0, 0.75])", "T.tensor([True, False]) ^ T.zeros(7, 5)",
])
def test_checks_run_in_torchs_order(source):
    same_program(lambda T: eval(source), message=True)


@pytest.mark.parametrize("source", [
    "T.ones(2).clamp(max=1j)", "T.ones(2).clamp(max=1+0j)", "T.ones(2, dtype=T.int64).clamp(max=1j)",
    "T.ones(2, dtype=T.int32).clamp_(min=1+0j)", "T.ones(2).clamp_(min=1j)", "T.full_like(T.ones(2), 1j)",
    "T.full_like(T.ones(2), 1+0j)", "T.ones(2).addcmul(T.ones(2), T.ones(2), value=1j)",
    "T.ones(2, dtype=T.int64).addcmul(T.ones(2), T.ones(2), value=1j)", "T.ones(2).add(T.ones(2), alpha=1j)",
    "T.ones(2).add(T.ones(3), alpha=1j)", "T.sub(T.ones(2), 2, alpha=1j)", "T.ones(2).fill_(1j)",
    "T.ones(2).lerp(T.ones(2), 1j)", "T.ones(2, requires_grad=True).lerp_(T.ones(2), 1j)",
    "T.ones(2, dtype=T.int64).bitwise_and_(1j)", "T.ones(2, dtype=T.float64).mul_(1j)",
    "T.ones(2).add_(T.ones(2), alpha=1j)", "T.ones(2).remainder_(1j)", "T.ones(2).expand(3, 2).remainder_(1j)",
    "T.ones(2).__iadd__(1j)", "T.zeros(()).index_add_(0, T.zeros((0,), dtype=T.int64), T.tensor(-5.0), alpha=1j)",
    "T.zeros(2).index_add(0, T.zeros((1,), dtype=T.int64), T.tensor([-5.0]), alpha=2+0j)",
    "T.eq(T.zeros(2, dtype=T.bool), 1j)", "T.ones(2).eq(1+0j)", "T.ones(2) == 1j", "T.ones(2) != (1+0j)",
    "T.ones(2).lt(1j)", "T.ones(2, dtype=T.float64) >= 1j", "T.ones(2).eq_(1j)", "1j == T.ones(2)",
])
def test_python_complex_numbers_as_torch_reads_them(source):
    """tapegrad has no complex dtypes, but a complex number is read as torch reads it where torch
    needs no complex result: its real part, the overflow or cast error, or an equality."""
    same_program(lambda T: eval(source), message=True, quiet=True)


@pytest.mark.parametrize("source", ["T.max(v)", "T.sin(v)", "v * 2", "v.exp()", "v.sum()", "v.abs()", "v.clone()",
                                    "T.isinf(v)", "v.pow(2)", "v + T.ones(2)", "v.max(0)"])
def test_ops_on_inference_tensors_that_require_grad(source):
    """torch runs autograd only when an input has its autograd key: inference tensors lack it (a
    Python number wrapped as a tensor has it), and abs's out= form refuses them."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([0.0, -0.5], requires_grad=True)
        r = eval(source)
        return r, getattr(r, "requires_grad", None), getattr(r, "grad_fn", None) is not None
    same_program(program, message=True)


@pytest.mark.parametrize("source", ["T.zeros(2, requires_grad=None)", "T.arange(3, requires_grad=None)",
                                    "T.ones_like(T.ones(2), requires_grad=None)", "T.eye(2, requires_grad=None)",
                                    "T.full((2,), 1.0, requires_grad=None)", "T.tensor([1.0], requires_grad=None)",
                                    "T.zeros(2, requires_grad=1)"])
def test_factories_take_requires_grad_none_as_false(source):
    same_program(lambda T: eval(source))


def test_topk_outputs_made_without_grad_are_no_views():
    def program(T):
        with T.no_grad():
            values, indices = T.topk(T.ones(2, 3).t(), 0, 1)
        return values.detach_(), indices
    same_program(program)


def test_a_copy_node_prints_as_torchs():
    def program(T):
        x = T.zeros(2)
        x.copy_(T.ones(2, requires_grad=True))
        return repr(x)
    same_program(program)


@pytest.mark.parametrize("program", [
    "T.tensor(4)['a']", "T.tensor([4])[0, 'a']", "T.mv(T.tensor(1.0), T.zeros(7, 5))", "T.cat([T.tensor(1.0)], -3)",
    "T.cat([T.ones(2), T.tensor(1.0)], 5)", "T.ones(2, dtype=T.int64).std(1.5)",
    "T.tensor([0.75], requires_grad=True).__isub__(object())", "T.tensor([0.75], requires_grad=True).floor_divide_('x')",
    "T.tensor(-2.5, requires_grad=True).masked_fill_(T.tensor(True), None)",
    "T.tensor([0.75], requires_grad=True).__isub__(1j)",
])
def test_argument_errors_come_before_in_place_and_shape_checks(program):
    """torch parses every argument (TypeError) and counts indices and dims before it looks at leaves,
    dtypes or dim ranges."""
    same_program(lambda T: eval(program))


@pytest.mark.parametrize("program", [
    "T.autograd.backward([None])", "T.autograd.backward([[1.0], [2.0]])", "T.autograd.backward('abc')",
    "T.autograd.grad([None], [T.ones(1)])", "T.autograd.grad([x.sum()], [None])", "T.autograd.grad([x.sum()], [[x]])",
    "T.autograd.grad([x.sum()], [x], grad_outputs=['a'])", "T.autograd.backward(x.sum(), inputs=['a'])",
    "T.autograd.backward([x.sum(), None])", "T.autograd.backward([x.sum(), x.sum()], [T.ones(())])",
    "T.autograd.backward([x.sum()], [None, None])", "T.autograd.grad([x.sum()], None)",
])
def test_backward_arguments_that_are_no_tensors(program):
    """A None output crashed the interpreter; each argument's wrong element is torch's own error."""
    def run(T):
        x = T.ones(2, requires_grad=True)
        eval(program)
        return x.grad
    same_program(run, message=True)


@pytest.mark.parametrize("source", ["v.nan_to_num()", "v > 1", "v == T.ones(3, 1)", "T.where(v > 1, v, 0.0)",
                                    "T.where(v > 1, 0.0, v)", "T.isnan(v)"])
def test_comparison_and_where_results_follow_the_input_layout(source):
    """torch lays these results out in the input's dim order: a transposed input gives a transposed
    result, so .contiguous() copies and a later requires_grad lands on the copy."""
    def program(T):
        v = T.tensor([[1.0, float("nan"), 3.0], [float("inf"), 4.0, -1.0]]).t()
        r = eval(source)
        return r, r.stride(), r.is_contiguous()
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.tensor([2147483647, -2147483648, 5], dtype=T.int32).sub(T.tensor([2147483647, -2147483648, 5], dtype=T.int32), alpha=2)",
    "T.tensor([5, 2147483647]).add(T.tensor([1, 2**62]), alpha=3)", "T.tensor([5, 7]).add(T.tensor([1, 2]), alpha=True)",
    "T.tensor([5.0, 7.0]).add(1, alpha=True)", "T.tensor([True]).add(T.tensor([True]), alpha=True)",
    "1 / T.tensor([-0.0]).sum()", "1 / T.tensor([[-0.0]]).sum(0)", "1 / T.tensor(-0.0).mean()",
    "T.full((), 1j, dtype=T.int64)", "T.full((2,), 2+0j, dtype=T.float32)",
])
def test_integer_alpha_wraps_and_sums_start_from_zero(source):
    """alpha * other wraps in the integer dtype; a bool alpha needs a bool result; a sum of a lone
    -0.0 is +0.0 (torch adds to a zero accumulator)."""
    same_program(lambda T: eval(source), message=True)


def test_softplus_double_backward_multiplies_by_its_mask():
    def program(T):
        x = T.cosh(T.tensor([[-3.0, 4.0, -4.0]]))
        return T.autograd.functional.vhp(lambda a: functional(T).softplus(a).sum(), x,
                                         T.tensor([[0.0, -1.75, -float("inf")]]))
    same_program(program)


@pytest.mark.parametrize("make", ["x * 2", "x[0:1]", "x"])
def test_detach_in_place_under_inference_mode_leaves_autograd_alone(make):
    def program(T):
        x = T.ones(2, requires_grad=True)
        y = eval(make)
        with T.inference_mode():
            y.detach_()
        return y.requires_grad, y.grad_fn is not None
    same_program(program)


def test_batch_norm_of_a_non_contiguous_input_takes_torchs_generic_loop():
    def program(T):
        x = T.full((2, 5), -2.75).split(3, 1)[1]
        return functional(T).batch_norm(x, T.tensor([-2.75, -1.0]), T.tensor([3.0, 4.0]), training=True)
    same_program(program)


@pytest.mark.parametrize("value, dims, correction", [(2.5, (0,), 1), ([2.5, 1.0], None, 2), ([2.5, 2.5], None, 3)])
def test_variance_gradient_without_degrees_of_freedom(value, dims, correction):
    """torch's rule gives NaN where x is its mean and +inf elsewhere, as constants."""
    def program(T):
        x = T.tensor(value, dtype=T.float64, requires_grad=True)
        v = T.var(x, dims, correction=correction) if dims else T.var(x, correction=correction)
        g, = T.autograd.grad(v, x, create_graph=True)
        return g, g.requires_grad
    same_program(program, quiet=True)


@pytest.mark.parametrize("source", ["T.tensor(3.0, dtype=T.float64).clamp_max(T.zeros(2))",
                                    "T.tensor(3.0, dtype=T.float64).clamp(T.zeros(2), T.ones(2))",
                                    "T.ones(2, dtype=T.float64).clamp(T.zeros(2), T.tensor(0.5))",
                                    "T.tensor(3).clamp_min(T.zeros(2))"])
def test_clamp_with_tensor_bounds_promotes_as_torch(source):
    """A 0-d input does not widen bounds that have dims (torch's dimension categories)."""
    same_program(lambda T: eval(source))


@pytest.mark.parametrize("source", [
    "T.tensor([[3], [5], [2147483647]], dtype=T.int32).add_(T.tensor([[-2], [2], [4]], dtype=T.int32))",
    "T.tensor(5, dtype=T.int32) + T.tensor([2147483647, -3], dtype=T.int32)",
    "T.tensor([-2**63, 5]) - T.tensor([1, 2**63 - 1])", "T.tensor([2**62, 3]) * T.tensor([4, 2**62])",
    "T.tensor([2**31 - 1], dtype=T.int32).add(T.tensor([5], dtype=T.int32), alpha=2**40)",
    "T.tensor([5]).add(T.tensor([1]), alpha=2**63)",
    "T.tensor([2**63 - 1, 2**63 - 1]).sum()", "T.tensor([[2**63 - 1] * 2] * 2).sum(0)", "T.tensor([[2**63 - 1] * 2] * 2).sum(1)",
    "T.tensor([2**62, 6]).prod()", "T.tensor([2**63 - 1, 2**63 - 1]).cumsum(0)",
    "T.tensor([[2**63 - 1, 2**63 - 1]]).matmul(T.tensor([[2], [2]]))",
    "T.tensor([[2**31 - 1, 5]], dtype=T.int32).mm(T.tensor([[3], [2**30]], dtype=T.int32))",
])
def test_integer_arithmetic_wraps_as_torchs(source):
    """Found by the fuzzer under UBSan: the kernels overflowed signed integers (undefined behaviour);
    they now wrap in the unsigned type, giving torch's values by definition."""
    same_program(lambda T: eval(source))


@pytest.mark.parametrize("shape", [(2**40, 2**40), (2**40, -1, 2**40), (-1, 2**62, 4)])
def test_reshape_whose_size_product_overflows_is_refused(shape):
    """Found under UBSan: the product of the requested sizes overflowed int64 (undefined behaviour)."""
    same_program(lambda T: T.tensor([1.0]).reshape(shape))


@pytest.mark.parametrize("source", [
    "F.relu(T.tensor([-0.0, 0.0, -1.0, float('nan')]))",
    "F.softshrink(T.tensor([-0.0, -0.3, float('nan'), 0.2] * n, dtype=dt), 0.5)",
    "F.softshrink(T.tensor([-0.0, -0.3, float('nan'), 0.2] * n, dtype=dt)[::2], 0.5)",
    "F.gelu(T.tensor([-0.0, -7.0, -12.0, 1.0] * n, dtype=dt))",
    "F.gelu(T.tensor([-0.0, -7.0, -12.0, 1.0] * n, dtype=dt)[::2])",
    "F.gelu(T.tensor([-0.0] * n, dtype=dt))",
    "F.cross_entropy(T.zeros(2, k), T.softmax(T.zeros(2, k), dim=1), reduction='sum')",
    "F.cross_entropy(T.zeros(2, k), T.softmax(T.zeros(2, k), dim=1))",
    "F.cross_entropy(T.zeros(k, 2), T.softmax(T.zeros(k, 2), dim=1), weight=T.ones(2))",
])
@pytest.mark.parametrize("n, dt, k", [(1, "float32", 0), (40, "float64", 1)])
def test_zero_results_carry_torchs_sign(source, n, dt, k):
    """The sign of a zero shows after a division (1/x is -inf or inf): found by the fuzzer through
    rsqrt, atan2 and negative powers of these results. softshrink follows torch's SIMD body and scalar
    tail, gelu oneDNN's sum of halves for contiguous float32, cross_entropy negates after the sum."""
    def program(T):
        F = functional(T)
        dt_ = getattr(T, dt)
        result = eval(source, {"T": T, "F": F, "n": n, "dt": dt_, "k": k})
        return 1 / result
    same_program(program)


@pytest.mark.parametrize("isa", ["AVX2", "AVX512_CORE"])
def test_gelu_zero_sign_follows_onednns_isa(isa):
    """oneDNN's AVX2 code sums gelu's halves (+0.0), its AVX-512 code multiplies (-0.0); capping its
    ISA checks the other code on any machine (AVX512_CORE gives AVX2's on a machine without it)."""
    script = ("import sys, torch, tapegrad\n"
              "for T in (torch, tapegrad):\n"
              "    print((1 / T.nn.functional.gelu(T.tensor([-0.0, -12.0, 1.0]))).tolist())\n")
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa)
    env["PYTHONPATH"] = os.pathsep.join([package_root()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    theirs, ours = proc.stdout.splitlines()
    assert ours == theirs


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("params", [
    "weight=T.tensor([1.0, 2.0]), bias=T.tensor([1, 2])", "bias=T.tensor([1, 2])",
    "weight=T.tensor([1.0, 2.0]), bias=T.tensor([True, False])",
])
@pytest.mark.parametrize("mean_dtype", ["float32", "float64"])
def test_batch_norm_refuses_a_bias_dtype_where_torch_does(training, params, mean_dtype):
    """torch updates the running statistics before its kernel refuses the bias's dtype (in training),
    and compares the bias before the statistics in evaluation: the statistics after the error differ."""
    def program(T):
        F = functional(T)
        mean, var = T.tensor([-0.75, -2.5], dtype=getattr(T, mean_dtype)), T.tensor([3.0, 1.0])
        try:
            eval(f"F.batch_norm(x, mean, var, {params}, training={training})",
                 {"T": T, "F": F, "x": T.tensor([[0.9, 0.3], [0.1, 0.7]]), "mean": mean, "var": var})
        except RuntimeError as e:
            return str(e), mean, var
    same_program(program)


@pytest.mark.parametrize("make", [
    "a.repeat(1, 0)", "T.zeros((2, 0), requires_grad=True).repeat(1, 3)", "a.repeat(2, 1, 3)", "a.repeat(1, 1)",
    "a.tile((0,))", "T.tensor(2.0, requires_grad=True).repeat(3, 2)",
])
def test_repeat_gradient_is_formed_as_torchs(make):
    """A zero repeat gives zeros outside the graph (its double-backward result does not require grad)."""
    def program(T):
        a = T.arange(6.0).reshape(2, 3).requires_grad_()
        b = eval(make, {"T": T, "a": a})
        leaf = a if make.count("a.") else b.grad_fn.next_functions[0][0].variable
        (g,) = T.autograd.grad((b * b).sum(), leaf, create_graph=True)
        return g, g.requires_grad
    same_program(program)


@pytest.mark.parametrize("p", [0.5, -1.0, 1.5, 3.0, float("inf"), -float("inf")])
@pytest.mark.parametrize("values", [
    [[float("inf"), 2.25, 2.5], [-0.25, 2.25, 1.5]], [[0.0, 2.5, -1.5], [0.0, 0.0, 0.0]],
    [[float("nan"), 1.0, -2.0], [1.0, -1.0, 0.5]],
])
def test_vector_norm_gradient_at_zeros_and_infinities_is_torchs(p, values):
    """torch masks |x|^(p-1) where x is 0 (p < 1) and the scale where the norm is 0: NaN was returned."""
    def program(T):
        x = T.tensor(values, requires_grad=True)
        return T.autograd.grad(x.norm(p, dim=1), x, T.tensor([1.0, -0.5]))
    same_program(program)


@pytest.mark.parametrize("loss", ["huber_loss(a, t, reduction=r, delta=d)", "smooth_l1_loss(a, t, reduction=r, beta=d)"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("bound", [1.0, 0.5])
def test_huber_and_smooth_l1_double_backward_is_torchs(loss, reduction, bound):
    """Their first gradient gets torch's own node: its derivative is the mask |d| < bound (strict: at
    |d| == bound it is 0) times the upstream gradient, as a product (an infinite one gives NaN)."""
    def program(T):
        F = functional(T)
        a = T.tensor([1.75, 1.25, 0.75, -1.25, float("nan"), 1.0], dtype=T.float64, requires_grad=True)
        t = T.tensor([1.0, 0.25, -1.75, 1.0, 0.0, 1.0], dtype=T.float64, requires_grad=True)
        h = eval("F." + loss, {"F": F, "a": a, "t": t, "r": reduction, "d": bound})
        go = (T.tensor([0.75, -2.75, 1.25, -1.0, 1.0, 2.0], dtype=T.float64) if reduction == "none"
              else T.tensor(0.75, dtype=T.float64, requires_grad=True))
        g = T.autograd.grad(h, [a, t], go, create_graph=True)
        wrt = [a, t] + ([go] if go.requires_grad else [])
        ups = T.tensor([2.75, -0.75, float("inf"), 0.25, 1.0, 1.0], dtype=T.float64)
        return g, T.autograd.grad(g[0], wrt, ups, allow_unused=True)
    same_program(program)


@pytest.mark.parametrize("loss", ["smooth_l1_loss(a, t, reduction='none', beta=1.5)", "huber_loss(a, t, reduction='none')",
                                  "mse_loss(a, t, reduction='none')", "l1_loss(a, t, reduction='none')",
                                  "smooth_l1_loss(a, t, reduction='none', beta=0.0)", "mse_loss(a, t)"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_loss_target_gradient_at_zero_difference_has_torchs_sign(loss, create_graph):
    """torch computes the target's gradient from target - input (not as the input's negated) for mse,
    huber and smooth_l1: at equal values it is +0.0, seen as +inf after a division."""
    def program(T):
        F = functional(T)
        a, t = T.tensor([1.0, 2.0, 0.5], requires_grad=True), T.tensor([1.0, 0.0, 3.0], requires_grad=True)
        out = eval("F." + loss, {"F": F, "a": a, "t": t})
        return [1 / v for v in T.autograd.grad(out, [a, t], T.ones_like(out), create_graph=create_graph)]
    same_program(program)


@pytest.mark.parametrize("write", ["v7[None] = v3", "v7[...] = v3", "v7[:] = v3", "v7[0] = v3[0]", "v7.copy_(v3)",
                                   "v7.add_(v3)", "v7.mul_(v3)", "v7.div_(v3)", "v7[None].copy_(v3)"])
def test_writes_of_an_inference_value_into_a_normal_tensor_track_as_torch(write):
    """torch views a value of another shape before copying it (a view of an inference tensor has no
    history), writes x[...] and x[:] with copy_ (CopyBackwards), and mul_/div_ save only the operand
    another's gradient reads (so an inference tensor is not saved)."""
    def program(T):
        with T.inference_mode():
            v3 = T.tensor([3.0, -2.0], requires_grad=True)
        with T.no_grad():
            v7 = T.tensor([1.0, 0.5]).asin()
        exec(write, {"v3": v3, "v7": v7})
        return v7, v7.requires_grad, v7.grad_fn.name() if v7.grad_fn else None
    same_program(program)


@pytest.mark.parametrize("program_text", [
    "a = x * 1; y = a * w; a.add_(1); y.sum().backward()", "a = x * 1; y = a * w; w.add_(1); y.sum().backward()",
    "a = x * 1; y = a / w; a.add_(1); y.sum().backward()", "a = x * 1; y = w / a; w.add_(1); y.sum().backward()",
])
def test_operands_no_gradient_reads_may_change_in_place(program_text):
    """mul and div save an operand only for the gradient that reads it: changing the other is no error."""
    def program(T):
        x, w = T.tensor([1.0, 2.0], requires_grad=True), T.tensor([3.0, 4.0])
        exec(program_text.replace("; ", "\n"), {"x": x, "w": w})
        return x.grad
    same_program(program)


@pytest.mark.parametrize("op", ["neg()", "abs()", "__neg__()", "abs_()", "neg_()"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_neg_and_abs_are_exact(op, dtype):
    """They went through double: int64 values past 2**53 lost their low bits, 2**63 - 1 became -2**63."""
    same_program(lambda T: eval(f"T.tensor([2**63 - 1, -2**63, -2**53 - 1, 0, 5]).to(T.{dtype}).{op}", {"T": T}))


@pytest.mark.parametrize("source", ["0 ** T.tensor([-3, 0, 2])", "T.pow(0, T.tensor([-3]))", "2 ** T.tensor([-1, 62, 63, 64])",
                                    "(-1) ** T.tensor([-3, -2])", "3 ** T.tensor([40], dtype=T.int32)"])
def test_number_to_an_integer_tensor_power_is_exact(source):
    """A number base went through double: 0 ** -3 gave inf, cast to -2**63 (torch: 0)."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("fn", ["elu", "celu"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_elu_gradient_at_nan_passes_the_upstream_gradient(fn, create_graph):
    """torch's kernel takes the exponential side only where x <= 0: at NaN the gradient is g (was NaN)."""
    def program(T):
        x = T.tensor([float("nan"), -1.0, 1.0], requires_grad=True)
        return T.autograd.grad(getattr(functional(T), fn)(x).sum(), x, create_graph=create_graph)[0].detach()
    same_program(program)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_soft_margin_loss_gradients_are_torchs_at_the_extremes(reduction):
    """torch's backward is -y e / (1 + e) g with e = exp(-y x) (NaN at an infinite e, where the sigmoid
    form gave a finite value), and its double backward keeps g y^2 e / (1 + e)^2 (about 1e-13 at -30)."""
    def program(T):
        x = T.tensor([1.25, -float("inf"), 2.0, float("inf"), -30.0], requires_grad=True)
        loss = functional(T).soft_margin_loss(x, T.tensor([-1.0, 1.0, 1.0, -1.0, 1.0]), reduction=reduction)
        go = T.ones_like(loss, requires_grad=True)
        g = T.autograd.grad(loss, x, go, create_graph=True)[0]
        return g, T.autograd.grad(g.sum(), [x, go])
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.zeros(3, dtype=T.int32).index_add_(0, T.tensor([0, 0]), T.tensor([-4, -2**31], dtype=T.int32))",
    "T.zeros(3, dtype=T.int32).scatter_add(0, T.tensor([0, 0]), T.tensor([-4, -2**31], dtype=T.int32))",
    "T.tensor([1234.5, -2.5]).round(decimals=-2**31)", "T.tensor([1234.5, -2.5]).round(decimals=2**63 - 1)",
    "T.tensor([1234.5, -2.5], dtype=T.float64).round(decimals=-400)",
])
def test_found_under_ubsan_integer_accumulation_and_round_decimals(source):
    """The fuzzer under UBSan stopped on index_add_'s int32 accumulation (signed overflow) and on
    round(decimals=-2**31) (negating INT_MIN); both now give torch's values with defined arithmetic."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("shape", [(3, 2, 4), (2, 3, 2, 3), (5, 3), (2, 9), (4, 17), (6, 1)])
@pytest.mark.parametrize("value", [3.0, 0.1, -7.25, 1e4])
@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_of_a_constant_channel_rounds_as_torchs_fused_kernel(shape, value, affine):
    """torch's float32 kernel computes x * alpha + beta with one fused multiply-add per element: a
    constant channel gives x * alpha's rounding error (3.05e-05 for 3.0), not 0 (found by the fuzzer)."""
    def program(T):
        c = shape[1]
        w = T.linspace(-1.5, 2.0, c) if affine else None
        b = T.linspace(0.25, -3.0, c) if affine else None
        return functional(T).batch_norm(T.full(shape, value), None, None, w, b, training=True).tolist()
    same_program(program)


@pytest.mark.parametrize("make", ["v.movedim(-1, 0)", "v.view(2)", "v[0]", "v.t()"])
@pytest.mark.parametrize("inside", [True, False])
def test_views_of_inference_tensors_are_untracked(make, inside):
    """In or out of inference_mode, a view of an inference tensor has no _base and no requires_grad."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([-1.75, -1.0], requires_grad=True)
        with T.inference_mode(inside):
            w = eval(make, {"v": v})
        return w.requires_grad, w._base is v, w.is_leaf, w.is_inference()
    same_program(program)


@pytest.mark.parametrize("index", ["4:-1", "0:1", "0", ":, 1"])
def test_in_place_comparison_through_an_integer_view_records_as_torch(index):
    """gt_ with an operand that requires grad records for any dtype; through a view of an integer tensor
    torch wraps it in the base's CopySlices (the base then requires grad)."""
    def program(T):
        base = T.tensor([[1, 0, -5, 0]])
        view = eval(f"base[{index}]", {"base": base})
        view.gt_(T.tensor(3.0, dtype=T.float64, requires_grad=True))
        return base, base.requires_grad, view.requires_grad, view.grad_fn.name() if view.grad_fn else None
    same_program(program)


@pytest.mark.parametrize("second", ["grad", "grad_unused", "backward"])
def test_evaluation_batch_norm_gradient_under_create_graph_requires_grad(second):
    """torch's double-backward node reads the input, so the input's gradient requires grad even in
    evaluation (where it does not depend on the input); its own gradient to the input is None."""
    def program(T):
        w = T.tensor([[0.0, 1.25], [-0.25, 2.25]], requires_grad=True)
        out = functional(T).batch_norm(T.ones(2, 2) @ w, T.tensor([-0.75, 0.0]), T.tensor([2.0, 4.0]),
                                       weight=T.tensor([3.0, 0.75]), training=False)
        g = T.autograd.grad(out.sum(), w, create_graph=True)[0]
        if second == "backward":
            g.sum().backward()
            return g, g.requires_grad, w.grad
        return g, g.requires_grad, T.autograd.grad(g.sum(), w, allow_unused=second == "grad_unused")
    same_program(program)


@pytest.mark.parametrize("source", [
    "v.index_select(0, T.tensor([0]))", "v[T.tensor([0])]", "v[v > 0]", "v.masked_fill(v > 0, 1.0)",
    "v.gather(0, T.tensor([0]))", "v.masked_select(v > 0)", "T.where(v > 0, v, v)", "v.where(v > 0, 0.0)",
    "v.fmod(0.25)", "v.remainder(0.25)", "2 - v", "T.nn.functional.embedding(T.tensor([1]), v.reshape(2, 1))",
    "v.index_select(0, v.long().detach())",
])
def test_normal_non_differentiable_arguments_make_inference_operands_record(source):
    """torch runs an op's autograd when any tensor argument is a normal tensor: an index, a mask, a
    condition, or a Python number it wraps. Then an inference tensor that requires grad records (or is
    refused where torch would save it)."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([3.0, -2.0], requires_grad=True)
        out = eval(source, {"T": T, "v": v})
        return out, out.requires_grad, out.is_inference()
    same_program(program)


@pytest.mark.parametrize("write", ["v[T.tensor([False])] = v", "w[T.tensor([True, False])] = w[:1]",
                                   "w[T.tensor([True, True])] = w[1:]", "w[T.tensor([0])] = w[1:]",
                                   "m[T.tensor([True])] = m[:, :1]"])
def test_one_value_through_a_mask_is_a_masked_fill_without_overlap_check(write):
    """torch writes a one-element value through one boolean mask with masked_fill_ of its item, which
    skips index_put_'s overlap refusal (the fuzzer's x[mask] = x with one element)."""
    def program(T):
        env = {"T": T, "v": T.tensor([1.0]), "w": T.tensor([1.0, 2.0]), "m": T.tensor([[1.0, 2.0]])}
        exec(write, env)
        return env["v"], env["w"], env["m"]
    same_program(program)


@pytest.mark.parametrize("source", [
    "F.nll_loss(T.tensor([[64.0], [0.0], [-1.0]], dtype=T.float64), T.tensor([-100, 0, 0]), reduction='none')",
    "F.cross_entropy(T.tensor([[64.0]], dtype=T.float64), T.tensor([-100]), reduction='none', weight=T.tensor([2.0], dtype=T.float64))",
])
def test_ignored_rows_of_nll_loss_are_positive_zero(source):
    """torch writes 0 for an ignored row (atan2 and 1/x of it differed: -0.0 was negated from the mask)."""
    def program(T):
        out = eval(source, {"T": T, "F": functional(T)})
        return out, 1 / out
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.lerp(T.tensor(-1.25), T.tensor(3.0), T.tensor(-1.5, dtype=T.float64))",
    "T.lerp(T.tensor([-1.25]), T.tensor([3.0]), T.tensor(-1.5, dtype=T.float64))",
    "T.lerp(T.tensor(-1.25, dtype=T.float64), T.tensor(3.0, dtype=T.float64), T.tensor(0.5))",
])
def test_lerp_of_three_0d_tensors_takes_their_common_dtype(source):
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("source", [
    "F.pad(v, (2, 2), mode='constant')", "T.scatter(v, -1, T.tensor([1]), value=0.25)",
    "T.scatter(v, -1, T.tensor([1]), T.tensor([5.0]))", "T.scatter_add(v, -1, T.tensor([1]), T.tensor([5.0]))",
])
def test_pad_and_scatter_of_an_inference_tensor_record_as_torch(source):
    """torch pads by copying into a fresh normal tensor and scatters with a normal index: both record."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([2.25, 1.0, -2.75], requires_grad=True)
        out = eval(source, {"T": T, "F": functional(T), "v": v})
        return out.detach(), out.requires_grad
    same_program(program)


def test_dropout_of_an_empty_tensor_returns_it():
    def program(T):
        x = T.zeros(0, requires_grad=True)
        with T.no_grad():
            out = functional(T).dropout(x, p=1.0)
        return out.requires_grad, out is x
    same_program(program)


@pytest.mark.parametrize("dims", [0, -1, 1, (0,), (0, 0), (5,)])
def test_roll_of_a_0d_tensor_along_a_dim_is_an_index_error_not_a_crash(dims):
    """Found by the fuzzer: T.roll(0-d, 1, -1) read past the tensor's sizes and killed the process."""
    shifts = (1,) * len(dims) if isinstance(dims, tuple) else 1
    same_program(lambda T: T.roll(T.tensor(1.0, requires_grad=True), shifts, dims))


@pytest.mark.parametrize("source", [
    "T.zeros(0).reshape(2**62, 2, 0).shape", "T.zeros(0).reshape(2**40, 2**40).shape",
    "T.zeros(0).reshape(2**40, -1, 2**40)", "T.zeros(0).reshape(-1, 0)", "T.zeros(6).reshape(2**63 - 1, 2, -1)",
])
def test_reshape_size_products_wrap_as_torchs(source):
    """A zero size makes the product 0 even past an overflow (reshape(2**62, 2, 0) of an empty tensor is
    valid in torch; an overflow check refused it)."""
    same_program(lambda T: eval(source, {"T": T}))


def test_an_empty_tensor_whose_size_product_overflows_prints_as_torchs():
    """numpy cannot hold shape (2**62, 2, 0) (its size check overflows before the 0): repr raised."""
    same_program(lambda T: repr(T.zeros(0).reshape(2**62, 2, 0)))


@pytest.mark.parametrize("source", ["T.zeros(0).var(dim=-1, correction=-3)", "T.zeros(0).var(correction=-3)",
                                    "T.zeros(0, 3).var(0, correction=-1)", "T.zeros(0).std(0, correction=-2)",
                                    "T.zeros(0, 3).var(1, correction=-1)"])
def test_variance_over_nothing_is_nan_whatever_the_correction(source):
    """A negative correction gave sum(empty) / (0 - correction) = 0; torch gives NaN (fuzzer)."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 4, 2, 2), (1, 3, 7), (8, 3, 9), (4, 3), (9, 17), (1, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_of_random_data_equals_torchs_bit_for_bit(shape, dtype, training):
    """Statistics summed per channel in torch's order and precision (a one-pass kernel), outputs by one
    fused multiply-add: the values equal torch's exactly (compared as Python floats). torch's (N, C)
    statistics depend on its thread count, so it runs on one thread here, as tapegrad's kernel
    reproduces. float64's training statistics of (N, C, *) inputs still differ from torch's in the last
    bit for about 1 channel in 70, so those compare within the suite's float64 tolerance."""
    import numpy as np
    import torch
    exact = not (dtype == "float64" and training and len(shape) > 2)
    rng = np.random.default_rng(sum(shape) * 7 + training)
    data = (rng.standard_normal(shape) * 30).astype(dtype)
    params = [(rng.standard_normal(shape[1]) * 2).astype(dtype) for _ in range(4)]
    params[3] = np.abs(params[3]) + 0.1  # running variance

    def program(T):
        w, b, rm, rv = (T.tensor(p) for p in params)
        y = functional(T).batch_norm(T.tensor(data), rm, rv, w, b, training=training)
        return [t.tolist() for t in (y, rm, rv)] if exact else (y, rm, rv)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        same_program(program)
    finally:
        torch.set_num_threads(threads)


@pytest.mark.parametrize("source", [
    "T.lerp(T.tensor(-2), T.tensor(-5), T.tensor(-1.75))",
    "T.lerp(T.tensor([-2, 4]), T.tensor([-5, 1]), T.tensor(-1.75, dtype=T.float64))",
    "T.lerp(T.tensor([-2.0]), T.tensor([-5.0]), T.tensor(0.25, dtype=T.float64))",
    "T.lerp(T.tensor([-2]), T.tensor([-5]), T.tensor(3))",
    "T.lerp(T.tensor(-2.0), T.tensor(-5.0), T.tensor([-1.75], dtype=T.float64))",
])
def test_lerp_computes_in_the_common_dtype_of_its_three_operands(source):
    """A 0-d float weight of integer operands makes a float result (tapegrad looked for an integer kernel)."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("weight_requires_grad", [False, True])
def test_in_place_lerp_with_a_tensor_weight_keeps_self_for_the_weights_gradient(weight_requires_grad):
    """lerp_ saved self, then overwrote it: backward refused a modification torch never sees (it saves
    self only for the weight's gradient, and then a copy)."""
    def program(T):
        w = T.tensor(0.5, requires_grad=weight_requires_grad)
        x = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y.lerp_(T.tensor(-0.75), w)
        y.sum().backward()
        return x.grad, w.grad, y.grad_fn.name()
    same_program(program)


def test_grad_of_an_input_viewed_under_no_grad_is_unused_not_refused():
    """A view made under no_grad of a tensor that requires grad reports requires_grad but has no edge:
    torch treats it as an unused input."""
    def program(T):
        a = T.tensor([[1.0, 2.0]], requires_grad=True) * 1
        with T.no_grad():
            seen = a.expand((3, 1, 2))
        used = a * 2
        return T.autograd.grad(used.sum(), [used, seen], allow_unused=True)
    same_program(program)
    same_program(lambda T: T.autograd.grad(
        (T.tensor([1.0], requires_grad=True) * 1).sum(), [T.tensor([1.0], requires_grad=True).expand(2)]))


@pytest.mark.parametrize("source", [
    "F.linear(T.zeros((5, 5, 0), dtype=T.int32), T.zeros((2, 0), dtype=T.int32), T.tensor([-5, -1], dtype=T.int32))",
    "T.ones(3).sum((0, 0))", "T.tensor(1.0).logsumexp((0, 0))", "T.tensor(1.0).nansum((0, -1))",
    "T.tensor(1.0).mean((0, 0))", "T.ones(3, requires_grad=True).sum(dtype=T.int64)",
    "T.ones(3, requires_grad=True).nansum(0, dtype=T.int64)", "T.ones(3, requires_grad=True).sum(dtype=T.bool)",
    "T.ones(3, requires_grad=True).prod(0, dtype=T.int64)", "T.ones(3, requires_grad=True).cumsum(0, dtype=T.int64)",
    "T.ones(3).repeat(True)", "T.zeros(True)", "T.ones(1).reshape(True)", "T.ones(1).repeat(2, True)",
    "T.full_like(T.tensor([1]), float('nan'))", "T.full_like(T.tensor([1], dtype=T.int32), 1e10)",
    "T.full_like(T.tensor([1]), 2**62 + 1)", "T.full((2,), 2**63 - 1)", "T.zeros(1, dtype=T.int64).fill_(-2**62 - 1)",
    "T.full((1,), 3.5e38)", "T.zeros(1).fill_(1e300)", "T.full((1,), float('-inf'))",
    "F.soft_margin_loss(T.ones(5), T.zeros(7, 5))",
    "T.bmm(T.ones(2, 3, 3, dtype=T.int32), T.zeros((2, 3, 0), dtype=T.float64))",
    "T.bmm(T.ones(2, 3, 0, dtype=T.float64), T.zeros((2, 0, 2), dtype=T.int32))",
    "T.bmm(T.ones(2, 3, 1, dtype=T.float64), T.zeros((2, 1, 2), dtype=T.int32))",
    "T.matmul(T.ones(0, 3, dtype=T.int64), T.ones(2, 3, 2, dtype=T.float64))",
    "T.ones(2, 0, 2**40, dtype=T.int32).flip((0, 1, 2))",
])
def test_edge_arguments_found_by_the_fuzzer_behave_as_torch(source):
    """Empty shapes, duplicate dims of 0-d tensors, integer dtype= on inputs that require grad, a bool
    for a size, fill values beyond the dtype, broadcasting past the input's shape, empty products of
    mixed dtypes."""
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_over_no_classes_with_every_target_ignored(reduction):
    def program(T):
        x = T.ones(1, 0, requires_grad=True)
        loss = functional(T).nll_loss(x, T.tensor([-100]), reduction=reduction, weight=T.ones(0))
        loss.sum().backward()
        return loss, x.grad
    same_program(program)


@pytest.mark.parametrize("use", ["v5.max(-2)", "v5.prod(dim=0)", "T.squeeze(v1)", "v1.float()", "v1.long()",
                                 "v1 == 1", "v1[0]", "v1.sum()", "v1 + 1", "v1.clone()"])
def test_ops_on_a_bool_tensor_that_requires_grad_refuse_its_dtype_as_torch(use):
    """gt_ with an operand that requires grad makes a bool tensor require grad; torch then records every
    differentiable op on it and refuses an integer or bool result ("Autograd not support dtype")."""
    def program(T):
        v1 = T.tensor([[True], [True], [True]]).index_select(1, T.tensor([0, 0, 0, 0]))
        v2 = v1.expand_as(v1)
        v5 = v1.unflatten(1, (4, -1))
        v2.gt_(T.tensor([2.5, -1.5, -0.25, -1.75], requires_grad=True))
        return eval(use, {"T": T, "v1": v1, "v5": v5})
    same_program(program)


def test_pow_with_a_tensor_exponent_refuses_backward_after_its_result_changed():
    """PowBackward1 saves its result; torch unpacks it even for self's gradient alone."""
    def program(T):
        x = T.tensor([[-1.0], [0.0], [-0.5], [1.25]], dtype=T.float64, requires_grad=True)
        y = x ** T.tensor(-2.0, dtype=T.float64)
        y[1::2, None] = T.tensor([-3.0], dtype=T.float64)
        (y.squeeze(1) * T.tensor([-1.0, 2.75, 64.0, -3.0], dtype=T.float64)).sum().backward()
        return x.grad
    same_program(program)


def test_nonzero_lays_its_coordinates_out_column_by_column_as_torch():
    """torch's nonzero has strides (1, N): .contiguous() copies, so an in-place write to the result
    does not reach the copy (tapegrad's contiguous result was shared)."""
    def program(T):
        found = T.nonzero(T.tensor([[[2, -2, 0], [1, 0, -4]]]))
        copy = found.contiguous()
        found.clamp_max_(1)
        return copy, found.stride(), [c.stride() for c in T.nonzero(T.ones(2, 3), as_tuple=True)], \
            T.nonzero(T.zeros(0, 3)).stride(), T.nonzero(T.tensor(1)).stride()
    same_program(program)


@pytest.mark.parametrize("write", ["v.add_(1)", "v.mul_(2)", "F.silu(v, True)", "v.zero_()", "v.sin_()"])
def test_in_place_write_to_an_inference_tensor_outside_inference_mode_lands_then_raises(write):
    """torch runs the kernel, then refuses the version bump: the tensor holds the new values."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([-0.75, -2.5, 2.25, 3.0])
        try:
            eval(write, {"v": v, "F": functional(T)})
            raised = None
        except RuntimeError as e:
            raised = type(e).__name__
        return v, raised
    same_program(program)


def test_hardsigmoid_gradient_under_create_graph_has_torchs_not_implemented_node():
    def program(T):
        x = T.tensor([-2.0, 0.5], requires_grad=True)
        g, = T.autograd.grad(functional(T).hardsigmoid(x).sum(), [x], create_graph=True)
        try:
            g.sum().backward()
            raised = None
        except RuntimeError as e:
            raised = str(e)
        return g, raised
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.var(T.tensor([-2.25, 3.0], requires_grad=True), -1, correction=3)",
    "T.var(T.tensor([-2.25, 3.0], requires_grad=True), correction=3)",
    "T.var(T.tensor([-2.25, 3.0], requires_grad=True), 0, correction=2)",
    "T.var(T.tensor([float('nan'), 3.0], requires_grad=True), 0, correction=2)",
    "T.std(T.tensor([-2.25, 3.0], requires_grad=True), -1, correction=3)",
])
def test_variance_gradient_without_degrees_of_freedom_follows_torchs_dim_rule(source):
    """With dims torch takes 2 / (N - correction) as it is (negative, or inf times the centred x); only
    a reduction without dims has the NaN-at-the-mean, else +inf rule."""
    def program(T):
        v = eval(source, {"T": T})
        x = v.grad_fn.next_functions[0][0].variable
        v.backward()
        return v, x.grad
    same_program(program)


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradient_of_a_product_with_two_zeros(create_graph):
    """torch's ProdBackward0 gives zeros for two zeros or more (NaN elsewhere does not spread), except
    under create_graph, where it takes the product of the others."""
    def program(T):
        x = T.tensor([0.0, 1.0, float("nan"), 0.0, float("inf"), -2.0], requires_grad=True)
        g, = T.autograd.grad(x.abs().prod(), [x], create_graph=create_graph)
        return g
    same_program(program)


@pytest.mark.parametrize("op", ["exp_", "exp2_", "tanh_", "sigmoid_", "rsqrt_", "sqrt_"])
def test_second_order_gradient_through_an_in_place_op_that_saves_its_result(op):
    """The in-place op's saved result became self while self still had its old history: under
    create_graph the result's own node was skipped (a silent wrong second derivative)."""
    def program(T):
        x = T.tensor([3.0, 1.5], requires_grad=True)
        y = x * 1
        getattr(y, op)()
        g, = T.autograd.grad(y, [x], grad_outputs=T.tensor([-1.0, -1.25]), create_graph=True)
        return T.autograd.grad((g * g).sum(), x)
    same_program(program)


def test_layer_norm_of_constant_rows_is_exactly_its_bias():
    """torch's Welford moments give a constant row its value as mean and 0 variance: x - mean is 0
    exactly (0 times an infinite weight is NaN); a mean of sum / n was off by an ulp."""
    def program(T):
        x = T.full((2, 3, 2), -1.25, dtype=T.float64).tanh()
        w = T.tensor([[-2.0, 1.25], [2.5, float("inf")], [-1.75, -0.25]], dtype=T.float64)
        b = T.tensor([[0.25, 3.0], [-2.25, 0.75], [-1.75, -2.75]], dtype=T.float64)
        f = functional(T)
        return [f.layer_norm(x, (3, 2), w, b, eps=1.0).tolist(), f.layer_norm(T.full((2, 7), 3.3), (7,)).tolist(),
                f.layer_norm(T.full((3, 5), 0.1).t(), (3,)).tolist()]
    same_program(program)


def test_sort_of_a_0d_tensor_refuses_backward_after_its_indices_changed():
    def program(T):
        x = T.tensor(-1.0, requires_grad=True)
        values, indices = x.sort()
        indices.logical_xor_(indices)
        values.backward()
    same_program(program, message=True)


@pytest.mark.parametrize("source", [
    "F.pad(T.ones(0, 2), (-1, 2, -1, 2))", "F.pad(T.ones(2, 2), (-1, 2, -3, 2))", "F.pad(T.ones(1, 2), (0, 0, -2, 0))",
    "F.pad(T.ones(3, 2), (-1, -2, -2, 0))", "F.pad(T.ones(3, 2), (-1, -1, -2, 0))",
    "F.pad(T.ones(2, 2, dtype=T.bool), (2, 0), mode='reflect')", "F.pad(T.ones(2, 2, dtype=T.bool), (1, 0), mode='reflect')",
    "F.pad(T.ones(2, 2, 2, dtype=T.bool), (1, 0, 1, 1), mode='replicate')", "F.pad(T.tensor(1.0), (1, 0), mode='')",
    "T.ones(2).repeat_interleave(2**63)", "T.repeat_interleave(T.ones(2), 2, dim=2**63)",
    "T.tensor([-1.0, 1.25]).cumsum_(dim=3, dtype=T.float64)", "F.layer_norm(T.ones(20), 20)",
    "T.linspace(T.zeros(2, 2), 0.0, 5)", "T.linspace(T.tensor(1.0), T.zeros(2), 5)", "T.linspace(1.0, T.zeros(2), 5)",
    "T.linspace(1, T.tensor(3), 5)", "T.linspace(T.tensor(True), T.tensor(3.5), 5)", "T.linspace('a', 3, 5)",
    "T.arange(-1.5, 1.5, 0.5).requires_grad_().narrow(0, 3, 3).lerp_(T.ones(3), [1.0, 2.0])",
])
def test_argument_checks_in_torchs_order(source):
    """Which check speaks first: narrow's length before the padded size, the padding sizes before the
    kernel's dtype, the mode before the dims, int64 overflow before expand, the dim before the dtype,
    the parser before the leaf check."""
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}))


@pytest.mark.parametrize("flag", ["allow_unused=1.5", "create_graph=1.5", "retain_graph=1.5", "allow_unused='a'",
                                  "allow_unused=2", "create_graph=0", "allow_unused=2**62", "allow_unused=-1",
                                  "allow_unused=255", "retain_graph=256"])
def test_autograd_grad_reads_its_flags_as_integers(flag):
    """torch's engine reads its flags as unsigned bytes: an int in [0, 255] for its truth, others
    overflow, other types are Python's TypeError."""
    def program(T):
        x = T.ones(2, requires_grad=True)
        return eval(f"T.autograd.grad(x.sum(), [x], {flag})", {"T": T, "x": x})
    same_program(program, message=True)


@pytest.mark.parametrize("source", ["T.tensor(1.0).flatten(3)", "T.tensor(1.0).flatten(0, -2)",
                                    "T.tensor(1.0).flatten(-1, 0)", "T.tensor([1.0, 2.0]).flatten(2**40)"])
def test_flatten_checks_a_0d_tensors_dims(source):
    same_program(lambda T: eval(source, {"T": T}))


def test_masked_select_refuses_backward_after_its_input_changed():
    """MaskedSelectBackward0 saves self: torch refuses its backward once self was written in place
    (here under no_grad, as a leaf may be)."""
    def program(T):
        x = T.zeros((4, 2, 1, 2), requires_grad=True)
        picked = x.masked_select(T.tensor([[[[True, False]]], [[[True, True]]], [[[True, False]]], [[[True, False]]]]))
        with T.no_grad():
            x.clamp_max_(1.5)
        picked.backward(T.ones(5))
    same_program(program)


@pytest.mark.parametrize("source", ["T.eye(2**62, 0).unbind()", "T.eye(2**40, 0).unbind()", "T.eye(2**40, 0).split(1)",
                                    "T.eye(2**62, 0).split(1)", "T.zeros(0, 3).chunk(2**62)", "T.zeros(0, 3).chunk(2**40)"])
def test_splitting_into_more_pieces_than_memory_holds_is_refused_not_fatal(source):
    """unbind of a (2**62, 0) tensor grew its list of pieces until the process died (SIGABRT under the
    fuzzer's memory limit, the OOM killer without): the room is asked for first, as torch's vector does.
    Under AddressSanitizer torch's own 8 TiB `new` aborts instead of throwing, so torch's side runs in
    an unsanitized child there."""
    if not SANITIZED:
        same_program(lambda T: len(eval(source, {"T": T})))
        return
    code = ("import sys, torch as T\ntry:\n    print(len(eval(sys.argv[1], {'T': T})))\n"
            "except Exception as e:\n    print(type(e).__name__)")
    env = {k: v for k, v in os.environ.items() if k not in SANITIZER_VARS}
    theirs = subprocess.run([sys.executable, "-c", code, source], capture_output=True, text=True, env=env,
                            timeout=120).stdout.strip()
    import tapegrad
    try:
        ours = str(len(eval(source, {"T": tapegrad})))
    except Exception as e:  # the exception type is what is compared
        ours = type(e).__name__
    assert ours == theirs


@pytest.mark.parametrize("inside", [False, True])
def test_detach_in_place_leaves_an_inference_tensor_as_it_is(inside):
    """An inference tensor has no autograd state for detach_ to clear: it keeps requires_grad."""
    def program(T):
        with T.inference_mode():
            v = T.arange(-2.0, -0.5, 0.25).requires_grad_()
        with T.inference_mode(inside):
            v.detach_()
        return v.requires_grad, v.is_leaf, v.grad_fn
    same_program(program)


@pytest.mark.parametrize("source", ["T.sort(v)", "T.sort(v, descending=True)", "T.sort(v, stable=True)", "v.sort(0)",
                                    "v.topk(1)"])
def test_sort_of_an_inference_tensor_that_requires_grad_records_torchs_copy(source):
    """An inference tensor has no autograd key: torch's sort kernel copies it into a normal result
    (CopyBackwards, gradient passed back unpermuted) before sorting in place; topk records nothing."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([-2.75, 0.25, 1.0], requires_grad=True)
        values = eval(source, {"T": T, "v": v})[0]
        if values.requires_grad:
            (values * T.tensor([1.0, 2.0, 3.0])).sum().backward()
        return values, v.grad
    same_program(program)


@pytest.mark.parametrize("source", [
    "T.diag(v)", "T.diag(v, 1)", "v.double()", "T.softmax(v, 0, dtype=T.float64)", "T.log_softmax(v, 0, dtype=T.float64)",
    "T.cumsum(v0, 0)", "T.cumsum(v0, 0, dtype=T.float64)", "T.cumsum(v, 0, dtype=T.float64)", "v0.max(-1, keepdim=True)[0]",
    "v0.min(0)[0]", "T.topk(v0, 1, -1, largest=False)[0]", "T.topk(v, 1)[0]", "T.cat([v, v])", "T.stack((v,), dim=-1)",
    "v[:0].roll(0, 0)", "v.roll(1, 0)",
    "F.l1_loss(v, T.tensor([1.0, 2.0]))", "F.smooth_l1_loss(v, T.tensor([1.0, 2.0]), beta=0.0)",
])
def test_ops_on_an_inference_tensor_that_requires_grad_record_torchs_inner_writes(source):
    """An inference tensor has no autograd key: torch runs such an op's kernel directly, and records
    only the writes that kernel makes into a fresh normal tensor (diag's CopySlices, _to_copy's
    CopyBackwards, a 0-d input's FillBackward3), or the op's composite steps that meet a normal tensor."""
    def program(T):
        F = functional(T)
        with T.inference_mode():
            v = T.tensor([0.5, -1.0], requires_grad=True)
            v0 = T.tensor(2.0, requires_grad=True)
        y = eval(source, {"T": T, "F": F, "v": v, "v0": v0})
        grads = T.autograd.grad(y.sum(), [v, v0], allow_unused=True) if y.requires_grad else None
        return y, y.requires_grad, y.grad_fn.name() if y.grad_fn else None, grads
    same_program(program)


def test_broadcast_tensors_hands_back_a_tensor_already_of_the_shape():
    """torch returns such a tensor itself (no ExpandBackward0 view); the others are expanded views."""
    def program(T):
        a = T.tensor([0.5, -1.0], requires_grad=True)
        x, y = T.broadcast_tensors(a, T.ones(3, 2))
        same, other = T.broadcast_tensors(a, T.tensor([1.0, 2.0]))
        return same is a, same._is_view(), x.grad_fn.name(), y.grad_fn
    same_program(program)


@pytest.mark.parametrize("dtypes", [("float32", "float64", None, None), ("float64", "float32", None, None),
                                    ("float32", "float32", "float64", "float64"), ("float64", "float32", "float64", None)])
def test_bce_with_logits_rounds_as_torchs_in_place_steps(dtypes):
    """torch's log-sigmoid stays in the input's dtype (also once scaled by pos_weight) and the loss is
    written into 1 - target: its dtype is the target's (float64 input, float32 target: float32)."""
    def program(T):
        x_dt, y_dt, w_dt, pw_dt = (getattr(T, d) if d else None for d in dtypes)
        x = T.tensor([[-2.5, 0.75, 3.0], [1.25, -0.5, 2147483647.0]], dtype=x_dt, requires_grad=True)
        y = T.tensor([[1.0, 0.0, 0.25], [0.0, 1.0, 1.0]], dtype=y_dt)
        w = T.tensor(0.5, dtype=w_dt) if w_dt else None
        pw = T.tensor([1.0, 1.0, 2.0], dtype=pw_dt) if pw_dt else None
        loss = functional(T).binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw)
        loss.backward()
        # Values at float32's precision: the float32 exp/log1p inside differ from torch's by an ULP.
        return loss.dtype, x.grad.dtype, loss.float(), x.grad.float()
    same_program(program)


def test_gradient_of_an_empty_cat_piece_is_a_narrow_of_the_incoming_one():
    """torch narrows an empty piece too, so under create_graph its gradient requires grad; a legacy
    1-d empty piece gets a plain zeros((0,))."""
    def program(T):
        empty = T.zeros((3, 0), dtype=T.float64).requires_grad_()
        legacy = T.zeros(0, dtype=T.float64).requires_grad_()
        full = T.tensor([[0.5], [1.25], [2.5]], dtype=T.float64, requires_grad=True)
        y = T.cat([empty, full, legacy], dim=1).sinh().sum()
        g_empty, g_legacy = T.autograd.grad(y, [empty, legacy], create_graph=True)
        return g_empty, g_empty.requires_grad, g_legacy, g_legacy.requires_grad
    same_program(program)


@pytest.mark.parametrize("mask", [[False, False, False, True], [True, False, True, False]])
def test_boolean_mask_write_of_one_value_is_tracked_for_any_dtype(mask):
    """torch writes one value through one boolean mask with masked_fill_ (the value's item, cast),
    which its autograd records even into an integer tensor."""
    def program(T):
        v = T.tensor([1.0], requires_grad=True)
        i = T.zeros(4, 1, dtype=T.int64)
        view = i[:]
        view[-1::1, T.tensor([mask[0]])] = v
        i[T.tensor(mask)] = v
        return i, i.requires_grad, i.grad_fn.name() if i.grad_fn else None, view.requires_grad
    same_program(program)


def test_engine_runs_a_leafs_accumulator_as_soon_as_it_is_ready():
    """torch's ready queue takes the node created last first, leaves' accumulators before all: the
    leaf of pow's base gets its gradient before atan2's backward fails on a bool input."""
    def program(T):
        mask = T.tensor([[False, True], [True, False]])
        angle = T.arctan2(mask, T.tensor([[2.5, 0.75], [0.0, 3.0]], requires_grad=True))
        base = T.tensor(-2.0, dtype=T.float64, requires_grad=True)
        try:
            (base ** angle.expand(2, 2, 2)).mean().backward()
        except RuntimeError:
            pass
        return base.grad
    same_program(program)


def test_hook_order_follows_torchs_ready_queue():
    """Two branches of one graph: torch runs the later-created branch's nodes first."""
    def program(T):
        order = []
        x = T.tensor([1.0, 2.0], requires_grad=True)
        a = (x * 2).exp()
        b = (x * 3).sin()
        a.register_hook(lambda g: order.append("a"))
        b.register_hook(lambda g: order.append("b"))
        c = a.sum() + b.sum()
        c.backward()
        return order, x.grad
    same_program(program)



@pytest.mark.parametrize("pad", [(1, 1), (1, -1), (-1, 0), (0, 0)])
def test_pad_of_an_inference_tensor_records_only_an_uncropped_copy(pad):
    """torch copies an inference x into part of its fresh output (CopySlices); a cropped x is a view
    made without autograd, so nothing records."""
    def program(T):
        with T.inference_mode():
            v = T.tensor([[2.0, -1.25, -0.75], [-0.5, -2.0, -2.5]], requires_grad=True)
        y = functional(T).pad(v, pad, value=-1.5)
        grad = T.autograd.grad((y * y).sum(), v) if y.requires_grad else None
        return y, y.requires_grad, y.grad_fn.name() if y.grad_fn else None, grad
    same_program(program)


@pytest.mark.parametrize("kwargs", [{}, {"stable": False}, {"stable": None}, {"stable": True}, {"descending": True}])
def test_sort_names_its_node_by_torchs_overload(kwargs):
    """torch's overload with `stable` (given at all, None included) records SortBackward1."""
    def program(T):
        x = T.tensor([2.0, 1.0, 3.0], requires_grad=True)
        return T.sort(x, **kwargs)[0].grad_fn.name(), x.sort(**kwargs)[0].grad_fn.name()
    same_program(program)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_trace_gradient_leaves_the_off_diagonal_zero_at_nan(shape):
    """torch writes the gradient onto the diagonal of zeros: a NaN gradient (acos past 1) leaves the
    other places 0, where multiplying by the identity gave NaN."""
    def program(T):
        x = T.arange(float(shape[0] * shape[1])).reshape(shape).requires_grad_()
        (T.trace(x).acos() * 1.25).backward()
        g, = T.autograd.grad(T.trace(x * x), x, create_graph=True)
        gg, = T.autograd.grad(g.sum(), x)
        return x.grad, g, gg
    same_program(program)


@pytest.mark.parametrize("source", ["T.zeros(2, 3).t()", "T.zeros(4)[::2][:0]", "T.zeros(4)[::2][:1]",
                                    "T.zeros(4, 6)[:0, ::2]", "T.zeros(6, 4).t()[:, :0]", "T.zeros(4, 6)[:1, ::2]",
                                    "T.zeros(3, 1).t()", "T.zeros(2, 3, 4).permute(2, 0, 1)", "T.zeros(3, 4)[::2, ::2][:1]"])
@pytest.mark.parametrize("make", ["x.clone()", "T.clone(x)", "T.zeros_like(x)", "T.empty_like(x)", "T.ones_like(x)",
                                  "T.full_like(x, 2.5)", "T.rand_like(x)", "x.contiguous()"])
def test_preserve_format_keeps_torchs_strides(source, make):
    """torch's preserve_format: a non-overlapping and dense tensor's exact strides (a transposed
    clone stays transposed, an empty tensor keeps its strides), else its dims' memory order."""
    def program(T):
        x = eval(source, {"T": T})
        y = eval(make, {"T": T, "x": x})
        return y.shape, y.stride(), y.is_contiguous()
    same_program(program)


@pytest.mark.parametrize("legacy", [(None, None), (-1, None), (True, None), (0, None), (None, False), (0.0, 1)])
@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum"])
def test_kl_div_legacy_arguments_follow_torch(legacy, reduction):
    """Legacy size_average/reduce pick the reduction (read for truth), yet a 'batchmean' string
    still divides by the batch size afterwards, as torch does."""
    def program(T):
        x = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        t = T.tensor([[0.5, 1.0], [2.0, 0.25]])
        loss = functional(T).kl_div(x, t, *legacy, reduction=reduction)
        loss.sum().backward()
        return loss, x.grad, functional(T).mse_loss(x, t, *legacy)
    same_program(program, quiet=True)


@pytest.mark.parametrize("weight", [None, [3.0]])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_nll_loss_of_a_1d_input_sums_its_row_from_zero(weight, reduction):
    """torch takes a 1-d input through its summing path even without reduction: a zero loss is +0.0
    (1/x gives inf), where a batch keeps -0.0 per row."""
    def program(T):
        lp = T.zeros(1, 1, requires_grad=True)
        w = T.tensor(weight) if weight else None
        F = functional(T)
        one = F.nll_loss(lp[0], T.tensor(0), weight=w, reduction=reduction)
        batch = F.nll_loss(lp, T.tensor([0]), weight=w, reduction=reduction)
        one.sum().backward()
        return 1 / one, 1 / batch, lp.grad
    same_program(program)


@pytest.mark.parametrize("source", ["T.sort(x, dim=2)", "T.sort(x, dim=0, stable=True)", "T.sort(x.transpose(1, 2), dim=1)",
                                    "T.topk(x, 1, dim=0)", "T.sort(T.zeros(4, 6)[:, ::2])"])
def test_sort_results_are_laid_out_like_their_input(source):
    """torch sorts into results laid out like the input (preserve_format), so a later reshape views
    or copies as in torch (a += through it wrote the sort's indices here)."""
    def program(T):
        x = T.arange(24.0).reshape(3, 4, 1, 2).swapaxes(-4, -1)
        values, indices = eval(source, {"T": T, "x": x})
        flat = indices.reshape(-1)
        flat += 1
        return values.stride(), indices.stride(), indices
    same_program(program)


@pytest.mark.parametrize("source", ["v.unflatten(0, (-1,))", "v.view(5, 1)", "v.reshape(5, 1, 1)", "e.view(0, 3)",
                                    "e.view(3, 0)", "e.reshape(0, 3)"])
def test_view_keeps_the_strides_torch_computes(source):
    """torch's computeStride keeps a size-1 dim's stride from its chunk (a diagonal's 6 here) and an
    empty tensor's own strides for its own shape; canonical strides were assumed for both."""
    def program(T):
        v = T.arange(15).reshape(3, 5, 1).diagonal(offset=-2, dim1=2, dim2=0)
        e = T.zeros(6, 3)[::2][:0]
        y = eval(source, {"T": T, "v": v, "e": e})
        return y.shape, y.stride()
    same_program(program)


def test_retain_grad_of_the_output_runs_when_autograd_grad_reaches_no_input():
    """torch starts at the output's own node, whose retain_grad hook runs before autograd.grad
    finds the input unreached (and raises)."""
    def program(T):
        x = T.tensor([[-1.25], [0.5]], requires_grad=True)
        y = T.logsumexp(x.movedim(1, 0), (0, 1))
        y.retain_grad()
        other = T.tensor([2.5], dtype=T.float64, requires_grad=True)
        try:
            T.autograd.grad(y, [other], retain_graph=True, grad_outputs=T.tensor(-1.75))
        except RuntimeError:
            pass
        return y.grad
    same_program(program)


def test_gradient_through_a_whole_tensor_write_has_no_history():
    """x[...] = v is torch's copy_: self's gradient is zeros_like, without history even under
    create_graph (a partial write keeps the incoming gradient's history)."""
    def program(T):
        a = T.tensor([[0.0], [-0.5]], dtype=T.float64, requires_grad=True)
        whole = T.hstack([T.ones(2, 2, dtype=T.float64), a])
        whole[...] = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=T.float64)
        filled = T.hstack([T.ones(2, 2, dtype=T.float64), a])
        filled[...] = 0.25
        g_filled, = T.autograd.grad((filled * filled).sum(), [a], create_graph=True)
        part = T.hstack([T.ones(2, 2, dtype=T.float64), a])
        part[:, :1] = 2.0
        g_whole, = T.autograd.grad(whole.relu().sum(), [a], create_graph=True)
        g_part, = T.autograd.grad((part * part).sum(), [a], create_graph=True)
        return g_whole, g_whole.requires_grad, g_part, g_part.requires_grad, g_filled, g_filled.requires_grad
    same_program(program)


@pytest.mark.parametrize("source", ["v[T.tensor([0])] = v", "w[0:3, T.zeros((0,), dtype=T.bool)] = w",
                                    "x[T.tensor([0])] = x", "y[0:1, T.tensor([0])] = y"])
def test_index_write_of_a_tensor_into_itself_is_refused_as_torch_refuses_it(source):
    """torch compares the value (leading size-1 dims dropped: a new view) with the sliced tensor (a
    new view after a slice): an empty tensor written into itself passes; a non-empty one overlaps."""
    def program(T):
        ns = {"T": T, "v": T.zeros((1, 0, 3, 2), dtype=T.int64), "w": T.zeros((1, 0), dtype=T.int64),
              "x": T.arange(6.0).reshape(3, 2), "y": T.arange(4.0).reshape(1, 4)}
        exec(source, ns)
        return ns["v"], ns["w"], ns["x"], ns["y"]
    same_program(program)


@pytest.mark.parametrize("source", ["T.zeros(0).tile(-4)", "T.zeros(3, 0).repeat(2, -4)", "T.zeros(0, 2).repeat(-1, 3)",
                                    "T.zeros(0).repeat(-4, 2)", "T.zeros(3, 0).repeat(-4, 2)", "T.zeros(0, 2).tile(0, -2)"])
def test_repeat_checks_only_the_result_sizes(source):
    """torch multiplies each size by its repeat and refuses a negative product only: a negative
    repeat of an empty dim gives an empty result."""
    def program(T):
        x = eval(source.split(".repeat")[0].split(".tile")[0], {"T": T}).requires_grad_()
        y = eval("x" + source[len(source.split(".repeat")[0].split(".tile")[0]):], {"x": x})
        y.sum().backward()
        return y, x.grad
    same_program(program, message=True)


@pytest.mark.parametrize("source", [
    "T.clamp(T.tensor(3), min=T.tensor([1, 2], dtype=T.int32), max=T.tensor(4))",
    "T.clip(T.tensor(3), min=T.tensor(4), max=T.tensor([1, 2], dtype=T.int32))",
    "T.tensor(1.0, dtype=T.float64).clamp(min=T.tensor(1.5, dtype=T.float64), max=T.zeros(7, 5))",
    "T.clamp(T.tensor(3.0, dtype=T.float64), min=T.tensor(1.0), max=T.tensor([1.0, 2.0]))",
    "T.clamp(T.tensor([3.0], dtype=T.float64), min=T.tensor(1.0), max=T.tensor([1.0, 2.0]))",
    "T.clamp(T.tensor([3]), min=T.tensor(1.5), max=T.tensor([1, 2], dtype=T.int32))",
])
def test_clamp_promotes_all_three_operands_at_once(source):
    """torch's one iterator over x, min and max: a dimensioned bound outranks the 0-d operands of
    its category (an int32 bound with dims keeps a 0-d int64 x and bound int32)."""
    same_program(lambda T: eval(source, {"T": T}))


@pytest.mark.parametrize("mode", ["floor", "trunc"])
def test_rounded_division_gradient_is_zeros_whatever_the_incoming_one(mode):
    """torch's rule for div with a rounding mode is zeros_like(grad): an infinite grad gives 0, not NaN."""
    def program(T):
        x = T.tensor([[[0.0, -0.25], [-0.5, -1.5]]], requires_grad=True)
        y = T.tensor([2.0, -3.0], requires_grad=True)
        q = x.div(y, rounding_mode=mode)
        (q * T.tensor([[[-0.0, -2.75], [float("nan"), -float("inf")]]])).sum().backward()
        return x.grad, y.grad
    same_program(program)


@pytest.mark.parametrize("exponent", [0, 0.0, False, True])
def test_pow_gradient_at_a_bool_false_exponent_is_not_the_zero_shortcut(exponent):
    """torch's zero-exponent shortcut compares the exponent with 0.0, which False is not: its
    gradient is 0 * x ** -1 (-0.0 for a negative x, NaN at NaN)."""
    def program(T):
        x = T.tensor([-2.0, float("nan"), 3.0], dtype=T.float64, requires_grad=True)
        (x ** exponent).sum().backward()
        return 1 / x.grad
    same_program(program)


@pytest.mark.parametrize("source", ["T.sub(3.5, y, alpha=0.5)", "T.add(3.5, y, alpha=0.5)", "T.sub(3, y, alpha=2)",
                                    "T.add(True, y, alpha=3)"])
def test_number_first_add_sub_scale_in_the_promoted_type(source):
    """torch wraps the number as a tensor: alpha * y is taken in the promoted type (an int32 y with
    3.5 and alpha 0.5 gives 5.0, where scaling in int32 first gave 4.5)."""
    same_program(lambda T: eval(source, {"T": T, "y": T.tensor([-3, 4], dtype=T.int32)}))


@pytest.mark.parametrize("source", ["T.isnan(x)", "T.isinf(x)", "T.isfinite(x)", "x.nan_to_num()", "T.isnan(x).sinh()"])
def test_integer_shortcuts_are_laid_out_like_their_input(source):
    """torch answers these for an integer tensor with clone/zeros_like/ones_like or an elementwise
    op, all laid out like the input: a later flatten or reshape copies (or views) as in torch."""
    def program(T):
        x = T.sort(T.zeros(1, 4, 4), dim=-3)[1].permute(2, 1, 0)
        y = eval(source, {"T": T, "x": x})
        flat = y.flatten()
        flat.zero_() if flat.dtype == T.bool else flat.add_(1)
        return y.stride(), y
    same_program(program)


@pytest.mark.parametrize("n", [5, 16, 17, 33])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_minimum_maximum_of_signed_zeros_follow_torchs_simd_split(n, dtype):
    """Between 0.0 and -0.0 torch's SIMD body picks the second operand, its scalar tail the first."""
    def program(T):
        neg = T.full((n,), -0.0, dtype=getattr(T, dtype))
        pos = T.zeros(n, dtype=getattr(T, dtype))
        return (1 / T.minimum(neg, pos), 1 / T.maximum(pos, neg), 1 / T.minimum(neg, T.tensor(0.0)),
                1 / T.maximum(neg, T.tensor([float("nan")] + [0.0] * (n - 1), dtype=getattr(T, dtype))))
    same_program(program)


def test_number_first_sub_checks_alpha_as_torch():
    """The wrapped number makes torch run the tensor form, which refuses a float alpha for an integer
    result (scaling y by hand skipped that check)."""
    same_program(lambda T: T.sub(3, T.tensor([1]), alpha=0.5), message=True)


@pytest.mark.parametrize("source", [
    "a.mm(b)", "a @ b", "T.bmm(a[None], b[None])", "a[None] @ b", "a[None].expand(3, 2, 1) @ b[None].expand(3, 1, 2)",
    "F.linear(a, b.t())", "T.addmm(T.zeros(2, 2), a, b)", "T.addmm(-T.zeros(2, 2), a, b)",
    "T.addmm(T.zeros(2, 2), a, b, beta=0)", "a.double().mm(b.double())", "T.zeros(64, 1).mm(-T.ones(1, 64))",
    "T.zeros(4, 1) @ -T.ones(1, 1)", "T.zeros(1, 1) @ -T.ones(1, 4)", "T.bmm(T.zeros(1, 20, 1), -T.ones(1, 1, 20))",
    "T.bmm(T.zeros(1, 19, 1), -T.ones(1, 1, 21))", "T.bmm(T.zeros(2, 64, 1), -T.ones(2, 1, 64))",
    "T.mv(b.t(), T.tensor([0.0]))", "T.tensor([[0.0, 0.0]]).mm(T.tensor([[-1.0], [-1.0]]))",
])
def test_contraction_of_one_keeps_the_sign_of_zero_where_torchs_gemm_does(source):
    """torch's BLAS gemm writes a K=1 product of two matrices (M, N > 1) as the plain products
    (0 * -1.5 = -0.0); its gemv-like shapes, small-bmm loop and batched gemm start from +0.0."""
    def program(T):
        a, b = T.tensor([[0.0], [1.0]]), T.tensor([[-1.5, 0.5]])
        return 1 / eval(source, {"T": T, "F": functional(T), "a": a, "b": b})
    same_program(program)


@pytest.mark.parametrize("source", ["T.cumsum(T.tensor(-0.0), 0)", "T.cumsum(T.tensor([-0.0, 1.0]), 0)",
                                    "T.cumsum(T.tensor(-0.0), 0, dtype=T.float64)", "c.cumsum_(0)"])
def test_cumsum_of_a_zero_dim_tensor_is_its_value(source):
    """torch fills a 0-d cumsum with the value (-0.0 stays -0.0); a running sum starts from +0.0."""
    same_program(lambda T: 1 / eval(source, {"T": T, "c": T.tensor(-0.0)}))


@pytest.mark.parametrize("x", [[0.0, -0.0], [-0.0, -0.0], [-0.0, 0.0, 1.0]])
@pytest.mark.parametrize("weight", [False, True])
def test_layer_norm_without_bias_adds_positive_zero(x, weight):
    """torch's kernel adds a bias of +0 when there is none, so a -0.0 result comes out +0.0."""
    def program(T):
        w = T.tensor([2.0] * len(x)) if weight else None
        return 1 / functional(T).layer_norm(T.tensor(x), (len(x),), weight=w, eps=0.1)
    same_program(program)


@pytest.mark.parametrize("source", ["T.addmm(b, m, m, beta=2, alpha=-1)", "T.addmm(b, m, m, beta=1, alpha=3)",
                                    "T.addmm(T.tensor([-2147483648, 5], dtype=T.int32), m, m, beta=2, alpha=-1)"])
def test_integer_addmm_scales_with_wrapping(source):
    """torch scales an integer bias and product in their own type: 2 * (2**31 - 1) wraps in int32."""
    same_program(lambda T: eval(source, {"T": T, "b": T.tensor(2147483647, dtype=T.int32),
                                         "m": T.tensor([[1, 2], [3, -4]], dtype=T.int32)}))


@pytest.mark.parametrize("call", ["F.elu(x, alpha=0.5)", "F.celu(x, alpha=0.5)", "F.elu(x)", "F.celu(x, 1.5)"])
def test_elu_second_derivative_is_masked_by_x_below_zero(call):
    """torch's elu_double_backward multiplies by (x < 0): at x = 0 (and -0.0) the second derivative is 0."""
    def program(T):
        x = T.tensor([[2.75, 0.5, 0.0], [-0.0, 1.5, -1.5]], dtype=T.float64, requires_grad=True)
        s = T.tensor([[1.0, 2, 3], [4, 5, 6]], dtype=T.float64, requires_grad=True)
        g, = T.autograd.grad(eval(call, {"F": functional(T), "x": x}), x, s, create_graph=True)
        return g, T.autograd.grad((g * g).sum(), [x, s], create_graph=True)
    same_program(program)


def test_division_gradient_at_a_zero_denominator_differentiates_as_torchs():
    """torch writes the denominator's gradient -g * ((a / b) / b): its derivative at b = -0.0 is inf, not
    the 0 / 0 of a b * b form."""
    def program(T):
        v1 = T.ones(2, 3, requires_grad=True)
        q = T.tensor(-2.5, dtype=T.float64) / T.full((2, 3), -1.0).remainder(v1)
        g, = T.autograd.grad(q, [v1], T.tensor([[2.0, 1.0, 3.0], [float("nan"), 2.75, -1.5]]), create_graph=True)
        g.sum().backward()
        return g, v1.grad
    same_program(program)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_norm_rows_match_torch_bit_for_bit(dtype):
    """torch's Welford moments per SIMD lane, in its AVX2 build's order and roundings: rows shorter
    than 17 vectors of lanes match exactly (longer ones to rounding: a merge detail differs)."""
    import numpy as np
    import tapegrad
    rng = np.random.default_rng(3)
    for n in list(range(1, 40)) + [63, 64, 100, 127, 128, 135]:
        x = (rng.normal(size=(3, n)) * 3).astype(dtype)
        w = rng.normal(size=n).astype(dtype)
        for weight in (None, w):
            theirs = torch.nn.functional.layer_norm(torch.tensor(x), (n,), None if weight is None else torch.tensor(weight))
            ours = tapegrad.nn.functional.layer_norm(tapegrad.tensor(x), (n,),
                                                     None if weight is None else tapegrad.tensor(weight))
            limit = 136 if dtype == "float32" else 68
            if n < limit:
                assert np.array_equal(ours.numpy(), theirs.numpy()), f"row of {n}"


def test_layer_norm_of_overflowing_deviations_is_nan_as_torchs():
    """torch's moment merge multiplies an infinite squared deviation by 0: the row becomes NaN."""
    def program(T):
        v2 = T.tensor(-2.0, dtype=T.float64) ** T.tensor([[1, 1000, 1000], [1, 5, 5]])
        return functional(T).layer_norm(v2, (3,), weight=T.tensor([2.5, -2.75, 0.75], dtype=T.float64),
                                        bias=T.tensor([1.75, 2.0, 1.75], dtype=T.float64))
    same_program(program)


@pytest.mark.parametrize("fn", ["hardshrink", "softshrink"])
@pytest.mark.parametrize("n", [17, 27, 33, 65])
def test_shrink_gradient_at_nan_follows_torchs_simd_split(fn, n):
    """At NaN torch's SIMD body gives a zero gradient (x < -l or x > l fails), its scalar tail the
    incoming gradient; the body takes the first n // 16 * 16 floats (AVX2 pairs)."""
    def program(T):
        x = T.zeros(n)
        x[::3] = float("nan")
        x.requires_grad_()
        getattr(functional(T), fn)(x, 0.5).backward(T.full((n,), 3.0))
        return x.grad
    same_program(program)


@pytest.mark.parametrize("n", [17, 33, 65, 100])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hardswish_gradient_at_nan_follows_torchs_simd_split(n, dtype):
    """torch's SIMD body (its AVX-512 build on such machines) gives NaN at NaN, its scalar tail the
    incoming gradient."""
    def program(T):
        x = T.zeros(n, dtype=getattr(T, dtype))
        x[::3] = float("nan")
        x[1::3] = 3.0
        x.requires_grad_()
        functional(T).hardswish(x).backward(T.full((n,), 2.0, dtype=getattr(T, dtype)))
        return x.grad
    same_program(program)


@pytest.mark.parametrize("call", ["F.elu(x)", "F.elu(x, alpha=0.5)", "F.celu(x, alpha=0.7)", "F.celu(x)"])
@pytest.mark.parametrize("n", [17, 33, 100])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elu_family_at_nan_and_celus_float_input_scale(call, n, dtype):
    """torch's SIMD body (AVX-512 build) gives a NaN gradient at NaN, its scalar tail the incoming
    gradient; celu's derivative scales the input by 1 / alpha taken in float, in float64 too (0.7 is
    no float), its forward by 1 / alpha in double."""
    def program(T):
        x = T.linspace(-4, 3, n, dtype=getattr(T, dtype))
        x[::5] = float("nan")
        x.requires_grad_()
        y = eval(call, {"F": functional(T), "x": x})
        y.backward(T.linspace(-1, 2, n, dtype=getattr(T, dtype)))
        return y, x.grad
    same_program(program)


def test_std_of_float32_accumulates_in_double():
    """torch's Welford accumulates float32's in double: squares past float32's range do not overflow."""
    def program(T):
        x = T.arange(-4, 11).cumsum(0).exp()
        return x.std(dim=(-1,)), x.var(), x.std(), T.tensor([3e19, -3e19, 1.0]).var(0)
    same_program(program)


def test_embedding_padding_rows_are_skipped_not_multiplied():
    """torch skips indices at padding_idx: a NaN in their gradient leaves the weight's gradient 0."""
    def program(T):
        w = T.tensor([[0.5, 0.25], [1.0, 2.0]], requires_grad=True)
        out = functional(T).embedding(T.tensor([[0, 1, 0]]), w, padding_idx=0)
        (out * T.tensor([[[float("nan"), 1.0], [2.0, 3.0], [4.0, float("inf")]]])).sum().backward()
        return w.grad
    same_program(program)


def test_power_gradient_takes_exponent_minus_one_in_its_own_type():
    """torch's exponent - 1 for an int32 -2**31 wraps to 2**31 - 1: (-3) ** that is -inf."""
    def program(T):
        x = T.tensor([-3.0, 0.0, -0.25], dtype=T.float64, requires_grad=True)
        (x ** T.tensor(-2147483648, dtype=T.int32)).backward(T.tensor([-2.5, 0.75, -0.25], dtype=T.float64))
        return x.grad
    same_program(program)


@pytest.mark.parametrize("source", ["F.celu(T.tensor([1.0]), alpha=0.0)", "F.celu(T.tensor([1]), alpha=0.0)",
                                    "F.celu(T.tensor([1.0]), alpha=0.0, inplace=True)"])
def test_celu_refuses_a_zero_alpha_first(source):
    same_program(lambda T: eval(source, {"T": T, "F": functional(T)}), message=True)


def test_leaving_a_no_grad_never_entered_restores_no_grad():
    """torch's no_grad starts with prev = False: its __exit__ alone disables grad (and returns None)."""
    def program(T):
        r = T.no_grad().__exit__(None, None, None)
        enabled = T.is_grad_enabled()
        T.set_grad_enabled(True)
        return r, enabled
    same_program(program)


@pytest.mark.parametrize("source", ["T.zeros(4, 2, 4).swapaxes(-3, 1).triu(1)", "T.zeros(4, 2, 4).swapaxes(-3, 1).tril()",
                                    "T.zeros(3, 4).t().triu()", "T.zeros(2, 3, 4).permute(2, 0, 1).tril(-1)"])
def test_triangles_are_contiguous_whatever_the_input_layout(source):
    """torch's triu/tril results are contiguous: a later contiguous() is the same tensor, and a write
    through it reaches the triangle."""
    def program(T):
        t = eval(source, {"T": T})
        c = t.contiguous()
        c[...] = -3.0
        return t.stride(), t
    same_program(program)

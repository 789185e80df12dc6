"""Outside testing's silent wrong results and refused valid code (issues 12 and 20), each against torch.

Every repro is a small program written against torch's API; it returns the tensors to compare, and
each is compared on value, dtype, shape, requires_grad and grad_fn name (None included). Next to
each repro are cases from the same class of bug, so a fix for the one line cannot pass alone.
"""
import math

import numpy as np
import pytest

from conftest import same_program



# ---------------------------------------------------------------- wrong gradients

MULTI_OUTPUT = {
    "sort": lambda T, x: T.sort(x).values,
    "sort_desc": lambda T, x: T.sort(x, descending=True)[0],
    "topk": lambda T, x: T.topk(x, 2).values,
    "max_dim": lambda T, x: x.max(dim=0).values,
    "min_dim": lambda T, x: T.min(x, 0)[0],
}
INPLACE = {
    "mul_": lambda v: v.mul_(3),
    "add_": lambda v: v.add_(1),
    "exp_": lambda v: v.exp_(),
    "zero_": lambda v: v.zero_(),
    "setitem": lambda v: v.__setitem__(0, 5.0),
}


@pytest.mark.parametrize("op", INPLACE)
@pytest.mark.parametrize("source", MULTI_OUTPUT)
def test_inplace_on_an_output_of_a_multi_output_op_keeps_its_gradient(source, op):
    def program(T):
        x = T.tensor([3.0, 1.0, 2.0], requires_grad=True)
        v = MULTI_OUTPUT[source](T, x)
        INPLACE[op](v)
        v.sum().backward()
        return v, x.grad
    same_program(program)


@pytest.mark.parametrize("write", ["setitem", "copy_", "mul_", "index_put_"])
def test_view_taken_before_a_write_into_its_base_sees_the_new_history(write):
    def program(T):
        w = T.tensor([7.0], requires_grad=True)
        x = T.zeros(4)
        v = x[:2]
        if write == "setitem":
            x[0:1] = w
        elif write == "copy_":
            x[0:1].copy_(w)
        elif write == "mul_":
            x.add_(1)
            x.mul_(w)
        else:
            x.index_put_((T.tensor([1]),), w)
        v.sum().backward()
        return v, w.grad
    same_program(program)


@pytest.mark.parametrize("op", ["mul_", "add_", "zero_", "exp_", "div_", "setitem"])
def test_retain_grad_before_an_inplace_op_keeps_the_gradient_of_the_new_value(op):
    def program(T):
        x = T.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        {"mul_": lambda: y.mul_(3), "add_": lambda: y.add_(1), "zero_": lambda: y.zero_(),
         "exp_": lambda: y.exp_(), "div_": lambda: y.div_(4), "setitem": lambda: y.__setitem__(0, 1.0)}[op]()
        (y * y).sum().backward()
        return y.grad, x.grad
    same_program(program)


CREATE_GRAPH = {
    "setitem": lambda T, x: _setitem(x),
    "index_put": lambda T, x: T.zeros(3).index_put((T.tensor([0, 2]),), x[:2] * x[1:]),
    "relu": lambda T, x: T.relu(x) * x,
    "relu_method": lambda T, x: (x * x).relu(),
    "leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x * x, 0.1),
    "masked_fill": lambda T, x: (x * x).masked_fill(x > 0, 0.5),
    "where": lambda T, x: T.where(x > 0, x * x, x),
    "clamp": lambda T, x: (x * x).clamp(0.5, 3.0),
    "abs": lambda T, x: (x * x * x).abs(),
    "max": lambda T, x: (x * x).max(),
    "gather": lambda T, x: (x * x).gather(0, T.tensor([2, 0])),
    "index": lambda T, x: (x * x)[T.tensor([0, 2])],
    "cat": lambda T, x: T.cat([x * x, x]),
    "sort": lambda T, x: T.sort(x * x).values,
    "hardtanh": lambda T, x: T.nn.functional.hardtanh(x * x, -1.0, 2.0),
}


def _setitem(x):
    y = x * 1
    y[1] = x[0] * x[2]
    return y


@pytest.mark.parametrize("case", CREATE_GRAPH)
def test_first_gradients_with_create_graph_can_be_differentiated_again(case):
    def program(T):
        x = T.tensor([1.5, -0.5, 2.0], requires_grad=True)
        out = CREATE_GRAPH[case](T, x)
        (g,) = T.autograd.grad(out.sum(), x, create_graph=True)
        if not g.requires_grad:
            return g, None
        (gg,) = T.autograd.grad((g * g).sum(), x, allow_unused=True)
        return g, gg
    same_program(program)


def test_var_of_a_0d_input_with_create_graph():
    def program(T):
        v = T.tensor(2.0, requires_grad=True)
        (g,) = T.autograd.grad(v.var(dim=-1), v, create_graph=True)
        return g
    same_program(program)


# ---------------------------------------------------------------- wrong values or state

@pytest.mark.parametrize("src_dtype", ["float32", "float64"])
@pytest.mark.parametrize("dst_dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("how", ["copy_", "setitem", "setitem_mask", "index_put_", "fill_"])
def test_writes_into_a_non_float_tensor_track_as_torch(how, dst_dtype, src_dtype):
    def program(T):
        i = T.zeros(3, dtype=getattr(T, dst_dtype))
        s = T.ones(3, dtype=getattr(T, src_dtype), requires_grad=True)
        if how == "copy_":
            i.copy_(s)
        elif how == "setitem":
            i[1:] = s[1:]
        elif how == "setitem_mask":
            i[T.tensor([True, False, True])] = s[:2]
        elif how == "index_put_":
            i.index_put_((T.tensor([0]),), s[0])
        else:
            i.fill_(s[0])
        return i
    same_program(program)


INT_POW = [([0], [-1]), ([1, -1, 2, -2, 0, 3], [-1, -1, -1, -2, -3, -2]), ([2, 3, -3], [62, 40, 41]),
           ([-1, -1], [-7, -8])]


@pytest.mark.parametrize("base,exponent", INT_POW)
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_pow_with_negative_or_large_exponents(base, exponent, dtype):
    def program(T):
        b, e = T.tensor(base, dtype=getattr(T, dtype)), T.tensor(exponent, dtype=getattr(T, dtype))
        return b ** e, b.pow(e[0].item()), T.pow(b, e)
    same_program(program)


@pytest.mark.parametrize("fn", ["threshold", "hardtanh", "relu6", "relu", "hardshrink"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_clipping_activations_keep_integer_dtypes(fn, dtype):
    def program(T):
        F = T.nn.functional
        x = T.tensor([-3, 0, 2, 5, 9], dtype=getattr(T, dtype))
        call = {"threshold": lambda: F.threshold(x, 1, 7), "hardtanh": lambda: F.hardtanh(x, -1, 4),
                "relu6": lambda: F.relu6(x), "relu": lambda: F.relu(x), "hardshrink": lambda: F.hardshrink(x, 1)}
        return call[fn]()
    same_program(program)


@pytest.mark.parametrize("op", ["addcdiv", "addcmul"])
@pytest.mark.parametrize("dtypes", [("float64", "float32", "float32"), ("float32", "float64", "float32"),
                                    ("float32", "float32", "float64"), ("float32", "int64", "int64")])
def test_addcdiv_addcmul_promote_over_all_three(op, dtypes):
    def program(T):
        a, b, c = (T.tensor([1.0, 2.0, 4.0] if d.startswith("float") else [1, 2, 4], dtype=getattr(T, d))
                   for d in dtypes)
        return getattr(T, op)(a, b, c, value=0.5)
    same_program(program)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_cross_entropy_ignores_rows_with_infinite_logits(reduction):
    def program(T):
        logits = T.tensor([[math.inf, 0.0, 1.0], [0.5, 0.25, -1.0], [2.0, -math.inf, 0.0]], requires_grad=True)
        target = T.tensor([0, 1, 2])
        loss = T.nn.functional.cross_entropy(logits, target, ignore_index=0, reduction=reduction)
        loss.sum().backward()
        return loss, logits.grad
    same_program(program)


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_nll_loss_over_minus_infinity(reduction):
    def program(T):
        logp = T.tensor([[-math.inf, -1.0], [-0.5, -math.inf]])
        return T.nn.functional.nll_loss(logp, T.tensor([0, 0]), reduction=reduction)
    same_program(program)


@pytest.mark.parametrize("values", [[1e30], [1e30, -3e30], [1e-30, 2e-30], [3e38, 3e38]])
@pytest.mark.parametrize("p", [2, 1, math.inf])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_norm_does_not_overflow_or_underflow(values, p, dtype):
    def program(T):
        x = T.tensor(values, dtype=getattr(T, dtype))
        return T.norm(x, p), x.norm(p, dim=0)
    same_program(program)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e30, 2.5])
@pytest.mark.parametrize("how", ["masked_fill", "setitem", "fill_", "full"])
@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_non_finite_or_out_of_range_floats_into_integer_tensors(value, how, dtype):
    def program(T):
        i = T.zeros(3, dtype=getattr(T, dtype))
        if how == "masked_fill":
            return i.masked_fill(T.tensor([True, False, True]), value)
        if how == "setitem":
            i[0] = value
            return i
        if how == "fill_":
            return i.fill_(value)
        return T.full((2,), value, dtype=getattr(T, dtype))
    same_program(program)


@pytest.mark.parametrize("op", ["add_", "mul_", "zero_", "copy_", "fill_", "setitem", "exp_", "clamp_"])
def test_inplace_on_an_expanded_tensor_is_refused(op):
    def program(T):
        x = T.tensor([1.0, 2.0]).expand(3, 2)
        {"add_": lambda: x.add_(1), "mul_": lambda: x.mul_(2), "zero_": lambda: x.zero_(),
         "copy_": lambda: x.copy_(T.ones(3, 2)), "fill_": lambda: x.fill_(0), "setitem": lambda: x.__setitem__(0, 1.0),
         "exp_": lambda: x.exp_(), "clamp_": lambda: x.clamp_(0, 1)}[op]()
        return x
    same_program(program)


# ---------------------------------------------------------------- valid torch code refused

@pytest.mark.parametrize("value_shape", [(1, 2), (1, 1, 2), (1, 2, 2), (2,), (1,), ()])
def test_setitem_with_leading_size_one_dims(value_shape):
    def program(T):
        x = T.zeros(3, 2)
        x[0:2] = T.ones(*value_shape)
        return x
    same_program(program)


@pytest.mark.parametrize("x_shape,mask_shape", [((3,), (2, 3)), ((1, 3), (2, 1)), ((2, 3), (3,)), ((3,), (3,))])
def test_masked_fill_broadcasts_the_mask(x_shape, mask_shape):
    def program(T):
        x = T.arange(float(np.prod(x_shape))).reshape(x_shape).requires_grad_()
        m = (T.arange(float(np.prod(mask_shape))).reshape(mask_shape) % 2) == 0
        y = x.masked_fill(m, -1.0)
        y.sum().backward()
        return y, x.grad
    same_program(program)


@pytest.mark.parametrize("mode", ["floor", "trunc", None])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_div_rounding_mode(mode, dtype):
    def program(T):
        a = T.tensor([7, -7, 5, -5], dtype=getattr(T, dtype))
        b = T.tensor([2, 2, -3, -3], dtype=getattr(T, dtype))
        out = [T.div(a, b, rounding_mode=mode), a.div(b, rounding_mode=mode), a.div(2, rounding_mode=mode),
               T.divide(a, b, rounding_mode=mode)]
        c = a.clone()
        out.append(c.div_(b, rounding_mode=mode) if mode or dtype == "float32" else c)
        return out
    same_program(program)


def test_div_rounding_mode_gradient():
    def program(T):
        a = T.tensor([7.0, -7.0], requires_grad=True)
        b = T.tensor([2.0, 2.0], requires_grad=True)
        out = T.div(a, b, rounding_mode="floor") + T.div(a, b, rounding_mode="trunc") + T.div(a, b)
        out.sum().backward()
        return out, a.grad, b.grad
    same_program(program)


def test_missing_inplace_methods():
    def program(T):
        x = T.zeros(3, 2)
        x.masked_fill_(T.tensor([True, False]), 2.0)
        x.index_add_(0, T.tensor([0, 2]), T.ones(2, 2))
        x.scatter_add_(0, T.tensor([[1, 0]]), T.ones(1, 2))
        y = T.tensor([-2.0, 0.0, 3.0])
        y.sign_()
        return x, y, x.type(T.int64), x.type(), x.type("torch.DoubleTensor")
    same_program(program)


@pytest.mark.parametrize("op", ["gather", "scatter", "scatter_add", "scatter_value"])
def test_gather_scatter_with_an_empty_index(op):
    def program(T):
        x = T.arange(6.0).reshape(2, 3)
        idx = T.tensor([], dtype=T.int64)
        if op == "gather":
            return x.gather(1, idx)
        if op == "scatter":
            return x.scatter(1, idx, T.ones(0))
        if op == "scatter_add":
            return x.scatter_add(0, idx, T.ones(0))
        return x.scatter(0, idx, 2.0)
    same_program(program)


def test_lerp_with_a_0d_weight_of_another_float_dtype():
    def program(T):
        a = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
        b = T.tensor([3.0, 5.0], dtype=T.float64)
        out = T.lerp(a, b, T.tensor(0.25))
        out.sum().backward()
        return out, a.grad
    same_program(program)


def test_bool_tensor_set_through_a_mask_with_a_float():
    def program(T):
        x = T.tensor([True, False, True])
        x[T.tensor([True, True, False])] = 0.0
        y = T.tensor([False, False])
        y[y == False] = 2.5  # noqa: E712 - torch code as users write it
        return x, y
    same_program(program)


@pytest.mark.parametrize("value", [-1, 2.5, True])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_copy_from_a_number(value, dtype):
    def program(T):
        x = T.zeros(3, dtype=getattr(T, dtype))
        return x.copy_(value)
    same_program(program)


# ---------------------------------------------------------------- differential fuzzer findings

INT_ACTIVATIONS = {
    "threshold": lambda F, x: F.threshold(x, -0.5, -2.7), "hardtanh": lambda F, x: F.hardtanh(x, -1.5, 2.5),
    "relu6": lambda F, x: F.relu6(x), "relu": lambda F, x: F.relu(x), "leaky_relu": lambda F, x: F.leaky_relu(x),
    "elu": lambda F, x: F.elu(x), "gelu": lambda F, x: F.gelu(x), "silu": lambda F, x: F.silu(x),
    "softplus": lambda F, x: F.softplus(x), "mish": lambda F, x: F.mish(x), "celu": lambda F, x: F.celu(x),
    "hardswish": lambda F, x: F.hardswish(x), "hardsigmoid": lambda F, x: F.hardsigmoid(x),
    "logsigmoid": lambda F, x: F.logsigmoid(x), "softshrink": lambda F, x: F.softshrink(x),
    "glu": lambda F, x: F.glu(x), "dropout_p1": lambda F, x: F.dropout(x, p=1.0),
    "dropout_half": lambda F, x: F.dropout(x, p=0.5), "softmax_dim0": lambda F, x: F.softmax(x.reshape(2, 2), 0),
    "log_softmax_last": lambda F, x: F.log_softmax(x, -1), "softmax_empty": lambda F, x: F.softmax(x[:0], 0),
}


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize("name", sorted(INT_ACTIVATIONS))
def test_activations_on_integer_and_bool_inputs(name, dtype):
    def program(T):
        F = T.nn.functional
        x = T.tensor([-3, 0, 2, 5]).to(getattr(T, dtype))
        return INT_ACTIVATIONS[name](F, x)
    same_program(program)


def test_addcmul_on_integers_truncates_the_value():
    for value in (0.5, 1.7, 2):
        same_program(lambda T: T.addcmul(T.tensor([1, 2]), T.tensor([3, 4]), T.tensor([5, 6]), value=value))
    same_program(lambda T: T.addcmul(T.tensor([1.0, 2.0]), T.tensor([3, 4]), T.tensor([5, 6]), value=0.5))
    same_program(lambda T: T.addcmul(T.tensor([True]), T.tensor([True]), T.tensor([True])))


INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("row", [[-INF, -INF], [INF, INF], [INF, 1.0], [-INF, 1.0], [NAN, 1.0], [1.0, 2.0]])
def test_softmax_lanes_with_infinities_or_nan(row):
    def program(T):
        x = T.tensor([row, [0.5, 0.25]], requires_grad=True)
        F = T.nn.functional
        return F.softmax(x, -1), F.log_softmax(x, -1), F.softmax(x.t(), 0)
    same_program(program)


@pytest.mark.parametrize("bounds", [dict(min=2.5, max=NAN), dict(min=NAN), dict(max=NAN), dict(min=NAN, max=1.0)])
def test_clamp_with_a_nan_bound(bounds):
    def program(T):
        x = T.tensor([0.0, 3.0, NAN], requires_grad=True)
        y = T.clamp(x, **bounds)
        y.sum().backward()
        i = T.tensor([1, 2]).clamp(**bounds)
        return y, x.grad, i
    same_program(program)


@pytest.mark.parametrize("shape,dim", [((0, 1), 0), ((0, 1), 1), ((1, 0), 1), ((0,), 0)])
def test_chunk_of_an_empty_dim(shape, dim):
    same_program(lambda T: T.zeros(shape).chunk(3, dim=dim))


def test_repeat_interleave_by_one_is_not_an_alias_of_its_input():
    def program(T):
        x = T.tensor([-0.25, 2.0])
        y = x.repeat_interleave(1)
        y[T.tensor([True, True])] = 5.0
        z = T.tensor([[1.0, 2.0]]).repeat_interleave(1, dim=0)
        return x, y, z
    same_program(program)


@pytest.mark.parametrize("act", ["relu", "relu6", "hardtanh", "threshold", "hardshrink", "softshrink"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_clipping_activation_gradients_pass_nan_inputs_through(act, create_graph):
    def program(T):
        F = T.nn.functional
        x = T.tensor([-2.25, 0.5, 7.0], requires_grad=True)
        y = T.log1p(x)  # nan, finite, finite
        f = {"relu": F.relu, "relu6": F.relu6, "hardtanh": F.hardtanh, "hardshrink": F.hardshrink,
             "softshrink": F.softshrink, "threshold": lambda t: F.threshold(t, 0.1, 0.0)}[act]
        (g,) = T.autograd.grad(f(y), x, T.tensor([-2.25, 1.0, 3.0]), create_graph=create_graph)
        return g.detach()
    same_program(program)


@pytest.mark.parametrize("reduce", ["min", "max", "amax"])
def test_extreme_gradient_with_a_nan_incoming_gradient(reduce):
    def program(T):
        x = T.tensor([[1.75, -2.25, -0.75], [1.5, 3.0, -2.25]], dtype=T.float64, requires_grad=True)
        m = getattr(T, reduce)(x)
        m.pow(m).backward()
        return x.grad
    same_program(program)


def test_prod_gradient_through_zeros_with_create_graph():
    def program(T):
        x = T.arange(-1.5, 3.5, 1.5).requires_grad_()
        y = x.prod(dim=0, keepdim=True)
        (g,) = T.autograd.grad(y, x, T.tensor([-2.75]), create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        m = T.tensor([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]], dtype=T.float64, requires_grad=True)
        (h,) = T.autograd.grad(m.prod(), m, create_graph=True)
        (hh,) = T.autograd.grad((h * T.arange(6.0, dtype=T.float64).reshape(2, 3)).sum(), m)
        return g, gg, h, hh
    same_program(program)


def test_cumsum_with_a_dtype_keeps_the_history():
    def program(T):
        x = T.tensor([-3.0, -0.25], requires_grad=True)
        y = T.cumsum(x.expand_as(x), dim=0, dtype=T.float64)
        y.sum().backward()
        return y.detach(), y.requires_grad, x.grad
    same_program(program)


def test_a_leaf_detached_in_place_collects_no_gradient():
    def program(T):
        x = T.tensor([1.5, 0.25, -1.25], requires_grad=True)
        v = x.unflatten(0, (3, 1))[1:]
        x.detach_()
        (v * v).sum().backward()
        return x.grad, x.requires_grad
    same_program(program)


@pytest.mark.parametrize("create_graph", [False, True])
def test_autograd_grad_reads_a_non_leaf_input_before_its_hooks(create_graph):
    def program(T):
        x = T.ones(2, 1, dtype=T.float64, requires_grad=True)
        y = x.asinh()
        y.register_hook(lambda g: g + 1)
        gy, gx = T.autograd.grad(y, [y, x], grad_outputs=T.tensor([[2.75], [-0.5]], dtype=T.float64),
                                 create_graph=create_graph)
        z = y * 2  # z's node only feeds y: its hook runs before the capture
        z.register_hook(lambda g: g * 10)
        (gz,) = T.autograd.grad(z, z, T.ones(2, 1, dtype=T.float64))
        return gy.detach(), gx.detach(), gz
    same_program(program)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_writes_of_a_grad_requiring_value_into_integer_tensors(dtype):
    """torch tracks fill_-like writes (fill_, a 0-d value spread over a region, in-place comparisons)
    into any dtype, but copy_-like ones (copy_, a value of the region's own shape) only into floats."""
    def program(T):
        s = T.tensor(2.0, requires_grad=True) * 1
        d = getattr(T, dtype)
        rows = T.zeros(2, 3, dtype=d)
        rows[1] = s
        element = T.zeros(3, dtype=d)
        element[-3] = s
        filled = T.zeros(3, dtype=d).fill_(s)
        copied = T.zeros(3, dtype=d)
        copied.copy_(s.expand(3))
        out = [rows, element, filled, copied]
        if dtype != "bool":
            compared = T.zeros(2, dtype=d)
            compared.ge_(T.tensor([1.5, -1.0], requires_grad=True))
            out.append(compared)
        return out
    same_program(program)


@pytest.mark.parametrize("act", ["relu", "relu6", "hardtanh", "threshold", "hardshrink", "softshrink", "leaky_relu"])
def test_double_backward_of_piecewise_activations_requires_grad(act):
    def program(T):
        F = T.nn.functional
        x = T.tensor([-1.0, 0.25, 2.0], dtype=T.float64, requires_grad=True)
        f = {"relu": F.relu, "relu6": F.relu6, "hardtanh": F.hardtanh, "hardshrink": F.hardshrink,
             "softshrink": F.softshrink, "leaky_relu": F.leaky_relu,
             "threshold": lambda t: F.threshold(t, 0.1, 0.0)}[act]
        (g,) = T.autograd.grad(f(x), x, T.ones(3, dtype=T.float64), create_graph=True)
        (gg,) = T.autograd.grad(g.sum(), x)
        return g, gg
    same_program(program)


def test_elementwise_losses_broadcast_before_promoting():
    def program(T):
        F = T.nn.functional
        x = T.tensor([-1.25], requires_grad=True)
        target = T.tensor(-1.75, dtype=T.float64)
        return [F.mse_loss(x, target), F.l1_loss(x, target), F.smooth_l1_loss(x, target),
                T.logaddexp(T.tensor([1, 2]), T.tensor(-2.5, dtype=T.float64)),
                T.broadcast_tensors(T.ones(2, 1), T.zeros(3))]
    with pytest.warns(UserWarning):
        same_program(program)


@pytest.mark.parametrize("op", ["log_softmax", "softmax", "cumsum"])
def test_lane_ops_over_an_empty_dim_beside_a_huge_one_return_at_once(op):
    # 2**40 lanes of length 0 used to be walked one by one (the fuzzer's hang, seed 13362)
    def program(T):
        v = T.transpose(T.eye(2**40, 0, dtype=T.float64), -2, 1)
        return getattr(T, op)(v, -2).shape
    same_program(program)


def test_batched_matmul_gradients_with_an_empty_result_never_reach_blas():
    # The empty (5, 2, 0) result has no BLAS layout: the call used to pass an unset transpose flag,
    # and OpenBLAS printed "On entry to SGEMM parameter number 1 had an illegal value".
    import os
    import subprocess
    import sys
    code = ("import tapegrad as T\n"
            "a = T.ones(5, 3, 2, requires_grad=True); b = T.zeros(5, 2, 0, requires_grad=True)\n"
            "T.bmm(a, b).backward(T.zeros(5, 3, 0))\n"
            "print(tuple(a.grad.shape), tuple(b.grad.shape), tuple((a.transpose(1, 2) @ T.zeros(5, 3, 0)).shape))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.strip() == "(5, 3, 2) (5, 2, 0) (5, 2, 0)"


@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("int64", "int64"), ("bool", "bool"), ("float32", "float32")])
def test_huber_loss_of_integer_inputs(dtypes):
    def program(T):
        x = T.tensor([[0.5, -0.2], [1.0, 2.0]]).to(getattr(T, dtypes[0]))
        y = T.tensor([1.0, -1.75]).to(getattr(T, dtypes[1]))
        return T.nn.functional.huber_loss(x, y), T.nn.functional.huber_loss(x, y, reduction="none")
    with pytest.warns(UserWarning):
        same_program(program, message=True)


@pytest.mark.parametrize("args", ["none", "tensor_none", "string"])
def test_broadcast_tensors_refuses_non_tensors(args):
    def program(T):
        picked = {"none": (None,), "tensor_none": (T.ones(2), None), "string": ("a",)}[args]
        return T.broadcast_tensors(*picked)
    same_program(program, message=True)

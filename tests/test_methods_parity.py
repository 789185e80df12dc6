"""API surface torch programs use (in-place forms, rounding division, nansum, tensor clamp bounds,
Tensor.type, keyword sizes, addmm's beta/alpha, ...), each run through tapegrad and torch.

A program returns what to compare: tensors are compared on shape, dtype, values, requires_grad and
grad_fn name; when torch raises, tapegrad must raise the same exception type with the same message.
"""
import pytest

from conftest import same_program


def same(program, message=True):
    """program(T) gives the same results in both libraries, or raises the same error (and message)."""
    same_program(program, message=message, quiet=True)


# --- nansum ---

@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": (0, 1)},
                                    {"dtype": "float64"}, {"dim": -1, "dtype": "float64"}])
@pytest.mark.parametrize("form", ["fn", "method"])
def test_nansum_values_and_grad(kwargs, form):
    def program(T):
        kw = {k: getattr(T, v) if k == "dtype" else v for k, v in kwargs.items()}
        x = T.tensor([[1.0, float("nan"), 3.0], [float("nan"), -2.0, 0.5]], requires_grad=True)
        y = T.nansum(x, **kw) if form == "fn" else x.nansum(**kw)
        y.sum().backward()
        return y, x.grad
    same(program)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_nansum_of_integers_is_a_sum(dtype):
    same(lambda T: (T.tensor([[1, 0], [3, 1]], dtype=getattr(T, dtype)).nansum(),
                    T.nansum(T.tensor([[1, 0], [3, 1]], dtype=getattr(T, dtype)), 1, dtype=T.float32)))


# --- unary in-place forms ---

@pytest.mark.parametrize("op", ["sign_", "erf_", "log1p_", "negative_"])
def test_unary_inplace(op):
    def program(T):
        a = T.tensor([-0.5, 0.0, 2.0], requires_grad=True)
        x = a * 1
        getattr(x, op)()
        x.sum().backward()
        i = T.tensor([-2, 0, 3])
        return x, a.grad, getattr(T.tensor([-0.5, 0.0, 2.0], dtype=T.float64), op)()
    same(program)


@pytest.mark.parametrize("op", ["erf_", "log1p_"])
def test_float_unary_inplace_into_integers_is_refused(op):
    same(lambda T: getattr(T.tensor([1, 2]), op)())


def test_unary_inplace_on_integers():
    same(lambda T: (T.tensor([-2, 0, 3]).sign_(), T.tensor([-2, 0, 3]).negative_(), T.tensor([1, 2]).negative()))


def test_negative_function_and_method():
    def program(T):
        a = T.tensor([1.5, -2.0], requires_grad=True)
        y = T.negative(a) + a.negative()
        y.sum().backward()
        return y, a.grad
    same(program)


def test_cumsum_inplace():
    def program(T):
        a = T.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        x = a * 2
        x.cumsum_(1)
        (x * T.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
        return x, a.grad, T.tensor([1, 2, 3]).cumsum_(0), T.tensor([1.0, 2.0]).cumsum_(-1)
    same(program)


def test_arctan2_and_clip_inplace():
    def program(T):
        a = T.tensor([1.0, -2.0, 0.5], requires_grad=True)
        x = a * 1
        x.arctan2_(T.tensor([2.0, 1.0, -1.0]))
        y = a * 1
        y.clip_(-1.0, 0.75)
        (x + y).sum().backward()
        return x, y, a.grad
    same(program)


# --- comparison, logical and bitwise in-place forms ---

@pytest.mark.parametrize("op", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_comparison_inplace(op, dtype):
    def program(T):
        x = T.tensor([0, 1, 2], dtype=getattr(T, dtype))
        y = T.tensor([1, 1, 0], dtype=getattr(T, dtype))
        return getattr(x.clone(), op)(y), getattr(x.clone(), op)(1), getattr(x.clone(), op)(T.tensor(1.5))
    same(program)


def test_comparison_inplace_refusals():
    same(lambda T: T.tensor([1.0, 2.0]).eq_(T.ones(2, 2)))
    same(lambda T: T.tensor([1.0, 2.0], requires_grad=True).lt_(1.0))
    same(lambda T: T.tensor([1.0, 2.0]).eq_(None), message=False)


def test_comparison_inplace_on_a_graph():
    def program(T):
        a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = a * 1
        x.ge_(2.0)
        (x * a).sum().backward()
        return x.detach(), a.grad
    same(program)


@pytest.mark.parametrize("op", ["logical_and_", "logical_or_", "logical_xor_"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_logical_inplace(op, dtype):
    def program(T):
        x = T.tensor([0, 1, 2, 0], dtype=getattr(T, dtype))
        y = T.tensor([1, 1, 0, 0], dtype=getattr(T, dtype))
        return getattr(x, op)(y), getattr(T.tensor([0.0, 2.0]), op)(T.tensor([True, True]))
    same(program)


def test_logical_not_inplace():
    same(lambda T: (T.tensor([0.0, 2.0]).logical_not_(), T.tensor([0, 3]).logical_not_(),
                    T.tensor([True, False]).logical_not_()))


@pytest.mark.parametrize("op", ["&=", "|=", "^="])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_bitwise_augmented_assignment_is_in_place(op, dtype):
    def program(T):
        x = T.tensor([0, 1, 3, 6], dtype=getattr(T, dtype))
        alias = x[1:]
        y = T.tensor([1, 1, 2, 5], dtype=getattr(T, dtype))
        before = id(x)
        exec(f"x {op} y")  # noqa: S102 - the augmented assignment under test
        return x, alias, id(x) == before
    same(program)


def test_bitwise_augmented_assignment_with_a_name():
    def program(T):
        x = T.tensor([0, 1, 3, 6])
        alias = x[:2]
        x &= 5
        x |= T.tensor(8)
        x ^= 1
        b = T.tensor([True, False])
        view = b[:]
        b &= True
        return x, alias, b, view
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.tensor([True, False]).bitwise_and_(T.tensor([1, 2])),
    lambda T: T.tensor([1, 2]).bitwise_or_(1.5),
    lambda T: T.tensor([1.0, 2.0]).bitwise_xor_(1),
    lambda T: T.tensor([True, False]).bitwise_and_(1),
], ids=["int-into-bool", "float-number", "float-self", "int-number-into-bool"])
def test_bitwise_inplace_refusals(program):
    same(program)


def test_bitwise_augmented_assignment_refusals():
    def bad(T):
        x = T.tensor([1, 2])
        x &= None
    same(bad)

    def float_number(T):
        x = T.tensor([1, 2])
        x |= 1.5
    same(float_number)


def test_bitwise_inplace_methods():
    same(lambda T: (T.tensor([3, 5]).bitwise_and_(T.tensor([1, 4])), T.tensor([3, 5]).bitwise_or_(2),
                    T.tensor([3, 5]).bitwise_xor_(T.tensor(1)), T.tensor([3, -5]).bitwise_not_(),
                    T.tensor([True, False]).bitwise_not_()))


# --- Tensor.type ---

@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_type_name(dtype):
    same(lambda T: T.zeros(2, dtype=getattr(T, dtype)).type())


def test_type_conversion():
    def program(T):
        x = T.tensor([1.5, -2.0], requires_grad=True)
        same_dtype = x.type(T.float32)
        return (x.type(T.int64), x.type("torch.DoubleTensor"), x.type("torch.LongTensor"), x.type(T.float64),
                same_dtype is x)
    same(program)


@pytest.mark.parametrize("arg", ["'torch.long'", "'float'", "5"])
def test_type_refusals(arg):
    same(lambda T: T.zeros(2).type(eval(arg)))  # noqa: S307 - literal arguments only


# --- copy_ and fill_ ---

@pytest.mark.parametrize("value", [-1, 2.5, True, 7])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_copy_from_a_number(value, dtype):
    def program(T):
        x = T.zeros(3, dtype=getattr(T, dtype))
        return x.copy_(value)
    same(program)


def test_copy_from_a_number_into_a_graph():
    def program(T):
        a = T.ones(3, requires_grad=True)
        x = a * 2
        x.copy_(4.0)
        (x * a).sum().backward()
        return x, a.grad
    same(program)


def test_copy_from_something_else_is_a_type_error():
    same(lambda T: T.zeros(3).copy_(None), message=False)
    same(lambda T: T.zeros(3).copy_("a"), message=False)


@pytest.mark.parametrize("dst", ["int64", "int32", "bool"])
def test_fill_from_a_tensor_that_requires_grad_into_integers(dst):
    def program(T):
        i = T.zeros(3, dtype=getattr(T, dst))
        s = T.ones(3, requires_grad=True)
        return i.fill_(s[0] * 2)
    same(program)


# --- division with rounding_mode ---

@pytest.mark.parametrize("mode", [None, "trunc", "floor"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_div_rounding_mode_forms(mode, dtype):
    def program(T):
        a = T.tensor([7, -7, 5, -5, 0, 9], dtype=getattr(T, dtype))
        b = T.tensor([2, 2, -3, -3, 4, 3], dtype=getattr(T, dtype))
        out = [T.div(a, b, rounding_mode=mode), a.div(b, rounding_mode=mode), a.div(2, rounding_mode=mode),
               T.divide(a, b, rounding_mode=mode), a.divide(-3, rounding_mode=mode), T.true_divide(a, b),
               a.true_divide(4), T.div(a, 2.5, rounding_mode=mode), T.div(11, b, rounding_mode=mode)]
        if mode or dtype.startswith("float"):
            out.append(a.clone().div_(b, rounding_mode=mode))
            out.append(a.clone().divide_(3, rounding_mode=mode))
        return out
    same(program)


def test_true_divide_inplace():
    same(lambda T: (T.tensor([1.0, 3.0]).true_divide_(2), T.tensor([3, 4]).true_divide_(2)))


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_div_rounding_mode_gradient(mode):
    def program(T):
        a = T.tensor([7.0, -7.0, 2.5], requires_grad=True)
        b = T.tensor([2.0, 2.0, -0.5], requires_grad=True)
        out = T.div(a, b, rounding_mode=mode) + a.div(3, rounding_mode=mode) + T.div(a, b)
        out.sum().backward()
        return out, a.grad, b.grad
    same(program)


def test_div_rounding_mode_float_edges():
    same(lambda T: [T.div(T.tensor([1.0, -1.0, 0.0, float("inf"), float("nan")]), 0.0, rounding_mode=m)
                    for m in ("trunc", "floor")])


@pytest.mark.parametrize("program", [
    lambda T: T.div(T.tensor([1.0, 2.0]), 2, rounding_mode="foo"),
    lambda T: T.tensor([1.0]).div_(2, rounding_mode="round"),
    lambda T: T.tensor([1, 2]).div(0, rounding_mode="floor"),
    lambda T: T.tensor([1, 2]).div(T.tensor([0, 1]), rounding_mode="trunc"),
    lambda T: T.tensor([True]).div(T.tensor([True]), rounding_mode="floor"),
    lambda T: T.tensor([True]).div(True, rounding_mode="trunc"),
    lambda T: T.tensor([1, 2]).div_(2),
], ids=["bad-mode", "bad-mode-inplace", "int-zero", "int-zero-tensor", "bool-floor", "bool-trunc", "int-true-inplace"])
def test_div_rounding_mode_refusals(program):
    same(program)


def test_div_rounding_mode_must_be_a_string():
    same(lambda T: T.div(T.tensor([1.0]), 2, rounding_mode=3), message=False)


# --- creation with size= ---

@pytest.mark.parametrize("fn", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_keyword(fn):
    def program(T):
        outs = [getattr(T, fn)(size=(2, 3)), getattr(T, fn)((2, 3)), getattr(T, fn)(size=[4], dtype=T.float64),
                getattr(T, fn)(size=())]
        return [(tuple(o.shape), o.dtype) for o in outs]
    same(program)


@pytest.mark.parametrize("fn", ["zeros", "ones", "rand"])
def test_size_keyword_refusals(fn):
    same(lambda T: getattr(T, fn)(2, size=(2,)), message=fn != "rand")
    same(lambda T: getattr(T, fn)(size=3), message=False)


def test_full_with_keywords():
    same(lambda T: (T.full(size=(2,), fill_value=3), T.full((2, 1), 1.5)))


# --- addmm's beta and alpha ---

@pytest.mark.parametrize("beta,alpha", [(1, 1), (0, 1), (0.5, 2), (2, -1), (0, 0.5)])
def test_addmm_beta_alpha(beta, alpha):
    def program(T):
        bias = T.tensor([1.0, float("nan")], requires_grad=True) if beta == 0 else T.tensor([1.0, -2.0], requires_grad=True)
        a = T.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]], requires_grad=True)
        b = T.tensor([[2.0, 0.0], [1.0, -1.0]], requires_grad=True)
        out = T.addmm(bias, a, b, beta=beta, alpha=alpha)
        m = bias.addmm(a[:2], b, beta=beta, alpha=alpha)
        (out.sum() + m.sum()).backward()
        return out, m, bias.grad, a.grad, b.grad
    same(program)


def test_addmm_integers_take_integer_scalars():
    same(lambda T: T.addmm(T.ones(2, dtype=T.int64), T.ones(2, 2, dtype=T.int64), T.ones(2, 2, dtype=T.int64),
                           beta=2, alpha=3))


# --- clamp with tensor bounds ---

def test_clamp_tensor_bounds_values_and_grads():
    def program(T):
        x = T.tensor([1.0, 2.0, 3.0, float("nan"), 2.0], requires_grad=True)
        lo = T.tensor([2.0, 2.0, 2.0, 2.0, 2.0], requires_grad=True)
        hi = T.tensor([1.0, 3.0, 2.5, 5.0, 2.0], requires_grad=True)
        y = T.clamp(x, lo, hi)
        y.sum().backward()
        return y, x.grad, lo.grad, hi.grad
    same(program)


@pytest.mark.parametrize("which", ["min", "max"])
def test_clamp_one_tensor_bound(which):
    def program(T):
        x = T.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
        bound = T.tensor([[2.0], [2.5]], requires_grad=True)
        y = x.clamp(**{which: bound})
        z = getattr(T, f"clamp_{which}")(x, bound) + getattr(x, f"clamp_{which}")(bound)
        (y.sum() + z.sum()).backward()
        return y, z.detach(), x.grad, bound.grad
    same(program)


def test_clamp_mixed_number_and_tensor_bounds():
    same(lambda T: (T.clamp(T.tensor([1.0, 2.0, 3.0]), min=T.tensor(1.5), max=2.0),
                    T.clip(T.tensor([1.0, 2.0, 3.0]), min=1.5, max=T.tensor(2.0)),
                    T.clamp(T.tensor([1, 2, 3]), T.tensor(1.5)),
                    T.clamp(T.tensor([1, 2, 3]), T.tensor([1, 1, 1], dtype=T.int32)),
                    T.clamp(T.tensor([1.0, 2.0, 3.0]), T.tensor(float("nan")))))


def test_clamp_tensor_bounds_inplace():
    def program(T):
        a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        lo = T.tensor([1.5, 1.5, 1.5], requires_grad=True)
        x = a * 1
        x.clamp_(lo, T.tensor(2.5))
        y = a * 1
        y.clip_(max=T.tensor([2.0, 2.0, 2.0]))
        z = a * 1
        z.clamp_min_(lo)
        (x + y + z).sum().backward()
        return x, y, z, a.grad, lo.grad
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.tensor([1, 2, 3]).clamp_(T.tensor([1.5, 1.0, 1.0])),
    lambda T: T.tensor([1.0, 2.0, 3.0]).clamp_(T.zeros(2, 3)),
    lambda T: T.clamp(T.tensor([1.0]), None, None),
], ids=["float-into-int", "broadcast-self", "no-bound"])
def test_clamp_tensor_bound_refusals(program):
    same(program)


def test_clamp_tensor_bounds_broadcast():
    same(lambda T: T.clamp(T.tensor([1.0, 2.0, 3.0]), T.zeros(2, 3)))


# --- matrix transposes and movedim on small ranks ---

@pytest.mark.parametrize("attr", ["mT", "mH", "H"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4)])
def test_matrix_transposes(attr, shape):
    def program(T):
        x = T.ones(*shape, requires_grad=True)
        y = getattr(x, attr)
        return y, y is x
    same(program)


@pytest.mark.parametrize("src,dst", [(0, -1), (-1, 0), ([0], [0]), (1, 0), (0, -2)])
def test_movedim_on_a_0d_tensor(src, dst):
    def program(T):
        x = T.tensor(3.0, requires_grad=True)
        return T.movedim(x, src, dst), x.movedim(src, dst)
    same(program)


# --- findings of the differential fuzzer ---

def test_logical_inplace_is_outside_autograd():
    def program(T):
        leaf = T.tensor([-2.0, 0.0, 1.5], requires_grad=True)
        leaf.logical_not_()
        a = T.tensor([1.0, 2.0], requires_grad=True)
        x = a * 1
        x.logical_and_(T.tensor([True, False]))
        return leaf, x, leaf.is_leaf
    same(program)


@pytest.mark.parametrize("op", ["bitwise_or_", "bitwise_and_", "eq_", "ge_"])
def test_inplace_into_a_leaf_that_requires_grad_refused_first(op):
    same(lambda T: getattr(T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True), op)(T.ones(2, dtype=T.float64)))


def test_comparison_inplace_with_an_operand_that_requires_grad():
    def program(T):
        with T.no_grad():
            x = T.ones(2, 2)
        other = T.tensor(2.0, requires_grad=True)
        x.ge_(other)
        y = T.ones(2)
        y.lt_(T.tensor([1.5, 0.5], requires_grad=True))
        return x, y
    same(program)


def test_cumsum_inplace_dtypes():
    same(lambda T: T.zeros((0, 1), dtype=T.bool).cumsum_(0))
    same(lambda T: T.ones(2, dtype=T.bool).cumsum_(0))
    same(lambda T: T.ones(2, dtype=T.int64).cumsum_(0, dtype=T.float32))


def test_cumsum_to_another_float_type_keeps_history():
    def program(T):
        a = T.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = a.cumsum(0, dtype=T.float64)
        y.sum().backward()
        return y.requires_grad, y.dtype, a.grad
    same(program)


@pytest.mark.parametrize("make", [lambda x: x.repeat(1), lambda x: x.tile((1,)), lambda x: x.repeat_interleave(1),
                                  lambda x: x.repeat_interleave(1, dim=0)],
                         ids=["repeat", "tile", "repeat_interleave", "repeat_interleave_dim"])
def test_repeating_once_is_a_copy(make):
    def program(T):
        x = T.arange(4.0)
        y = make(x)
        y[0] = 100.0
        return x, y
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.tensor([True, False]).clamp(True, False),
    lambda T: T.tensor([True, False]).clamp_max(True),
    lambda T: T.tensor([True, False]).clamp_(True),
    lambda T: T.clamp(T.tensor([True, False]), 0, 1),
    lambda T: T.clamp(T.tensor([True, False]), max=T.tensor([True, True])),
], ids=["both", "max", "inplace-min", "int-bounds", "tensor-bound"])
def test_clamp_of_bools(program):
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.bitwise_not(T.tensor([1.0])),
    lambda T: T.tensor([1.0]).bitwise_not(),
    lambda T: ~T.tensor([1.0]),
    lambda T: T.tensor([1.0]) | T.tensor([1]),
    lambda T: T.tensor([1]) | 1.5,
    lambda T: T.tensor([1, 2]).bitwise_and(1.5),
    lambda T: T.logaddexp(T.tensor([1, 2]), T.tensor([1, 2])),
    lambda T: T.logaddexp(T.tensor([1, 2], dtype=T.int32), T.tensor([1.0, 2.0], dtype=T.float64)),
    lambda T: T.trace(T.ones(2, 2, dtype=T.bool)),
    lambda T: T.trace(T.ones(2, dtype=T.bool)),
    lambda T: T.lerp(T.ones(2, dtype=T.int64), T.ones(2), 0.5),
    lambda T: T.lerp(T.ones(2, dtype=T.int64), T.ones(2, dtype=T.int64), 0.5),
    lambda T: T.lerp(T.ones(2), T.ones(2), T.ones(2, dtype=T.float64)),
], ids=["bitwise_not-fn", "bitwise_not-method", "invert", "or-float", "or-float-number", "and-float-number",
        "logaddexp-int", "logaddexp-mixed", "trace-bool", "trace-bool-1d", "lerp-end-dtype", "lerp-int",
        "lerp-weight-dtype"])
def test_dtype_refusals(program):
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.equal(T.ones(2), 5),
    lambda T: T.ones(2).equal(None),
    lambda T: T.hstack(T.ones(2)),
    lambda T: T.hstack([T.ones(2), 3]),
    lambda T: T.vstack(5),
    lambda T: T.atleast_2d([1]),
    lambda T: T.atleast_2d(T.ones(2), 5),
    lambda T: T.count_nonzero(5),
    lambda T: T.broadcast_to(T.ones(2), 5),
    lambda T: T.broadcast_to(T.ones(2), (2.5,)),
    lambda T: T.isclose(T.ones(2), 1),
    lambda T: T.tile(T.ones(2), None),
], ids=["equal", "equal-method", "hstack", "hstack-element", "vstack", "atleast_2d-list", "atleast_2d-args",
        "count_nonzero", "broadcast_to-int", "broadcast_to-float", "isclose", "tile"])
def test_composite_argument_types(program):
    same(program)


def test_composite_argument_type_without_exact_wording():
    same(lambda T: T.atleast_2d(5), message=False)
    same(lambda T: T.movedim(T.ones(2), 0.5, 0), message=False)
    same(lambda T: T.count_nonzero(T.ones(2), 1.5), message=False)


@pytest.mark.parametrize("data", ["[1.0, 'a']", "[[1.0], 'a']", "[[1.0, 2.0], 'ab']", "['a']", "['ab', [1.0, 2.0]]", "'a'"])
def test_tensor_from_data_with_a_string(data):
    same(lambda T: T.tensor(eval(data)))  # noqa: S307 - literal data only


@pytest.mark.parametrize("program", [
    lambda T: T.nn.functional.pad(5, (1, 1)),
    lambda T: T.nn.functional.pad(T.ones(2), 1),
    lambda T: T.nn.functional.pad(T.ones(2), (1.5, 1)),
    lambda T: T.nn.functional.pad(T.tensor(True), (1, 1), mode="reflect"),
    lambda T: T.nn.functional.pad(T.ones(2, 3), (1, 1, 1, 1, 1, 1), value=2.0),
    lambda T: T.nn.functional.one_hot(5, 3),
    lambda T: T.nn.functional.one_hot(T.tensor([1]), 2.5),
    lambda T: T.nn.functional.linear(T.ones(2), 3.5),
    lambda T: T.nn.functional.linear(3, T.ones(2, 2)),
    lambda T: T.nn.functional.relu([1.0]),
], ids=["pad-input", "pad-int", "pad-float", "pad-0d", "pad-too-long", "one_hot-input", "one_hot-classes",
        "linear-weight", "linear-input", "relu-list"])
def test_functional_argument_refusals(program):
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.eq(T.ones(2), [1.0, 2.0]),
    lambda T: T.gt(T.ones(2), "x"),
    lambda T: T.ones(2).lt(None),
    lambda T: T.bitwise_xor(T.ones(2, dtype=T.int64), None),
    lambda T: T.ones(2).permute(),
], ids=["eq-list", "gt-str", "lt-none", "bitwise_xor-none", "permute-nothing"])
def test_argument_type_errors(program):
    same(program, message=False)


def test_operators_with_foreign_operands_still_defer():
    same(lambda T: (T.ones(2) == None, T.ones(2) != "x"))  # noqa: E711 - the comparison under test


@pytest.mark.parametrize("program", [
    lambda T: T.arange(3, dtype=T.bool),
    lambda T: T.arange(-2, 0, dtype=T.bool),
    lambda T: T.ones(1, 2).squeeze((0, -2)),
    lambda T: T.tensor(1.0).squeeze((0, 0)),
    lambda T: T.topk(T.tensor([True, False]), 1),
    lambda T: T.topk(T.tensor([True]), 5),
], ids=["arange-bool", "arange-bool-negative", "squeeze-repeated", "squeeze-0d-repeated", "topk-bool", "topk-k"])
def test_more_refusals(program):
    same(program)


@pytest.mark.parametrize("program", [
    lambda T: T.tensor([1, 2]).round(decimals=0),
    lambda T: T.round(T.tensor([1, 2]), decimals=0),
    lambda T: T.tensor([1, 2]).round_(decimals=0),
    lambda T: (T.tensor([1, 2]).round(), T.tensor([1, 2]).round_(), T.tensor([1.5, 2.25]).round(decimals=0),
               T.tensor([1.25, 2.0]).round_(decimals=1)),
    lambda T: T.clamp(T.tensor([True, False]), min=T.tensor([True]), max=T.tensor(False)),
], ids=["round-int-decimals", "round-fn-int-decimals", "round_-int-decimals", "round-ok", "clamp-bool-tensors"])
def test_round_decimals_and_bool_clamp(program):
    same(program)


def test_addcmul_of_bools():
    same(lambda T: T.addcmul(T.tensor([True]), T.tensor(False), T.tensor(True), value=2))
    same(lambda T: T.tensor([[True, False]]).addcmul_(T.tensor([True, True]), T.tensor([[False, True]])))
    same(lambda T: (T.addcmul(T.ones(2), T.tensor(False), T.tensor(True), value=2),
                    T.addcmul(T.tensor([True]), T.ones(2), T.ones(2))))


@pytest.mark.parametrize("weight", ["T.tensor(0.25)", "T.tensor(0.25, dtype=T.float64)", "T.tensor(1)",
                                    "T.tensor([0.25, 0.5])"])
def test_lerp_with_a_0d_weight_of_another_type(weight):
    def program(T):
        a = T.tensor([1.0, 2.0], dtype=T.float64, requires_grad=True)
        out = T.lerp(a, T.tensor([3.0, 5.0], dtype=T.float64), eval(weight))  # noqa: S307 - literal weights
        out.sum().backward()
        return out, a.grad
    same(program)


@pytest.mark.parametrize("dtype", ["bool", "int64"])
def test_bitwise_inplace_with_a_float_tensor_is_a_cast_error(dtype):
    same(lambda T: T.tensor([1, 0], dtype=getattr(T, dtype)).bitwise_or_(T.tensor([1.5, 2.0])))

    def iop(T):
        x = T.tensor([1, 0], dtype=getattr(T, dtype))
        x &= T.tensor([1.5, 2.0], dtype=T.float64)
    same(iop)

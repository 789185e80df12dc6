"""What the differential fuzzer found about autograd history (issue 12): which results carry history,
which views may take it after an in-place write, and what a backward formula depends on."""
import pytest

from conftest import same_program


def functional(T):
    return __import__(T.__name__ + ".nn.functional", fromlist=["F"])


@pytest.mark.parametrize("key", ["[:]", "[0::1]", "[-1::1]", "[-5:]", "[0:0]", "[1:]", "[0:-1]", "[None]",
                                 "[False:]", "[0:2:2]"])
@pytest.mark.parametrize("shape", [(0,), (3,), (2, 3), (0, 3)])
def test_slice_write_covers_everything_only_from_zero_to_the_end(shape, key):
    """torch skips a slice only when it runs from 0 to at least the end with step 1; any other slice
    is a real view and the write is CopySlices, even when it covers every element (x[-3:] of 3)."""
    def program(T):
        a = T.zeros(6, requires_grad=True)
        b = T.zeros(shape) + a.sum()
        exec(f"b{key} = 1.5", {"b": b})
        b.sum().backward()
        return b, a.grad
    same_program(program)


def test_empty_slice_write_keeps_the_history_before_it():
    """x[-1::1] = v on an empty x is a CopySlices, so the gradient still reaches what made x."""
    def program(T):
        v1 = T.tensor([-2.5, 2.75, -0.0], dtype=T.float64, requires_grad=True)
        v4 = T.cumsum(v1, 0).matmul(T.zeros((3, 0), dtype=T.float64))
        v4[-1::1] = -1.5
        loss = functional(T).soft_margin_loss(v4, T.tensor(1.0, dtype=T.float64))
        return T.autograd.grad(loss.sum(), [v1], create_graph=True)
    same_program(program, quiet=True)


@pytest.mark.parametrize("mode,pad", [("replicate", (1, 1)), ("reflect", (1, 1)), ("replicate", (2, 2, 1, 0)),
                                      ("reflect", (1, 0, 1, 1))])
@pytest.mark.parametrize("input_grad", [False, True])
def test_padding_gradient_depends_on_the_input_under_create_graph(mode, pad, input_grad):
    """torch's pad backward reads its input (a zero gradient to it), so under create_graph the gradient
    requires grad whenever the input does, and its own gradient reaches a seed that requires grad."""
    def program(T):
        x = T.tensor([[[1.75, -1.0, 0.5], [-1.75, 2.0, 3.0]], [[2.5, 0.25, -2.0], [1.0, -0.5, 4.0]]],
                     dtype=T.float64, requires_grad=True)
        y = functional(T).pad(x, pad, mode=mode)
        seed = T.arange(float(y.numel()), dtype=T.float64).reshape(y.shape).requires_grad_(input_grad)
        g, = T.autograd.grad(y, x, seed, create_graph=True)
        outs = [g, g.requires_grad]
        if input_grad:
            outs.append(T.autograd.grad((g * g).sum(), seed)[0])
        return outs
    same_program(program)


def test_padding_gradient_refuses_an_input_written_after_the_pad():
    """torch saves the input of a reflect/replicate pad: writing it afterwards breaks backward."""
    def program(T):
        x = T.ones(1, 2, 3, requires_grad=True)
        y = functional(T).pad(x, (1, 1), mode="replicate")
        with T.no_grad():
            x.mul_(2)
        y.sum().backward()
    same_program(program, message=True)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("values", [[3.0, float("inf"), 0.0, -1.0], [3.0, float("inf"), 2.0, -1.0]])
def test_product_along_a_dim_of_one_passes_the_gradient_as_it_is(keepdim, values):
    """With a zero in the input torch's safe path returns the gradient itself along a dim of size 1
    (no history from x under create_graph); without one it is g * prod / x (NaN at inf)."""
    def program(T):
        x = T.tensor([values], requires_grad=True)
        p = x.prod(0, keepdim=keepdim, dtype=T.float32)
        g, = T.autograd.grad(T.frac(p).sum(), x, create_graph=True)
        return g, g.requires_grad
    same_program(program)


@pytest.mark.parametrize("made", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("written", ["grad", "no_grad"])
@pytest.mark.parametrize("read", ["add", "grad_fn", "is_leaf", "requires_grad", "grad_fn_no_grad"])
def test_view_made_without_grad_refuses_history_after_its_base_is_written(made, written, read):
    """torch's handle_view_on_rebase, indirect: the next read of such a view's history raises."""
    def program(T):
        base = T.ones(3, requires_grad=True).clone()
        with getattr(T, made)():
            view = base[1:]
        if written == "grad":
            base.mul_(2)
        else:
            with T.no_grad():
                base.mul_(2)
        if read == "add":
            return view + 1
        if read == "grad_fn_no_grad":
            with T.no_grad():
                return view.grad_fn is None
        return getattr(view, read) if read != "grad_fn" else view.grad_fn is None
    same_program(program, message=True)


@pytest.mark.parametrize("source", ["p = a.split(2)[0]", "p = a.unbind()[0]"])
def test_multi_view_output_refuses_history_after_its_base_is_written(source):
    def program(T):
        a = T.ones(4, requires_grad=True).clone()
        ns = {"a": a}
        exec(source, ns)
        a.mul_(2)
        return ns["p"] + 1
    same_program(program, message=True)


def test_view_of_a_no_grad_view_names_its_node_when_its_base_is_written():
    def program(T):
        a = T.ones(4, requires_grad=True).clone()
        with T.no_grad():
            p = a[1:]
        q = p[1:]
        a.mul_(2)
        return q + 1
    same_program(program, message=True)


def test_detached_base_leaves_a_no_grad_view_without_requires_grad():
    """The fuzzer's program: after the base is detached, a view made under no_grad requires no grad."""
    def program(T):
        v0 = T.tensor(-1.0, requires_grad=True)
        v2 = T.cat([T.tensor([[0.0]]), T.vstack([v0, T.tensor(1.25)])], dim=-2)
        with T.no_grad():
            v9 = v2.squeeze((0,))
        v2.clamp_min_(-1.25)
        v2.detach_()
        return v9.requires_grad, v9
    same_program(program)


@pytest.mark.parametrize("shape,dim", [((4,), 0), ((2, 3), 1), ((3, 1), 1), ((1,), 0), ((), 0)])
def test_cumsum_gradients_are_named_as_torchs_flips(shape, dim):
    """torch's cumsum_backward is flip(cumsum(flip(g))) (FlipBackward0 at every order), and passes a
    gradient of one element, or along a dim of one, as it is."""
    def program(T):
        x = T.arange(1.0, 1.0 + max(1, len(shape) and __import__("math").prod(shape)))
        x = x.reshape(shape).requires_grad_()
        seed = T.ones(shape).requires_grad_()
        g, = T.autograd.grad(T.cumsum(x, dim), x, seed, create_graph=True)
        gg, = T.autograd.grad((g * g).sum(), seed, create_graph=True)
        return g, gg
    same_program(program)


@pytest.mark.parametrize("call", ["F.mish(v, inplace=True)", "F.silu(v, inplace=True)",
                                  "F.hardtanh(v, -1.0, 0.5, inplace=True)", "F.relu6(v, inplace=True)",
                                  "F.hardsigmoid(v, inplace=True)", "F.hardswish(v, inplace=True)"])
@pytest.mark.parametrize("through", ["tensor", "view"])
def test_inplace_activations_record_their_own_node(call, through):
    """torch's in-place activations write with their own node (MishBackward0 ...), not a copy: a zero
    gradient keeps its sign through it (no +0 from a copy's zero gradient to the overwritten input)."""
    def program(T):
        x = T.tensor([-2.75, 1.25, 0.0, 3.5], requires_grad=True)
        base = x.clone()
        v = base if through == "tensor" else base[1:]
        out = eval(call, {"F": functional(T), "v": v})
        base.relu_()
        base.backward(T.tensor([1.25, 0.25, -0.5, 2.0]))
        return out is v, out, 1 / x.grad, out.grad_fn.name(), base.grad_fn.next_functions[0][0].name()
    same_program(program)


@pytest.mark.parametrize("call", ["F.leaky_relu(v, 0.2, inplace=True)", "F.elu(v, inplace=True)",
                                  "F.threshold(v, 0.1, 20.0, inplace=True)"])
@pytest.mark.parametrize("through", ["tensor", "view"])
def test_inplace_activations_reading_their_result_give_torchs_gradients(call, through):
    """(torch names these nodes ...Backward1, checks the written result's version and computes elu's
    gradient from the result; tapegrad keeps the input as it was: celu's gradient differs in float32
    rounding, 195.7535 vs 195.7525 at -2.75 with alpha 0.5.)"""
    def program(T):
        x = T.tensor([-2.75, 1.25, 0.0, 3.5], requires_grad=True)
        base = x.clone()
        v = base if through == "tensor" else base[1:]
        out = eval(call, {"F": functional(T), "v": v})
        (base * T.tensor([1.25, 0.25, -0.5, 2.0])).sum().backward()
        return out is v, out.detach(), 1 / x.grad
    same_program(program)


@pytest.mark.parametrize("call", ["F.mish(x, inplace=True)", "F.elu(x, inplace=True)", "F.hardtanh(x, inplace=True)"])
def test_inplace_activation_on_a_leaf_that_requires_grad_is_refused(call):
    same_program(lambda T: eval(call, {"F": functional(T), "x": T.ones(2, requires_grad=True)}), message=True)

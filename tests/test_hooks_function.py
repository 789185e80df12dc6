"""Parity with torch for gradient hooks, retain_grad, custom autograd.Function and anomaly detection."""
import warnings

import pytest
import tapegrad
import torch


def both(fn):
    return fn(tapegrad), fn(torch)


def test_tensor_hooks_replace_and_observe_gradients():
    def go(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        handle = x.register_hook(lambda g: g * 2)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: seen.append(g.tolist()))
        y.sum().backward()
        first = (x.grad.tolist(), y.grad.tolist(), seen)
        handle.remove()
        x.grad = None
        (x * x).sum().backward()
        return first, x.grad.tolist()

    ours, theirs = both(go)
    assert ours == theirs


def test_post_accumulate_and_node_hooks():
    def go(lib):
        calls = []
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
        (w * 3).sum().backward()
        a = lib.tensor([2.0], requires_grad=True)
        b = a * 5
        b.grad_fn.register_hook(lambda grad_inputs, grad_outputs: (grad_inputs[0] * 10, None))
        b.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] + 1,))
        b.sum().backward()
        return calls, a.grad.tolist()

    ours, theirs = both(go)
    assert ours == theirs


@pytest.mark.parametrize("case", ["no_grad_tensor", "non_leaf_post_accumulate"])
def test_hook_errors(case):
    def go(lib):
        try:
            if case == "no_grad_tensor":
                lib.tensor([1.0]).register_hook(lambda g: g)
            else:
                (lib.tensor([1.0], requires_grad=True) * 2).register_post_accumulate_grad_hook(lambda t: None)
        except RuntimeError as e:
            return str(e)
        return None

    ours, theirs = both(go)
    assert theirs is not None and ours == theirs


def _legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x**3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x**2 - 1)

    return LegendrePolynomial3


def test_custom_function_values_gradients_and_name():
    def go(lib):
        p3 = _legendre(lib)
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = p3.apply(x * 2)
        y.sum().backward()
        return y.grad_fn.name(), [round(v, 5) for v in y.tolist()], x.grad.tolist()

    ours, theirs = both(go)
    assert ours == theirs


def test_custom_function_trains_like_a_builtin():
    def go(lib):
        p3 = _legendre(lib)
        w = lib.tensor(0.3, requires_grad=True)
        xs = lib.tensor([0.1, 0.4, -0.3])
        for _ in range(5):
            loss = (p3.apply(w * xs) - xs).pow(2).sum()
            loss.backward()
            with lib.no_grad():
                w -= 0.1 * w.grad
                w.grad = None
        return round(w.item(), 6)

    ours, theirs = both(go)
    assert ours == theirs


def test_custom_function_non_tensor_argument_and_second_output():
    def go(lib):
        class MulConst(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, k):
                ctx.k = k
                return x * k, x.detach().argmax()

            @staticmethod
            def backward(ctx, g, _):
                return g * ctx.k, None

        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        a, idx = MulConst.apply(x, 3.0)
        a.sum().backward()
        return x.grad.tolist(), idx.item(), a.grad_fn.name()

    ours, theirs = both(go)
    assert ours == theirs


def test_custom_function_freed_graph_error():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = _legendre(lib).apply(x)
        y.sum().backward()
        try:
            y.sum().backward()
        except RuntimeError as e:
            return str(e)
        return None

    ours, theirs = both(go)
    assert theirs is not None and ours == theirs


def test_anomaly_detection_names_the_op_and_its_forward_call():
    def go(lib):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                y = lib.sqrt(x)  # d/dx sqrt at 0 is inf; times a zero gradient gives nan
                z = (y * 0).sum()
                try:
                    z.backward()
                    error = None
                except RuntimeError as e:
                    error = str(e)
        messages = [str(w.message) for w in caught]
        traced = any(m.startswith("Error detected in SqrtBackward0") and "lib.sqrt(x)" in m for m in messages)
        return error, traced, lib.autograd.is_anomaly_enabled() if hasattr(lib.autograd, "is_anomaly_enabled") else False

    ours, theirs = both(go)
    assert ours[0] == theirs[0] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert ours[1] and theirs[1]
    assert ours[2] is False


# ---- ctx.mark_dirty: a forward that writes an input in place ----

def _dirty_functions(lib):
    class Double(lib.autograd.Function):  # x.mul_(2), saving the written result
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    class ScaleBy(lib.autograd.Function):  # y.mul_(k) with a tensor k
        @staticmethod
        def forward(ctx, y, k):
            y.mul_(k)
            ctx.mark_dirty(y)
            ctx.save_for_backward(k)
            return y

        @staticmethod
        def backward(ctx, g):
            (k,) = ctx.saved_tensors
            return g * k, g.sum() * 0 + 3

    class KeepsCopy(lib.autograd.Function):  # marks an input it does not return
        @staticmethod
        def forward(ctx, x, y):
            y.add_(1)
            ctx.mark_dirty(y)
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g, None

    class TwoOut(lib.autograd.Function):  # writes y in place and returns a second tensor
        @staticmethod
        def forward(ctx, y):
            y.add_(1)
            ctx.mark_dirty(y)
            return y, y.clone()

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 + g2

    class MarksFresh(lib.autograd.Function):  # marks a tensor that is not an input
        @staticmethod
        def forward(ctx, x):
            t = x.clone()
            ctx.mark_dirty(t)
            return t

        @staticmethod
        def backward(ctx, g):
            return g

    return Double, ScaleBy, KeepsCopy, TwoOut, MarksFresh


def test_mark_dirty_continues_the_inputs_history():
    def go(lib):
        double = _dirty_functions(lib)[0]
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.clone()
        out = double.apply(b)
        out.sum().backward()
        return out is b, b._version, out.grad_fn.name(), b.tolist(), a.grad.tolist()

    ours, theirs = both(go)
    assert ours == theirs


def test_mark_dirty_on_a_view_rewrites_the_base_history():
    def go(lib):
        scale_by = _dirty_functions(lib)[1]
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        k = lib.tensor(3.0, requires_grad=True)
        base = a.clone()
        v = base[1:]
        out = scale_by.apply(v, k)
        (base * lib.tensor([1.0, 5.0])).sum().backward()
        names = [n.name() for n, _ in base.grad_fn.next_functions]
        return out is v, base.grad_fn.name(), names, v.grad_fn.name(), base.tolist(), a.grad.tolist(), k.grad.item()

    ours, theirs = both(go)
    assert ours == theirs


def test_mark_dirty_saved_output_is_version_checked():
    def go(lib):
        double = _dirty_functions(lib)[0]
        b = lib.tensor([1.0, 2.0], requires_grad=True).clone()
        out = double.apply(b)
        b.add_(1)
        with pytest.raises(RuntimeError) as info:
            out.sum().backward()
        return str(info.value)

    ours, theirs = both(go)
    assert ours == theirs


def test_mark_dirty_without_grad():
    def go(lib):
        double = _dirty_functions(lib)[0]
        c = lib.tensor([1.0, 2.0])
        plain = (double.apply(c) is c, c.tolist(), c._version)
        with lib.no_grad():
            d = lib.tensor([1.0, 2.0], requires_grad=True).clone()
            under_no_grad = (double.apply(d) is d, d.requires_grad, d.grad_fn)
        return plain, under_no_grad

    ours, theirs = both(go)
    assert ours == theirs


MARK_DIRTY_ERRORS = {
    "leaf": lambda lib, fs: fs[0].apply(lib.tensor([1.0, 2.0], requires_grad=True)),
    "view_of_leaf": lambda lib, fs: fs[1].apply(lib.tensor([1.0, 2.0], requires_grad=True)[1:], lib.tensor(2.0)),
    "not_returned": lambda lib, fs: fs[2].apply(lib.tensor([1.0], requires_grad=True), lib.tensor([1.0])),
    "view_with_two_outputs": lambda lib, fs: fs[3].apply(lib.tensor([1.0, 2.0], requires_grad=True).clone()[1:]),
}


@pytest.mark.parametrize("case", sorted(MARK_DIRTY_ERRORS))
def test_mark_dirty_errors(case):
    def go(lib):
        with pytest.raises(RuntimeError) as info:
            MARK_DIRTY_ERRORS[case](lib, _dirty_functions(lib))
        return str(info.value)

    ours, theirs = both(go)
    assert ours == theirs


def test_mark_dirty_on_a_non_input_warns():
    def go(lib):
        fresh = _dirty_functions(lib)[4]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning) as record:
            out = fresh.apply(x)
        out.sum().backward()
        return str(record[0].message).split(" (Triggered")[0], x.grad.tolist()

    ours, theirs = both(go)
    assert ours == theirs

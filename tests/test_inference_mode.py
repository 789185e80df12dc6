"""torch.inference_mode parity: results carry no history, inference tensors are refused by autograd."""
import pytest
import tapegrad
import torch


def both(fn):
    return fn(tapegrad), fn(torch)


def test_results_inside_are_inference_tensors_without_history():
    def go(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.inference_mode():
            y = x * 2
            inside = (lib.is_inference_mode_enabled(), lib.is_grad_enabled())
        return y.requires_grad, y.is_inference(), x.is_inference(), inside, lib.is_inference_mode_enabled()

    ours, theirs = both(go)
    assert ours == theirs


def test_decorator_and_disabled_mode():
    def go(lib):
        @lib.inference_mode()
        def f(x):
            return x * 2

        x = lib.tensor([1.0], requires_grad=True)
        with lib.inference_mode(False):
            z = x * 3
        return f(x).is_inference(), z.requires_grad, z.is_inference()

    ours, theirs = both(go)
    assert ours == theirs


@pytest.mark.parametrize("case", ["saved_for_backward", "inplace_outside", "requires_grad_outside"])
def test_inference_tensor_errors(case):
    def go(lib):
        with lib.inference_mode():
            y = lib.ones(2)
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        try:
            if case == "saved_for_backward":
                (y * w).sum().backward()
            elif case == "inplace_outside":
                y.add_(1)
            else:
                y.requires_grad_(True)
        except RuntimeError as e:
            return str(e)
        return None

    ours, theirs = both(go)
    assert theirs is not None and ours == theirs

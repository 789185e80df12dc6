# Checks that tapegrad's format_tensor prints exactly what torch 2.13's repr(tensor) prints.
import importlib.util
import math
import pathlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

# Load the module by path: the tapegrad package __init__ may need the compiled
# extension, which this pure-Python printer must not depend on.
_PATH = pathlib.Path(__file__).resolve().parents[1] / "python" / "tapegrad" / "_tensor_str.py"
_spec = importlib.util.spec_from_file_location("tapegrad_tensor_str_under_test", _PATH)
_tensor_str = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tensor_str)
format_tensor = _tensor_str.format_tensor
set_printoptions = _tensor_str.set_printoptions
get_printoptions = _tensor_str.get_printoptions

nan, inf = math.nan, math.inf


@pytest.fixture(autouse=True)
def _reset_print_state():
    """Every test starts and ends with default options in both libraries."""
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)
    yield
    set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    torch.set_default_dtype(torch.float32)


def both_set_printoptions(**kw):
    set_printoptions(**kw)
    torch.set_printoptions(**kw)


def ours(t, device=None):
    """format_tensor given the same information torch's repr uses."""
    grad_fn = t.grad_fn
    return format_tensor(
        t.detach().numpy(),
        str(t.dtype).replace("torch.", ""),
        default_dtype=str(torch.get_default_dtype()).replace("torch.", ""),
        device=device,
        requires_grad=t.requires_grad,
        grad_fn_name=type(grad_fn).__name__ if grad_fn is not None else None,
    )


def check(t):
    assert ours(t) == repr(t)


f64, i32, i64, b = torch.float64, torch.int32, torch.int64, torch.bool


def _grad_leaf():
    return torch.tensor(3.0, requires_grad=True)


CASES = {
    # the examples from the spec
    "scalar_requires_grad": _grad_leaf,
    "scalar_grad_fn": lambda: _grad_leaf() ** 2,
    "thirds": lambda: torch.tensor([2 / 3, 4 / 3, 2.0]),
    "float64": lambda: torch.tensor([1.0, 2.0], dtype=f64),
    "sci_ratio": lambda: torch.tensor([1e10, 1.0]),
    "nan_inf": lambda: torch.tensor([1.5, nan, inf]),
    "empty_0x3": lambda: torch.zeros(0, 3),
    # 0-d
    "scalar_int_float": lambda: torch.tensor(3.0),
    "scalar_frac": lambda: torch.tensor(-1.25),
    "scalar_big": lambda: torch.tensor(1.5e9),
    "scalar_tiny": lambda: torch.tensor(1.5e-9),
    "scalar_nan": lambda: torch.tensor(nan),
    "scalar_neg_inf": lambda: torch.tensor(-inf),
    "scalar_neg_zero": lambda: torch.tensor(-0.0),
    "scalar_int": lambda: torch.tensor(7),
    "scalar_int32": lambda: torch.tensor(-7, dtype=i32),
    "scalar_bool": lambda: torch.tensor(True),
    "scalar_f64": lambda: torch.tensor(0.1, dtype=f64),
    # 1-d
    "ints_as_float": lambda: torch.tensor([1.0, 2.0, 3.0]),
    "negatives": lambda: torch.tensor([-1.5, 2.25, -300.125]),
    "neg_zero": lambda: torch.tensor([-0.0, 0.0, 1.0]),
    "all_zero": lambda: torch.zeros(4),
    "all_nan": lambda: torch.tensor([nan, nan]),
    "zero_nan": lambda: torch.tensor([0.0, nan, -inf]),
    "int_nan": lambda: torch.tensor([1.0, nan]),
    "mixed_magnitudes": lambda: torch.tensor([1e-3, 1.0, 999.0]),
    "ratio_over_1000": lambda: torch.tensor([1e-3, 1.5]),
    "tiny_frac": lambda: torch.tensor([5e-5, 0.5]),
    "big_ints": lambda: torch.tensor([1e8, 2e8]),
    "int_ratio_1000": lambda: torch.tensor([1.0, 1000.0]),
    "int_ratio_1001": lambda: torch.tensor([1.0, 1001.0]),
    "f32_max": lambda: torch.tensor([3.4028235e38, -1.0]),
    "f32_subnormal": lambda: torch.tensor([1e-45, 1.0]),
    "f64_extremes": lambda: torch.tensor([1e308, 5e-324, -2.5], dtype=f64),
    "f64_precise": lambda: torch.tensor([0.123456789, 1 / 3], dtype=f64),
    "rounding": lambda: torch.tensor([0.99995, 9.99995, 0.00015]),
    "empty_1d": lambda: torch.zeros(0),
    "empty_int": lambda: torch.zeros(0, dtype=i64),
    "empty_int32_2d": lambda: torch.zeros(2, 0, dtype=i32),
    "empty_bool": lambda: torch.zeros(0, dtype=b),
    "empty_f64_3d": lambda: torch.zeros(1, 0, 2, dtype=f64),
    "ints": lambda: torch.tensor([1, -20, 300]),
    "int32": lambda: torch.tensor([1, 2], dtype=i32),
    "int64_extremes": lambda: torch.tensor([2**63 - 1, -(2**63)]),
    "bools": lambda: torch.tensor([True, False, True]),
    "long_row_wraps": lambda: torch.arange(40.0) / 3,
    "long_int_row_wraps": lambda: torch.arange(100) * 1001,
    "long_bool_row": lambda: torch.arange(60) % 3 == 0,
    "wrapped_with_grad": lambda: (torch.arange(30.0, requires_grad=True) * 1.5),
    "summarized_1d": lambda: torch.arange(2000.0),
    "summarized_1d_int": lambda: torch.arange(2000),
    "summarized_1d_frac": lambda: torch.linspace(-1, 1, 1001),
    # 2-d
    "matrix": lambda: torch.tensor([[1.0, 2.5], [-3.0, 4.0]]),
    "matrix_int": lambda: torch.tensor([[1, 200], [-3, 4]]),
    "matrix_bool": lambda: torch.tensor([[True, False], [False, True]]),
    "matrix_sci": lambda: torch.tensor([[1e-8, 1.0], [2.0, 3e5]]),
    "matrix_nan": lambda: torch.tensor([[1.0, nan], [2.0, 3.0]]),
    "matrix_f64_grad": lambda: torch.ones(2, 3, dtype=f64, requires_grad=True),
    "matrix_wide": lambda: torch.arange(60.0).reshape(3, 20) / 7,
    "matrix_2x0": lambda: torch.zeros(2, 0),
    "summarized_50x50": lambda: torch.arange(2500.0).reshape(50, 50) / 9,
    "summarized_50x50_int": lambda: torch.arange(2500).reshape(50, 50),
    "summarized_tall": lambda: torch.arange(3000.0).reshape(1000, 3),
    "summarized_wide": lambda: torch.arange(3000.0).reshape(3, 1000),
    "summarized_grad_fn": lambda: torch.ones(40, 40, requires_grad=True).sum(0, keepdim=True).expand(40, 40) * 1.0,
    # 3-d
    "cube": lambda: torch.arange(24.0).reshape(2, 3, 4) - 11.5,
    "cube_int": lambda: torch.arange(24).reshape(2, 3, 4),
    "cube_bool": lambda: torch.arange(8).reshape(2, 2, 2) > 3,
    "cube_sci": lambda: torch.arange(1.0, 9.0).reshape(2, 2, 2) ** 12,
    "cube_summarized": lambda: torch.arange(1200.0).reshape(12, 10, 10),
    "cube_4d": lambda: torch.arange(16.0).reshape(2, 2, 2, 2),
    "cube_4d_summarized": lambda: torch.arange(4096.0).reshape(8, 8, 8, 8) * 0.5,
    # suffix wrapping: dtype + grad suffixes on long last lines
    "suffix_wrap": lambda: (torch.arange(8.0, dtype=f64, requires_grad=True) * 1.0625),
    "suffix_wrap_2d": lambda: torch.arange(12.0, dtype=f64).reshape(2, 6).requires_grad_(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    check(CASES[name]())


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_with_float64_default(name):
    # Tensors were built under float32; printing under a float64 default flips
    # which float dtype gets the dtype= suffix.
    t = CASES[name]()
    torch.set_default_dtype(torch.float64)
    check(t)


OPTION_CASES = [
    (dict(precision=2), lambda: torch.tensor([2 / 3, 4 / 3, 2.0])),
    (dict(precision=0), lambda: torch.tensor([2 / 3, 1e-6])),
    (dict(precision=8), lambda: torch.tensor([0.1, 1 / 3], dtype=f64)),
    (dict(sci_mode=True), lambda: torch.tensor([1.0, 2.5])),
    (dict(sci_mode=True), lambda: torch.tensor([1.0, 2.0, nan])),
    (dict(sci_mode=True), lambda: torch.tensor(3.0)),
    (dict(sci_mode=False), lambda: torch.tensor([1e10, 1e-10, 1.0])),
    (dict(sci_mode=False), lambda: torch.tensor([1e10, 1.0])),
    (dict(sci_mode=False), lambda: torch.tensor([1e12, 1.0, nan])),
    (dict(sci_mode=False), lambda: torch.tensor([1e-5, nan])),
    (dict(sci_mode=True), lambda: torch.tensor([0.0, -0.0, nan])),
    (dict(sci_mode=True), lambda: torch.tensor([[1, 2], [3, 4]])),
    (dict(sci_mode=True, precision=1), lambda: torch.tensor([[1.5, -2.0], [nan, 4e20]], dtype=f64)),
    (dict(threshold=5), lambda: torch.arange(10.0)),
    (dict(threshold=5, edgeitems=1), lambda: torch.arange(27).reshape(3, 3, 3)),
    (dict(threshold=5, edgeitems=0), lambda: torch.arange(10.0)),
    (dict(threshold=5, edgeitems=0), lambda: torch.arange(30.0).reshape(6, 5)),
    (dict(edgeitems=0), lambda: torch.tensor([1.0, 2.0])),
    (dict(edgeitems=0), lambda: torch.tensor(1.5)),
    (dict(edgeitems=5), lambda: torch.arange(2000.0)),
    (dict(linewidth=20), lambda: torch.arange(12.0) / 3),
    (dict(linewidth=20), lambda: torch.arange(12.0, dtype=f64, requires_grad=True)),
    (dict(linewidth=5), lambda: torch.arange(4.0)),
    (dict(linewidth=200), lambda: torch.arange(60.0).reshape(2, 30) / 7),
    (dict(profile="short"), lambda: torch.arange(2000.0) / 7),
    (dict(profile="short"), lambda: torch.tensor([2 / 3, 4 / 3])),
    (dict(profile="full"), lambda: torch.arange(1500.0)),
    (dict(profile="full", precision=6), lambda: torch.arange(1200.0).reshape(30, 40) / 7),
    (dict(profile="no-such-profile", precision=3), lambda: torch.tensor([2 / 3])),
]


@pytest.mark.parametrize("options,make", OPTION_CASES, ids=[str(o) for o, _ in OPTION_CASES])
def test_print_options_match_torch(options, make):
    both_set_printoptions(**options)
    check(make())


def test_get_printoptions_defaults_and_profiles():
    expected = dict(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    assert get_printoptions() == expected == torch._tensor_str.get_printoptions()
    for kw in (dict(profile="full"), dict(precision=2), dict(sci_mode=True),
               dict(profile="short", linewidth=100), dict(profile="bogus", edgeitems=1),
               dict(threshold=10)):
        both_set_printoptions(**kw)
        assert get_printoptions() == torch._tensor_str.get_printoptions(), kw
    # A call without sci_mode resets it to automatic, as in torch.
    set_printoptions(sci_mode=False)
    set_printoptions(precision=3)
    assert get_printoptions()["sci_mode"] is None
    # The returned dict is a copy.
    get_printoptions()["precision"] = 99
    assert get_printoptions()["precision"] == 3


def test_printoptions_change_and_reset_output():
    t = torch.tensor([2 / 3])
    set_printoptions(precision=2)
    assert format_tensor(t.numpy(), "float32") == "tensor([0.67])"
    set_printoptions(profile="default")
    assert format_tensor(t.numpy(), "float32") == "tensor([0.6667])"


@pytest.mark.parametrize("values,dtype,kw,expected", [
    ([1.0, 2.0], "float32", {}, "tensor([1., 2.], device='cuda:0')"),
    ([1.0, 2.0], "float64", dict(requires_grad=True),
     "tensor([1., 2.], device='cuda:0', dtype=torch.float64, requires_grad=True)"),
    # 85 characters on one line, so the last suffix wraps to the indent column.
    (np.zeros((0, 3)), "int64", dict(grad_fn_name="AddBackward0"),
     "tensor([], device='cuda:0', size=(0, 3), dtype=torch.int64,\n"
     "       grad_fn=<AddBackward0>)"),
    (3.0, "float32", dict(grad_fn_name="MulBackward0", requires_grad=True),
     "tensor(3., device='cuda:0', grad_fn=<MulBackward0>)"),
    (np.arange(20.0) / 3, "float32", dict(requires_grad=True),
     "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
     "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n"
     "        6.0000, 6.3333], device='cuda:0', requires_grad=True)"),
    # A full last line pushes the suffixes onto their own line.
    (np.arange(18.0) / 3, "float32", dict(requires_grad=True),
     "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n"
     "        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667],\n"
     "       device='cuda:0', requires_grad=True)"),
])
def test_device_suffix(values, dtype, kw, expected):
    # torch here is CPU-only, so these expectations are written out by hand
    # following torch's suffix order: device, size, dtype, grad_fn/requires_grad.
    assert format_tensor(np.asarray(values), dtype, device="cuda:0", **kw) == expected
    # "cpu" is the default device and adds no suffix: same as device=None.
    cpu = format_tensor(np.asarray(values), dtype, device="cpu", **kw)
    assert cpu == format_tensor(np.asarray(values), dtype, **kw)
    assert "device=" not in cpu


def test_device_suffix_short_matches_torch_layout():
    # Where nothing wraps, the device suffix is simply the first suffix after the body.
    t = torch.tensor([[1.5, 2.0], [3.0, 4.0]], dtype=f64)
    expected = repr(t).replace("]], dtype", "]], device='cuda:0', dtype")
    assert "device='cuda:0', dtype=torch.float64)" in expected
    assert format_tensor(t.numpy(), "float64", device="cuda:0") == expected


def test_values_are_cast_to_dtype():
    # float64 input printed as float32 is rounded to float32 first, like torch.tensor(..., dtype=float32).
    assert format_tensor(np.array([0.1, 1e-50]), "float32") == repr(torch.tensor([0.1, 1e-50]))
    assert format_tensor(np.array([1e300, -1.5]), "float32") == repr(torch.tensor([1e300, -1.5]))
    assert format_tensor([[1, 2]], "float64") == repr(torch.tensor([[1, 2]], dtype=f64))
    assert format_tensor(np.array([1.7, -2.2]), "int32") == repr(torch.tensor([1.7, -2.2]).to(i32))
    with pytest.raises(ValueError):
        format_tensor(np.zeros(2), "complex64")


# ---------------------------------------------------------------- hypothesis

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7)
# Mix arbitrary floats with "special" values so int mode, zeros, signed zeros
# and the sci-mode thresholds (1e-4, 1e8, ratio 1000) are hit often.
SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, 1000.0, 1e-4, 9.99e-5, 1e8, 1.0000001e8,
                           0.5, 2.0, 123456.0, nan, inf, -inf])


def _float_elements(width):
    return st.one_of(
        st.floats(width=width, allow_nan=True, allow_infinity=True, allow_subnormal=True),
        st.floats(min_value=-1e4, max_value=1e4, width=width),
        st.integers(-10**6, 10**6).map(float),
        SPECIAL,
    )


@settings(max_examples=400, deadline=None)
@given(hnp.arrays(np.float32, SHAPES, elements=_float_elements(32)))
def test_hypothesis_float32(arr):
    check(torch.tensor(arr))


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(np.float64, SHAPES, elements=_float_elements(64)), st.booleans())
def test_hypothesis_float64(arr, requires_grad):
    check(torch.tensor(arr, requires_grad=requires_grad))


@settings(max_examples=100, deadline=None)
@given(st.one_of(hnp.arrays(np.int64, SHAPES), hnp.arrays(np.int32, SHAPES), hnp.arrays(np.bool_, SHAPES)))
def test_hypothesis_int_and_bool(arr):
    check(torch.tensor(arr))


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
               elements=_float_elements(32)),
    st.fixed_dictionaries({}, optional=dict(
        precision=st.integers(0, 10), threshold=st.integers(0, 60), edgeitems=st.integers(0, 4),
        linewidth=st.integers(1, 120), sci_mode=st.sampled_from([None, True, False]),
        profile=st.sampled_from(["default", "short", "full"]))),
)
def test_hypothesis_with_print_options(arr, options):
    try:
        both_set_printoptions(**options)
        check(torch.tensor(arr))
    finally:
        # The fixture only runs once per test, not once per hypothesis example.
        set_printoptions(profile="default")
        torch.set_printoptions(profile="default")

# Renders tensor values as the exact string torch 2.13's repr(tensor) gives (pure Python + numpy, no torch).
"""Tensor printing for tapegrad.

The layout rules mirror torch's printer so that ``repr`` of a tapegrad tensor is
character-for-character what a PyTorch user expects:

* one width is chosen for the whole tensor (from the summarized data when the
  tensor is summarized), so columns line up across rows;
* float tensors print as "integers with a dot" (``1.``), fixed point
  (``1.5000``) or scientific (``1.5000e+10``) depending on the magnitude range
  of the finite non-zero values; nan/inf/zero never influence that choice;
* suffixes (device, size, dtype, grad_fn / requires_grad) come after the
  values, in that order, each moving to a new line when it would pass
  ``linewidth``.
"""

import math

import numpy as np

__all__ = ["format_tensor", "set_printoptions", "get_printoptions"]

_NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "int64": np.int64,
    "int32": np.int32,
    "bool": np.bool_,
}
_FLOAT_DTYPES = ("float32", "float64")

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}

# Module-level state, like torch.PRINT_OPTS; sci_mode None means "decide per tensor".
_opts = dict(_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set printing options with torch.set_printoptions semantics.

    A known profile is applied first and explicit arguments override it; an
    unknown profile name is silently ignored (as torch does). ``sci_mode`` is
    always assigned, so any call without it goes back to automatic sci mode.
    """
    if profile in _PROFILES:
        _opts.update(_PROFILES[profile])
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _opts[key] = value
    _opts["sci_mode"] = sci_mode


def get_printoptions():
    """Return a copy of the current options (keys as in torch's get_printoptions)."""
    return dict(_opts)


class _Formatter:
    """Chooses one number style and one column width for a whole tensor."""

    def __init__(self, data, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = _opts["precision"]
        flat = data.reshape(-1)
        if not floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(str(value)))
        else:
            # Only finite non-zero values decide the style; with none of them
            # the tensor prints in int mode with width 1 (e.g. "tensor([0., nan])").
            finite = flat[np.isfinite(flat) & (flat != 0)]
            if finite.size:
                magnitudes = np.abs(finite).astype(np.float64)
                lo, hi = magnitudes.min(), magnitudes.max()
                with np.errstate(over="ignore"):  # float64 extremes: ratio may be inf
                    wide_range = hi / lo > 1000.0 or hi > 1.0e8
                self.int_mode = bool(np.all(finite == np.ceil(finite)))
                # Integral values tolerate small magnitudes; fractions below 1e-4 need sci.
                self.sci_mode = bool(wide_range or (not self.int_mode and lo < 1.0e-4))
                # A user-forced sci_mode wins, and the width is measured in the
                # final style. (With no finite non-zero value it is never applied.)
                if _opts["sci_mode"] is not None:
                    self.sci_mode = bool(_opts["sci_mode"])
                values = finite.tolist()  # python floats: format like torch's .item()
                if self.sci_mode:
                    widths = [len(f"{v:.{precision}e}") for v in values]
                elif self.int_mode:  # "+ 1" makes room for the trailing dot of "3."
                    widths = [len(f"{v:.0f}") + 1 for v in values]
                else:
                    widths = [len(f"{v:.{precision}f}") for v in values]
                self.max_width = max(self.max_width, max(widths))

    def format(self, value):
        precision = _opts["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return text.rjust(self.max_width)


def _summarized_data(a, edge):
    """The values that stay visible after summarization (they set the width)."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        # a[-0:] is the whole array, so edgeitems=0 keeps everything (as in torch).
        return np.concatenate((a[:edge], a[-edge:])) if a.shape[0] > 2 * edge else a
    if not edge:
        return a[(slice(0, 0),) * a.ndim]
    n = a.shape[0]
    rows = list(range(edge)) + list(range(n - edge, n)) if n > 2 * edge else range(n)
    return np.stack([_summarized_data(a[i], edge) for i in rows])


def _vector_str(a, indent, summarize, formatter):
    edge = _opts["edgeitems"]
    # Each element costs its width plus ", "; at least one element per line.
    per_line = max(1, int(math.floor((_opts["linewidth"] - indent) / (formatter.max_width + 2))))
    if summarize and not edge:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        data = ([formatter.format(v) for v in a[:edge].tolist()] + [" ..."]
                + [formatter.format(v) for v in a[-edge:].tolist()])
    else:
        data = [formatter.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(a, indent, summarize, formatter):
    if a.ndim == 0:
        return formatter.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, formatter)
    edge = _opts["edgeitems"]
    n = a.shape[0]
    if summarize and n > 2 * edge:
        slices = ([_tensor_str(a[i], indent + 1, summarize, formatter) for i in range(edge)]
                  + ["..."]
                  + [_tensor_str(a[i], indent + 1, summarize, formatter) for i in range(n - edge, n)])
    else:
        slices = [_tensor_str(a[i], indent + 1, summarize, formatter) for i in range(n)]
    # Sub-blocks of a k-D tensor are separated by k-1 newlines (blank lines for 3-D+).
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    # torch measures the last line as (chars after the last newline) + 2, and
    # with no newline rfind gives -1, i.e. len + 2; kept for exact wrapping.
    last_line_len = len(text) - text.rfind("\n") + 1
    parts = [text]
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _opts["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(values, dtype, *, default_dtype="float32", device=None,
                  requires_grad=False, grad_fn_name=None, empty_shape=None):
    """Return exactly what torch 2.13 prints for ``repr`` of such a tensor.

    ``values`` is a numpy array (any shape), ``dtype`` one of "float32",
    "float64", "int64", "int32", "bool"; ``device`` is None (or "cpu") for the
    CPU, otherwise a string such as "cuda:0". An empty tensor may come as its
    ``empty_shape`` alone (with ``values`` None): numpy cannot hold shapes such
    as (2**62, 2, 0), whose product overflows before the 0.
    """
    if empty_shape is not None:
        values = np.empty(0)
    if dtype not in _NUMPY_DTYPES:
        raise ValueError(f"unsupported dtype {dtype!r}")
    # Casting like torch.tensor(values, dtype=...) does: silently (1e300 -> inf in float32).
    with np.errstate(over="ignore", invalid="ignore"):
        a = np.asarray(values).astype(_NUMPY_DTYPES[dtype])
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if device is not None and device != "cpu":
        suffixes.append(f"device='{device}'")
    if a.size == 0:
        # Empty tensors show the shape unless it is (0,), and any non-default
        # dtype (even int64/bool, since no element hints at the type).
        shape = tuple(a.shape) if empty_shape is None else tuple(empty_shape)
        if len(shape) != 1:
            suffixes.append(f"size={shape}")
        if dtype != default_dtype:
            suffixes.append(f"dtype=torch.{dtype}")
        body = "[]"
    else:
        if not _opts["edgeitems"]:  # nothing visible, so the shape is stated
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype not in (default_dtype, "int64", "bool"):
            suffixes.append(f"dtype=torch.{dtype}")
        summarize = a.size > _opts["threshold"]
        data = _summarized_data(a, _opts["edgeitems"]) if summarize else a
        formatter = _Formatter(data, dtype in _FLOAT_DTYPES)
        body = _tensor_str(a, indent, summarize, formatter)
    if grad_fn_name:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)

"""tapegrad.save / load: round trips vs torch.save / torch.load, identity, and refusal of every corrupt file."""
import ast
import base64
import collections
import gc
import io
import json
import math
import pathlib
import re
import struct
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad
from tapegrad import serialization
from tapegrad.nn.parameter import Parameter
from tapegrad.serialization import load, save

NP_DTYPES = {"float32": np.float32, "float64": np.float64, "int64": np.int64, "int32": np.int32, "bool": np.bool_}
# Floats are drawn as raw bit patterns so NaN payloads, -0.0, infinities and subnormals all occur.
BIT_VIEWS = {"float32": np.uint32, "float64": np.uint64}


def dname(dtype):
    return str(dtype).replace("torch.", "")


def roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    return load(buf, **load_kwargs)


def to_bytes(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def bits(t):
    """The tensor's values as an array of unsigned ints (exact bits for floats), for bit-exact comparison."""
    arr = t.detach().numpy()
    name = dname(t.dtype)
    return arr.view(BIT_VIEWS[name]) if name in BIT_VIEWS else arr


def assert_same_tensor_value(loaded, original):
    assert isinstance(loaded, tapegrad.Tensor)
    assert loaded.dtype == original.dtype
    assert tuple(loaded.shape) == tuple(original.shape)
    np.testing.assert_array_equal(bits(loaded), bits(original))


def assert_matches_torch(ours, theirs):
    """Same structure, container types, key types and order, and tensor dtype/shape/values/requires_grad."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, tapegrad.Tensor)
        assert dname(ours.dtype) == dname(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        assert ours.requires_grad == theirs.requires_grad
        assert isinstance(ours, Parameter) == isinstance(theirs, torch.nn.Parameter)
        np.testing.assert_array_equal(bits(ours), theirs.detach().numpy().view(bits(ours).dtype))
        return
    assert type(ours) is type(theirs)
    if isinstance(theirs, dict):
        assert [(type(k), k) for k in ours] == [(type(k), k) for k in theirs]
        for k in theirs:
            assert_matches_torch(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert_matches_torch(a, b)
    elif isinstance(theirs, float):
        assert struct.pack("<d", ours) == struct.pack("<d", theirs)
    else:
        assert ours == theirs


def both_libs(build):
    """build(lib, np_to_tensor) made in tapegrad and torch, each saved and loaded by its own library."""
    ours = roundtrip(build(tapegrad, lambda a: tapegrad.from_numpy(np.array(a))))
    buf = io.BytesIO()
    torch.save(build(torch, lambda a: torch.from_numpy(np.array(a))), buf)
    buf.seek(0)
    return ours, torch.load(buf)


def _padded(n):
    return -(-n // 8) * 8


def entry_crcs(header, data):
    """The CRC32 of each header entry's bytes and padding, found where the format says they lie."""
    crcs, pos = [], 0
    entries = header.get("tensors") if isinstance(header, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        nbytes = entry.get("nbytes") if isinstance(entry, dict) else None
        span = _padded(nbytes) if type(nbytes) is int and nbytes >= 0 else 0
        crcs.append(zlib.crc32(data[pos:pos + span]))
        pos += span
    return crcs


def record(header, data=b"", version=2, header_bytes=None, crcs=None):
    """A file laid out as the format documents, with a hand-written header (to forge corrupt files).

    Version 2 gets a correct header CRC and a trailer of correct per-entry CRCs (or `crcs`), so a
    forged header gets past the checksums to the check a test aims at.
    """
    raw = header_bytes if header_bytes is not None else json.dumps(header, separators=(",", ":")).encode()
    preamble = struct.pack("<8sIIQ", b"TAPEGRAD", version, 0, len(raw))
    padding = bytes(-(len(preamble) + len(raw)) % 8)
    if version != 2:
        return preamble + raw + padding + data
    crc = zlib.crc32(padding, zlib.crc32(raw, zlib.crc32(preamble[16:], zlib.crc32(preamble[:12]))))
    crcs = entry_crcs(header, data) if crcs is None else crcs
    return preamble[:12] + struct.pack("<I", crc) + preamble[16:] + raw + padding + data + struct.pack(
        f"<{len(crcs)}I", *crcs)


def header_of(entries, data_bytes, root, version=2):
    """A header dict with its keys in the order save writes them (the reader insists on that order)."""
    header = {"tensors": entries, "data_bytes": data_bytes}
    if version == 2:
        header["checksums"] = "crc32"
    header["root"] = root
    return header


def tensor_entry(**over):
    entry = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "requires_grad": False,
             "parameter": False, "device": "cpu"}
    entry.update(over)
    return entry


def forged(entry=None, root=None, data=bytes(8), data_bytes=None, version=2, entries=None):
    """A one-tensor file (or `entries`) whose root is tensor 0, correct in every part a test does not override."""
    header = header_of(entries if entries is not None else [entry or tensor_entry()],
                       len(data) if data_bytes is None else data_bytes,
                       {"tensor": 0} if root is None else root, version)
    return record(header, data, version)


def load_bytes(raw, **kwargs):
    return load(io.BytesIO(raw), **kwargs)


# ---------------------------------------------------------------- tensors: dtypes, shapes, values


@st.composite
def arrays(draw, dtype):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5))
    if dtype in BIT_VIEWS:
        return draw(hnp.arrays(BIT_VIEWS[dtype], shape)).view(NP_DTYPES[dtype])
    return draw(hnp.arrays(NP_DTYPES[dtype], shape))


@pytest.mark.parametrize("dtype", list(NP_DTYPES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_roundtrip_is_bit_exact_for_every_dtype_and_shape(dtype, data):
    arr = data.draw(arrays(dtype))
    t = tapegrad.from_numpy(arr.copy())
    loaded = roundtrip(t)
    assert_same_tensor_value(loaded, t)
    assert loaded.is_contiguous() and not loaded.requires_grad and loaded.is_leaf


@pytest.mark.parametrize("dtype", list(NP_DTYPES))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_loaded_values_match_torch_save_load_of_the_same_data(dtype, data):
    arr = data.draw(arrays(dtype))
    ours, theirs = both_libs(lambda lib, make: {"w": make(arr), "t": (make(arr), 3)})
    assert_matches_torch(ours, theirs)


def test_special_floats_keep_their_bits():
    payload_nan = np.array([0x7FC00001, 0xFFC12345, 0x7F800001], dtype=np.uint32).view(np.float32)
    for arr in (np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 5e-324]), payload_nan):
        assert_same_tensor_value(roundtrip(tapegrad.from_numpy(arr)), tapegrad.from_numpy(arr))


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (0, 2, 0), (1,), (1, 1, 1)])
@pytest.mark.parametrize("dtype", list(NP_DTYPES))
def test_zero_dim_and_zero_size(dtype, shape):
    t = tapegrad.zeros(shape, dtype=getattr(tapegrad, dtype))
    ours, theirs = both_libs(lambda lib, make: lib.zeros(shape, dtype=getattr(lib, dtype)))
    assert_same_tensor_value(ours, t)
    assert_matches_torch(ours, theirs)


@pytest.mark.parametrize("make_view", [
    lambda x: x.t(),
    lambda x: x.permute(1, 0),
    lambda x: x[1:, ::2],
    lambda x: x.select(1, 2),
    lambda x: x.narrow(0, 1, 2),
    lambda x: x[0:1].expand(5, 4),
    lambda x: x.reshape(-1)[3:9],
], ids=["t", "permute", "slice_step", "select", "narrow", "expand", "offset"])
def test_non_contiguous_tensors_are_saved_by_value(make_view):
    base = tapegrad.arange(12, dtype=tapegrad.float64).reshape(3, 4)
    view = make_view(base)
    loaded = roundtrip(view)
    assert_same_tensor_value(loaded, view)
    assert loaded.is_contiguous()
    theirs = make_view(torch.arange(12, dtype=torch.float64).reshape(3, 4))
    buf = io.BytesIO()
    torch.save(theirs, buf)
    buf.seek(0)
    np.testing.assert_array_equal(loaded.numpy(), torch.load(buf).numpy())


def test_views_of_one_storage_come_back_independent():
    # Documented: storage sharing between different views is not kept; each is saved by value.
    base = tapegrad.zeros(4)
    loaded_base, loaded_view = roundtrip([base, base[1:3]])
    loaded_base.fill_(7.0)
    assert loaded_view.tolist() == [0.0, 0.0]


def test_loaded_tensors_own_their_memory():
    buf = io.BytesIO(to_bytes({"a": tapegrad.arange(1000, dtype=tapegrad.float64)}))
    first = load(buf)["a"]
    buf.seek(0)
    second = load(buf)["a"]
    buf.close()
    del buf
    gc.collect()
    first.add_(1.0)  # writes must neither fail nor show through in another load
    assert first.tolist() == [float(i + 1) for i in range(1000)]
    assert second.tolist() == [float(i) for i in range(1000)]


# ---------------------------------------------------------------- autograd flags, Parameter, identity


def test_requires_grad_roundtrips_and_loaded_tensor_is_a_leaf():
    x = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # non-leaf: torch loads it as a leaf that requires grad
    loaded_x, loaded_y, loaded_c = roundtrip([x, y, tapegrad.tensor([3.0])])
    assert loaded_x.requires_grad and loaded_x.is_leaf and loaded_x.grad_fn is None
    assert loaded_y.requires_grad and loaded_y.is_leaf and loaded_y.tolist() == [2.0, 4.0]
    assert not loaded_c.requires_grad
    (loaded_x * loaded_y).sum().backward()
    assert loaded_x.grad.tolist() == [2.0, 4.0]

    ours, theirs = both_libs(lambda lib, make: [lib.tensor([1.0, 2.0], requires_grad=True),
                                                 lib.tensor([3.0], dtype=lib.float64)])
    assert_matches_torch(ours, theirs)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_parameter_comes_back_as_parameter(requires_grad):
    p = Parameter(tapegrad.tensor([[1.0, -2.0]]), requires_grad=requires_grad)
    loaded = roundtrip({"weight": p, "plain": tapegrad.tensor([1.0])})
    assert type(loaded["weight"]) is Parameter
    assert type(loaded["plain"]) is tapegrad.Tensor
    assert loaded["weight"].requires_grad is requires_grad
    assert_same_tensor_value(loaded["weight"], p)
    ours, theirs = both_libs(lambda lib, make: {"weight": (Parameter if lib is tapegrad else torch.nn.Parameter)(
        lib.tensor([[1.0, -2.0]]), requires_grad=requires_grad)})
    assert_matches_torch(ours, theirs)


def test_same_tensor_object_keeps_identity_within_one_file():
    w = tapegrad.randn(3)
    p = Parameter(tapegrad.randn(2))
    twin = w.clone()
    loaded = roundtrip({"a": w, "b": [w, (w, p)], "c": p, "d": twin})
    assert loaded["a"] is loaded["b"][0] is loaded["b"][1][0]
    assert loaded["c"] is loaded["b"][1][1]
    assert loaded["d"] is not loaded["a"]
    assert_same_tensor_value(loaded["d"], loaded["a"])
    # torch keeps the same identity
    tw = torch.randn(3)
    buf = io.BytesIO()
    torch.save({"a": tw, "b": [tw]}, buf)
    buf.seek(0)
    theirs = torch.load(buf)
    assert theirs["a"] is theirs["b"][0]


def test_identity_is_per_file():
    w = tapegrad.ones(2)
    assert roundtrip(w) is not roundtrip(w)


# ---------------------------------------------------------------- structures and plain values


def test_state_dict_like_ordered_dict_matches_torch():
    def build(lib, make):
        sd = collections.OrderedDict()
        for name in ["z.weight", "a.bias", "m.running_mean", "m.num_batches_tracked"]:
            sd[name] = make(np.arange(6, dtype=np.float32).reshape(2, 3)) if "tracked" not in name else make(
                np.array(7, dtype=np.int64))
        return sd

    ours, theirs = both_libs(build)
    assert type(ours) is collections.OrderedDict
    assert list(ours) == ["z.weight", "a.bias", "m.running_mean", "m.num_batches_tracked"]
    assert_matches_torch(ours, theirs)


def test_optimizer_like_state_dict_with_int_keys_matches_torch():
    def build(lib, make):
        return {
            "state": {0: {"step": make(np.array(3.0, dtype=np.float32)), "exp_avg": make(np.ones((2, 2))),
                          "exp_avg_sq": make(np.full((2, 2), 0.5))},
                      1: {"momentum_buffer": None}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                              "amsgrad": False, "maximize": False, "foreach": None, "params": [0, 1]}],
        }

    ours, theirs = both_libs(build)
    assert_matches_torch(ours, theirs)
    assert list(ours["state"]) == [0, 1] and all(type(k) is int for k in ours["state"])


def test_plain_values_keep_exact_types_and_bits():
    obj = {
        "none": None, "t": True, "f": False, "zero": 0, "one": 1, "neg": -5, "big": 2**100, "nbig": -(2**70),
        "floats": [0.0, -0.0, 1.5, 1e-310, math.inf, -math.inf, math.nan,
                   struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]],  # a NaN with a payload
        "strs": ["", "ascii", "ünïcødé ✓ 🎉", "quote\"back\\slash\nnewline\x00nul", "\ud800"],
        "tuple": (1, (2, (3,)), []), "list": [[], (), {}, collections.OrderedDict()],
        1: "int key", "1": "str key", -3: {"nested": {"deeper": [1.0]}},
    }
    loaded = roundtrip(obj)
    assert_matches_torch(loaded, obj)  # plain values: compared structurally against the input itself
    assert type(loaded["t"]) is bool and type(loaded["one"]) is int and type(loaded["zero"]) is int
    assert [type(k) for k in loaded] == [type(k) for k in obj]


@settings(max_examples=80, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda kids: st.lists(kids, max_size=4) | st.lists(kids, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5) | st.integers(), kids, max_size=4)
    | st.dictionaries(st.text(max_size=5), kids, max_size=4).map(collections.OrderedDict),
    max_leaves=20))
def test_random_nested_plain_structures_roundtrip(obj):
    assert_matches_torch(roundtrip(obj), obj)


def test_root_can_be_any_supported_value():
    for obj in [None, 3, "s", 2.5, [], (), {}]:
        assert_matches_torch(roundtrip(obj), obj)


@pytest.mark.parametrize("bad, name", [
    (lambda: 0, "function"),
    (object(), "object"),
    ({1, 2}, "set"),
    (b"bytes", "bytes"),
    (np.zeros(2), "numpy.ndarray"),
    (np.float32(1.0), "numpy.float32"),
    (collections.defaultdict(list), "collections.defaultdict"),
    (collections.namedtuple("Point", "x y")(1, 2), "Point"),
    (1 + 2j, "complex"),
])
def test_unsupported_objects_raise_type_error_naming_the_type(bad, name, tmp_path):
    target = tmp_path / "out.tg"
    with pytest.raises(TypeError, match=name):
        save({"ok": tapegrad.ones(1), "nested": [bad]}, target)
    assert not target.exists()  # refused before the file was opened


@pytest.mark.parametrize("key, name", [(1.5, "float"), ((1, 2), "tuple"), (None, "NoneType"), (True, "bool")])
def test_unsupported_dict_keys_raise_type_error(key, name):
    with pytest.raises(TypeError, match=name):
        save({key: 1}, io.BytesIO())


def test_self_referencing_container_raises_value_error():
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        save(loop, io.BytesIO())


def test_shared_containers_are_saved_as_copies():
    inner = [1, 2]
    loaded = roundtrip([inner, inner])
    assert loaded == [[1, 2], [1, 2]]


# ---------------------------------------------------------------- files, paths, streams, arguments


def test_str_and_pathlib_paths(tmp_path):
    obj = {"w": tapegrad.randn(3, 2), "n": 4}
    for path in (str(tmp_path / "a.tg"), tmp_path / "b.tg"):
        save(obj, path)
        loaded = load(path)
        assert_same_tensor_value(loaded["w"], obj["w"])
        assert loaded["n"] == 4


def test_open_file_objects(tmp_path):
    path = tmp_path / "c.tg"
    t = tapegrad.arange(5, dtype=tapegrad.int32)
    with open(path, "wb") as f:
        save(t, f)
    with open(path, "rb") as f:
        assert_same_tensor_value(load(f), t)


def test_records_back_to_back_in_one_stream():
    buf = io.BytesIO()
    buf.write(b"prefix")
    save(tapegrad.ones(3), buf)
    save({"x": tapegrad.zeros(2, dtype=tapegrad.int64)}, buf)
    buf.seek(len(b"prefix"))
    assert load(buf).tolist() == [1.0, 1.0, 1.0]
    assert load(buf)["x"].tolist() == [0, 0]
    assert buf.read() == b""


class ReadOnlyStream:
    """A pipe-like stream: read() only, no seek, no readinto."""

    def __init__(self, raw):
        self._buf = io.BytesIO(raw)

    def read(self, n=-1):
        return self._buf.read(n)


class WriteOnlyStream:
    def __init__(self):
        self.chunks = []

    def write(self, b):
        self.chunks.append(bytes(b))
        return len(b)


def test_non_seekable_streams():
    out = WriteOnlyStream()
    t = tapegrad.randn(4, 3)
    save({"t": t}, out)
    loaded = load(ReadOnlyStream(b"".join(out.chunks)))
    assert_same_tensor_value(loaded["t"], t)


def test_file_layout_is_documented_version_2_with_header_and_tensor_crcs():
    raw = to_bytes([tapegrad.ones(3), tapegrad.ones(1, dtype=tapegrad.float64), tapegrad.zeros(0)])
    magic, version, header_crc, header_len = struct.unpack_from("<8sIIQ", raw)
    assert (magic, version) == (b"TAPEGRAD", 2)
    data_start = -(-(24 + header_len) // 8) * 8
    assert header_crc == zlib.crc32(raw[:12] + raw[16:data_start])  # every byte before the data but the CRC
    assert raw[24 + header_len:data_start] == bytes(data_start - 24 - header_len)
    text = raw[24:24 + header_len].decode("ascii")
    header = json.loads(text)
    assert list(header) == ["tensors", "data_bytes", "checksums", "root"] and header["checksums"] == "crc32"
    assert text == json.dumps(header, separators=(",", ":"))  # compact, as the reader expects
    assert [(e["offset"], e["nbytes"]) for e in header["tensors"]] == [(0, 12), (16, 8), (24, 0)]
    assert header["data_bytes"] == 24 and data_start % 8 == 0
    assert np.frombuffer(raw, "<f4", 3, data_start).tolist() == [1.0, 1.0, 1.0]
    assert raw[data_start + 12:data_start + 16] == bytes(4)  # zero padding to the next multiple of 8
    trailer = raw[data_start + 24:]
    assert struct.unpack("<3I", trailer) == (zlib.crc32(raw[data_start:data_start + 16]),
                                             zlib.crc32(raw[data_start + 16:data_start + 24]), 0)


def test_bad_file_arguments_raise_type_error():
    with pytest.raises(TypeError, match="path or a binary file"):
        save(tapegrad.ones(1), 42)
    with pytest.raises(TypeError, match="path or a binary file"):
        load(42)


@pytest.mark.parametrize("where", [None, "cpu", tapegrad.device("cpu")])
def test_map_location_cpu(where):
    loaded = roundtrip({"w": tapegrad.ones(2, requires_grad=True)}, map_location=where)
    assert loaded["w"].device.type == "cpu" and loaded["w"].requires_grad and loaded["w"].is_leaf


def test_map_location_cuda_moves_or_raises_clearly():
    raw = to_bytes({"w": tapegrad.ones(2)})
    if tapegrad.cuda.is_available():
        assert load_bytes(raw, map_location="cuda")["w"].device.type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="CUDA"):
            load_bytes(raw, map_location="cuda")


def test_tensor_saved_on_cuda_loads_with_map_location_cpu():
    raw = forged(tensor_entry(device="cuda:0"), data=np.array([1.0, 2.0], "<f4").tobytes())
    assert load_bytes(raw, map_location="cpu").tolist() == [1.0, 2.0]
    if tapegrad.cuda.is_available():
        assert load_bytes(raw).device.type == "cuda"
    else:
        with pytest.raises(RuntimeError, match="map_location"):
            load_bytes(raw)


def test_bad_map_location():
    raw = to_bytes(tapegrad.ones(1))
    with pytest.raises(RuntimeError, match="map_location"):
        load_bytes(raw, map_location="bogus")
    with pytest.raises(TypeError, match="map_location"):
        load_bytes(raw, map_location={"cuda:0": "cpu"})


@pytest.mark.parametrize("weights_only", [True, False, None])
def test_weights_only_is_accepted(weights_only):
    assert load_bytes(to_bytes(tapegrad.ones(2)), weights_only=weights_only).tolist() == [1.0, 1.0]


def test_serialization_module_does_not_import_numpy_at_top_level():
    tree = ast.parse(pathlib.Path(serialization.__file__).read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in top if isinstance(n, ast.ImportFrom)}
    assert not {"numpy", "pickle", "torch"} & {name.split(".")[0] for name in names if name}


# ---------------------------------------------------------------- corrupt and foreign files


def small_file():
    return to_bytes(collections.OrderedDict(
        w=tapegrad.tensor([[1.0, 2.0]], requires_grad=True), b=tapegrad.tensor([True, False]), n=3, lr=0.1))


def test_small_file_loads_whole():
    assert list(load_bytes(small_file())) == ["w", "b", "n", "lr"]


def test_every_truncation_point_raises_runtime_error(tmp_path):
    raw = small_file()
    path = tmp_path / "cut.tg"
    for cut in range(len(raw)):
        for source in (io.BytesIO(raw[:cut]), ReadOnlyStream(raw[:cut])):
            with pytest.raises(RuntimeError, match="not a tapegrad file" if cut == 0 else "truncated"):
                load(source)
        path.write_bytes(raw[:cut])
        with pytest.raises(RuntimeError, match="not a tapegrad file|truncated"):
            load(path)


def test_empty_file_is_not_a_tapegrad_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load(path)


@pytest.mark.parametrize("zipfile", [True, False], ids=["zip", "legacy_pickle"])
def test_torch_saved_file_is_not_a_tapegrad_file(zipfile, tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=zipfile)
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load(path)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_runtime_error(raw):
    with pytest.raises(RuntimeError):
        load_bytes(raw)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_one_to_three_changed_bytes_always_raise_runtime_error(data):
    # CRC32 catches every change within 32 bits; a few scattered bytes slip past with odds of 2**-32.
    raw = bytearray(small_file())
    for i in data.draw(st.lists(st.integers(0, len(raw) - 1), min_size=1, max_size=3, unique=True)):
        raw[i] ^= data.draw(st.integers(1, 255))
    with pytest.raises(RuntimeError, match=r"^tapegrad\.load: <BytesIO object> (is|has) "):
        load_bytes(bytes(raw))


@pytest.mark.parametrize("version", [0, 3, 2**32 - 1])
def test_unsupported_versions(version):
    with pytest.raises(RuntimeError, match=f"unsupported tapegrad format version {version} .*versions 1 and 2"):
        load_bytes(record(None, header_bytes=b"{}", version=version))


def test_foreign_magic():
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load_bytes(b"TAPEGRAF" + bytes(40))
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load_bytes(b"xyz")


@pytest.mark.parametrize("version", [1, 2])
def test_forged_minimal_file_loads(version):
    assert load_bytes(forged(data=np.array([1.5, -2.0], "<f4").tobytes(), version=version)).tolist() == [1.5, -2.0]


@pytest.mark.parametrize("version", [1, 2])
def test_huge_header_length_is_refused_without_allocating(version):
    raw = struct.pack("<8sIIQ", b"TAPEGRAD", version, 0, 2**63) + b"{}"
    with pytest.raises(RuntimeError, match="truncated"):
        load_bytes(raw)


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("entry, data_bytes, match", [
    (tensor_entry(shape=[2**40, 2**20], nbytes=2**62), 2**62, "truncated"),
    (tensor_entry(shape=[2**40, 2**20], nbytes=2**62), 8, "truncated"),
    (tensor_entry(shape=[0, 2**62]), 8, "too large"),
    (tensor_entry(shape=[0, 2**62], nbytes=0), 8, "too large"),
    (tensor_entry(shape=[3]), 8, "do not hold"),
    (tensor_entry(nbytes=4), 8, "do not hold"),
    (tensor_entry(shape=[-2], nbytes=-8), 8, "bad shape"),
    (tensor_entry(shape=[2], offset=-8), 8, "non-negative"),
    (tensor_entry(offset=8), 8, "start at 8 of the data section, but the layout puts them at 0"),
    (tensor_entry(shape=[2.0]), 8, "bad shape"),
    (tensor_entry(shape=[True, True], nbytes=4), 8, "bad shape"),
    (tensor_entry(shape="2"), 8, "bad shape"),
    (tensor_entry(shape=[1] * 65, nbytes=4), 8, "bad shape"),
    (tensor_entry(dtype="complex64"), 8, "unknown dtype"),
    (tensor_entry(dtype="float16", nbytes=4), 8, "unknown dtype"),
    (tensor_entry(dtype=None), 8, "unknown dtype"),
    (tensor_entry(requires_grad="yes"), 8, "requires_grad"),
    (tensor_entry(parameter=1), 8, "parameter"),
    (tensor_entry(dtype="int32", requires_grad=True), 8, "cannot require grad"),
    (tensor_entry(device="tpu"), 8, "unknown device 'tpu'"),
    (tensor_entry(device=0), 8, "device"),
    (tensor_entry(device="cuda:" + "9" * 100), 8, "unknown device"),
    ("not an object", 8, "not an object"),
    ({k: v for k, v in tensor_entry().items() if k != "device"}, 8, r"tensor 0: keys are \["),
    (dict(tensor_entry(), extra=1), 8, r"tensor 0: keys are \["),
    (tensor_entry(), -8, "'data_bytes' is -8 at byte 135, not a size in save's form"),
    (tensor_entry(), "8", "'data_bytes' is '8' at byte 135, not a size"),
    (tensor_entry(), 8.0, "'data_bytes' is 8.0 at byte 135, not a size"),
    (tensor_entry(), 16, "'data_bytes' is 16 but the tensors fill 8"),
])
def test_invalid_tensor_entries(entry, data_bytes, match, version):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(forged(entry, data=bytes(16), data_bytes=data_bytes, version=version))


MALFORMED_NODE = r"the root has a malformed node at byte \d+ of the header: "
MALFORMED_ITEM = r"the root has a malformed dict item at byte \d+ of the header: "


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("root, match", [
    ({"tensor": 1}, "the root refers to tensor 1 but the file holds 1$"),
    ({"tensor": -1}, MALFORMED_NODE + r"""b'{"tensor":-1}}'$"""),
    ({"tensor": "0"}, MALFORMED_NODE + r"""b'{"tensor":"0"}}'$"""),
    ({"tensor": True}, MALFORMED_NODE),
    ({"float": "zz"}, MALFORMED_NODE + r"""b'{"float":"zz"}}'$"""),
    ({"float": "zzzzzzzzzzzzzzzz"}, MALFORMED_NODE),
    ({"float": "3FF0000000000000"}, MALFORMED_NODE),  # save writes lowercase hex
    ({"float": 1.5}, MALFORMED_NODE),
    ({"set": []}, MALFORMED_NODE + r"""b'{"set":\[\]}}'$"""),
    ({"list": [], "tuple": []}, MALFORMED_NODE + r"""b'\],"tuple":\[\]}}'$"""),
    ([1, 2], MALFORMED_NODE + r"b'\[1,2\]}'$"),
    (1.5, MALFORMED_NODE + r"b'1.5}'$"),
    ({"list": [1.5]}, MALFORMED_NODE + r"b'1.5\]}}'$"),
    ({"list": [[]]}, MALFORMED_NODE + r"b'\[\]\]}}'$"),
    ({"list": [1, {}]}, MALFORMED_NODE + r"b'{}\]}}'$"),
    ({"dict": [[1.5, 2]]}, MALFORMED_ITEM + r"b'\[1.5,2\]\]}}'$"),
    ({"dict": [["a"]]}, MALFORMED_ITEM + r"""b'\["a"\]\]}}'$"""),
    ({"dict": [["a", 1, 2]]}, MALFORMED_ITEM + r"b',2\]\]}}'$"),
    ({"dict": [[None, 1]]}, MALFORMED_ITEM),
    ({"dict": [{"a": 1}]}, MALFORMED_ITEM),
    ({"ordered_dict": {"a": 1}}, MALFORMED_NODE + r"""b'{"ordered_dict":{"a":1}}'\.\.\.$"""),
    ({"list": [{"tuple": [{"oops": 1}]}]}, MALFORMED_NODE + r"""b'{"oops":1}\]}\]}}'$"""),
])
def test_invalid_structure_nodes(root, match, version):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(forged(root=root, version=version))


def header_text(version, entries=b"", data_bytes=b"0", root=b"null"):
    """A header's bytes in save's compact form, from its parts' bytes (to forge malformed ones)."""
    checksums = b',"checksums":"crc32"' if version == 2 else b""
    return b'{"tensors":[' + entries + b'],"data_bytes":' + data_bytes + checksums + b',"root":' + root + b"}"


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("header_bytes, match", [
    (b"{not json", r"""departs from save's layout at byte 0: expected b'{"tensors":\[', found b'{not json'"""),
    (b"\xff\xfe{}", "departs from save's layout at byte 0"),
    (b"[" * 100000 + b"]" * 100000, "departs from save's layout at byte 0"),
    (b"[]", "departs from save's layout at byte 0"),
    (b'{"tensors": [], "data_bytes": 0, "root": null}', "departs from save's layout at byte 0"),
    (b'{"data_bytes":0,"tensors":[],"root":null}', "departs from save's layout at byte 0"),
    (b'{"tensors":{},"data_bytes":0,"root":null}', "departs from save's layout at byte 0"),
    (b'{"tensors":[', "tensor 0 at byte 12 of the header is not JSON in save's form"),
    (b'{"tensors":[]', """departs from save's layout at byte 12: expected b'],"data_bytes":'"""),
    (dict(root=b'"\xc3\xa9"'), MALFORMED_NODE + r"""b'"\\xc3\\xa9"}'$"""),
    (dict(root=b'"\\u00e9"'), None),  # what save writes for a non-ASCII str
    (dict(root=b"[" * 100000 + b"]" * 100000), MALFORMED_NODE + r"b'\[{24}'\.\.\.$"),
    (dict(root=b'{"list":[' * 5000 + b"]}" * 5000), r"the root nests containers more than 100 deep \(at byte \d+\)$"),
    (dict(root=b"NaN"), MALFORMED_NODE + r"b'NaN}'$"),
    (dict(root=b"1e999999"), MALFORMED_NODE + r"b'1e999999}'$"),
    (dict(root=b"1.0"), MALFORMED_NODE + r"b'1.0}'$"),
    (dict(root=b"9" * 4300), None),
    (dict(root=b"9" * 4301), MALFORMED_NODE + r"b'9{24}'\.\.\.$"),
    (dict(root=b'"\\u00e9\\ud800\\n\\"\\\\"'), None),
    (dict(root=b'"\\x"'), MALFORMED_NODE),
    (dict(root=b'"a\x00"'), MALFORMED_NODE),  # a raw control character: JSON wants it escaped
    (dict(root=b"null   x"), r"departs from save's layout at byte \d+: expected b'}', found b'   x}'$"),
    (dict(root=b'{"list":[1]'), MALFORMED_NODE + r"b'\]}'$"),
    (dict(data_bytes=b"NaN"), "'data_bytes' at byte 27 of the header is not JSON in save's form"),
    (dict(data_bytes=b"Infinity"), "'data_bytes' at byte 27 of the header is not JSON in save's form"),
    (dict(data_bytes=b"9" * 5000), "'data_bytes' is 9999.* at byte 27, not a size in save's form"),
    (dict(data_bytes=b"00"), "'data_bytes' is 0 at byte 27, not a size in save's form"),
    (dict(data_bytes=b"-0"), "'data_bytes' is 0 at byte 27, not a size in save's form"),
    (dict(data_bytes=b"0.0"), "'data_bytes' is 0.0 at byte 27, not a size in save's form"),
    (dict(data_bytes=b"true"), "'data_bytes' is True at byte 27, not a size in save's form"),
    (dict(data_bytes=b"[0]"), r"'data_bytes' is \[0\] at byte 27, not a size in save's form"),
    (dict(data_bytes=b"1"), "'data_bytes' is 1 but the tensors fill 0"),
    (dict(entries=b"[]"), r"tensor 0: entry is not an object"),
    (dict(entries=b"{}"), r"tensor 0: keys are \[\]"),
    (dict(entries=b"null,"), r"tensor 0: entry is not an object"),
])
def test_invalid_headers(header_bytes, match, version):
    if isinstance(header_bytes, dict):
        header_bytes = header_text(version, **header_bytes)
    raw = record(None, header_bytes=header_bytes, version=version)
    if match is None:
        assert load_bytes(raw) == json.loads(header_bytes.split(b'"root":', 1)[1][:-1])
        return
    with pytest.raises(RuntimeError, match=match):
        load_bytes(raw)


@pytest.mark.parametrize("version", [1, 2])
def test_header_must_be_exactly_as_save_writes_it(version):
    entry = json.dumps(tensor_entry(), separators=(",", ":")).encode()
    reordered = json.dumps(dict(reversed(list(tensor_entry().items()))), separators=(",", ":")).encode()
    spaced = json.dumps(tensor_entry()).encode()
    for variant, match in [
        (entry, None),
        (reordered, "tensor 0: entry {'device': 'cpu', .* is not in the form save writes"),
        (spaced, "tensor 0: entry {'dtype': 'float32', .* is not in the form save writes"),
        (entry.replace(b'"offset":0', b'"offset":00'), "tensor 0 at byte 12 of the header is not JSON"),
        (entry.replace(b'"shape":[2]', b'"shape":[2.0]'), r"tensor 0: bad shape \[2.0\]"),
    ]:
        header = header_text(version, entries=variant, data_bytes=b"8", root=b'{"tensor":0}')
        raw = record(None, bytes(8), header_bytes=header, version=version, crcs=[zlib.crc32(bytes(8))])
        if match is None:
            assert load_bytes(raw).tolist() == [0.0, 0.0]
        else:
            with pytest.raises(RuntimeError, match=match):
                load_bytes(raw)


@pytest.mark.parametrize("version", [1, 2])
def test_minimal_empty_header_loads(version):
    assert load_bytes(record(None, header_bytes=header_text(version), version=version)) is None


@pytest.mark.parametrize("version", [1, 2])
def test_bool_bytes_other_than_zero_and_one_are_corrupt(version):
    entry = tensor_entry(dtype="bool", shape=[3], nbytes=3)
    assert load_bytes(forged(entry, data=bytes([1, 0, 1, 0, 0, 0, 0, 0]), version=version)).tolist() == [
        True, False, True]
    with pytest.raises(RuntimeError, match=r"tensor 0 \(bool, shape \[3\]\): bool values other than 0 and 1"):
        load_bytes(forged(entry, data=bytes([1, 2, 0, 0, 0, 0, 0, 0]), version=version))


@pytest.mark.parametrize("version", [1, 2])
def test_nonzero_padding_is_corrupt(version):
    entry = tensor_entry(dtype="int32", shape=[1], nbytes=4)
    with pytest.raises(RuntimeError, match=r"tensor 0 \(int32, shape \[1\]\): the padding after it is not zero"):
        load_bytes(forged(entry, data=bytes([1, 0, 0, 0, 0, 0, 9, 0]), version=version))
    raw = bytearray(forged(entry, data=bytes([1, 0, 0, 0, 0, 0, 0, 0]), version=1))
    header_end = 24 + struct.unpack_from("<Q", raw, 16)[0]
    assert header_end % 8, "the forged header must leave padding to corrupt"
    raw[header_end] = 1
    with pytest.raises(RuntimeError, match="the padding after the header is not zero"):
        load_bytes(bytes(raw))


# ---------------------------------------------------------------- version 1 (before checksums)

# A version-1 file as the tapegrad before checksums wrote it (save of the object V1_OBJECT describes).
V1_FILE = base64.b64decode("""
VEFQRUdSQUQBAAAAAAAAALIDAAAAAAAAeyJ0ZW5zb3JzIjpbeyJkdHlwZSI6ImZsb2F0MzIiLCJzaGFwZSI6WzIsM10sIm9mZnNl
dCI6MCwibmJ5dGVzIjoyNCwicmVxdWlyZXNfZ3JhZCI6dHJ1ZSwicGFyYW1ldGVyIjp0cnVlLCJkZXZpY2UiOiJjcHUifSx7ImR0
eXBlIjoiaW50NjQiLCJzaGFwZSI6W10sIm9mZnNldCI6MjQsIm5ieXRlcyI6OCwicmVxdWlyZXNfZ3JhZCI6ZmFsc2UsInBhcmFt
ZXRlciI6ZmFsc2UsImRldmljZSI6ImNwdSJ9LHsiZHR5cGUiOiJpbnQzMiIsInNoYXBlIjpbMl0sIm9mZnNldCI6MzIsIm5ieXRl
cyI6OCwicmVxdWlyZXNfZ3JhZCI6ZmFsc2UsInBhcmFtZXRlciI6ZmFsc2UsImRldmljZSI6ImNwdSJ9LHsiZHR5cGUiOiJib29s
Iiwic2hhcGUiOlszXSwib2Zmc2V0Ijo0MCwibmJ5dGVzIjozLCJyZXF1aXJlc19ncmFkIjpmYWxzZSwicGFyYW1ldGVyIjpmYWxz
ZSwiZGV2aWNlIjoiY3B1In0seyJkdHlwZSI6ImZsb2F0MzIiLCJzaGFwZSI6WzAsMl0sIm9mZnNldCI6NDgsIm5ieXRlcyI6MCwi
cmVxdWlyZXNfZ3JhZCI6ZmFsc2UsInBhcmFtZXRlciI6ZmFsc2UsImRldmljZSI6ImNwdSJ9LHsiZHR5cGUiOiJmbG9hdDY0Iiwi
c2hhcGUiOlsyXSwib2Zmc2V0Ijo0OCwibmJ5dGVzIjoxNiwicmVxdWlyZXNfZ3JhZCI6ZmFsc2UsInBhcmFtZXRlciI6ZmFsc2Us
ImRldmljZSI6ImNwdSJ9XSwiZGF0YV9ieXRlcyI6NjQsInJvb3QiOnsib3JkZXJlZF9kaWN0IjpbWyJ3Iix7InRlbnNvciI6MH1d
LFsic3RlcHMiLHsidGVuc29yIjoxfV0sWyJpZHgiLHsidGVuc29yIjoyfV0sWyJtYXNrIix7InRlbnNvciI6M31dLFsiZW1wdHki
LHsidGVuc29yIjo0fV0sWyJwYWlyIix7InR1cGxlIjpbeyJ0ZW5zb3IiOjV9LHsidGVuc29yIjo1fV19XSxbIm1ldGEiLHsiZGlj
dCI6W1swLCJ6ZXJvIl0sWyJsciIseyJmbG9hdCI6IjlhOTk5OTk5OTk5OWI5M2YifV0sWyJub25lIixudWxsXV19XV19fQAAAAAA
AAAAAAAAAIA+AAAAPwAAQD8AAIA/AACgPwcAAAAAAAAAAwAAAP////8BAAEAAAAAAAAAAAAAAPg/AAAAAAAAAMA=
""")


def v1_object():
    """What V1_FILE holds, built afresh."""
    shared = tapegrad.tensor([1.5, -2.0], dtype=tapegrad.float64)
    return collections.OrderedDict([
        ("w", Parameter(tapegrad.arange(6, dtype=tapegrad.float32).reshape(2, 3) / 4)),
        ("steps", tapegrad.tensor(7)), ("idx", tapegrad.tensor([3, -1], dtype=tapegrad.int32)),
        ("mask", tapegrad.tensor([True, False, True])), ("empty", tapegrad.zeros(0, 2)),
        ("pair", (shared, shared)), ("meta", {0: "zero", "lr": 0.1, "none": None}),
    ])


def assert_same_tree(ours, expected):
    """Same structure, types, flags and bit-exact tensor values (tensor identity aside)."""
    assert type(ours) is type(expected)
    if isinstance(expected, tapegrad.Tensor):
        assert_same_tensor_value(ours, expected)
        assert ours.requires_grad == expected.requires_grad
    elif isinstance(expected, dict):
        assert [(type(k), k) for k in ours] == [(type(k), k) for k in expected]
        for k in expected:
            assert_same_tree(ours[k], expected[k])
    elif isinstance(expected, (list, tuple)):
        assert len(ours) == len(expected)
        for a, b in zip(ours, expected):
            assert_same_tree(a, b)
    else:
        assert ours == expected


def test_version_1_file_still_loads(tmp_path):
    assert V1_FILE[8:16] == struct.pack("<II", 1, 0)
    path = tmp_path / "old.tg"
    path.write_bytes(V1_FILE)
    for source in (path, io.BytesIO(V1_FILE), ReadOnlyStream(V1_FILE)):
        loaded = load(source)
        assert_same_tree(loaded, v1_object())
        assert loaded["pair"][0] is loaded["pair"][1]


def test_version_1_file_rewritten_by_save_becomes_version_2(tmp_path):
    path = tmp_path / "old.tg"
    path.write_bytes(V1_FILE)
    save(load(path), path)
    assert struct.unpack_from("<I", path.read_bytes(), 8) == (2,)
    assert_same_tree(load(path), v1_object())


def test_version_1_has_no_checksum_so_a_changed_data_byte_loads_unnoticed():
    # Documented limit of the old format, and the reason to rewrite such files: here 7 becomes 6.
    raw = bytearray(V1_FILE)
    steps_at = len(raw) - 40  # data layout: w (24 bytes), then steps (8 bytes), idx, mask, empty, pair
    assert raw[steps_at] == 7
    raw[steps_at] ^= 1
    assert load_bytes(bytes(raw))["steps"].item() == 6


@pytest.mark.parametrize("version", [1, 2])
def test_every_truncation_point_of_both_versions_raises(version):
    raw = V1_FILE if version == 1 else to_bytes(v1_object())
    for cut in range(1, len(raw)):
        with pytest.raises(RuntimeError, match="truncated"):
            load_bytes(raw[:cut])


def test_version_2_file_with_its_version_changed_to_1_is_refused():
    raw = bytearray(to_bytes({"w": tapegrad.ones(2)}))
    raw[8] = 1
    with pytest.raises(RuntimeError, match="bytes 12..16 of a version-1 file must be 0"):
        load_bytes(bytes(raw))
    raw[12:16] = bytes(4)  # even where the header CRC happened to be 0, the v2 header is not a v1 header
    with pytest.raises(RuntimeError, match="departs from save's layout"):
        load_bytes(bytes(raw))


def test_path_with_bytes_after_the_record_is_corrupt(tmp_path):
    path = tmp_path / "w.tg"
    save({"w": tapegrad.ones(2)}, path)
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(RuntimeError, match=f"^tapegrad.load: file '{re.escape(str(path))}' is corrupt: "
                                           r"1 bytes follow the end of the record at byte \d+$"):
        load(path)
    with pytest.raises(RuntimeError, match=f"file '{re.escape(str(path))}' is corrupt"):
        with open(path, "rb") as f:  # a stream may hold more records; its name still names the file
            f.seek(0)
            raw = bytearray(f.read())
            raw[30] ^= 1
        path.write_bytes(raw)
        with open(path, "rb") as f:
            load(f)


def test_nesting_limit_is_shared_by_save_and_load():
    deep_lists, deep_dicts = [], {"leaf": 1.5}  # a float leaf is one JSON level deeper than its dict
    for _ in range(98):
        deep_lists, deep_dicts = [deep_lists], {0: deep_dicts}
    for deep in ({"a": deep_lists}, {"a": deep_dicts}):  # 100 containers, the most save writes
        assert roundtrip(deep) == deep
        with pytest.raises(ValueError, match="nested more than 100 deep"):
            save([deep], io.BytesIO())
    root = {"list": []}
    for _ in range(200):
        root = {"list": [root]}
    with pytest.raises(RuntimeError, match="the root nests containers more than 100 deep"):
        load_bytes(forged(root=root))

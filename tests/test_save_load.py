"""tapegrad.save / load: round trips vs torch.save / torch.load, identity, and refusal of every corrupt file."""
import ast
import collections
import gc
import io
import json
import math
import pathlib
import struct

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


def record(header, data=b"", version=1, header_bytes=None):
    """A file laid out as the format documents, with a hand-written header (to forge corrupt files)."""
    raw = header_bytes if header_bytes is not None else json.dumps(header).encode()
    head = struct.pack("<8sIIQ", b"TAPEGRAD", version, 0, len(raw)) + raw
    return head + bytes(-len(head) % 8) + data


def tensor_entry(**over):
    entry = {"dtype": "float32", "shape": [2], "offset": 0, "nbytes": 8, "requires_grad": False,
             "parameter": False, "device": "cpu"}
    entry.update(over)
    return entry


def forged(entry=None, root=None, data=bytes(8), data_bytes=None, **top):
    header = {"tensors": [entry or tensor_entry()], "data_bytes": len(data) if data_bytes is None else data_bytes,
              "root": {"tensor": 0} if root is None else root}
    header.update(top)
    return record(header, data)


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


def test_file_layout_is_documented_magic_version_and_8_byte_aligned_data():
    raw = to_bytes([tapegrad.ones(3), tapegrad.ones(1, dtype=tapegrad.float64)])
    magic, version, reserved, header_len = struct.unpack_from("<8sIIQ", raw)
    assert (magic, version, reserved) == (b"TAPEGRAD", 1, 0)
    header = json.loads(raw[24:24 + header_len])
    data_start = -(-(24 + header_len) // 8) * 8
    assert [e["offset"] % 8 for e in header["tensors"]] == [0, 0] and data_start % 8 == 0
    assert len(raw) == data_start + header["data_bytes"]
    first = header["tensors"][0]
    assert np.frombuffer(raw, "<f4", 3, data_start + first["offset"]).tolist() == [1.0, 1.0, 1.0]


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
def test_flipped_bytes_load_or_raise_runtime_error(data):
    raw = bytearray(small_file())
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    try:
        load_bytes(bytes(raw))
    except RuntimeError:
        pass


def test_wrong_version_and_foreign_magic():
    with pytest.raises(RuntimeError, match="version 2"):
        load_bytes(record({"tensors": [], "data_bytes": 0, "root": None}, version=2))
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load_bytes(b"TAPEGRAF" + bytes(40))
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        load_bytes(b"xyz")


def test_forged_minimal_file_loads():
    assert load_bytes(forged(data=np.array([1.5, -2.0], "<f4").tobytes())).tolist() == [1.5, -2.0]


def test_huge_header_length_is_refused_without_allocating():
    raw = struct.pack("<8sIIQ", b"TAPEGRAD", 1, 0, 2**63) + b"{}"
    with pytest.raises(RuntimeError, match="truncated"):
        load_bytes(raw)


@pytest.mark.parametrize("entry, data_bytes, match", [
    (tensor_entry(shape=[2**40, 2**20], nbytes=2**62), 2**62, "truncated"),
    (tensor_entry(shape=[2**40, 2**20], nbytes=2**62), 8, "do not hold|outside"),
    (tensor_entry(shape=[0, 2**62]), 8, "too large|do not hold"),
    (tensor_entry(shape=[0, 2**62], nbytes=0), 8, "too large"),
    (tensor_entry(shape=[3]), 8, "do not hold"),
    (tensor_entry(nbytes=4), 8, "do not hold"),
    (tensor_entry(shape=[-2], nbytes=-8), 8, "bad shape"),
    (tensor_entry(shape=[2], offset=-8), 8, "non-negative"),
    (tensor_entry(offset=8), 8, "outside"),
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
    (tensor_entry(device="tpu"), 8, "device"),
    (tensor_entry(device=0), 8, "device"),
    ("not an object", 8, "not an object"),
    (tensor_entry(), -8, "data_bytes"),
    (tensor_entry(), "8", "data_bytes"),
])
def test_invalid_tensor_entries(entry, data_bytes, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(forged(entry, data_bytes=data_bytes))


@pytest.mark.parametrize("root, match", [
    ({"tensor": 1}, "malformed"),
    ({"tensor": -1}, "malformed"),
    ({"tensor": "0"}, "malformed"),
    ({"float": "zz"}, "malformed"),
    ({"float": "zzzzzzzzzzzzzzzz"}, "malformed"),
    ({"float": 1.5}, "malformed"),
    ({"set": []}, "malformed"),
    ({"list": [], "tuple": []}, "unexpected"),
    ([1, 2], "unexpected"),
    (1.5, "unexpected"),
    ({"dict": [[1.5, 2]]}, "dict item"),
    ({"dict": [["a"]]}, "dict item"),
    ({"dict": [[None, 1]]}, "dict item"),
    ({"ordered_dict": {"a": 1}}, "malformed"),
    ({"list": [{"tuple": [{"oops": 1}]}]}, "oops"),
])
def test_invalid_structure_nodes(root, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(forged(root=root))


@pytest.mark.parametrize("header_bytes, match", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe{}", "not valid JSON"),
    (b"[" * 100000 + b"]" * 100000, "not valid JSON"),
    (b"[]", "lacks"),
    (b'{"tensors": [], "root": null}', "lacks"),
    (b'{"tensors": {}, "data_bytes": 0, "root": null}', "not a list"),
    (b'{"tensors": [], "data_bytes": 0, "root": ' + b'{"list": [' * 5000 + b"]}" * 5000 + b"}", "JSON|deeply"),
])
def test_invalid_headers(header_bytes, match):
    with pytest.raises(RuntimeError, match=match):
        load_bytes(record(None, header_bytes=header_bytes))


def test_bool_bytes_other_than_zero_and_one_are_corrupt():
    entry = tensor_entry(dtype="bool", shape=[3], nbytes=3)
    assert load_bytes(forged(entry, data=bytes([1, 0, 1, 0, 0, 0, 0, 0]))).tolist() == [True, False, True]
    with pytest.raises(RuntimeError, match="bool"):
        load_bytes(forged(entry, data=bytes([1, 2, 0, 0, 0, 0, 0, 0])))

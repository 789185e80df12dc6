"""tapegrad.save / tapegrad.load: a weights-only file format (JSON header + raw tensor bytes) that never runs code."""
# Layout of one record (all integers little-endian):
#
#   offset 0   8 bytes   magic b"TAPEGRAD"
#          8   u32       format version (1)
#         12   u32       reserved, 0
#         16   u64       header length H in bytes
#         24   H bytes   UTF-8 (in fact ASCII) JSON header, see below
#    24 + H    pad       zero bytes up to the next multiple of 8
#         D    data      tensor bytes, each tensor's bytes starting at a multiple of 8 from D
#
# The header is {"tensors": [{"dtype", "shape", "offset", "nbytes", "requires_grad", "parameter",
# "device"}, ...], "data_bytes": N, "root": NODE}. A NODE is null, true, false, a JSON integer, a
# JSON string, or a one-key object tagging everything JSON cannot say exactly: {"float": "<16 hex
# digits of the IEEE bits>"}, {"tensor": i}, {"list": [NODE...]}, {"tuple": [NODE...]},
# {"dict": [[KEY, NODE]...]}, {"ordered_dict": [[KEY, NODE]...]}; a KEY is a JSON string or integer.
#
# What is kept: container types and key order, exact key types (str vs int), float bits, tensor
# dtype/shape/values/requires_grad/device, nn.Parameter-ness, and identity of one tensor object
# referenced twice. What is not: storage sharing between different views of one buffer (each
# tensor is saved by value, so two views come back as two independent tensors), .grad, and the
# identity of containers referenced twice (they come back as two equal copies).
import collections
import io
import json
import os
import struct

from tapegrad import _C

MAGIC = b"TAPEGRAD"
VERSION = 1
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, version, reserved, header length
_ALIGN = 8
_MAX_NDIM = 64  # numpy's limit; a deeper shape in a header can only be corruption
_DTYPE_NAMES = ("float32", "float64", "int64", "int32", "bool")
_NAME_OF_DTYPE = {getattr(_C, name): name for name in _DTYPE_NAMES}
_FLOAT_BITS = struct.Struct("<d")


def _dtype_name(dtype):
    """'float32' for tapegrad.float32."""
    if dtype not in _NAME_OF_DTYPE:
        raise TypeError(f"tapegrad.save cannot save tensors of dtype {dtype}")
    return _NAME_OF_DTYPE[dtype]


def _padded(n):
    return -(-n // _ALIGN) * _ALIGN


def _is_path(f):
    return isinstance(f, (str, os.PathLike))


def _parameter_class():
    # Imported lazily and from its own module: nn builds on the top-level package, and nn/__init__ may change.
    from tapegrad.nn.parameter import Parameter

    return Parameter


# ----------------------------------------------------------------------------- save


class _Encoder:
    """Turns an object tree into the JSON-able node tree, collecting each distinct tensor once."""

    def __init__(self):
        self.tensors = []  # the tensor objects, in index order
        self.entries = []  # their header entries
        self._index_of = {}  # id(tensor) -> index; the tensors stay alive in self.tensors
        self._open = set()  # ids of containers on the current path, to refuse cycles
        self._parameter = _parameter_class()
        self._data_bytes = 0

    def encode(self, obj, where):
        if isinstance(obj, _C.Tensor):
            return {"tensor": self._tensor_index(obj)}
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if type(obj) is float:
            return {"float": _FLOAT_BITS.pack(obj).hex()}
        if type(obj) in (list, tuple, dict, collections.OrderedDict):
            return self._container(obj, where)
        raise TypeError(
            f"tapegrad.save cannot save an object of type {_type_name(obj)} (at {where}); it saves tensors, "
            "None, bool, int, float, str and dict/OrderedDict/list/tuple of those"
        )

    def _container(self, obj, where):
        if id(obj) in self._open:
            raise ValueError(f"tapegrad.save cannot save a container that contains itself (at {where})")
        self._open.add(id(obj))
        try:
            if isinstance(obj, (list, tuple)):
                items = [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
                return {type(obj).__name__: items}
            pairs = [[self._key(k, where), self.encode(v, f"{where}[{k!r}]")] for k, v in obj.items()]
            return {"dict" if type(obj) is dict else "ordered_dict": pairs}
        finally:
            self._open.discard(id(obj))

    @staticmethod
    def _key(key, where):
        if type(key) in (str, int):
            return key
        raise TypeError(f"tapegrad.save only saves dict keys of type str or int, got {_type_name(key)} (in {where})")

    def _tensor_index(self, tensor):
        index = self._index_of.get(id(tensor))
        if index is None:
            index = len(self.tensors)
            self._index_of[id(tensor)] = index
            self.tensors.append(tensor)
            self.entries.append(self._entry(tensor))
        return index

    def _entry(self, tensor):
        nbytes = tensor.numel() * tensor.element_size()
        entry = {
            "dtype": _dtype_name(tensor.dtype),
            "shape": list(tensor.shape),
            "offset": self._data_bytes,
            "nbytes": nbytes,
            "requires_grad": bool(tensor.requires_grad),
            "parameter": isinstance(tensor, self._parameter),
            "device": str(tensor.device),
        }
        self._data_bytes += _padded(nbytes)
        return entry

    def header(self, root):
        return {"tensors": self.entries, "data_bytes": self._data_bytes, "root": root}


def _type_name(obj):
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _little_endian_bytes(tensor):
    """The tensor's values as a flat, C-ordered, little-endian uint8 numpy array (a copy where needed)."""
    import numpy as np

    t = tensor.detach()
    if t.device.type != "cpu":
        t = t.to("cpu")
    arr = np.ascontiguousarray(t.numpy())
    arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
    return arr.reshape(-1).view(np.uint8)


def _write_record(f, encoder, header):
    # ensure_ascii keeps lone surrogates in str values encodable; allow_nan is moot (floats are bits).
    header_bytes = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    f.write(_PREAMBLE.pack(MAGIC, VERSION, 0, len(header_bytes)))
    f.write(header_bytes)
    f.write(bytes(_padded(_PREAMBLE.size + len(header_bytes)) - _PREAMBLE.size - len(header_bytes)))
    for tensor, entry in zip(encoder.tensors, encoder.entries):
        data = _little_endian_bytes(tensor)
        f.write(data.data)
        f.write(bytes(_padded(entry["nbytes"]) - entry["nbytes"]))


def save(obj, f):
    """Saves tensors and nested dict/OrderedDict/list/tuple of tensors and plain values to a path or binary file."""
    encoder = _Encoder()
    header = encoder.header(encoder.encode(obj, "obj"))  # before opening f: a bad object leaves no file behind
    if _is_path(f):
        with open(f, "wb") as out:
            _write_record(out, encoder, header)
    elif hasattr(f, "write"):
        _write_record(f, encoder, header)
    else:
        raise TypeError(f"tapegrad.save expects a path or a binary file object, got {_type_name(f)}")


# ----------------------------------------------------------------------------- load


class _Source:
    """A readable, seekable view of one record: knows how many bytes exist, so no length is trusted blindly."""

    def __init__(self, f):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())  # a pipe or socket: its size is only known once read
        self.f = f
        self.start = f.tell()
        self.size = f.seek(0, io.SEEK_END) - self.start
        f.seek(self.start)

    def read(self, offset, n):
        """Exactly n bytes at offset (from the record's start) as bytes."""
        self._check(offset, n)
        self.f.seek(self.start + offset)
        return self._fill(bytearray(n))

    def read_into(self, offset, buffer):
        """Fills a writable buffer (a numpy array's bytes) from offset."""
        self._check(offset, len(buffer))
        self.f.seek(self.start + offset)
        self._fill(buffer)

    def end_at(self, offset):
        """Leaves the file positioned just after the record, as torch leaves it after load."""
        self.f.seek(self.start + offset)

    def _check(self, offset, n):
        if offset + n > self.size:
            raise _truncated(f"needs {offset + n} bytes but only {self.size} are there")

    def _fill(self, buffer):
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            if hasattr(self.f, "readinto"):
                got = self.f.readinto(view[done:])
            else:
                chunk = self.f.read(len(view) - done)
                got = len(chunk)
                view[done:done + got] = chunk
            if not got:
                raise _truncated("the file ended while reading")
            done += got
        return bytes(buffer) if isinstance(buffer, bytearray) else buffer


def _truncated(detail):
    return RuntimeError(f"tapegrad.load: the file is truncated or corrupt ({detail})")


def _corrupt(detail):
    return RuntimeError(f"tapegrad.load: the file is corrupt: {detail}")


def _read_preamble(source):
    """Checks magic and version; returns the header length."""
    head = source.f.read(min(source.size, _PREAMBLE.size))
    if len(head) < len(MAGIC) and (not head or not MAGIC.startswith(head)):
        raise RuntimeError(f"tapegrad.load: not a tapegrad file ({'empty file' if not head else 'wrong magic'})")
    if not head.startswith(MAGIC) and len(head) >= len(MAGIC):
        hint = "; it looks like a torch.save zip archive, which holds pickled code" if head.startswith(b"PK") else ""
        raise RuntimeError(f"tapegrad.load: not a tapegrad file (wrong magic {head[:8]!r}{hint})")
    if len(head) < _PREAMBLE.size:
        raise _truncated(f"the {_PREAMBLE.size}-byte preamble is cut short at {len(head)} bytes")
    _, version, _, header_len = _PREAMBLE.unpack(head)
    if version != VERSION:
        raise RuntimeError(f"tapegrad.load: unsupported tapegrad format version {version} (this reads {VERSION})")
    return header_len


def _parse_header(raw):
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _corrupt(f"the header is not valid JSON ({type(e).__name__}: {e})") from None
    if not isinstance(header, dict) or not {"tensors", "data_bytes", "root"} <= header.keys():
        raise _corrupt("the header lacks 'tensors', 'data_bytes' or 'root'")
    if not isinstance(header["tensors"], list):
        raise _corrupt("'tensors' is not a list")
    return header


def _is_int(v):
    return type(v) is int


def _check_entry(i, entry, data_bytes):
    """Validates one tensor entry's types, sizes and bounds; returns (dtype name, shape)."""
    import numpy as np

    if not isinstance(entry, dict):
        raise _corrupt(f"tensor {i}: entry is not an object")
    dtype, shape = entry.get("dtype"), entry.get("shape")
    if dtype not in _DTYPE_NAMES:
        raise _corrupt(f"tensor {i}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or len(shape) > _MAX_NDIM or not all(_is_int(d) and 0 <= d < 2**63 for d in shape):
        raise _corrupt(f"tensor {i}: bad shape {shape!r} (need a list of at most {_MAX_NDIM} non-negative ints)")
    offset, nbytes = entry.get("offset"), entry.get("nbytes")
    if not (_is_int(offset) and _is_int(nbytes) and offset >= 0 and nbytes >= 0):
        raise _corrupt(f"tensor {i}: offset {offset!r} / nbytes {nbytes!r} must be non-negative integers")
    numel, span = 1, np.dtype(dtype).itemsize
    for d in shape:
        numel, span = numel * d, span * max(d, 1)
    if span > 2**62:  # strides of even a zero-size tensor would overflow int64 here
        raise _corrupt(f"tensor {i}: shape {tuple(shape)} is too large")
    if numel * np.dtype(dtype).itemsize != nbytes:
        raise _corrupt(f"tensor {i}: {nbytes} bytes do not hold a {dtype} tensor of shape {tuple(shape)}")
    if offset + nbytes > data_bytes:
        raise _corrupt(f"tensor {i}: bytes {offset}..{offset + nbytes} lie outside the {data_bytes}-byte data section")
    for flag in ("requires_grad", "parameter"):
        if type(entry.get(flag)) is not bool:
            raise _corrupt(f"tensor {i}: '{flag}' is not a bool")
    if entry["requires_grad"] and dtype not in ("float32", "float64"):
        raise _corrupt(f"tensor {i}: a {dtype} tensor cannot require grad")
    if not isinstance(entry.get("device"), str):
        raise _corrupt(f"tensor {i}: 'device' is not a string")
    return dtype, shape


def _read_tensor(source, data_start, i, entry, dtype, shape):
    """Allocates the tensor's own numpy buffer (sizes already checked against the file) and fills it."""
    import numpy as np

    arr = np.empty(shape, dtype=np.dtype(dtype).newbyteorder("<"))
    source.read_into(data_start + entry["offset"], arr.reshape(-1).view(np.uint8))
    if dtype == "bool" and arr.size and arr.view(np.uint8).max() > 1:
        raise _corrupt(f"tensor {i}: bool values other than 0 and 1")  # such bytes are undefined behaviour in C++
    # from_numpy keeps arr (which owns its fresh memory) alive: nothing here aliases a temporary buffer.
    return _C.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=False))


def _target_device(map_location, saved):
    """The device a tensor saved on `saved` should load to."""
    if map_location is None:
        try:
            return _C.device(saved)
        except Exception:  # noqa: BLE001 - any failure to parse means the header lies
            raise _corrupt(f"unknown device {saved!r}") from None
    return map_location


def _finish_tensor(t, entry, device):
    if device.type != "cpu":
        if device.type == "cuda":
            from tapegrad import cuda

            if not cuda.is_available():
                raise RuntimeError(
                    "Attempting to deserialize object on a CUDA device but tapegrad.cuda.is_available() is False. "
                    "If you are running on a CPU-only machine, please use tapegrad.load with "
                    "map_location=tapegrad.device('cpu') to map your tensors to the CPU."
                )
        t = t.to(device)
    if entry["parameter"]:
        return _parameter_class()(t, requires_grad=entry["requires_grad"])
    return t.requires_grad_(entry["requires_grad"])


def _check_map_location(map_location):
    if map_location is None or isinstance(map_location, _C.device):
        return map_location
    if isinstance(map_location, str):
        try:
            return _C.device(map_location)
        except Exception as e:  # noqa: BLE001 - re-raised with the argument named
            raise RuntimeError(f"tapegrad.load: invalid map_location {map_location!r}: {e}") from None
    raise TypeError(
        f"tapegrad.load: map_location must be None, a str or a tapegrad.device, got {_type_name(map_location)}"
    )


class _Decoder:
    """Rebuilds the object tree from header nodes, validating each node's form as it goes."""

    def __init__(self, tensors):
        self.tensors = tensors

    def decode(self, node):
        if node is None or type(node) in (bool, int, str):
            return node
        if not (isinstance(node, dict) and len(node) == 1):
            raise _corrupt(f"unexpected node {_short(node)}")
        (tag, value), = node.items()
        if tag == "float" and isinstance(value, str) and len(value) == 16:
            try:
                return _FLOAT_BITS.unpack(bytes.fromhex(value))[0]
            except ValueError:
                pass
        elif tag == "tensor" and _is_int(value) and 0 <= value < len(self.tensors):
            return self.tensors[value]
        elif tag in ("list", "tuple") and isinstance(value, list):
            items = [self.decode(v) for v in value]
            return items if tag == "list" else tuple(items)
        elif tag in ("dict", "ordered_dict") and isinstance(value, list):
            pairs = [self._pair(p) for p in value]
            return dict(pairs) if tag == "dict" else collections.OrderedDict(pairs)
        raise _corrupt(f"malformed node {_short(node)}")

    def _pair(self, pair):
        if not (isinstance(pair, list) and len(pair) == 2 and type(pair[0]) in (str, int)):
            raise _corrupt(f"malformed dict item {_short(pair)}")
        return pair[0], self.decode(pair[1])


def _short(node):
    text = repr(node)
    return text if len(text) <= 80 else text[:77] + "..."


def _load_record(source, map_location):
    header_len = _read_preamble(source)
    header = _parse_header(source.read(_PREAMBLE.size, header_len))
    data_start = _padded(_PREAMBLE.size + header_len)
    data_bytes = header["data_bytes"]
    if not _is_int(data_bytes) or data_bytes < 0:
        raise _corrupt(f"'data_bytes' is {data_bytes!r}, not a non-negative integer")
    if data_start + data_bytes > source.size:
        raise _truncated(f"the data section needs {data_start + data_bytes} bytes but only {source.size} are there")
    # Every entry is checked before any tensor is allocated, so a bad last entry costs no big reads.
    checked = [_check_entry(i, e, data_bytes) for i, e in enumerate(header["tensors"])]
    tensors = []
    for i, (entry, (dtype, shape)) in enumerate(zip(header["tensors"], checked)):
        t = _read_tensor(source, data_start, i, entry, dtype, shape)
        tensors.append(_finish_tensor(t, entry, _target_device(map_location, entry["device"])))
    try:
        obj = _Decoder(tensors).decode(header["root"])
    except RecursionError:
        raise _corrupt("the structure is nested too deeply") from None
    source.end_at(data_start + data_bytes)
    return obj


def load(f, map_location=None, *, weights_only=True):
    """Loads what save wrote; never executes code. weights_only is accepted for torch compatibility: always true."""
    del weights_only  # the format can only hold weights, whatever the caller asks
    map_location = _check_map_location(map_location)
    if _is_path(f):
        with open(f, "rb") as stream:
            return _load_record(_Source(stream), map_location)
    if not hasattr(f, "read"):
        raise TypeError(f"tapegrad.load expects a path or a binary file object, got {_type_name(f)}")
    return _load_record(_Source(f), map_location)

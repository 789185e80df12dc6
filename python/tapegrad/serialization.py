"""tapegrad.save / load: a checksummed, weights-only format (JSON header + raw tensor bytes) that runs no code."""
# Layout of one record, format version 2 (all integers little-endian):
#
#   offset 0   8 bytes   magic b"TAPEGRAD"
#          8   u32       format version (2)
#         12   u32       header CRC32: zlib.crc32 of bytes [0, 12) + [16, D), i.e. every byte before the
#                        data except this field (magic, version, header length, header, padding)
#         16   u64       header length H in bytes
#         24   H bytes   ASCII JSON header, see below
#    24 + H    pad       zero bytes up to D, the next multiple of 8
#         D    data      the tensors' bytes back to back in header order, each padded with zero bytes
#                        to a multiple of 8; tensor i starts at D + the sum of the padded sizes before it
#     D + N    trailer   one u32 per tensor: zlib.crc32 of that tensor's bytes and its padding
#
# The header is {"tensors": [{"dtype", "shape", "offset", "nbytes", "requires_grad", "parameter",
# "device"}, ...], "data_bytes": N, "checksums": "crc32", "root": NODE}, written as compact JSON
# (separators "," and ":", ASCII only) with its top-level keys in that order: load reads it in that
# form only, which lets it check each tensor entry as soon as it is parsed. A NODE is null, true, false,
# a JSON integer, a JSON string, or a one-key object tagging everything JSON cannot say exactly:
# {"float": "<16 hex digits of the IEEE bits>"}, {"tensor": i}, {"list": [NODE...]},
# {"tuple": [NODE...]}, {"dict": [[KEY, NODE]...]}, {"ordered_dict": [[KEY, NODE]...]}; a KEY is a
# JSON string or integer. Containers nest at most _MAX_NESTING deep (save refuses deeper ones).
#
# Version 1 (written before checksums existed) is the same without the CRC: bytes 12..16 are 0, the
# header has no "checksums" key and there is no trailer. load still reads it, with every structural
# check below but no way to notice a changed data byte; tapegrad.save(tapegrad.load(path), path)
# rewrites such a file as version 2.
#
# load treats every file as hostile. Before anything is allocated, each length in the preamble and
# header is checked against the bytes the file really has; the tensors must tile the data section
# exactly in the layout above, so no two share bytes and their sizes sum to at most the file size.
# The header is not handed to a general JSON parser: tensor entries are matched one at a time against
# the exact form save writes (each checked before the next is read), and the root is decoded node by
# node with an explicit stack straight into the objects it describes. So memory is the header's bytes,
# the tensors' own bytes (at most the data section, each read once, straight into its buffer) and the
# loaded objects, and nothing is recursive. In a version-2 record a change within any 4 consecutive bytes
# is always caught (CRC32 catches every burst of up to 32 bits; the version and magic are checked
# outright), except in the header-length field, where a change moves the CRC's range and escapes with
# odds of 2**-32. Every refusal is a RuntimeError naming the file. The objects a valid file describes
# cost what they cost: about 600 bytes per tensor (against at least ~100 header bytes for its entry)
# and Python's usual size per plain value, so a file of very many tiny objects loads into a few times
# its size; what no file can do any more is make load allocate more tensor bytes than it holds.
#
# What is kept: container types and key order, exact key types (str vs int), float bits, tensor
# dtype/shape/values/requires_grad/device, nn.Parameter-ness, and identity of one tensor object
# referenced twice. What is not: storage sharing between different views of one buffer (each
# tensor is saved by value, so two views come back as two independent tensors), .grad, and the
# identity of containers referenced twice (they come back as two equal copies).
import collections
import io
import itertools
import json
import os
import re
import struct
import sys
import zlib

from tapegrad import _C

MAGIC = b"TAPEGRAD"
VERSION = 2
_LEGACY_VERSION = 1  # no checksums; still loaded
_PREAMBLE = struct.Struct("<8sIIQ")  # magic, version, header CRC32 (0 in version 1), header length
_CRC = struct.Struct("<I")
_ALIGN = 8
_MAX_NDIM = 64  # numpy's limit; a deeper shape in a header can only be corruption
# Containers nested deeper than this are refused by save and load. load needs no recursion for any depth;
# save's encoder recurses a few frames per level, and this keeps it far inside Python's default limit.
_MAX_NESTING = 100
_DTYPE_NAMES = ("float32", "float64", "int64", "int32", "bool")
_ITEMSIZE = {"float32": 4, "float64": 8, "int64": 8, "int32": 4, "bool": 1}
_DTYPE_OF_NAME = {name.encode(): name for name in _ITEMSIZE}  # one str per dtype, whatever the entry count
_NUMPY_CODE = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "int32": "<i4", "bool": "|b1"}  # stored byte order
_NAME_OF_DTYPE = {getattr(_C, name): name for name in _DTYPE_NAMES}
_FLOAT_BITS = struct.Struct("<d")
_NATIVE_IS_LITTLE = sys.byteorder == "little"
_ENTRY_KEYS = frozenset(("dtype", "shape", "offset", "nbytes", "requires_grad", "parameter", "device"))
_CHECKSUMS = "crc32"


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
        self._open = set()  # ids of containers on the current path, to refuse cycles and bound nesting
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
        if len(self._open) >= _MAX_NESTING:
            raise ValueError(f"tapegrad.save cannot save containers nested more than {_MAX_NESTING} deep (at {where})")
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
        return {"tensors": self.entries, "data_bytes": self._data_bytes, "checksums": _CHECKSUMS, "root": root}


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


def _header_crc(preamble, header_bytes, padding):
    """CRC32 of everything before the data except the CRC field itself (bytes 12..16 of the preamble)."""
    crc = zlib.crc32(preamble[:12])
    crc = zlib.crc32(preamble[16:], crc)
    crc = zlib.crc32(header_bytes, crc)
    return zlib.crc32(padding, crc)


def _write_record(f, encoder, header):
    # ensure_ascii keeps lone surrogates in str values encodable; allow_nan is moot (floats are bits).
    header_bytes = json.dumps(header, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
    padding = bytes(_padded(_PREAMBLE.size + len(header_bytes)) - _PREAMBLE.size - len(header_bytes))
    unsealed = _PREAMBLE.pack(MAGIC, VERSION, 0, len(header_bytes))
    f.write(_PREAMBLE.pack(MAGIC, VERSION, _header_crc(unsealed, header_bytes, padding), len(header_bytes)))
    f.write(header_bytes)
    f.write(padding)
    # The data's CRCs go after it: each tensor is converted to bytes once and written as it is summed.
    crcs = []
    for tensor, entry in zip(encoder.tensors, encoder.entries):
        data = _little_endian_bytes(tensor)
        tail = bytes(_padded(entry["nbytes"]) - entry["nbytes"])
        f.write(data.data)
        f.write(tail)
        crcs.append(zlib.crc32(tail, zlib.crc32(data)))
    f.write(struct.pack(f"<{len(crcs)}I", *crcs))


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


class _BadFile(Exception):
    """A refusal raised deep in the reader; load() turns it into a RuntimeError that names the file."""

    def __init__(self, predicate):
        super().__init__(predicate)
        self.predicate = predicate  # completes "tapegrad.load: <file> ...", e.g. "is corrupt: ..."


def _truncated(detail):
    return _BadFile(f"is truncated or corrupt ({detail})")


def _corrupt(detail):
    return _BadFile(f"is corrupt: {detail}")


def _file_name(f):
    """How messages name the file: its path, or the stream's name, or its type for a nameless buffer."""
    if _is_path(f):
        return f"file {os.fspath(f)!r}"
    name = getattr(f, "name", None)
    if isinstance(name, (str, bytes)):
        return f"file {name!r}"
    return f"<{type(f).__name__} object>"


class _Source:
    """A readable view of one record that knows how many bytes exist, so no length is trusted blindly.

    Offsets are from the record's start; reads go forward from the current position, as the record is laid out.
    """

    def __init__(self, f):
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(_binary(f.read()))  # a pipe or socket: its size is only known once read
        self.f = f
        self.start = f.tell()
        self.size = f.seek(0, io.SEEK_END) - self.start
        self.seek(0)

    def seek(self, offset):
        self.f.seek(self.start + offset)
        self.pos = offset

    def read(self, n):
        """Exactly the next n bytes, as a bytearray (bytes-like; not copied again into a bytes)."""
        return self.read_into(bytearray(n))

    def read_into(self, buffer):
        """Fills a writable buffer (a numpy array's bytes) with the next len(buffer) bytes."""
        view = memoryview(buffer).cast("B")
        if self.pos + len(view) > self.size:
            raise _truncated(f"needs {self.pos + len(view)} bytes but only {self.size} are there")
        done = 0
        while done < len(view):
            if hasattr(self.f, "readinto"):
                got = self.f.readinto(view[done:])
            else:
                chunk = _binary(self.f.read(len(view) - done))
                got = len(chunk)
                view[done:done + got] = chunk
            if not got:
                raise _truncated("the file ended while reading")
            done += got
        self.pos += done
        return buffer


def _binary(chunk):
    if not isinstance(chunk, (bytes, bytearray, memoryview)):
        raise TypeError(f"tapegrad.load expects a binary file object; its read() returned {_type_name(chunk)}")
    return chunk


def _read_preamble(source):
    """Checks magic and version; returns (version, the preamble's bytes, header length)."""
    head = bytes(source.read(min(source.size, _PREAMBLE.size)))
    if len(head) < len(MAGIC) and (not head or not MAGIC.startswith(head)):
        raise _BadFile(f"is not a tapegrad file ({'empty file' if not head else 'wrong magic'})")
    if not head.startswith(MAGIC) and len(head) >= len(MAGIC):
        hint = "; it looks like a torch.save zip archive, which holds pickled code" if head.startswith(b"PK") else ""
        raise _BadFile(f"is not a tapegrad file (wrong magic {head[:8]!r}{hint})")
    if len(head) < _PREAMBLE.size:
        raise _truncated(f"the {_PREAMBLE.size}-byte preamble is cut short at {len(head)} bytes")
    _, version, crc_field, header_len = _PREAMBLE.unpack(head)
    if version not in (_LEGACY_VERSION, VERSION):
        raise _BadFile(
            f"has unsupported tapegrad format version {version} (this reads versions {_LEGACY_VERSION} and "
            f"{VERSION}); a newer tapegrad wrote it, or its preamble is corrupt"
        )
    if version == _LEGACY_VERSION and crc_field != 0:
        raise _corrupt(f"bytes 12..16 of a version-{_LEGACY_VERSION} file must be 0, not {crc_field:#010x}")
    return version, head, header_len


def _reject_constant(name):
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_INT = rb"(0|[1-9][0-9]{0,19})"  # a JSON integer of at most 20 digits: every size and offset fits
# A tensor entry exactly as save writes it. Matching this (in C, no recursion, no objects built) is
# how load reads entries; anything else is parsed as JSON only to say precisely what is wrong with it.
_ENTRY_FORM = re.compile(
    rb'\{"dtype":"([a-z0-9]{1,16})","shape":\[((?:0|[1-9][0-9]{0,19})(?:,(?:0|[1-9][0-9]{0,19})){0,%d})?\],'
    rb'"offset":%s,"nbytes":%s,"requires_grad":(true|false),"parameter":(true|false),"device":"([a-z0-9:]{1,64})"\}'
    % (_MAX_NDIM - 1, _INT, _INT))
_DATA_BYTES_FORM = re.compile(rb'\],"data_bytes":' + _INT + rb"(?=,)")
_ROOT_KEY = {_LEGACY_VERSION: b',"root":', VERSION: b',"checksums":"crc32","root":'}


class _Header:
    """The header, read in the form save writes and checked whole before any tensor is allocated.

    The tensor entries are matched one at a time and each is checked before the next is read, so a
    header of a million entries that alias one another is refused at the second. Checking keeps
    nothing per entry (the entries are matched again, as the tensors are read), so refusing a header
    of many valid entries costs no memory beyond the header's bytes.
    """

    def __init__(self, raw, version, room):
        self.raw, self.room, self.devices = raw, room, {}  # room: bytes after the header; every tensor fits in it
        self.checksum_size = _CRC.size if version == VERSION else 0  # each tensor also needs its CRC in the trailer
        if not raw.startswith(b'{"tensors":['):
            raise _departs(raw, 0, b'{"tensors":[')
        self.count = offset = 0
        for layout in self.entries():
            self.count, offset = self.count + 1, offset + layout.padded
        pos = self._entries_end
        m = _DATA_BYTES_FORM.match(raw, pos)
        if m is None:
            if not raw.startswith(b'],"data_bytes":', pos):
                raise _departs(raw, pos, b'],"data_bytes":')
            value = _peek_json(raw, m_end := pos + len(b'],"data_bytes":'), 64, "'data_bytes'")
            raise _corrupt(f"'data_bytes' is {_short(value)} at byte {m_end}, not a size in save's form")
        self.data_bytes, pos = int(m[1]), m.end()
        if self.data_bytes != offset:
            raise _corrupt(f"'data_bytes' is {self.data_bytes} but the tensors fill {offset}")
        if not raw.startswith(_ROOT_KEY[version], pos):
            raise _departs(raw, pos, _ROOT_KEY[version])
        self.root_at = pos + len(_ROOT_KEY[version])  # decoded once the tensors it refers to exist
        if raw[-1:] != b"}":
            raise _departs(raw, len(raw) - 1, b"}")

    def entries(self):
        """Yields each tensor entry as a checked _Layout, in order."""
        raw, pos, offset, i = self.raw, len(b'{"tensors":['), 0, 0
        if raw[pos:pos + 1] != b"]":
            while True:
                m = _ENTRY_FORM.match(raw, pos)
                if m is None:
                    _diagnose_entry(i, raw, pos, offset, (self.room, self.checksum_size * (i + 1)), self.devices)
                dims = m[2]
                shape = tuple(map(int, dims.split(b","))) if dims else ()
                dtype = _DTYPE_OF_NAME.get(m[1], m[1].decode())
                layout = _check_values(i, dtype, shape, int(m[3]), int(m[4]), m[5] == b"true", m[6] == b"true",
                                       m[7].decode(), offset, (self.room, self.checksum_size * (i + 1)), self.devices)
                yield layout
                offset, i, pos = offset + layout.padded, i + 1, m.end()
                if raw[pos:pos + 1] != b",":
                    break
                pos += 1
        self._entries_end = pos


def _departs(raw, pos, expected):
    found = bytes(raw[pos:pos + len(expected) + 8])
    return _corrupt(f"the header departs from save's layout at byte {pos}: expected {expected!r}, found {found!r}")


def _diagnose_entry(i, raw, pos, offset, room, devices):
    """Raises the most precise complaint about entry i, which is not in save's form."""
    entry = _peek_json(raw, pos, 4096, f"tensor {i}")  # an entry save writes is a few hundred bytes at most
    _check_entry(i, entry, offset, room, devices)
    raise _corrupt(f"tensor {i}: entry {_short(entry)} is not in the form save writes")


def _peek_json(raw, pos, size, what):
    """The JSON value that starts at raw[pos], if it ends within `size` bytes; for precise complaints."""
    window = raw[pos:pos + size]
    if window.count(b"[") + window.count(b"{") > 256:  # keeps json's recursive parser shallow, whatever the limit
        raise _corrupt(f"{what} at byte {pos} of the header is not in save's form")
    try:
        return _DECODER.raw_decode(window.decode("ascii", "replace"))[0]  # a non-ASCII byte fails the parse
    except (ValueError, RecursionError) as e:  # JSONDecodeError, too many int digits, NaN or Infinity
        raise _corrupt(f"{what} at byte {pos} of the header is not JSON in save's form "
                       f"({type(e).__name__}: {_short(str(e))})") from None


def _is_int(v):
    return type(v) is int


class _Layout:
    """One tensor's checked entry: where its bytes lie and what to build from them."""

    __slots__ = ("dtype", "shape", "offset", "nbytes", "padded", "requires_grad", "parameter", "device")


def _check_entry(i, entry, offset, room, devices):
    """Checks the types of a JSON-parsed entry i, then its values (see _check_values)."""
    if not isinstance(entry, dict):
        raise _corrupt(f"tensor {i}: entry is not an object")
    if entry.keys() != _ENTRY_KEYS:
        raise _corrupt(f"tensor {i}: keys are {_short(list(entry))}, not {sorted(_ENTRY_KEYS)}")
    dtype, shape = entry["dtype"], entry["shape"]
    if type(dtype) is not str or dtype not in _ITEMSIZE:
        raise _corrupt(f"tensor {i}: unknown dtype {_short(dtype)}")
    if type(shape) is not list or len(shape) > _MAX_NDIM or not all(_is_int(d) and d >= 0 for d in shape):
        raise _corrupt(f"tensor {i}: bad shape {_short(shape)} (need a list of at most {_MAX_NDIM} non-negative ints)")
    start, nbytes = entry["offset"], entry["nbytes"]
    if not (_is_int(start) and _is_int(nbytes) and start >= 0 and nbytes >= 0):
        raise _corrupt(f"tensor {i}: offset {_short(start)} / nbytes {_short(nbytes)} must be non-negative integers")
    for flag in ("requires_grad", "parameter"):
        if type(entry[flag]) is not bool:
            raise _corrupt(f"tensor {i}: '{flag}' is not a bool")
    if type(entry["device"]) is not str:
        raise _corrupt(f"tensor {i}: 'device' is not a string")
    return _check_values(i, dtype, shape, start, nbytes, entry["requires_grad"], entry["parameter"], entry["device"],
                         offset, room, devices)


def _check_values(i, dtype, shape, start, nbytes, requires_grad, parameter, device, offset, room, devices):
    """Checks entry i's values: its bytes must start at `offset` of the data section and fit in `room`.

    room is (bytes after the header, checksum bytes tensors 0..i need in the trailer), so a header of
    many valid-looking entries in a file too short to hold them is refused as soon as one overflows.
    """
    if dtype not in _ITEMSIZE:
        raise _corrupt(f"tensor {i}: unknown dtype {_short(dtype)}")
    numel, span = 1, _ITEMSIZE[dtype]
    for d in shape:
        numel *= d
        span *= d or 1
    if span > 2**62:  # strides of even a zero-size tensor would overflow int64 here
        raise _corrupt(f"tensor {i}: shape {tuple(shape)} is too large")
    if numel * _ITEMSIZE[dtype] != nbytes:
        raise _corrupt(f"tensor {i}: {nbytes} bytes do not hold a {dtype} tensor of shape {tuple(shape)}")
    if start != offset:
        # Tensors tile the data section in order: one pointing anywhere else would share another's bytes.
        raise _corrupt(f"tensor {i}: its bytes start at {start} of the data section, "
                       f"but the layout puts them at {offset}")
    after_header, checksums = room
    if offset + nbytes + checksums > after_header:
        also = f" and {checksums} bytes of checksums" if checksums else ""
        raise _truncated(f"tensor {i} needs bytes {offset}..{offset + nbytes} of the data section{also}, "
                         f"but the file has {after_header} bytes after the header")
    if requires_grad and dtype not in ("float32", "float64"):
        raise _corrupt(f"tensor {i}: a {dtype} tensor cannot require grad")
    if device not in devices:
        if len(device) > 64:
            raise _corrupt(f"tensor {i}: unknown device {_short(device)}")
        try:
            devices[device] = _C.device(device)
        except Exception:  # noqa: BLE001 - any failure to parse means the header lies
            raise _corrupt(f"tensor {i}: unknown device {device!r}") from None
    layout = _Layout()
    layout.dtype, layout.shape, layout.offset, layout.nbytes = dtype, shape, offset, nbytes
    layout.padded = _padded(nbytes)
    layout.requires_grad, layout.parameter, layout.device = requires_grad, parameter, devices[device]
    return layout


def _describe(i, layout):
    return f"tensor {i} ({layout.dtype}, shape {list(layout.shape)})"


def _read_tensor(source, i, layout, stored_crc):
    """Reads tensor i's bytes (next in source) once, straight into its own buffer, and checks them."""
    import numpy as np

    try:
        arr = np.empty(layout.shape, dtype=_NUMPY_CODE[layout.dtype])
    except ValueError as e:  # numpy's own limits (e.g. 32 dimensions before numpy 2)
        raise _corrupt(f"{_describe(i, layout)} cannot be held by this numpy: {e}") from None
    flat, tail = arr.reshape(-1).view(np.uint8), b""
    if layout.padded:  # zero-size tensors have no bytes to read
        source.read_into(flat)
        tail = source.read(layout.padded - layout.nbytes)
    if stored_crc is not None:  # version 1 has none: no time spent summing
        crc = zlib.crc32(tail, zlib.crc32(flat))
        if crc != stored_crc:
            raise _corrupt(f"{_describe(i, layout)}: its bytes have CRC32 {crc:#010x} "
                           f"but the file records {stored_crc:#010x}")
    if tail.count(0) != len(tail):
        raise _corrupt(f"{_describe(i, layout)}: the padding after it is not zero")
    if layout.dtype == "bool" and flat.size and flat.max() > 1:
        raise _corrupt(f"{_describe(i, layout)}: bool values other than 0 and 1")  # undefined behaviour in C++
    # from_numpy keeps arr (which owns its fresh memory) alive: nothing here aliases a temporary buffer.
    return _C.from_numpy(arr if _NATIVE_IS_LITTLE else arr.astype(arr.dtype.newbyteorder("=")))


def _check_device_available(device):
    """Refuses a CUDA target without CUDA, with torch's message."""
    if device.type == "cuda":
        from tapegrad import cuda

        if not cuda.is_available():
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but tapegrad.cuda.is_available() is False. "
                "If you are running on a CPU-only machine, please use tapegrad.load with "
                "map_location=tapegrad.device('cpu') to map your tensors to the CPU."
            )


def _finish_tensor(t, layout, device):
    if device.type != "cpu":
        t = t.to(device)
    if layout.parameter:
        return _parameter_class()(t, requires_grad=layout.requires_grad)
    return t.requires_grad_(layout.requires_grad)


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


_JSON_STRING = rb'"(?:[\x20\x21\x23-\x5b\x5d-\x7f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+"'  # ASCII, as save writes
_JSON_INT = rb"-?(?:0|[1-9][0-9]{0,4299})(?![0-9.eE])"  # Python's own limit on int digits; floats are tagged
# The root's nodes as save writes them, told apart by their first byte. A container only opens here.
_TAGGED = re.compile(rb'\{"(?:float":"(?P<float>[0-9a-f]{16})"\}|tensor":(?P<tensor>0|[1-9][0-9]{0,19})\}'
                     rb'|(?P<open>list|tuple|dict|ordered_dict)":\[)')
_STRING = re.compile(_JSON_STRING)
_INTEGER = re.compile(_JSON_INT)
_KEY = re.compile(rb"\[(?:(?P<int>%s)|(?P<str>%s))," % (_JSON_INT, _JSON_STRING))  # opens a dict item [KEY,NODE]
_WORDS = ((b"null", None), (b"true", True), (b"false", False))
_BUILD = {b"list": list, b"tuple": tuple, b"dict": dict, b"ordered_dict": collections.OrderedDict}
_QUOTE, _BRACE, _MINUS, _DIGITS = ord('"'), ord("{"), ord("-"), range(ord("0"), ord("9") + 1)
# Runs of plain items (each with its comma) taken in bulk: long lists of numbers or strings and big state
# dicts ([key, tensor] items) are common, and one regex and one C-level parse per run beat a Python step per item.
# A run is at most 1024 items, so the copies it is parsed from stay small.
_PLAIN = rb'(?:null|true|false|%s|%s|\{"tensor":(?:0|[1-9][0-9]{0,19})\})' % (_JSON_INT, _JSON_STRING)
_ITEM_RUN = re.compile(rb"(?:%s,){1,1024}" % _PLAIN)
_PAIR_RUN = re.compile(rb"(?:\[(?:%s|%s),%s\],){1,1024}" % (_JSON_INT, _JSON_STRING, _PLAIN))
_FLOAT_RUN = re.compile(rb'(?:\{"float":"[0-9a-f]{16}"\},){1,1024}')
_FLOAT_HEX = re.compile(rb"[0-9a-f]{16}")


def _json_string(token):
    if b"\\" not in token:
        return token[1:-1].decode("ascii")
    return json.loads(token.decode("ascii"))  # escapes, lone surrogates included, exactly as JSON means them


def _decode_root(raw, pos, end, tensors):
    """Builds the object the root node raw[pos:end] describes; returns (object, where the node ends).

    Iterative, with an explicit stack, so depth costs no recursion; every node is checked as it is
    read and turned straight into its final object, so a hostile root builds nothing beyond what it
    describes before the first bad node stops it.
    """
    stack = []  # open containers, innermost last: [is a dict, items, their type, key of the dict item being read]
    while True:
        if stack:
            pos = _take_runs(raw, pos, end, stack[-1], tensors)
        if stack and stack[-1][0]:
            m = _KEY.match(raw, pos, end)
            if m is None:
                raise _corrupt(f"the root has a malformed dict item at byte {pos} of the header: {_peek(raw, pos)}")
            stack[-1][3] = int(m["int"]) if m["int"] is not None else _json_string(m["str"])
            pos = m.end()
        first = raw[pos] if pos < end else None
        if first == _BRACE:
            m = _TAGGED.match(raw, pos, end)
            if m is None:
                raise _malformed_node(raw, pos)
            pos = m.end()
            if m["tensor"] is not None:
                value = _tensor(int(m["tensor"]), tensors)
            elif m["float"] is not None:
                value = _FLOAT_BITS.unpack(bytes.fromhex(m["float"].decode()))[0]
            else:
                if len(stack) == _MAX_NESTING:
                    raise _corrupt(f"the root nests containers more than {_MAX_NESTING} deep (at byte {m.start()})")
                tag = m["open"]
                if not raw.startswith(b"]}", pos, end):
                    stack.append([tag.endswith(b"dict"), [], _BUILD[tag], None])
                    continue  # its first item comes next
                pos += 2
                value = _BUILD[tag]()
        elif first == _QUOTE:
            m = _STRING.match(raw, pos, end)
            if m is None:
                raise _malformed_node(raw, pos)
            value, pos = _json_string(m[0]), m.end()
        elif first == _MINUS or first in _DIGITS:
            m = _INTEGER.match(raw, pos, end)
            if m is None:
                raise _malformed_node(raw, pos)
            value, pos = int(m[0]), m.end()
        else:
            for word, value in _WORDS:
                if raw.startswith(word, pos, end):
                    pos += len(word)
                    break
            else:
                raise _malformed_node(raw, pos)
        while stack:  # put the value in its container; close each container that ends right after it
            frame = stack[-1]
            if frame[0]:
                if not raw.startswith(b"]", pos, end):
                    raise _corrupt(f"the root has a malformed dict item at byte {pos} of the header: {_peek(raw, pos)}")
                pos += 1
                frame[1].append((frame[3], value))
            else:
                frame[1].append(value)
            if raw.startswith(b",", pos, end):
                pos += 1
                break
            if not raw.startswith(b"]}", pos, end):
                raise _malformed_node(raw, pos)
            pos += 2
            stack.pop()
            value = frame[2](frame[1])
        else:
            return value, pos


def _take_runs(raw, pos, end, frame, tensors):
    """Appends the plain items that come next in a container (all but its last) to it; returns where they end.

    The regexes admit exactly the tokens json reads as these values, and no containers but tensor references.
    """
    is_dict, items = frame[0], frame[1]
    while True:
        m = (_PAIR_RUN if is_dict else _ITEM_RUN).match(raw, pos, end)
        if m is not None:
            run = json.loads(b"[" + m[0][:-1] + b"]")
            if is_dict:
                keys, values = [k for k, _ in run], [v for _, v in run]
            else:
                keys, values = None, run
            if b'{"tensor":' in m[0]:
                values = [_tensor(v["tensor"], tensors) if type(v) is dict else v for v in values]
            items.extend(values if keys is None else zip(keys, values))
        elif not is_dict and (m := _FLOAT_RUN.match(raw, pos, end)) is not None:
            hex_digits = b"".join(_FLOAT_HEX.findall(m[0]))
            items.extend(struct.unpack(f"<{len(hex_digits) // 16}d", bytes.fromhex(hex_digits.decode())))
        else:
            return pos
        pos = m.end()


def _tensor(index, tensors):
    if index >= len(tensors):
        raise _corrupt(f"the root refers to tensor {index} but the file holds {len(tensors)}")
    return tensors[index]


def _malformed_node(raw, pos):
    return _corrupt(f"the root has a malformed node at byte {pos} of the header: {_peek(raw, pos)}")


def _peek(raw, pos):
    return repr(bytes(raw[pos:pos + 24])) + ("..." if len(raw) > pos + 24 else "")


def _short(value):
    """A repr of a header value short enough for a message, built without walking or copying all of it."""
    text = _bounded_repr(value, 3)
    return text if len(text) <= 80 else text[:77] + "..."


def _bounded_repr(value, levels):
    # Header values can be huge (a million-key object, a 100 MB string): look at a few items only.
    if isinstance(value, str):
        return repr(value[:60]) + ("..." if len(value) > 60 else "")
    if isinstance(value, (list, dict)):
        if levels == 0:
            return "[...]" if isinstance(value, list) else "{...}"
        if isinstance(value, list):
            parts = [_bounded_repr(v, levels - 1) for v in value[:6]]
        else:
            items = itertools.islice(value.items(), 6)
            parts = [f"{_bounded_repr(k, 0)}: {_bounded_repr(v, levels - 1)}" for k, v in items]
        parts += ["..."] if len(value) > 6 else []
        return ("[{}]" if isinstance(value, list) else "{{{}}}").format(", ".join(parts))
    return repr(value)  # None, bool, float, or an int of at most the 4300 digits json.loads accepts


def _load_record(source, map_location):
    """Reads one record from source; returns (object, the record's length in bytes)."""
    version, preamble, header_len = _read_preamble(source)
    data_start = _padded(_PREAMBLE.size + header_len)
    if data_start > source.size:
        raise _truncated(f"the header needs {data_start} bytes but only {source.size} are there")
    raw = source.read(header_len)
    padding = source.read(data_start - _PREAMBLE.size - header_len)
    if version == VERSION:
        stored = _PREAMBLE.unpack(preamble)[2]
        crc = _header_crc(preamble, raw, padding)
        if crc != stored:
            raise _corrupt(
                f"the header (bytes 0..{data_start}) has CRC32 {crc:#010x} but the file records {stored:#010x}"
            )
    elif padding.count(0) != len(padding):
        raise _corrupt("the padding after the header is not zero")
    header = _Header(raw, version, source.size - data_start)
    end = data_start + header.data_bytes + (_CRC.size * header.count if version == VERSION else 0)
    if end > source.size:
        raise _truncated(f"the data section and checksums need {end} bytes but only {source.size} are there")
    for device in {map_location} if map_location is not None else set(header.devices.values()):
        _check_device_available(device)  # before any data is read
    crcs = itertools.repeat(None)
    if version == VERSION:  # the trailer first, so each tensor is checked the moment it is read
        source.seek(data_start + header.data_bytes)
        crcs = (c for (c,) in _CRC.iter_unpack(source.read(end - data_start - header.data_bytes)))
    source.seek(data_start)
    tensors = []
    for i, (layout, crc) in enumerate(zip(header.entries(), crcs)):
        device = layout.device if map_location is None else map_location
        tensors.append(_finish_tensor(_read_tensor(source, i, layout, crc), layout, device))
    obj, root_end = _decode_root(raw, header.root_at, len(raw) - 1, tensors)
    if root_end != len(raw) - 1:
        raise _departs(raw, root_end, b"}")
    source.seek(end)  # just after the record, as torch leaves a file after load
    return obj, end


def load(f, map_location=None, *, weights_only=True):
    """Loads what save wrote; never executes code. weights_only is accepted for torch compatibility: always true.

    A file that is not a complete, intact tapegrad record raises RuntimeError naming the file and the fault.
    """
    del weights_only  # the format can only hold weights, whatever the caller asks
    map_location = _check_map_location(map_location)
    try:
        if _is_path(f):
            with open(f, "rb") as stream:
                source = _Source(stream)
                obj, end = _load_record(source, map_location)
                if end != source.size:  # a path holds exactly one record; more bytes mean damage
                    raise _corrupt(f"{source.size - end} bytes follow the end of the record at byte {end}")
                return obj
        if not hasattr(f, "read"):
            raise TypeError(f"tapegrad.load expects a path or a binary file object, got {_type_name(f)}")
        return _load_record(_Source(f), map_location)[0]
    except _BadFile as e:
        raise RuntimeError(f"tapegrad.load: {_file_name(f)} {e.predicate}") from None

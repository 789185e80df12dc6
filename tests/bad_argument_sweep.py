# The bad-argument sweep's machinery: the names to call, how baselines are broken, the child that runs them.
"""A call is a torch-API expression (see bad_argument_cases) run in both libraries. The parent never runs
tapegrad: the calls run in a child process that reports each call before running it, so a call that
kills the child is named, and the rest run in a fresh child."""
import ast
import inspect
import json
import os
import selectors
import subprocess
import sys
import tempfile
import time

from bad_argument_cases import BASELINES, NOT_SWEPT, TENSORS

MARKERS = ("d", "n", "k")  # a dim, a size or count, an index or offset

# How to break one argument of each kind, besides passing None and a string in its place.
BREAKERS = {
    "float": lambda name: [f"{name}.bool()", f"{name}.long()"],
    "int": lambda name: [f"{name}.float()"],
    "index": lambda name: [f"{name}.float()", f"({name} + 5)", f"({name} - 9)"],
    "mask": lambda name: [f"{name}.float()"],
    "d": lambda _: ["1.5", "7", "-9"],
    "n": lambda _: ["1.5", "2 ** 62", "2 ** 63 - 1", "-1"],
    "k": lambda _: ["1.5", "10", "-10"],
}
ANYWHERE = ["None", "'a'"]  # what every argument is also replaced by


# ---------- the names to sweep ----------

def public_names(tapegrad, torch):
    """(namespace, name) of every public function and Tensor attribute tapegrad shares with torch."""
    names = set()
    for ns, ours, theirs in (("T", tapegrad, torch), ("F", tapegrad.nn.functional, torch.nn.functional)):
        listed = getattr(ours, "__all__", None) or dir(ours)
        for name in listed:
            obj = getattr(ours, name, None)
            if (name.startswith("_") or not callable(obj) or inspect.isclass(obj) or inspect.ismodule(obj)
                    or not hasattr(theirs, name)):
                continue
            names.add((ns, name))
    for name in dir(tapegrad.Tensor):
        if not name.startswith("_") and hasattr(torch.Tensor, name):
            names.add(("Tensor", name))
    return names


def is_property(torch, name):
    return not callable(getattr(torch.Tensor, name))


# ---------- reading a call ----------

def _is_marker(node):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS


def _receiver(node):
    """The tensor expression a method call or attribute read is made on, else None."""
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute) and not (isinstance(target.value, ast.Name) and target.value.id in ("T", "F")):
        return target.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
        return node.args[0]
    return None


def name_of(src):
    """(namespace, name) that the call `src` exercises."""
    node = ast.parse(src, mode="eval").body
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
        return "Tensor", node.args[1].value
    target = node.func if isinstance(node, ast.Call) else node
    if _receiver(node) is None:
        return target.value.id, target.attr
    return "Tensor", target.attr


def _top_args(node):
    """The argument nodes of the outermost call (setattr: only the value)."""
    if not isinstance(node, ast.Call):
        return []
    if isinstance(node.func, ast.Name) and node.func.id == "setattr":
        return [node.args[2]]
    return list(node.args) + [kw.value for kw in node.keywords]


def _points(arg):
    """The nodes inside one argument that the sweep breaks: tensors by name and marked ints."""
    found = []
    stack = [arg]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and node.id in TENSORS:
            found.append((node, TENSORS[node.id][0]))
        elif _is_marker(node):
            found.append((node, node.func.id))
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _key(node):
    return type(node).__name__, node.col_offset, node.end_col_offset


class _Replace(ast.NodeTransformer):
    """Replaces the node with a given key by another expression, and unwraps the d/n/k markers."""

    def __init__(self, key=None, new=None):
        self.key, self.new = key, new

    def generic_visit(self, node):
        if self.key is not None and hasattr(node, "col_offset") and _key(node) == self.key:
            return self.new
        node = super().generic_visit(node)
        if _is_marker(node):
            return node.args[0]
        return node


def plain(src, key=None, new=None):
    """The runnable source: markers removed and, given a key, that node replaced by `new` (source)."""
    tree = ast.parse(src, mode="eval")
    replacement = None if new is None else ast.parse(new, mode="eval").body
    return ast.unparse(_Replace(key, replacement).visit(tree))


def broken_calls(src):
    """Every call that breaks one argument of baseline `src` in one way."""
    node = ast.parse(src, mode="eval").body
    out = []
    recv = _receiver(node)
    if isinstance(recv, ast.Name) and recv.id in TENSORS:  # a method's tensor: only its dtype or values
        out += [plain(src, _key(recv), r) for r in BREAKERS[TENSORS[recv.id][0]](recv.id)]
    for arg in _top_args(node):
        kinds = {_key(arg): None}
        for point, kind in _points(arg):
            kinds[_key(point)] = (point, kind)
        for key, found in kinds.items():
            replacements = list(ANYWHERE)
            if found is not None:
                point, kind = found
                replacements += BREAKERS[kind](getattr(point, "id", None))
            out += [plain(src, key, r) for r in replacements]
    return list(dict.fromkeys(c for c in out if c != plain(src)))


# ---------- baselines ----------

def run_in_torch(torch, src):
    """Runs src in torch in this process, leaving torch's global state (seed, printing, default dtype,
    grad mode) as it found it: baselines include set_printoptions, manual_seed and the like."""
    rng = torch.random.get_rng_state()
    try:
        return eval(src, *make_env(torch))
    finally:
        torch.random.set_rng_state(rng)
        _reset(torch)


def _runs_in_torch(torch, src):
    try:
        run_in_torch(torch, src)
        return True
    except Exception:  # noqa: BLE001 - a candidate torch refuses is simply not a baseline
        return False


def baselines(tapegrad, torch):
    """{(namespace, name): [baseline sources]} for every swept name: the table's, the method forms
    derived from its T.f(x, ...) rows, and the automatic candidates for names still without one."""
    names = public_names(tapegrad, torch) - set(NOT_SWEPT)
    found = {}
    for src in BASELINES:
        found.setdefault(name_of(src), []).append(src)
    for src in BASELINES:
        node = ast.parse(src, mode="eval").body
        ns, name = name_of(src)
        if ns != "T" or not node.args or not (isinstance(node.args[0], ast.Name) and node.args[0].id in TENSORS):
            continue
        rest = [ast.unparse(a) for a in node.args[1:]] + [ast.unparse(kw) for kw in node.keywords]
        for method in (name, name + "_"):
            derived = f"{node.args[0].id}.{method}({', '.join(rest)})"
            if ("Tensor", method) in names and derived not in found.get(("Tensor", method), []) \
                    and _runs_in_torch(torch, plain(derived)):
                found.setdefault(("Tensor", method), []).append(derived)
    for ns, name in sorted(names - set(found)):
        if ns == "Tensor":
            candidates = [f"x.{name}"] if is_property(torch, name) else [f"x.{name}()", f"x.{name}(y)"]
        else:
            candidates = [f"{ns}.{name}(x)", f"{ns}.{name}(x, y)"]
        for c in candidates:
            if _runs_in_torch(torch, c):
                found[(ns, name)] = [c]
                break
    return {key: srcs for key, srcs in found.items() if key in names}


def all_calls(found):
    """Every baseline of `found` (from baselines()) and every broken call, in a stable order, no repeats."""
    calls = []
    for key in sorted(found):
        for src in found[key]:
            calls.append(plain(src))
            calls += broken_calls(src)
    return list(dict.fromkeys(calls))


# ---------- running one call (in the child) ----------

class _Tensors(dict):
    """The vocabulary's tensors, made on first use (fresh per call: in-place calls change them)."""

    def __init__(self, lib):
        super().__init__()
        self.lib = lib

    def __missing__(self, name):
        if name not in TENSORS:
            raise KeyError(name)
        value = eval(TENSORS[name][1], {"T": self.lib})
        self[name] = value
        return value


def make_env(lib):
    """(globals, locals) to eval a call in lib."""
    ident = lambda v: v  # noqa: E731 - the d/n/k markers, when a marked source is run as it is
    return {"T": lib, "F": lib.nn.functional, "d": ident, "n": ident, "k": ident}, _Tensors(lib)


def describe(value):
    """A result reduced to what both libraries must agree on: structure, tensor shapes and dtypes."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return type(value).__name__
    if hasattr(value, "shape") and hasattr(value, "dtype") and hasattr(value, "requires_grad"):
        return f"tensor{tuple(value.shape)}:{str(value.dtype).replace('torch.', '')}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    if type(value).__name__ == "dtype":
        return str(value).replace("torch.", "")
    return "object"


def outcome(lib, src):
    """["ok", description] or ["raise", exception type name, first line of its message]."""
    try:
        return ["ok", describe(eval(src, *make_env(lib)))]
    except Exception as e:  # noqa: BLE001 - any exception is an outcome to compare
        lines = str(e).strip().splitlines()
        return ["raise", type(e).__name__, lines[0][:300] if lines else ""]


def _reset(lib):
    """Undoes what a call may have changed in the process-global state."""
    lib.set_default_dtype(lib.float32)
    lib.set_grad_enabled(True)
    lib.set_printoptions(profile="default")


def child_main(path):
    """Runs the calls in the JSON file `path`: prints "S <i> <lib>" before and "R <json>" after each."""
    import faulthandler
    import warnings

    from fuzz.worker import _limit_memory

    faulthandler.enable(file=sys.stderr, all_threads=True)
    _limit_memory(3 << 30)  # a call that really allocates a huge size fails instead of eating the machine
    import torch

    import tapegrad

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    with open(path) as f:
        calls = json.load(f)
    for i, src in calls:
        result = {}
        for label, lib in (("torch", torch), ("tapegrad", tapegrad)):
            print("S", i, label, flush=True)
            result[label] = outcome(lib, src)
            _reset(lib)
        print("R", json.dumps([i, result]), flush=True)
    print("DONE", flush=True)


# ---------- running all calls (in the parent) ----------

def _child_command(root, path):
    tests = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path[:0] = [{root!r}, {tests!r}]; import bad_argument_sweep as s; "
            "s.child_main(sys.argv[1])")
    return [sys.executable, "-c", code, path]


def _run_child(todo, root, timeout):
    """Runs the calls `todo` ([(index, call)]) in one child, yielding ("start", index, lib),
    ("result", index, outcomes) and, last, ("end", how the child ended or None, its stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calls.json")
        with open(path, "w") as f:
            json.dump(todo, f)
        with open(os.path.join(tmp, "stderr"), "w+") as err:
            # unbuffered: select() must see every byte the child wrote, none may wait in a Python buffer
            proc = subprocess.Popen(_child_command(root, path), stdout=subprocess.PIPE, stderr=err, bufsize=0)
            sel = selectors.DefaultSelector()
            sel.register(proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout + 60  # the first call also waits for the imports
            pending, how = b"", None
            while how is None:
                if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                    proc.kill()  # our own child, by its handle
                    how = f"no result within {timeout:.0f}s"
                    break
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    how = f"child died (exit code {proc.wait()})"
                    break
                deadline = time.monotonic() + timeout
                *lines, pending = (pending + chunk).split(b"\n")
                for line in map(bytes.decode, lines):
                    if line.startswith("S "):
                        _, idx, lib = line.split()
                        yield "start", int(idx), lib
                    elif line.startswith("R "):
                        yield "result", *json.loads(line[2:])
                    elif line == "DONE":
                        how = "done"
            proc.stdout.close()
            proc.wait()
            err.seek(0)
            # faulthandler's dump ends with a long list of extension modules: keep the stacks before it
            last_words = err.read().split("\nExtension modules:")[0]
            yield "end", None if how == "done" else how, last_words[-3000:]


def run_calls(calls, root, timeout=60.0):
    """{call: {"torch": outcome, "tapegrad": outcome}}; a call that killed or hung the child gets
    {"crash": how, "lib": which library, "stderr": the child's last words} and the rest run in a new one."""
    results = {}
    todo = list(enumerate(calls))
    while todo:
        current, lib, last = None, None, None
        for event, *data in _run_child(todo, root, timeout):
            if event == "start":
                current, lib = data
            elif event == "result":
                results[calls[data[0]]] = data[1]
                current, last = None, data[0]
            else:
                how, stderr = data
        if how is None:
            break
        if current is None and last is None:
            raise RuntimeError(f"sweep child failed before its first call: {how}\n{stderr}")
        if current is None:  # after a result: freeing that call's objects killed the child
            current, how = last, how + " after its result"
        results[calls[current]] = {"crash": how, "lib": lib, "stderr": stderr}
        todo = [(i, c) for i, c in todo if i > current]
    return results


def sweep(tapegrad, torch, root):
    """(baselines, calls, results) of the whole sweep."""
    found = baselines(tapegrad, torch)
    calls = all_calls(found)
    return found, calls, run_calls(calls, root)

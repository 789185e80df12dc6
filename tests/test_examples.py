# Runs examples/ under tapegrad and under torch and checks they print the same thing.
import ast
import os
import pathlib
import re
import subprocess
import sys

import pytest

from conftest import package_root

REPO = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "seed_walkthrough.py"
IMPORT_LINE = re.compile(r"^import tapegrad as torch$", re.MULTILINE)

# Lines the walkthrough must print exactly as torch prints them.
KEY_LINES = [
    "x = tensor(3., requires_grad=True)",
    "y = tensor(9., grad_fn=<PowBackward0>)",
    "x.grad = tensor(6.)",
    "z = tensor(0.4121, grad_fn=<SinBackward0>)",
    "x.grad = tensor(-5.4668)",
    "z = tensor(6.7000, grad_fn=<AddBackward0>)",
    "y_pred = tensor(0.9988, grad_fn=<SigmoidBackward0>)",
    "loss = tensor(6.7012, grad_fn=<NegBackward0>)",
    "w.grad = tensor(6.6918)",
    "b.grad = tensor(0.9988)",
    "dL/dw by hand = 6.691762447357178",
    "dL/db by hand = 0.998770534992218",
    "y = tensor(4.6667, grad_fn=<MeanBackward0>)",
    "x.grad = tensor([0.6667, 1.3333, 2.0000])",
    "x.grad.zero_() = tensor([0., 0., 0.])",
    "after 1st backward: x.grad = tensor([2., 4., 6.])",
    "after 2nd backward: x.grad = tensor([ 4.,  8., 12.])",
    "after zero_():      x.grad = tensor([0., 0., 0.])",
    "RuntimeError: element 0 of tensors does not require grad and does not have a grad_fn",
    "RuntimeError: Trying to backward through the graph a second time (or directly access "
    "saved tensors after they have already been freed). Saved intermediate values of the "
    "graph are freed when you call .backward() or autograd.grad(). Specify retain_graph=True "
    "if you need to backward through the graph a second time or if you need to access saved "
    "tensors after calling backward.",
]


def _imports(source):
    """(module, alias) for every import statement in source."""
    imported = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported += [(a.name, a.asname) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            imported.append((node.module, None))
    return imported


def _env(tested_tapegrad):
    env = dict(os.environ)
    if tested_tapegrad:
        # The tapegrad this suite imported (a dev tree, tools/sanitize.sh's staged build, or the installed
        # package), ahead of anything else on the path.
        parts = [package_root()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def _run(script, tested_tapegrad, cwd):
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(tested_tapegrad),
        cwd=cwd,
    )
    assert proc.returncode == 0, f"{script} failed (rc={proc.returncode}):\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def tapegrad_output(tmp_path_factory):
    return _run(EXAMPLE, tested_tapegrad=True, cwd=tmp_path_factory.mktemp("tapegrad_run"))


@pytest.fixture(scope="module")
def torch_output(tmp_path_factory):
    pytest.importorskip("torch")
    source, n = IMPORT_LINE.subn("import torch", EXAMPLE.read_text())
    assert n == 1, "the example must contain the line `import tapegrad as torch` exactly once"
    assert _imports(source) == [("torch", None)]
    work = tmp_path_factory.mktemp("torch_run")
    script = work / EXAMPLE.name
    script.write_text(source)
    return _run(script, tested_tapegrad=False, cwd=work)


def test_example_imports_only_tapegrad_as_torch():
    assert _imports(EXAMPLE.read_text()) == [("tapegrad", "torch")]
    assert EXAMPLE.read_text().startswith("# "), "the example opens with a one-line comment"


def test_same_output_as_torch(tapegrad_output, torch_output):
    assert tapegrad_output.splitlines() == torch_output.splitlines()


def test_key_lines_verbatim(tapegrad_output):
    lines = tapegrad_output.splitlines()
    missing = [line for line in KEY_LINES if line not in lines]
    assert not missing, "missing lines:\n" + "\n".join(missing)

"""End to end against torch: the digits MLP trained with tapegrad and with torch from the same
initial weights and the same batch order gives the same loss curve; the examples run and learn."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tapegrad
import torch
from sklearn.datasets import load_digits

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _build(lib, weights):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.Tanh(), nn.Linear(64, 10))
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w.copy()))
    return model


def _loss_curve(lib, weights, x, y, batches, optimizer_name):
    model = _build(lib, weights)
    loss_fn = lib.nn.CrossEntropyLoss()
    if optimizer_name == "sgd":
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    else:
        optimizer = lib.optim.Adam(model.parameters(), lr=3e-3)
    xs, ys = lib.from_numpy(x), lib.from_numpy(y)
    losses = []
    for idx in batches:
        i = lib.from_numpy(idx)
        loss = loss_fn(model(xs[i]), ys[i])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
def test_digits_mlp_loss_curve_matches_torch(optimizer_name):
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                                    torch.nn.Tanh(), torch.nn.Linear(64, 10))
    weights = [p.detach().numpy().copy() for p in reference.parameters()]
    rng = np.random.default_rng(0)
    order = np.concatenate([rng.permutation(len(x)), rng.permutation(len(x))])  # two epochs cover 50 batches
    batches = [order[i * 64:(i + 1) * 64] for i in range(50)]
    ours = _loss_curve(tapegrad, weights, x, y, batches, optimizer_name)
    theirs = _loss_curve(torch, weights, x, y, batches, optimizer_name)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)
    assert theirs[-1] < theirs[0] * 0.6  # it did learn


def _run_example(*args):
    # The examples import the same tapegrad this test process did (the dev tree or the installed one).
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(tapegrad.__file__)))
    env = dict(os.environ, PYTHONPATH=package_parent + os.pathsep + os.environ.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_placement_example_finds_the_hidden_threshold():
    out = _run_example("examples/placement.py")
    last = out.strip().splitlines()
    threshold = float(last[-2].rsplit("CGPA", 1)[1])
    accuracy = float(last[-1].split()[-1].rstrip("%")) / 100
    assert abs(threshold - 7.8) < 0.3  # the data were generated with a 50% chance at 7.8
    assert accuracy > 0.8


def test_train_digits_example_reaches_95_percent(tmp_path):
    plot = tmp_path / "plot.png"
    out = _run_example("examples/train_digits.py", "--plot", str(plot))
    final = [line for line in out.splitlines() if line.startswith("final loss")][0]
    accuracy = float(final.split("test accuracy ")[1].split("%")[0]) / 100
    assert accuracy >= 0.95
    assert plot.stat().st_size > 10_000

# Cases: whole training steps (zero_grad, forward, loss, backward, optimizer step) on small MLPs.
"""Both libraries build the same model the same way, lib.nn.Sequential of lib.nn.Linear
and activations, with lib.nn.CrossEntropyLoss (classification) or lib.nn.MSELoss, and
lib.optim.SGD(momentum=0.9) or lib.optim.Adam. Inputs and targets are fixed tensors
created once; one timed call is

    opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
"""
from harness import case

SGD_LR = 0.01
ADAM_LR = 1e-3


def _mlp(lib, widths, activation):
    layers = []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        layers.append(lib.nn.Linear(n_in, n_out))
        if i < len(widths) - 2:
            layers.append(getattr(lib.nn, activation)())
    return lib.nn.Sequential(*layers)


def _optimizer(lib, name, params):
    if name == "SGD":
        return lib.optim.SGD(params, lr=SGD_LR, momentum=0.9)
    return lib.optim.Adam(params, lr=ADAM_LR)


def _train_step_setup(widths, activation, batch, loss, optimizer):
    def setup(lib):
        lib.manual_seed(0)
        model = _mlp(lib, widths, activation)
        opt = _optimizer(lib, optimizer, model.parameters())
        x = lib.randn(batch, widths[0])
        if loss == "CrossEntropyLoss":
            y = lib.tensor([i % widths[-1] for i in range(batch)])  # int64 class indices
        else:
            y = lib.randn(batch, widths[-1])
        loss_fn = getattr(lib.nn, loss)()

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()

        return step

    return setup


# (name, widths, activation, batch, loss, optimizer, target ratio)
TRAINING = (
    ("MLP 784-256-10 ReLU, CE, SGD(momentum)", (784, 256, 10), "ReLU", 64,
     "CrossEntropyLoss", "SGD", 1.0),
    ("MLP 784-256-10 ReLU, CE, Adam", (784, 256, 10), "ReLU", 64, "CrossEntropyLoss", "Adam", 1.0),
    ("digits MLP 64-128-64-10 ReLU, CE, Adam", (64, 128, 64, 10), "ReLU", 32,
     "CrossEntropyLoss", "Adam", 1.0),
    # Overhead-bound: a dozen tiny ops per step, where per-op cost is everything.
    ("MLP 16-32-1 tanh, MSE, SGD(momentum)", (16, 32, 1), "Tanh", 1, "MSELoss", "SGD", 0.5),
)

for _name, _widths, _act, _batch, _loss, _opt, _target in TRAINING:
    case(f"train step: {_name}", size=f"batch {_batch}", target=_target)(
        _train_step_setup(_widths, _act, _batch, _loss, _opt))

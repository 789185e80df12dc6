# An MLP learns to read handwritten digits (scikit-learn's bundled 8x8 digits: nothing downloaded)
# with the torch training loop: Module, loss, optimizer, DataLoader. Needs `pip install ".[examples]"`.
import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import tapegrad as torch
from tapegrad import nn
from tapegrad.utils.data import DataLoader, TensorDataset


def digits_tensors(seed=0):
    """Train/test tensors: pixels scaled to [0, 1] as float32, labels as int64."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25, random_state=seed,
                                                        stratify=digits.target)
    return (torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.int64)),
            torch.from_numpy(x_test), torch.from_numpy(y_test.astype(np.int64)))


def make_model():
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = (model(x).argmax(dim=1) == y).float().mean().item()
    model.train()
    return correct


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--plot", default="digits_training.png", help="where to save the loss/accuracy plot")
    args = parser.parse_args()

    torch.manual_seed(0)
    x_train, y_train, x_test, y_test = digits_tensors()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    model = make_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    print(model)

    try:
        from tqdm import tqdm
    except ImportError:  # the progress bar is optional
        tqdm = None

    losses, accuracies = [], []
    start = time.perf_counter()
    epochs = range(1, args.epochs + 1)
    for epoch in tqdm(epochs, desc="training", unit="epoch") if tqdm else epochs:
        total = 0.0
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        losses.append(total / len(x_train))
        accuracies.append(accuracy(model, x_test, y_test))
        if not tqdm:
            print(f"epoch {epoch:3d}  loss {losses[-1]:.4f}  test accuracy {accuracies[-1]:.1%}")
    seconds = time.perf_counter() - start
    print(f"final loss {losses[-1]:.4f}, test accuracy {accuracies[-1]:.1%} after {args.epochs} epochs "
          f"in {seconds:.1f} s")
    save_plot(losses, accuracies, args.plot)


def save_plot(losses, accuracies, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = range(1, len(losses) + 1)
    ax_loss.plot(epochs, losses)
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="Cross-entropy")
    ax_acc.plot(epochs, [100 * a for a in accuracies])
    ax_acc.set(xlabel="epoch", ylabel="test accuracy (%)", title="Test accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"plot saved to {path}")


if __name__ == "__main__":
    main()

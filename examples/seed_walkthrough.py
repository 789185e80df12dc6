# A newcomer's first tour of autograd: gradients, the placement neuron, accumulation, and stopping tracking.
import tapegrad as torch

# Swap the line above for `import torch` and this script prints exactly the same
# thing: tapegrad speaks PyTorch's autograd API.


def section(title):
    print()
    print("== " + title + " ==")


def print_graph(node, depth=0):
    """Prints the backward graph below `node` as an indented tree of node names.

    Printing next_functions directly would show object addresses, which change
    from run to run; names are what matter. (None marks an input that needs no
    gradient, such as a constant.)
    """
    name = "None" if node is None else node.name().split("::")[-1]
    print("  " * depth + name)
    if node is not None:
        for next_node, _input_nr in node.next_functions:
            print_graph(next_node, depth + 1)


# ---------------------------------------------------------------------------
section("1. y = x**2")
# requires_grad=True asks autograd to record every operation done with x.
x = torch.tensor(3.0, requires_grad=True)
print("x =", x)
y = x**2
# y remembers how it was made: grad_fn is the backward node of the last op.
print("y =", y)
# backward() walks the recorded graph from y back to x and fills x.grad
# with dy/dx = 2 * x = 6.
y.backward()
print("x.grad =", x.grad)

# ---------------------------------------------------------------------------
section("2. z = sin(x**2), the chain rule done for us")
x = torch.tensor(3.0, requires_grad=True)  # a fresh leaf, with no gradient yet
z = torch.sin(x**2)
z.backward()
print("z =", z)
# dz/dx = cos(x**2) * 2x = cos(9) * 6
print("x.grad =", x.grad)

# ---------------------------------------------------------------------------
section("3. The placement neuron")
# One student: CGPA 6.7, not placed (label 0). One neuron: y_pred = sigmoid(w*x + b).
x = torch.tensor(6.7)  # input (CGPA): data, no gradient needed
y = torch.tensor(0.0)  # label: data, no gradient needed
w = torch.tensor(1.0, requires_grad=True)  # weight: learned, so track it
b = torch.tensor(0.0, requires_grad=True)  # bias: learned, so track it

z = w * x + b
print("z =", z)
y_pred = torch.sigmoid(z)
print("y_pred =", y_pred)
# Clamp keeps log() away from log(0) = -inf.
p = torch.clamp(y_pred, 1e-8, 1 - 1e-8)
# Binary cross-entropy: the model said 99.9% "placed" but the label is 0,
# so the loss is large.
loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p))
print("loss =", loss)

# The graph autograd recorded for the loss, from the loss back to the leaves
# (AccumulateGrad is where a leaf's .grad gets written).
print("graph of loss:")
print_graph(loss.grad_fn)

loss.backward()
print("w.grad =", w.grad)
print("b.grad =", b.grad)

# The same gradients by hand, with the chain rule:
#   dL/dw = dL/dy_pred * dy_pred/dz * dz/dw
#   dL/dy_pred = -y/y_pred + (1-y)/(1-y_pred)
#   dy_pred/dz = y_pred * (1 - y_pred)        (sigmoid's derivative)
#   dz/dw = x,  dz/db = 1
# The product of the first two simplifies to y_pred - y.
# We compute it in float32 (the tensors' dtype) under no_grad, so this
# arithmetic is not itself recorded, and print the Python floats item() returns.
with torch.no_grad():
    dL_dy_pred = -y / y_pred + (1 - y) / (1 - y_pred)
    dy_pred_dz = y_pred * (1 - y_pred)
    dL_dz = dL_dy_pred * dy_pred_dz
    dL_dw = dL_dz * x
    dL_db = dL_dz * 1.0
print("dL/dy_pred =", dL_dy_pred.item())
print("dy_pred/dz =", dy_pred_dz.item())
print("dL/dz =", dL_dz.item())
print("y_pred - y =", (y_pred - y).item())
print("dL/dw by hand =", dL_dw.item())
print("dL/db by hand =", dL_db.item())
# autograd's float32 result can differ in the last bit: it went through
# log() and clamp() instead of the simplified formula.
print("dL/dw by autograd =", w.grad.item())
print("dL/db by autograd =", b.grad.item())
# In plain Python floats (float64) the same chain gives slightly different digits.
y_pred_f, y_f, x_f = y_pred.item(), y.item(), x.item()
dL_dz_f = (-y_f / y_pred_f + (1 - y_f) / (1 - y_pred_f)) * (y_pred_f * (1 - y_pred_f))
print("dL/dw in float64 =", dL_dz_f * x_f)

# ---------------------------------------------------------------------------
section("4. Vectors: the gradient of a mean")
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**2).mean()
print("y =", y)
y.backward()
# d/dx_i of mean(x**2) = 2 * x_i / 3
print("x.grad =", x.grad)
# zero_() resets the gradient in place (and returns it).
print("x.grad.zero_() =", x.grad.zero_())

# ---------------------------------------------------------------------------
section("5. Gradients accumulate")
x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x**2).sum()
y.backward()
print("after 1st backward: x.grad =", x.grad)  # 2 * x
y = (x**2).sum()  # a new graph: the first one was freed by backward()
y.backward()
# backward() ADDS into .grad rather than overwriting it ...
print("after 2nd backward: x.grad =", x.grad)  # 2 * x + 2 * x
# ... which is why a training loop zeroes gradients before each step.
x.grad.zero_()
print("after zero_():      x.grad =", x.grad)

# Backward through the same graph twice needs retain_graph=True: backward()
# frees the values the graph saved.
y = (x**2).sum()
y.backward(retain_graph=True)
y.backward()
print("two backward calls, retain_graph=True: x.grad =", x.grad)
x.grad.zero_()
y = (x**2).sum()
y.backward()
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__ + ":", e)

# ---------------------------------------------------------------------------
section("6. Three ways to stop tracking")

# (a) requires_grad_(False): switch tracking off on the tensor itself.
x = torch.tensor(3.0, requires_grad=True)
x.requires_grad_(False)
y = x**2
print("(a) x =", x, " y =", y, " y.grad_fn =", y.grad_fn)
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__ + ":", e)

# (b) detach(): a new tensor sharing the data, cut off from the graph.
x = torch.tensor(3.0, requires_grad=True)
x_detached = x.detach()
y = x_detached**2
print("(b) x =", x, " x.detach() =", x_detached, " y =", y)
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__ + ":", e)

# (c) with torch.no_grad(): nothing inside the block is recorded
# (useful for evaluation and for updating weights).
x = torch.tensor(3.0, requires_grad=True)
with torch.no_grad():
    y = x**2
print("(c) x =", x, " y =", y, " y.requires_grad =", y.requires_grad)
try:
    y.backward()
except RuntimeError as e:
    print(type(e).__name__ + ":", e)
# Outside the block, recording is back on.
y = x**2
print("    after the block: y =", y)

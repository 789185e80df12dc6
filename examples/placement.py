# The placement neuron trained: does a student's CGPA predict placement? One weight, one bias,
# sigmoid, the clamped binary cross-entropy from the seed walkthrough, and SGD.
import tapegrad as torch

# A generated cohort: students with a higher CGPA are more likely to be placed.
torch.manual_seed(0)
students = 200
cgpa = torch.rand(students) * 4 + 6  # CGPAs between 6 and 10
chance = torch.sigmoid(2.5 * (cgpa - 7.8))  # the hidden rule the neuron has to find
placed = (torch.rand(students) < chance).float()

# Centring the input makes gradient descent converge much faster.
x = cgpa - cgpa.mean()
w = torch.tensor(0.0, requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
optimizer = torch.optim.SGD([w, b], lr=0.5)

for epoch in range(1, 31):
    y_pred = torch.sigmoid(w * x + b)
    p = torch.clamp(y_pred, 1e-8, 1 - 1e-8)  # keeps log() away from log(0)
    loss = -(placed * torch.log(p) + (1 - placed) * torch.log(1 - p)).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 5 == 0 or epoch == 1:
        print(f"epoch {epoch:2d}  loss {loss.item():.4f}  w {w.item():.4f}  b {b.item():.4f}")

# Back in CGPA units: the neuron says 50% at the CGPA where w * (cgpa - mean) + b = 0.
threshold = cgpa.mean().item() - b.item() / w.item()
print(f"learned: w = {w.item():.4f}, b = {b.item():.4f}; a 50% chance of placement at CGPA {threshold:.2f}")
with torch.no_grad():
    accuracy = ((torch.sigmoid(w * x + b) > 0.5).float() == placed).float().mean().item()
print(f"training accuracy {accuracy:.1%}")

"""nn.Parameter: a tensor that a Module registers as a parameter; shares its data's memory."""
from tapegrad import _C


class Parameter(_C.Tensor):
    """A leaf tensor that requires grad by default and prints as torch's Parameter does."""

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = _C.empty(0)
        super().__init__(_alias_of=data, _requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("tapegrad tensors are not picklable; use tapegrad.save")

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            copied = Parameter(self.detach().clone(), self.requires_grad)
            if self.grad is not None:
                copied.grad = self.grad.clone()
            memo[id(self)] = copied
        return memo[id(self)]

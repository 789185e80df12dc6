"""torch.return_types: the named (values, indices) pairs that max/min over a dim, sort and topk return."""


class _ReturnType(tuple):
    """A 2-field structseq-like tuple printed as torch prints it."""

    __slots__ = ()
    _fields = ("values", "indices")
    _name = ""

    def __new__(cls, pair):
        return super().__new__(cls, pair)

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"torch.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


class max(_ReturnType):  # noqa: A001  (torch's name)
    __slots__ = ()
    _name = "max"


class min(_ReturnType):  # noqa: A001
    __slots__ = ()
    _name = "min"


class sort(_ReturnType):
    __slots__ = ()
    _name = "sort"


class topk(_ReturnType):
    __slots__ = ()
    _name = "topk"

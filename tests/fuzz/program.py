# A fuzz program as data: statements with the names they use, define and write, and its rendering.
import ast
import builtins
from dataclasses import dataclass, replace

HEADER = (
    "import torch as T          # or: import tapegrad as T\n"
    "F = T.nn.functional\n"
)


@dataclass(frozen=True)
class Stmt:
    """One line of a program.

    The bookkeeping fields are what the executor needs to keep the two libraries comparable
    after they disagree: a statement is skipped when a name it uses is gone, and what it
    defines or writes is dropped from both sides when they disagree about it.
    """

    sid: int  # index in the program as generated; kept through minimization to name the culprit
    src: str  # Python source, written against a module `T` (torch or tapegrad) and `F` (its functional)
    op: str = "raw"  # tag naming the API exercised, used to group findings
    uses: tuple = ()  # variable names read
    defines: tuple = ()  # variable names bound
    writes: tuple = ()  # variables (and "name.grad") whose contents the statement may change
    mutates: tuple = ()  # what its syntax writes in place (x.op_(), x[i] = v, x += v, x.grad = g)
    observe: tuple = ()  # expressions compared between the libraries after the statement succeeds
    reads_grad: tuple = ()  # variables whose .grad the statement reads
    loose: tuple = ()  # float64 variables it leaves holding values known only to float32 precision
    autograd: bool = False  # runs the backward machinery (its effects on .grad are observed)
    unchecked: bool = False  # torch itself leaves the result undefined (an in-place write into memory
    #                          that overlaps itself or an operand): run, but not compared
    bad: bool = False  # deliberately passes a bad argument


@dataclass
class Program:
    seed: object  # the generator seed, or a label for hand-written programs
    stmts: list
    final_observe: tuple = ()  # expressions compared after the last statement
    gen_error: str = ""  # set when the generator itself failed (a harness bug, reported as such)

    def without(self, sids):
        """The program with the statements whose sid is in `sids` removed."""
        return replace(self, stmts=[s for s in self.stmts if s.sid not in sids])

    def keep(self, sids):
        return replace(self, stmts=[s for s in self.stmts if s.sid in sids])

    def text(self, header=True, tags=False):
        lines = [f"# tapegrad fuzz program, seed {self.seed}"] if header else []
        if header:
            lines.append(HEADER.rstrip("\n"))
        for s in self.stmts:
            line = s.src
            if tags:
                line = f"{line:<70}  # [{s.sid}] {s.op}"
            lines.append(line)
        return "\n".join(lines) + "\n"


_MODULE_NAMES = {"T", "F"}


def _target(expr):
    """"x" for x, x[i], x.attr, x[i][j]...; "x.grad" when the chain goes through x.grad."""
    grad = False
    while isinstance(expr, (ast.Subscript, ast.Attribute, ast.Call)):
        if isinstance(expr, ast.Attribute) and expr.attr == "grad" and isinstance(expr.value, ast.Name):
            grad = True
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    if isinstance(expr, ast.Name):
        return expr.id + (".grad" if grad else "")
    return None


def mutations(tree):
    """What a statement writes in place, judged from its syntax (torch's version counters miss
    inference tensors, and a statement that raises may still have written part of its target)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name.endswith("_") and not name.startswith("__"):
                out.append(_target(node.func.value))
            elif node.args and any(k.arg == "inplace" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                                   for k in node.keywords):
                out.append(_target(node.args[0]))
        elif isinstance(node, (ast.Assign, ast.AugAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(t, (ast.Subscript, ast.Attribute)) or isinstance(node, ast.AugAssign):
                    out.append(_target(t))
    return tuple(dict.fromkeys(x for x in out if x and x.split(".")[0] not in _MODULE_NAMES))


_BUILTIN_NAMES = frozenset(dir(builtins))


def analyze(src, tree=None):
    """(uses, defines, reads_grad, mutates) of a statement, read off its syntax tree.

    Names bound inside the statement (lambda arguments, comprehension targets) are not uses.
    """
    tree = tree or ast.parse(src)
    loads, stores, local, grads = [], [], set(), []
    first = {}  # name -> (position, is_store) of its first appearance in the source
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            pos = (node.lineno, node.col_offset)
            if node.id not in first or pos < first[node.id][0]:
                first[node.id] = (pos, isinstance(node.ctx, ast.Store))
        if isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.alias):  # `import os` in a hand-written statement
            local.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.comprehension):
            local.update(n.id for n in ast.walk(node.target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            loads.append(node.target.id)  # `x += y` reads x before rebinding it
            first[node.target.id] = ((0, -1), False)
        if isinstance(node, ast.Name):
            (stores if isinstance(node.ctx, ast.Store) else loads).append(node.id)
        elif (isinstance(node, ast.Attribute) and node.attr == "grad"
              and isinstance(node.value, ast.Name)):
            grads.append(node.value.id)
    skip = local | _MODULE_NAMES | _BUILTIN_NAMES

    def uniq(xs):
        return tuple(dict.fromkeys(x for x in xs if x not in skip))

    defines = uniq(stores)
    # `m = Linear(2, 3); m.weight.copy_(w)` reads the m it has just bound: not a use
    uses = uniq(x for x in loads if not first.get(x, ((0, 0), False))[1])
    return uses, defines, uniq(grads), mutations(tree)


def make_stmt(sid, src, **kw):
    uses, defines, reads_grad, mutates = analyze(src)
    kw.setdefault("observe", defines)
    return Stmt(sid=sid, src=src, uses=uses, defines=defines, reads_grad=reads_grad, mutates=mutates, **kw)


def raw_program(lines, label="raw", observe=()):
    """A program from hand-written lines (used by the harness self-tests and for re-running edits)."""
    return Program(seed=label, stmts=[make_stmt(i, src) for i, src in enumerate(lines)],
                   final_observe=tuple(observe))

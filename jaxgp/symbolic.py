"""A loss tree as a SymPy expression: the formula behind `jaxgp export --framework sympy|latex`.

Notation. A batch holds B examples b = 1..B over C classes c = 1..C. A tree's value at one
element is `element`, an expression in `y_pred[b, c]` (the predicted probability of class c
for example b), `y_true[b, c]` (the one-hot label) and `prior[c]` (the class prior of the
training split, n_c / N: indexed by class only, the same for every example), and the loss
is its mean, `Sum(element, (c, 1, C), (b, 1, B)) / (B*C)`. A class sum `csum(a)` is the
explicit sum `Sum(a[b, j], (j, 1, C))` over a new class index (j, k, l... by depth), the
same for every class c of example b.

Protected operators are SymPy functions, `pdiv(a, b)`, `psqrt(a)`, `plog(a)`, `pexp(a)`, with
jaxgp's guards (`jaxgp.expr.primitives`): their value at numbers applies the guard, their
derivative is 0 where it applies, and `expr.rewrite(Piecewise)` states it. Their source
(`guard_source`) is what the exported module holds, and what jaxgp evaluates here.

Simplified where SymPy can without changing the protected meaning: a guard that cannot
apply on the loss's domain (probabilities and labels in [0, 1], priors in [0, 1]) is
dropped by interval arithmetic over the tree (`exp(2.4 - y_pred)` never reaches 80, so it is
SymPy's `exp`; `log(y_pred)` may see 0, so it stays `plog`); constants fold through the
guards' own rules; then SymPy's `simplify` (whose rewrites hold for any complex values)
is kept where it is shorter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from jaxgp.errors import ConfigError
from jaxgp.expr import primitives
from jaxgp.expr.primitives import THRESHOLDS
from jaxgp.expr.tree import Tree

CLASS_INDICES = ("j", "k", "l", "m", "n")
"""The index names of nested class sums, outermost first."""
DOMAIN = {"y_pred": (0.0, 1.0), "y_true": (0.0, 1.0), "prior": (0.0, 1.0)}
"""The value range of each leaf on which the formula is simplified."""
MARGIN = 1e-3
"""A guard is dropped only when its argument stays this far (relatively) from the threshold,
so that float32 rounding in jaxgp cannot reach it either."""

GUARD_CLASSES = {
    "/": '''
class pdiv(Function):
    """Protected division: a / b if |b| > DIV_EPS, else 1 (derivative 0 there)."""

    nargs = 2

    @classmethod
    def eval(cls, a, b):
        if b.is_Number:
            return a / b if abs(b) > DIV_EPS else Integer(1)

    def fdiff(self, argindex=1):
        a, b = self.args
        derivative = 1 / b if argindex == 1 else -a / b**2
        return Piecewise((derivative, Abs(b) > DIV_EPS), (0, True))

    def _eval_rewrite_as_Piecewise(self, a, b, **kwargs):
        return Piecewise((a / b, Abs(b) > DIV_EPS), (1, True))

    def _latex(self, printer):
        a, b = (printer._print(arg) for arg in self.args)
        return r"\\operatorname{pdiv}\\left(%s, %s\\right)" % (a, b)
''',
    "sqrt": '''
class psqrt(Function):
    """Protected square root: sqrt(|a|) if |a| > SQRT_EPS, else 0 (derivative 0 there)."""

    nargs = 1

    @classmethod
    def eval(cls, a):
        if a.is_Number:
            return sqrt(abs(a)) if abs(a) > SQRT_EPS else Integer(0)

    def fdiff(self, argindex=1):
        (a,) = self.args
        return Piecewise((sign(a) / (2 * sqrt(Abs(a))), Abs(a) > SQRT_EPS), (0, True))

    def _eval_rewrite_as_Piecewise(self, a, **kwargs):
        return Piecewise((sqrt(Abs(a)), Abs(a) > SQRT_EPS), (0, True))

    def _latex(self, printer):
        return r"\\operatorname{psqrt}\\left(%s\\right)" % printer._print(self.args[0])
''',
    "log": '''
class plog(Function):
    """Protected log: log(max(|a|, LOG_EPS)) (derivative 0 where clamped)."""

    nargs = 1

    @classmethod
    def eval(cls, a):
        if a.is_Number:
            return log(max(abs(a), Float(LOG_EPS)))

    def fdiff(self, argindex=1):
        (a,) = self.args
        return Piecewise((1 / a, Abs(a) > LOG_EPS), (0, True))

    def _eval_rewrite_as_Piecewise(self, a, **kwargs):
        return Piecewise((log(Abs(a)), Abs(a) > LOG_EPS), (log(Float(LOG_EPS)), True))

    def _latex(self, printer):
        return r"\\operatorname{plog}\\left(%s\\right)" % printer._print(self.args[0])
''',
    "exp": '''
class pexp(Function):
    """Protected exp: exp(min(a, EXP_MAX)) (derivative 0 where clamped)."""

    nargs = 1

    @classmethod
    def eval(cls, a):
        if a.is_Number:
            return exp(min(a, Float(EXP_MAX)))

    def fdiff(self, argindex=1):
        (a,) = self.args
        return Piecewise((exp(a), a < EXP_MAX), (0, True))

    def _eval_rewrite_as_Piecewise(self, a, **kwargs):
        return Piecewise((exp(a), a < EXP_MAX), (exp(Float(EXP_MAX)), True))

    def _latex(self, printer):
        return r"\\operatorname{pexp}\\left(%s\\right)" % printer._print(self.args[0])
''',
}
GUARD_NAMES = {"/": "pdiv", "sqrt": "psqrt", "log": "plog", "exp": "pexp"}
SYMPY_IMPORTS = (
    "Abs, Float, Function, IndexedBase, Integer, Piecewise, Rational, Sum, cos, exp, log, "
    "sign, sin, sqrt, symbols"
)


def guard_source(symbols: tuple[str, ...] = tuple(GUARD_CLASSES)) -> str:
    """The thresholds and the SymPy functions of the protected operators `symbols`."""
    values = {name: getattr(primitives, name) for name in THRESHOLDS}
    lines = [f"{name} = {value!r}" for name, value in values.items()]
    return "\n".join(lines) + "\n\n" + "\n".join(GUARD_CLASSES[s] for s in symbols)


def sympy_module():
    """SymPy, or a `ConfigError` saying how to install it."""
    try:
        import sympy
    except ImportError:
        raise ConfigError(
            "SymPy is not installed: pip install 'jaxgp[formulas]' (or pip install sympy)"
        ) from None
    return sympy


@cache
def _namespace(thresholds: tuple[float, ...]) -> dict[str, Any]:
    sympy = sympy_module()
    namespace: dict[str, Any] = {}
    exec(f"from sympy import {SYMPY_IMPORTS}\n" + guard_source(), namespace)
    namespace["sympy"] = sympy
    return namespace


def namespace() -> dict[str, Any]:
    """The guard functions (at jaxgp's current thresholds) and SymPy's names they use."""
    return _namespace(tuple(getattr(primitives, name) for name in THRESHOLDS))


@dataclass(frozen=True)
class Formula:
    """A tree as SymPy: its value at one element, and the loss, the mean of it."""

    element: Any
    loss: Any
    symbols: dict[str, Any]

    @property
    def guards(self) -> list[str]:
        """The protected operators the formula still needs, in `GUARD_NAMES` order."""
        return [symbol for symbol, name in GUARD_NAMES.items() if _uses(self.element, name)]


def _uses(expression: Any, name: str) -> bool:
    return any(type(node).__name__ == name for node in _walk(expression))


def _walk(expression: Any):
    yield expression
    for arg in expression.args:
        yield from _walk(arg)


def leaf_symbols() -> dict[str, Any]:
    """B, C, the indices b, c, j, k.. and the leaves as `IndexedBase`s, by name."""
    sympy = sympy_module()
    found = dict(zip("BC", sympy.symbols("B C", integer=True, positive=True), strict=True))
    for name in ("b", "c", *CLASS_INDICES):
        found[name] = sympy.Symbol(name, integer=True, positive=True)
    for leaf in DOMAIN:
        found[leaf] = sympy.IndexedBase(leaf)
    return found


Interval = tuple[float, float]


def _product(a: Interval, b: Interval) -> Interval:
    values = [x * y if not (x == 0 or y == 0) else 0.0 for x in a for y in b]
    return min(values), max(values)


def _interval(tree: Tree, index: int, memo: dict[int, Interval]) -> Interval:
    """The range of the node's value for leaves in `DOMAIN` (any number of classes)."""
    node = tree.nodes[index]
    kids = [_interval(tree, k, memo) for k in tree.children(index)]
    inf = math.inf
    if not isinstance(node, str):
        found = (float(node), float(node))
    elif node in DOMAIN:
        found = DOMAIN[node]
    elif node == "+":
        found = (kids[0][0] + kids[1][0], kids[0][1] + kids[1][1])
    elif node == "-":
        found = (kids[0][0] - kids[1][1], kids[0][1] - kids[1][0])
    elif node == "*":
        found = _product(*kids)
    elif node == "neg":
        found = (-kids[0][1], -kids[0][0])
    elif node in ("sin", "cos"):
        found = (-1.0, 1.0)
    elif node == "csum":  # C >= 1 copies, C unbounded
        low, high = kids[0]
        found = (low if low >= 0 else -inf, high if high <= 0 else inf)
    elif node == "/":
        (a, (low, high)) = kids
        found = (
            _product(a, (1 / high, 1 / low))
            if _away(low, high, primitives.DIV_EPS)
            else (-inf, inf)
        )
    elif node == "sqrt":
        top = max(abs(kids[0][0]), abs(kids[0][1]))
        found = (0.0, math.sqrt(top))
    elif node == "log":
        low, high = kids[0]
        least = 0.0 if low <= 0 <= high else min(abs(low), abs(high))
        top = max(abs(low), abs(high))
        found = (math.log(max(least, primitives.LOG_EPS)), math.log(max(top, primitives.LOG_EPS)))
    elif node == "exp":
        found = (
            math.exp(min(kids[0][0], primitives.EXP_MAX)),
            math.exp(min(kids[0][1], primitives.EXP_MAX)),
        )
    else:
        raise ValueError(f"no range for {node!r}")
    memo[index] = found
    return found


def _away(low: float, high: float, threshold: float) -> bool:
    """Whether every value in [low, high] has |value| > threshold, with a margin."""
    edge = threshold * (1 + MARGIN) + MARGIN * 1e-6
    return low > edge or high < -edge


def to_sympy(tree: Tree, *, simplify: bool = True) -> Formula:
    """The tree as a `Formula` (see the module docstring)."""
    sympy = sympy_module()
    names = namespace()
    symbols = leaf_symbols()
    ranges: dict[int, Interval] = {}
    _interval(tree, 0, ranges)

    def build(index: int, cls: Any, depth: int) -> Any:
        node = tree.nodes[index]
        if not isinstance(node, str):
            return sympy.Float(float(node))
        if node in DOMAIN:
            base = symbols[node]
            return base[cls] if node == "prior" else base[symbols["b"], cls]
        kids = tree.children(index)
        if node == "csum":
            name = CLASS_INDICES[depth] if depth < len(CLASS_INDICES) else f"j{depth}"
            inner = symbols.get(name) or sympy.Symbol(name, integer=True, positive=True)
            body = build(kids[0], inner, depth + 1)
            if inner not in body.free_symbols:  # C copies of one value (a constant, a sum)
                return symbols["C"] * body
            return sympy.Sum(body, (inner, 1, symbols["C"]))
        args = [build(k, cls, depth) for k in kids]
        if node == "+":
            return args[0] + args[1]
        if node == "-":
            return args[0] - args[1]
        if node == "*":
            return args[0] * args[1]
        if node == "neg":
            return -args[0]
        if node in ("sin", "cos"):
            return getattr(sympy, node)(args[0])
        return _guarded(node, args, [ranges[k] for k in kids], names, sympy)

    element = build(0, symbols["c"], 0)
    if simplify:
        element = simplified(element)
    b, c, big_b, big_c = (symbols[name] for name in ("b", "c", "B", "C"))
    loss = sympy.Sum(element, (c, 1, big_c), (b, 1, big_b)) / (big_b * big_c)
    return Formula(element, loss, symbols)


def simplified(expression: Any) -> Any:
    """`expression` after SymPy's `simplify`, where that is shorter. Each class sum is
    simplified inside and stands as a symbol meanwhile (simplify's own handling of sums over
    indexed symbols recursed without end on some trees); an expression SymPy fails on stays
    as it is."""
    sympy = sympy_module()
    sums: dict[Any, Any] = {}

    def hide(node: Any) -> Any:
        if isinstance(node, sympy.Sum):
            symbol = sympy.Symbol(f"_sum{len(sums)}")
            sums[symbol] = sympy.Sum(simplified(node.function), *node.limits)
            return symbol
        return node.func(*(hide(arg) for arg in node.args)) if node.args else node

    hidden = hide(expression)
    try:
        simpler = sympy.simplify(hidden)
    except (RecursionError, ValueError, TypeError, ArithmeticError):
        simpler = hidden
    if sympy.count_ops(simpler) > sympy.count_ops(hidden):
        simpler = hidden
    return simpler.xreplace(sums)


def _guarded(node: str, args: list, ranges: list[Interval], names: dict, sympy) -> Any:
    """A protected operator, or the plain function where its guard cannot apply."""
    if node == "/":
        low, high = ranges[1]
        if _away(low, high, primitives.DIV_EPS):
            return args[0] / args[1]
        return names["pdiv"](*args)
    (arg,), ((low, high),) = args, ranges
    if node == "exp":
        if high < primitives.EXP_MAX * (1 - MARGIN):
            return sympy.exp(arg)
        return names["pexp"](arg)
    threshold = primitives.SQRT_EPS if node == "sqrt" else primitives.LOG_EPS
    plain = sympy.sqrt if node == "sqrt" else sympy.log
    if _away(low, high, threshold):
        return plain(arg if low > 0 else -arg)
    return names[GUARD_NAMES[node]](arg)

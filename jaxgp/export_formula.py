"""Export a loss as a formula: a SymPy module (`--framework sympy`) or LaTeX (`--framework latex`).

Both come from `jaxgp.symbolic.to_sympy` (its notation: `y_pred[b, c]`, `y_true[b, c]`,
`prior[c]`, class sums as explicit `Sum`s over a class index, the protected operators as
SymPy functions with their guards). The SymPy module needs only SymPy (and NumPy for
`evaluate`): it defines the guard functions, the symbols, `element` (the value at example b,
class c), `loss` (the mean over the batch and the classes), `latex()` and
`evaluate(y_pred, y_true, prior=None)`, the loss's value on arrays, by which the tests check
it against `jaxgp.lower`; run on its own it prints the formula and its LaTeX. The LaTeX is a
fragment for a paper (amsmath): the loss, its element, and the definition of each protected
operator it uses.
"""

from __future__ import annotations

import re
import textwrap

from jaxgp.export import helper_source, semantics, threshold_values
from jaxgp.expr.primitives import GUARDS
from jaxgp.expr.tree import Tree
from jaxgp.symbolic import (
    GUARD_CLASSES,
    GUARD_NAMES,
    SYMPY_IMPORTS,
    Formula,
    sympy_module,
    to_sympy,
)

LATEX_NAMES = {"y_pred": r"\hat{y}", "y_true": "y", "prior": r"\pi"}
"""How the leaves are written in LaTeX: \\hat{y}_{b,c}, y_{b,c}, \\pi_{c}."""
LOSS_TEX = r"\mathcal{L} = \frac{1}{BC} \sum_{b=1}^{B} \sum_{c=1}^{C} \ell_{b,c}"
ELEMENT_TEX = r"\ell_{b,c} = "
BREAK = "\\\\\n"
"""A LaTeX line break and a new line."""
NOTATION = (
    "Notation: a batch of B examples b = 1..B over C classes c = 1..C. y_pred[b, c] is the "
    "predicted probability of class c for example b (softmax outputs), y_true[b, c] its one-hot "
    "label, prior[c] the class prior of the training split (n_c / N, summing to 1), indexed by "
    "class only: the same for every example. A class sum csum(a) is the explicit "
    "Sum(a[b, j], (j, 1, C)) over another class index (j, k, ... when nested), the same for "
    "every class c of example b. `element` is the loss's value at (b, c); the loss is its mean, "
    "Sum(element, (c, 1, C), (b, 1, B)) / (B*C)."
)
SIMPLIFIED = (
    "Simplified without changing jaxgp's meaning: a guard that cannot apply while y_pred, "
    "y_true and prior lie in [0, 1] is written as the plain function (with a margin of 0.1 % "
    "to its threshold), constants are folded by the guards' own rules, and SymPy's simplify "
    "(whose rewrites hold for any complex values) is kept where it is shorter."
)
GUARD_TEX = {
    "/": r"\operatorname{pdiv}(a, b) &= \begin{cases} a / b & |b| > %(DIV_EPS)s \\ 1 & "
    r"\text{otherwise} \end{cases}",
    "sqrt": r"\operatorname{psqrt}(a) &= \begin{cases} \sqrt{|a|} & |a| > %(SQRT_EPS)s \\ 0 & "
    r"\text{otherwise} \end{cases}",
    "log": r"\operatorname{plog}(a) &= \log \max(|a|, %(LOG_EPS)s)",
    "exp": r"\operatorname{pexp}(a) &= \exp \min(a, %(EXP_MAX)s)",
}

EVALUATE = '''
def evaluate(y_pred, y_true, prior=None):
    """The loss's value on arrays (NumPy, float64): y_pred and y_true of shape [B, C], prior
    of shape [C] (None: uniform, 1/C); the mean of `element` over every (b, c)."""
    import numpy as np
{helpers}
    y_pred = np.asarray(y_pred, np.float64)
    shape = y_pred.shape
    prior = np.full(shape[-1], 1.0 / shape[-1]) if prior is None else prior
    arrays = {{"y_pred": y_pred, "y_true": np.asarray(y_true, np.float64),
              "prior": np.asarray(prior, np.float64)}}
    functions = {{"sin": np.sin, "cos": np.cos, "exp": np.exp, "log": np.log,
                 "Abs": np.abs, "sign": np.sign{guards}}}

    def value(expr):
        if expr.is_Number:
            return float(expr)
        if expr == C:
            return float(shape[-1])
        if expr.is_Indexed:
            return arrays[str(expr.base)]
        if isinstance(expr, Sum):  # each limit a sum over the class axis
            total = value(expr.function)
            for _ in expr.limits:
                total = np.sum(np.broadcast_to(total, shape), axis=-1, keepdims=True)
            return total
        args = [value(arg) for arg in expr.args]
        if expr.is_Add:
            return sum(args[1:], args[0])
        if expr.is_Mul:
            product = args[0]
            for arg in args[1:]:
                product = product * arg
            return product
        if expr.is_Pow:
            return np.power(args[0], args[1])
        return functions[type(expr).__name__](*args)

    with np.errstate(all="ignore"):
        return float(np.mean(np.broadcast_to(value(element), shape)))
'''


def code(expression) -> str:
    """`expression` as Python that rebuilds it exactly (rationals as `Rational(p, q)`, floats
    with all their digits)."""
    sympy = sympy_module()

    class Printer(sympy.printing.str.StrPrinter):
        def _print_Rational(self, expr):  # noqa: N802  (SymPy's printer names)
            return f"Rational({expr.p}, {expr.q})"

        def _print_Float(self, expr):  # noqa: N802
            return repr(float(expr))

    return Printer().doprint(expression)


def latex_names(formula: Formula) -> dict:
    return {formula.symbols[leaf].label: tex for leaf, tex in LATEX_NAMES.items()}


def element_latex(formula: Formula) -> str:
    """The element `\\ell_{b,c}` of the loss in LaTeX."""
    return sympy_module().latex(formula.element, symbol_names=latex_names(formula))


def _number(value: float) -> str:
    mantissa, _, exponent = f"{value:g}".partition("e")
    if not exponent:
        return mantissa
    power = f"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else f"{mantissa} \\cdot {power}"


def latex_source(tree: Tree, origin: str = "given on the command line") -> str:
    """A LaTeX fragment (amsmath): the loss, its element and the protected operators it uses."""
    formula = to_sympy(tree)
    thresholds = {name: _number(value) for name, value in threshold_values().items()}
    comments = [
        f"A loss function found by jaxgp: {tree}",
        f"Source: {origin}.",
        r"\hat{y}_{b,c}: predicted probability of class c for example b (softmax); y_{b,c}: its "
        r"one-hot label; \pi_c: the class prior of the training split (n_c / N)."
        if "prior" in tree.nodes
        else r"\hat{y}_{b,c}: predicted probability of class c for example b (softmax); "
        r"y_{b,c}: its one-hot label.",
        "B examples, C classes; a sum over j (k, ...) is a sum over the classes.",
        SIMPLIFIED.replace("y_pred, y_true and prior", "the inputs"),
        "Generated by `jaxgp export --framework latex`; needs amsmath.",
    ]
    lines = [f"% {line}" for text in comments for line in textwrap.wrap(text, 96)]
    lines += [
        r"\begin{align}",
        LOSS_TEX + r", \\",
        r"\ell_{b,c} &= " + element_latex(formula),
        r"\end{align}",
    ]
    guards = formula.guards
    if guards:
        lines += [r"where", r"\begin{align*}"]
        lines += [(GUARD_TEX[s] % thresholds) + (r" \\" if s != guards[-1] else "") for s in guards]
        lines += [r"\end{align*}"]
    return "\n".join(lines).replace(LOSS_TEX, LOSS_TEX.replace(" = ", " &= ", 1)) + "\n"


def _indices(formula: Formula) -> list[str]:
    """The class-sum indices the formula binds, in order of depth."""
    bound = {str(limit[0]) for s in formula.element.atoms(sympy_module().Sum) for limit in s.limits}
    return sorted(bound, key=lambda name: (len(name), name))


def _lines(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, 88, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)  # fmt: skip


def _assign(name: str, value: str) -> list[str]:
    """`name = value`, broken between tokens inside parentheses when long (never inside an
    index such as `y_pred[b, c]`)."""
    if len(name) + 3 + len(value) <= 88:
        return [f"{name} = {value}"]
    kept = re.sub(r"\[[^\]]*\]", lambda m: m[0].replace(" ", chr(0)), value)
    pieces = textwrap.wrap(kept, 84, break_long_words=False, break_on_hyphens=False)
    return [f"{name} = (", *(f"    {piece.replace(chr(0), ' ')}" for piece in pieces), ")"]


def _numeric_helpers(guards: list[str]) -> str:
    """The guards' NumPy helpers (`_pdiv`...: jaxgp's own source, `xp` as `np`), to nest in
    `evaluate`."""
    helpers = []
    for symbol in guards:
        text = helper_source(symbol, "np")
        helpers.append(
            text.replace(f"def _{GUARDS[symbol].helper}(", f"def _{GUARD_NAMES[symbol]}(")
        )
    return "".join("\n" + textwrap.indent(h, "    ") + "\n" for h in helpers)


def sympy_source(tree: Tree, origin: str = "given on the command line") -> str:
    """The text of a standalone module defining the loss as a SymPy expression."""
    formula = to_sympy(tree)
    guards = formula.guards
    indices = " ".join(["b", "c", *_indices(formula)])
    rules = semantics().replace("Protected operators (", "Protected operators (pdiv, psqrt, "
                                "plog, pexp: ", 1)  # fmt: skip
    lines = [
        '"""A loss function found by jaxgp, as a SymPy expression.',
        "",
        *_lines("loss = " + str(tree), "    "),
        "",
        *_lines(f"Source: {origin}."),
        f"Tree: {tree.size} nodes, height {tree.height}.",
        "",
        *_lines(NOTATION),
        "",
        rules,
        "",
        *_lines(SIMPLIFIED),
        "",
        *_lines(
            "`element.rewrite(Piecewise)` writes every guard out; `python THIS_FILE.py` prints "
            "the loss and its LaTeX; `evaluate(y_pred, y_true, prior)` computes its value."
        ),
        "",
        "Generated by `jaxgp export --framework sympy`; needs SymPy (and NumPy for evaluate).",
        '"""',
        "",
        "from sympy import (",
        *_lines(f"{SYMPY_IMPORTS}, latex as to_latex, pprint,", "    "),
        ")",
    ]
    thresholds = [name for symbol in guards for name in GUARDS[symbol].thresholds]
    if thresholds:
        values = threshold_values()
        lines += ["", *(f"{name} = {values[name]!r}" for name in dict.fromkeys(thresholds))]
    lines += [line for symbol in guards for line in ["", "", GUARD_CLASSES[symbol].strip()]]
    lines += [
        "",
        "",
        'B, C = symbols("B C", integer=True, positive=True)',
        f'{", ".join(indices.split())} = symbols("{indices}", integer=True, positive=True)',
        *(f'{leaf} = IndexedBase("{leaf}")' for leaf in LATEX_NAMES),
        "",
        *_assign("element", code(formula.element)),
        "loss = Sum(element, (c, 1, C), (b, 1, B)) / (B * C)",
        "",
        "",
        "def latex():",
        '    """The loss and its element in LaTeX."""',
        f"    names = {{{', '.join(f'{k}.label: {v!r}' for k, v in LATEX_NAMES.items())}}}",
        "    element_tex = to_latex(element, symbol_names=names)",
        f"    return {LOSS_TEX + ', ' + BREAK!r} + {ELEMENT_TEX!r} + element_tex",
        "",
        EVALUATE.format(
            helpers=_numeric_helpers(guards),
            guards="".join(f', "{GUARD_NAMES[s]}": _{GUARD_NAMES[s]}' for s in guards),
        ).rstrip(),
        "",
        "",
        'if __name__ == "__main__":',
        "    pprint(loss)",
        "    print(latex())",
    ]
    text = "\n".join(lines) + "\n"
    compile(text, "<jaxgp export sympy>", "exec")  # a bug here must not ship
    return text

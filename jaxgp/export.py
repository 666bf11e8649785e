"""Export a loss as a short standalone Python module for JAX, PyTorch or Keras 3, or as a
formula (SymPy, LaTeX: `jaxgp.export_formula`).

The generated module needs only its framework (not jaxgp) and computes exactly jaxgp's
loss: the protected operators of `jaxgp.expr.primitives` with the same thresholds, and the
mean over every batch and class element. Each protected helper (`_div`, `_sqrt`, `_log`,
`_exp`) is the source of the namespace-generic function in `primitives.GUARDS` that also
defines jaxgp's own operator, with its array namespace `xp` renamed to the framework's
(`jnp`, `torch`, `ops`), and the thresholds it reads are defined with jaxgp's current
values; so the helpers equal jaxgp's operators in value and gradient by construction.

Argument order follows each framework's habit: `loss(y_pred, y_true)` for JAX (as
`jaxgp.lower` and optax) and PyTorch (as `torch.nn.functional` losses: input, target),
`loss(y_true, y_pred)` for Keras. JAX and PyTorch return the mean as a scalar; Keras returns
one value per sample (the mean over classes), which Keras's default reduction averages over
the batch, so a compiled Keras model minimises the same mean.

A loss of the priors language (`jaxgp.expr.language`) reads the class priors of the split
the model trains on: its `loss` takes them as a third argument `prior` ([C], summing to 1),
and the module defines `class_priors(labels, num_classes)` to compute them from the
training labels (and, for Keras, `loss_for(prior)`, the two-argument loss `compile` takes).
A class sum `csum(a)` becomes `_csum(a, y_pred)`: the sum over the class axis of `a` at the
batch's shape, kept as an axis of size 1 that broadcasts back.
"""

from __future__ import annotations

import ast
import inspect
import math
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.expr import primitives
from jaxgp.expr.parse import parse
from jaxgp.expr.primitives import CLASS_REDUCTIONS, GUARDS, LEAVES, PRIMITIVES, THRESHOLDS
from jaxgp.expr.tree import Tree

FRAMEWORKS = ("jax", "torch", "keras")
FORMULAS = ("sympy", "latex")
TARGETS = (*FRAMEWORKS, *FORMULAS)
"""Everything `jaxgp export --framework` writes."""
_ATOM, _UNARY = 4, 3  # precedence of atoms and calls, and of unary minus


@dataclass(frozen=True)
class Framework:
    """How one framework spells the loss."""

    name: str
    title: str
    imports: str
    ns: str  # the namespace of where/abs/sqrt/log/exp/sin/cos
    to_tensor: Callable[[str], str]  # a constant-only argument of a call, as a tensor
    signature: str
    prologue: str
    reduce: str
    returns: str
    usage: str
    prior_prologue: str
    """Turns the `prior` argument into the framework's array."""
    class_sum: str
    """The body of `_csum(a, like)`."""
    class_priors: str
    """The body of `class_priors(labels, num_classes)`."""
    priors_usage: str


FRAMEWORK_SPECS = {
    "jax": Framework(
        name="jax",
        title="JAX",
        imports="import jax.numpy as jnp",
        ns="jnp",
        to_tensor=lambda code: code,  # jnp functions take Python floats
        signature="loss(y_pred, y_true)",
        prologue=(
            "y_pred = jnp.asarray(y_pred, jnp.float32)\ny_true = jnp.asarray(y_true, jnp.float32)"
        ),
        reduce="jnp.mean(jnp.broadcast_to(value, y_pred.shape))",
        returns="a scalar: the mean over every batch and class element",
        usage=(
            "import jax\n"
            "grads = jax.grad(lambda p: loss(jax.nn.softmax(model(p, x)), y_onehot))(params)"
        ),
        prior_prologue="prior = jnp.asarray(prior, jnp.float32)",
        class_sum="return jnp.sum(jnp.broadcast_to(a, like.shape), axis=-1, keepdims=True)",
        class_priors=(
            "counts = jnp.bincount(jnp.asarray(labels).ravel(), length=num_classes)\n"
            "return (counts / counts.sum()).astype(jnp.float32)"
        ),
        priors_usage=(
            "import jax\n"
            "prior = class_priors(train_labels, num_classes)  # once, from the training split\n"
            "grads = jax.grad(\n"
            "    lambda p: loss(jax.nn.softmax(model(p, x)), y_onehot, prior)\n"
            ")(params)"
        ),
    ),
    "torch": Framework(
        name="torch",
        title="PyTorch",
        imports="import torch",
        ns="torch",
        to_tensor=lambda code: f"torch.tensor({code})",
        signature="loss(y_pred, y_true)",
        prologue=(
            "if y_true.dim() == y_pred.dim() - 1:  # class indices -> one-hot\n"
            "    y_true = torch.nn.functional.one_hot(y_true.long(), y_pred.shape[-1])\n"
            "y_true = y_true.to(y_pred.dtype)"
        ),
        reduce="torch.mean(torch.broadcast_to(value, y_pred.shape))",
        returns="a scalar tensor: the mean over every batch and class element",
        usage=(
            "value = loss(torch.softmax(model(x), dim=-1), labels)\nvalue.backward()"
        ),  # fmt: skip
        prior_prologue="prior = torch.as_tensor(prior, dtype=y_pred.dtype, device=y_pred.device)",
        class_sum="return torch.sum(torch.broadcast_to(a, like.shape), dim=-1, keepdim=True)",
        class_priors=(
            "counts = torch.bincount(torch.as_tensor(labels).long().flatten(), "
            "minlength=num_classes)\n"
            "return counts.float() / counts.sum()"
        ),
        priors_usage=(
            "prior = class_priors(train_labels, num_classes)  # once, from the training split\n"
            "value = loss(torch.softmax(model(x), dim=-1), labels, prior)\nvalue.backward()"
        ),
    ),
    "keras": Framework(
        name="keras",
        title="Keras 3",
        imports="from keras import ops",
        ns="ops",
        to_tensor=lambda code: f"ops.convert_to_tensor({code})",
        signature="loss(y_true, y_pred)",
        prologue="y_pred = ops.convert_to_tensor(y_pred)\ny_true = ops.cast(y_true, y_pred.dtype)",
        reduce="ops.mean(ops.broadcast_to(value, ops.shape(y_pred)), axis=-1)",
        returns=(
            "one value per sample (the mean over classes); Keras's default reduction "
            "averages them over the batch, i.e. the mean over every batch and class element"
        ),
        usage=(
            'model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])\n'
            "# reloading a saved model: keras.models.load_model(path, "
            'custom_objects={"loss": loss})'
        ),
        prior_prologue="prior = ops.cast(ops.convert_to_tensor(prior), y_pred.dtype)",
        class_sum=("return ops.sum(ops.broadcast_to(a, ops.shape(like)), axis=-1, keepdims=True)"),
        class_priors=(
            'counts = ops.bincount(ops.reshape(ops.cast(labels, "int32"), (-1,)), '
            "minlength=num_classes)\n"
            'return ops.cast(counts, "float32") / ops.cast(ops.sum(counts), "float32")'
        ),
        priors_usage=(
            "prior = class_priors(train_labels, num_classes)  # once, from the training split\n"
            'model.compile(optimizer="adam", loss=loss_for(prior), metrics=["accuracy"])'
        ),
    ),
}


@dataclass(frozen=True)
class LossSource:
    """A tree to export and a sentence on where it came from."""

    tree: Tree
    origin: str


class _RenameNamespace(ast.NodeTransformer):
    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def visit_Name(self, node: ast.Name) -> ast.Name:  # noqa: N802  (ast's visitor name)
        return ast.Name(self.namespace, node.ctx) if node.id == "xp" else node


def helper_source(symbol: str, namespace: str) -> str:
    """The helper of the protected operator `symbol` in a generated module: the source of
    `primitives.GUARDS[symbol].fn` named `_<helper>`, without its namespace argument `xp`
    (now `namespace`) and type hints."""
    guard = GUARDS[symbol]
    (function,) = ast.parse(textwrap.dedent(inspect.getsource(guard.fn))).body
    function.name = f"_{guard.helper}"
    function.args.args = [ast.arg(arg.arg) for arg in function.args.args[1:]]
    function.returns = None
    return ast.unparse(_RenameNamespace(namespace).visit(function))


def threshold_values() -> dict[str, float]:
    """The guards' thresholds as jaxgp uses them now, by name."""
    return {name: getattr(primitives, name) for name in THRESHOLDS}


@dataclass(frozen=True)
class _Code:
    text: str
    precedence: int
    array: bool  # a framework array (else a Python float: a constant expression)


def _emit(tree: Tree, index: int, framework: Framework) -> _Code:
    node = tree.nodes[index]
    if not isinstance(node, str):
        text = repr(float(node))
        return _Code(text, _UNARY if text.startswith("-") else _ATOM, False)
    if node in LEAVES:
        return _Code(node, _ATOM, True)
    primitive = PRIMITIVES[node]
    kids = [_emit(tree, k, framework) for k in tree.children(index)]
    array = any(kid.array for kid in kids)
    if node in CLASS_REDUCTIONS:
        (kid,) = kids
        operand = kid.text if kid.array else framework.to_tensor(kid.text)
        return _Code(f"_{node}({operand}, y_pred)", _ATOM, True)
    if node in ("+", "-", "*"):
        left, right = kids
        left_text = f"({left.text})" if left.precedence < primitive.precedence else left.text
        wrap = right.precedence <= primitive.precedence or right.text.startswith("-")
        right_text = f"({right.text})" if wrap else right.text
        return _Code(f"{left_text} {node} {right_text}", primitive.precedence, array)
    if node == "neg":
        (kid,) = kids
        inner = f"({kid.text})" if kid.precedence <= _UNARY else kid.text
        return _Code(f"-{inner}", _UNARY, array)
    # a call: a protected helper or the framework's sin / cos, on arrays
    args = [kid.text if kid.array else framework.to_tensor(kid.text) for kid in kids]
    name = f"_{GUARDS[node].helper}" if node in GUARDS else f"{framework.ns}.{node}"
    return _Code(f"{name}({', '.join(args)})", _ATOM, True)


def _top_level_terms(code: str) -> list[str]:
    """`a + b - c` split before each `+` / `-` outside parentheses: ['a', '+ b', '- c']."""
    terms, depth, start = [], 0, 0
    for i, char in enumerate(code):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif depth == 0 and code[i : i + 3] in (" + ", " - "):
            terms.append(code[start:i].strip())
            start = i + 1
    terms.append(code[start:].strip())
    return terms


def _wrap(code: str, indent: str, width: int = 88) -> str:
    """`value = code`; a long one on several lines inside parentheses, one top-level term
    per line, and a term still too long broken between tokens."""
    if len(indent) + len("value = ") + len(code) <= width:
        return f"{indent}value = {code}"
    inner = indent + "    "
    lines = []
    for term in _top_level_terms(code):
        pieces = textwrap.wrap(
            term, width=width - len(inner), break_long_words=False, break_on_hyphens=False
        )
        lines += [inner + pieces[0], *(inner + "    " + piece for piece in pieces[1:])]
    return f"{indent}value = (\n" + "\n".join(lines) + f"\n{indent})"


def _paragraph(text: str, indent: str = "", width: int = 88, hanging: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + hanging,
        break_long_words=False,
        break_on_hyphens=False,
    )


def used_guards(tree: Tree) -> list[str]:
    """The protected operators the tree uses, in `GUARDS` order."""
    return [symbol for symbol in GUARDS if symbol in tree.nodes]


def used_helpers(tree: Tree) -> list[str]:
    """The protected helpers the tree needs, in a fixed order."""
    return [GUARDS[symbol].helper for symbol in used_guards(tree)]


def reads_priors(tree: Tree) -> bool:
    """Whether the tree's `prior` leaf makes its exported loss take the class priors."""
    return "prior" in tree.nodes


def _priors_note(summed: bool) -> list[str]:
    lines = [
        "`prior` is the class priors of the training split (n_c / N per class, a vector that "
        "sums to 1), broadcast over the batch like y_true."
    ]
    if summed:
        lines.append("csum(a) is the sum of a over the classes, broadcast back to every class.")
    return [""] + [line for text in lines for line in _paragraph(text)]


def semantics() -> str:
    """The protected operators' rules (their docstrings, with the thresholds' values)."""
    values = threshold_values()
    lines = ["Protected operators (jaxgp's; gradients are 0 where a guard applies):"]
    for symbol, guard in GUARDS.items():
        rule = inspect.getdoc(guard.fn).splitlines()[0].removesuffix(".")
        rule = re.sub("|".join(values), lambda match: f"{values[match[0]]:g}", rule)
        call = "a / b" if PRIMITIVES[symbol].arity == 2 else f"{symbol}(a)"
        lines.append(f"    {call:<8} = {rule}")
    lines.append("The loss is the mean of the expression over every batch and class element.")
    return "\n".join(lines)


def export_source(tree: Tree, framework: str, origin: str = "given on the command line") -> str:
    """The text of a standalone module defining `loss` for `framework` (or, for `sympy` and
    `latex`, the formula)."""
    if framework in FORMULAS:
        from jaxgp.export_formula import latex_source, sympy_source

        return (sympy_source if framework == "sympy" else latex_source)(tree, origin)
    if framework not in FRAMEWORK_SPECS:
        raise ConfigError(f"unknown framework {framework!r}; valid: {', '.join(TARGETS)}")
    spec = FRAMEWORK_SPECS[framework]
    guards = used_guards(tree)
    expression = str(tree)
    priors = reads_priors(tree)
    summed = "csum" in tree.nodes
    y_pred_doc = "predicted probabilities (softmax outputs), shape [batch, classes]"
    y_true_doc = "one-hot labels, shape [batch, classes]"
    if framework == "torch":
        y_true_doc += ", or integer class indices, shape [batch]"
    args = "y_true, y_pred" if framework == "keras" else "y_pred, y_true"
    arg_docs = (
        [f"y_true: {y_true_doc}.", f"y_pred: {y_pred_doc}."]
        if framework == "keras"
        else [f"y_pred: {y_pred_doc}.", f"y_true: {y_true_doc}."]
    )
    signature, usage = spec.signature, spec.usage
    if priors:
        args += ", prior"
        arg_docs.append(
            "prior: the class priors of the training split, shape [classes], summing to 1: "
            "`class_priors(train_labels, num_classes)`."
        )
        signature = signature.replace(")", ", prior)")
        usage = spec.priors_usage
    lines = [
        '"""A loss function found by jaxgp, for ' + spec.title + ".",
        "",
        *_paragraph("loss = " + expression, indent="    ", hanging="    "),
        "",
        *_paragraph(f"Source: {origin}."),
        f"Tree: {tree.size} nodes, height {tree.height}.",
        "",
        semantics(),
        *(_priors_note(summed) if priors or summed else []),
        "",
        f"Argument order: {signature}. Usage:",
        "",
        textwrap.indent(usage, "    "),
        "",
        f"Generated by `jaxgp export --framework {framework}`; needs only {spec.title}.",
        '"""',
        "",
        spec.imports,
    ]
    thresholds = [name for symbol in guards for name in GUARDS[symbol].thresholds]
    if thresholds:
        values = threshold_values()
        lines += ["", *(f"{name} = {values[name]!r}" for name in dict.fromkeys(thresholds))]
    for symbol in guards:
        lines += ["", "", helper_source(symbol, spec.ns)]
    if summed:
        lines += ["", "", "def _csum(a, like):",
                  '    """The sum of `a` over the classes (last axis) at the shape of `like`."""',
                  textwrap.indent(spec.class_sum, "    ")]  # fmt: skip
    if priors:
        lines += [
            "", "", "def class_priors(labels, num_classes):",
            '    """The class frequencies n_c / N of integer `labels`: what `prior` is."""',
            textwrap.indent(spec.class_priors, "    "),
        ]  # fmt: skip
    lines += [
        "",
        "",
        f"def loss({args}):",
        *_paragraph(f'"""{expression}', indent="    ", hanging="    "),
        "",
        *(line for doc in arg_docs for line in _paragraph(doc, indent="    ", hanging="    ")),
        *_paragraph(f"Returns {spec.returns}.", indent="    ", hanging="    "),
        '    """',
        textwrap.indent(spec.prologue, "    "),
        *([textwrap.indent(spec.prior_prologue, "    ")] if priors else []),
        _wrap(_emit(tree, 0, spec).text, "    "),
        f"    return {spec.reduce}",
    ]
    if priors and framework == "keras":
        lines += [
            "", "", "def loss_for(prior):",
            '    """`loss` at the class priors `prior`, as the two-argument loss Keras takes."""',
            "", "    def loss_at_priors(y_true, y_pred):",
            "        return loss(y_true, y_pred, prior)", "", "    return loss_at_priors",
        ]  # fmt: skip
    text = "\n".join(lines) + "\n"
    compile(text, f"<jaxgp export {framework}>", "exec")  # a bug here must not ship
    return text


def _run_origin(path: Path) -> LossSource:
    from jaxgp.report.run_data import load_best

    run, algorithm, record, tree = load_best(path, "export")
    if record.failed:
        fitness = "its training failed"
    else:
        fitness = (
            f"{record.wins} win(s) against CE, average improvement "
            f"{record.average_improvement:+.2f} % ({run.metric})"
        )
    per_dataset = []
    for dataset, scores in record.scores.items():
        ce = run.baselines.get(dataset)
        per_dataset.append(
            f"{dataset} val accuracy {_acc(scores.val_accuracy)} "
            f"(CE {_acc(ce.val_accuracy if ce else None)}), test accuracy "
            f"{_acc(scores.test_accuracy)} (CE {_acc(ce.test_accuracy if ce else None)})"
        )
    state = (
        "finished run"
        if run.finished
        else f"run in progress, best of {len(run.records)} evaluations so far"
    )
    origin = (
        f"the best loss of the jaxgp run {run.path.resolve()} (`jaxgp {run.command}`, {state}), "
        f"found by {algorithm}: {fitness}"
    )
    if per_dataset:
        origin += "; " + "; ".join(per_dataset)
    return LossSource(tree, origin)


def _acc(value: object) -> str:
    if isinstance(value, int | float) and math.isfinite(value):
        return f"{value:.4f}"
    return "n/a"


def resolve_target(target: str) -> LossSource:
    """A run directory (its best loss), a tree-named loss (`ngl`, `mse`) or an expression."""
    from jaxgp.losses import TREE_LOSSES

    path = Path(target)
    if os.path.isdir(target):  # False, not OSError, for a text no file can be named
        return _run_origin(path)
    name = target.strip()
    if name in TREE_LOSSES:
        return LossSource(parse(TREE_LOSSES[name]), f"jaxgp's named loss {name!r}")
    try:
        tree = parse(target)
    except ExpressionError as error:
        if os.path.exists(target):
            raise ConfigError(f"{target} is a file, not a run directory or an expression") from None
        if any(sep in target for sep in ("/", "\\")) and " " not in target:
            raise ExpressionError(
                f"{target!r} is neither a run directory nor a loss expression: {error}"
            ) from None
        raise
    return LossSource(tree, "given on the command line")


def export(target: str, framework: str) -> tuple[LossSource, str]:
    """(what was exported, the module or formula text) for a run directory or an expression."""
    if framework not in TARGETS:
        raise ConfigError(f"unknown framework {framework!r}; valid: {', '.join(TARGETS)}")
    source = resolve_target(target)
    return source, export_source(source.tree, framework, source.origin)

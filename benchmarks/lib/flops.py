"""FLOPs of one candidate's training step, from the first source that works on this backend.

Sources, in order (each row names the one it used):

- `compiled`: XLA's cost analysis of the compiled one-candidate host-loop step, when the
  caller compiled that program anyway (nothing is compiled for a count; the analysis is
  None through a PJRT C API plugin such as the CUDA one);
- `lowered (CPU client)`: the CPU client's cost analysis of the lowered, unoptimized HLO,
  which works whatever the target (the lowered program's own `cost_analysis()` refuses a
  plugin backend);
- `analytic`: counted from the traced step's jaxpr, pruned of what no output needs (as jit
  lowers it): convolutions over the input positions a
  kernel really overlaps (padding and dilation holes excluded, as XLA counts them), matrix
  products, and one FLOP per element of elementwise operations and reduction inputs.

The three agree within a few percent (tests/benchmarks/test_flops.py); XLA counts a loop body once,
so the count is taken on the one-candidate host step, never on a scanned epoch or a
`lax.map` over candidates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import numpy as np
from jax.extend.core import ClosedJaxpr, Jaxpr

from jaxgp.train import TrainConfig
from jaxgp.train.capacity import abstract_epoch_arguments
from jaxgp.train.step import build_functions

ELEMENTWISE = frozenset({
    "add", "add_any", "sub", "mul", "div", "rem", "max", "min", "neg", "abs", "sign", "square",
    "integer_pow", "pow", "select_n", "clamp", "exp", "exp2", "log", "log1p", "expm1", "sqrt",
    "rsqrt", "tanh", "logistic", "sin", "cos", "erf", "floor", "ceil", "round",
    "eq", "ne", "ge", "gt", "le", "lt", "and", "or", "not",
})  # fmt: skip
REDUCTIONS = frozenset({
    "reduce_sum", "reduce_max", "reduce_min", "reduce_and", "reduce_or", "argmax", "argmin",
})  # fmt: skip


def _overlaps(size: int, kernel: int, stride: int, padding: tuple[int, int], lhs_dilation: int,
              rhs_dilation: int) -> int:  # fmt: skip
    """(output position, kernel position) pairs of one spatial dimension that land on a real
    input element (not padding, not a hole of the input's dilation)."""
    low, high = padding
    dilated = (size - 1) * lhs_dilation + 1
    outputs = (dilated + low + high - ((kernel - 1) * rhs_dilation + 1)) // stride + 1
    position = (
        np.arange(max(outputs, 0))[:, None] * stride + np.arange(kernel)[None, :] * rhs_dilation
    ) - low
    real = (position >= 0) & (position < dilated) & (position % lhs_dilation == 0)
    return int(real.sum())


def convolution_flops(eqn) -> int:
    """2 x (output batch x output features x input features per group x real overlaps)."""
    params = eqn.params
    lhs, rhs = (v.aval.shape for v in eqn.invars[:2])
    out = eqn.outvars[0].aval.shape
    numbers = params["dimension_numbers"]
    spatial = len(numbers.lhs_spec) - 2
    lhs_dilation = params["lhs_dilation"] or (1,) * spatial
    rhs_dilation = params["rhs_dilation"] or (1,) * spatial
    total = 2 * out[numbers.out_spec[0]] * out[numbers.out_spec[1]] * rhs[numbers.rhs_spec[1]]
    for i in range(spatial):
        total *= _overlaps(
            lhs[numbers.lhs_spec[2 + i]], rhs[numbers.rhs_spec[2 + i]],
            params["window_strides"][i], params["padding"][i], lhs_dilation[i], rhs_dilation[i],
        )  # fmt: skip
    return total


def dot_flops(eqn) -> int:
    (contracting, _), _ = eqn.params["dimension_numbers"]
    lhs = eqn.invars[0].aval.shape
    return 2 * math.prod(eqn.outvars[0].aval.shape) * math.prod(lhs[d] for d in contracting)


def _sub_jaxprs(eqn) -> list[Jaxpr]:
    found = []
    for value in eqn.params.values():
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, ClosedJaxpr):
                found.append(item.jaxpr)
            elif isinstance(item, Jaxpr):
                found.append(item)
    return found


def jaxpr_flops(jaxpr: Jaxpr) -> int:
    """The analytic count of a jaxpr (a scan's body times its length, a conditional's
    costliest branch, a while loop's body once)."""
    total = 0
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "conv_general_dilated":
            total += convolution_flops(eqn)
        elif name == "dot_general":
            total += dot_flops(eqn)
        elif name in ELEMENTWISE:
            total += math.prod(eqn.outvars[0].aval.shape)
        elif name in REDUCTIONS:
            total += math.prod(eqn.invars[0].aval.shape)
        else:
            inner = [jaxpr_flops(sub) for sub in _sub_jaxprs(eqn)]
            if name == "cond":
                total += max(inner, default=0)
            else:
                total += eqn.params.get("length", 1) * sum(inner) if name == "scan" else sum(inner)
    return total


def _flops(analysis) -> float | None:
    if isinstance(analysis, list):
        analysis = analysis[0] if analysis else None
    flops = (analysis or {}).get("flops")
    return float(flops) if flops and flops > 0 else None


def from_compiled(compiled) -> float | None:
    try:
        return _flops(compiled.cost_analysis()) if compiled is not None else None
    except Exception:  # noqa: BLE001  (a backend without the analysis: the next source)
        return None


def from_lowered_on_cpu(lowered) -> float | None:
    try:
        from jax._src.lib import _jax  # the one route to the CPU client's HLO cost analysis

        cpu = jax.devices("cpu")[0].client
        module = lowered.compiler_ir("hlo").as_hlo_module()
        return _flops(_jax.hlo_module_cost_analysis(cpu, module))
    except Exception:  # noqa: BLE001
        return None


def _live(jaxpr: Jaxpr) -> Jaxpr:
    """The jaxpr without what no output needs, as jit's lowering prunes it (a custom VJP's
    gradient for an input that is never differentiated, such as the images)."""
    from jax._src.interpreters import partial_eval  # jit's own pruning; no public route

    return partial_eval.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars))[0]


def analytic(program, arguments) -> float | None:
    try:
        return float(jaxpr_flops(_live(jax.make_jaxpr(program)(*arguments).jaxpr))) or None
    except Exception:  # noqa: BLE001
        return None


SOURCES: dict[str, Callable] = {
    "compiled": lambda step, arguments, compiled: from_compiled(compiled),
    "lowered (CPU client)": lambda step, arguments, compiled: from_lowered_on_cpu(
        step.lower(*arguments)
    ),
    "analytic": lambda step, arguments, compiled: analytic(step, arguments),
}


def candidate_step_flops(
    data, config: TrainConfig, compiled=None
) -> tuple[float | None, str | None]:
    """One candidate's training-step FLOPs and their source ((None, None) if none worked).

    `compiled`: that step (K = 1, host loop) as the caller compiled it, if it did.
    """
    one = dataclasses.replace(config, candidates_per_batch=1, epoch_loop="host")
    functions = build_functions(data.num_classes, data.image_shape, one)
    arguments = abstract_epoch_arguments(functions, data, one, 1)
    for source, count in SOURCES.items():
        flops = count(functions.step_program, arguments, compiled)
        if flops:
            return flops, source
    return None, None

"""A training step's FLOPs (benchmarks/lib/flops.py): three sources that agree, and a fallback
that says which one it used when a backend (the CUDA PJRT plugin) gives no cost analysis."""

import jax
import jax.numpy as jnp
import pytest

from benchmarks.lib import flops
from jaxgp.data import load_dataset
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.capacity import abstract_epoch_arguments
from jaxgp.train.step import build_functions


def _xla_flops(fn, *args) -> float:
    """XLA's count before optimisation (which would drop the gradient's unused forward)."""
    analysis = jax.jit(fn).lower(*args).cost_analysis()
    return (analysis[0] if isinstance(analysis, list) else analysis)["flops"]


@pytest.mark.parametrize(
    ("stride", "padding", "dilation"),
    [(1, "SAME", 1), (2, "SAME", 1), (2, "VALID", 1), (1, "SAME", 2), (2, ((2, 1), (0, 3)), 1)],
)
def test_a_convolution_and_its_gradients_count_exactly_as_xla_counts_them(
    stride, padding, dilation
):
    x = jnp.ones((2, 11, 9, 3))
    w = jnp.ones((3, 3, 3, 5))

    def conv(x, w):
        return jax.lax.conv_general_dilated(
            x, w, (stride, stride), padding, rhs_dilation=(dilation, dilation),
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )  # fmt: skip

    def forward_and_both_gradients(x, w):
        value, vjp = jax.vjp(conv, x, w)
        return value, vjp(value)

    for fn in (conv, forward_and_both_gradients):
        jaxpr = jax.make_jaxpr(fn)(x, w).jaxpr
        convolutions = [e for e in jaxpr.eqns if e.primitive.name == "conv_general_dilated"]
        counted = sum(flops.convolution_flops(e) for e in convolutions)
        assert counted == _xla_flops(fn, x, w), fn.__name__


def _step(model: str, shape: str, **forms):
    data = DeviceDataset.from_dataset(
        load_dataset(f"synthetic:{shape}", seed=0, num_train=128, num_test=32)
    )
    config = TrainConfig(
        model=model, batch_size=32, candidates_per_batch=1, epoch_loop="host", **forms
    )
    functions = build_functions(data.num_classes, data.image_shape, config)
    return data, config, functions, abstract_epoch_arguments(functions, data, config, 1)


@pytest.mark.parametrize(
    ("shape", "conv"), [("32x32x3:10", "xla"), ("32x32x3:10", "canonical"), ("8x8x1:10", "xla")]
)
def test_the_three_sources_of_a_steps_flops_agree_within_five_percent(shape, conv):
    """Either convolution form: the canonical one's custom gradient also writes the images'
    gradient, which jit prunes and the analytic count must prune too."""
    data, config, functions, arguments = _step("small_cnn", shape, conv=conv)
    lowered = functions.step_program.lower(*arguments)
    compiled = flops.from_compiled(lowered.compile())
    on_cpu = flops.from_lowered_on_cpu(lowered)
    counted = flops.analytic(functions.step_program, arguments)
    assert compiled and on_cpu and counted
    assert on_cpu == pytest.approx(compiled, rel=0.05)
    assert counted == pytest.approx(on_cpu, rel=0.05)


def test_without_a_cost_analysis_the_flops_come_from_the_next_source_and_say_so(monkeypatch):
    data, config, functions, arguments = _step("small_cnn", "16x16x3:10")
    compiled = functions.step_program.lower(*arguments).compile()
    value, source = flops.candidate_step_flops(data, config, compiled)
    assert source == "compiled" and value > 0

    monkeypatch.setattr(jax.stages.Compiled, "cost_analysis", lambda self: None)
    on_cpu, source = flops.candidate_step_flops(data, config, compiled)
    assert source == "lowered (CPU client)" and on_cpu == pytest.approx(value, rel=0.05)

    def refuse(*args):
        raise NotImplementedError("no cost analysis on this backend")

    from jax._src.lib import _jax

    monkeypatch.setattr(_jax, "hlo_module_cost_analysis", refuse)
    counted, source = flops.candidate_step_flops(data, config, compiled)
    assert source == "analytic" and counted == pytest.approx(value, rel=0.05)

    monkeypatch.setattr(flops, "jaxpr_flops", lambda jaxpr: 0)
    assert flops.candidate_step_flops(data, config, compiled) == (None, None)

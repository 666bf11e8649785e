"""How jaxgp runs on this backend: every backend-dependent default, in one place.

Each rule is a measurement on the CPU (benchmarks/RESULTS.md) and, for accelerators, the
design's expectation until the GPU run (benchmarks/gpu_run.py) measures it:

- the loss strategy (`jaxgp.expr.lower`): `map` on a CPU, whose switch form does a tenth of
  the select form's arithmetic and where a conditional costs nothing; `vmap` elsewhere,
  whose select form has no loop or conditional that would make a GPU wait for its host;
- the model strategy: `vmap` everywhere (a single candidate is never wrapped, and `map`
  puts the models in a loop body, where XLA's CPU backend runs convolution gradients
  naively); on an accelerator `auto` K measures `map` too (`vmap` turns every convolution
  into a grouped one: benchmarks/RESULTS.md section 9) and trains with the faster;
- the epoch loop (`jaxgp.train.step`): `host` on a CPU, where JAX's own convolution
  gradients in a `scan` ran 10-96x slower (jax-ml/jax#12868); with the `canonical`
  convolutions below a scanned epoch costs what the host loop does per step (small_cnn
  27 against 26 ms), but its progress callbacks cost more than the host loop's dispatch on
  tiny-lt's six-step epochs, so the host loop stays; `scan` elsewhere, one program per
  epoch;
- whether training several candidates in one step can pay (`jaxgp.train.batching`): never
  on a CPU (K = 4 ran at a quarter of K = 1's rate per candidate), so `auto` K is 1 there
  without measuring; elsewhere `auto` measures;
- the models' convolutions (`jaxgp.models.conv`): `canonical` on a CPU, whose gradient
  convolutions keep the one layout XLA's CPU kernels are fast for, inside loops too (the
  scanned epoch) and outside (a 3x3 convolution's gradient step 20% faster from Python);
  `xla` elsewhere;
- the models' max pools (`jaxgp.models.layers.max_pool`): `slices` on a CPU, where XLA's
  gradient of reduce_window (select_and_scatter) took 7-12x the time of the slices' chain
  of selects (small_cnn's two pools: 10.2 of a 42 ms step); `window` elsewhere, where the
  vendor's pooling kernels serve it, until the GPU run measures otherwise.
"""

from __future__ import annotations

import jax

from jaxgp.choices import EpochLoop, Strategy

STRATEGIES = tuple(Strategy)
EPOCH_LOOPS = tuple(EpochLoop)


def on_cpu(backend: str | None = None) -> bool:
    """Whether `backend` (default: this process's default backend) is a CPU."""
    return (backend or jax.default_backend()) == "cpu"


def default_loss_strategy(backend: str | None = None) -> Strategy:
    """The loss strategy for `backend` (default: this process's; `cuda` for a GPU target
    compiled for on a CPU, benchmarks/gpu_compile.py)."""
    return Strategy.MAP if on_cpu(backend) else Strategy.VMAP


def default_model_strategy() -> Strategy:
    return Strategy.VMAP


def default_epoch_loop(backend: str | None = None) -> EpochLoop:
    return EpochLoop.HOST if on_cpu(backend) else EpochLoop.SCAN


def default_conv(backend: str | None = None) -> str:
    """How the models compute convolutions on `backend` (default: this process's)."""
    return "canonical" if on_cpu(backend) else "xla"


def default_max_pool(backend: str | None = None) -> str:
    """How the models compute max pools on `backend` (default: this process's)."""
    return "slices" if on_cpu(backend) else "window"


def batching_pays() -> bool:
    return not on_cpu()

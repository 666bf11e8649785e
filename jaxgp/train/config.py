"""The training recipe (thesis and NGL authors) as one frozen configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

import jax

from jaxgp.data.augment import AugmentConfig
from jaxgp.errors import ConfigError
from jaxgp.expr.lower import STRATEGIES, default_strategy
from jaxgp.expr.program import NODE_CAP

DTYPES = ("float32", "bfloat16")
EPOCH_LOOPS = ("scan", "host")
DEFAULT_MODEL_STRATEGY = "vmap"


def default_epoch_loop() -> str:
    """How an epoch runs: `host` on a CPU, `scan` (one program per epoch) on accelerators.

    XLA's CPU backend leaves convolution gradients inside a loop body (a `scan`, a
    `lax.map`) in a form its fast convolution kernels do not take, so they run as naive
    loops: a small_cnn step (CIFAR shape, batch 64) took 1149 ms in a scan and 65 ms
    dispatched from Python (benchmarks/RESULTS.md; jax-ml/jax#12868). On a GPU the scan
    saves a host round trip per step.
    """
    return "host" if jax.default_backend() == "cpu" else "scan"


@dataclass(frozen=True)
class ProgramSpec:
    """What the compiled training programs depend on, with every default resolved.

    The rest of a `TrainConfig` (seed, epochs, learning rate, plateau, K) is data to the
    same programs, so changing it compiles nothing new (`jaxgp.train.step.build_functions`
    is cached on this).
    """

    model: str
    batch_size: int
    augment: AugmentConfig
    compute_dtype: str
    input_size: int | None
    model_strategy: str
    loss_strategy: str
    epoch_loop: str
    max_nodes: int


@dataclass(frozen=True)
class TrainConfig:
    """How a candidate loss is scored: the model, the recipe and the batching of candidates.

    Defaults are the paper recipe: batch 64, Adam at 1e-3, reduce-on-plateau on validation
    accuracy (factor 0.2, patience 5, minimum 1e-4, Keras's min_delta 1e-4), the authors'
    augmentation.

    `candidates_per_batch` is K, the number of candidates trained at once ("auto": on an
    accelerator the largest K whose compiled epoch fits in device memory with
    `memory_margin` to spare; on a CPU 1, see `jaxgp.train.capacity`). `model_strategy` and
    `loss_strategy` say how the K candidates run: `vmap` (one batched computation) or `map`
    (one after another inside the compiled step). Models default to `vmap`: `map` puts them
    in a loop body, where XLA's CPU backend runs convolution gradients naively. Losses
    default to the backend's best (`jaxgp.expr.lower.default_strategy`). `epoch_loop` says
    how an epoch's steps run: `scan` (the epoch is one compiled program) or `host` (Python
    dispatches the compiled step); by default `host` on a CPU and `scan` elsewhere (see
    `default_epoch_loop`).
    """

    model: str = "small_cnn"
    epochs: int = 1
    batch_size: int = 64
    eval_batch_size: int = 256
    learning_rate: float = 1e-3
    plateau_factor: float = 0.2
    plateau_patience: int = 5
    plateau_min_delta: float = 1e-4
    min_learning_rate: float = 1e-4
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    compute_dtype: str = "float32"
    input_size: int | None = None
    candidates_per_batch: int | str = "auto"
    max_auto_candidates: int = 32
    memory_margin: float = 0.2
    model_strategy: str | None = None
    loss_strategy: str | None = None
    epoch_loop: str | None = None
    max_nodes: int = NODE_CAP
    seed: int = 0

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "eval_batch_size", "max_auto_candidates")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0 or self.min_learning_rate <= 0:
            raise ConfigError("learning rates must be positive")
        if not 0 < self.plateau_factor < 1:
            raise ConfigError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}")
        if self.compute_dtype not in DTYPES:
            raise ConfigError(
                f"unknown compute dtype {self.compute_dtype!r}; valid: {', '.join(DTYPES)}"
            )
        k = self.candidates_per_batch
        if k != "auto" and (not isinstance(k, int) or k < 1):
            raise ConfigError(
                f"candidates_per_batch must be 'auto' or a positive integer, got {k!r}"
            )
        for name in ("model_strategy", "loss_strategy"):
            value = getattr(self, name)
            if value is not None and value not in STRATEGIES:
                raise ConfigError(f"unknown {name} {value!r}; valid: {', '.join(STRATEGIES)}")
        if self.epoch_loop is not None and self.epoch_loop not in EPOCH_LOOPS:
            raise ConfigError(
                f"unknown epoch_loop {self.epoch_loop!r}; valid: {', '.join(EPOCH_LOOPS)}"
            )
        if not 0 <= self.memory_margin < 1:
            raise ConfigError(f"memory_margin must be in [0, 1), got {self.memory_margin}")

    def program(self) -> ProgramSpec:
        """The part of this configuration that the compiled programs depend on."""
        return ProgramSpec(
            model=self.model,
            batch_size=self.batch_size,
            augment=self.augment,
            compute_dtype=self.compute_dtype,
            input_size=self.input_size,
            model_strategy=self.model_strategy or DEFAULT_MODEL_STRATEGY,
            loss_strategy=self.loss_strategy or default_strategy(),
            epoch_loop=self.epoch_loop or default_epoch_loop(),
            max_nodes=self.max_nodes,
        )

"""The training recipe (thesis and NGL authors) as one frozen configuration."""

from __future__ import annotations

from dataclasses import dataclass, field

from jaxgp.data.augment import AugmentConfig
from jaxgp.errors import ConfigError
from jaxgp.expr.lower import STRATEGIES
from jaxgp.expr.program import NODE_CAP

DTYPES = ("float32", "bfloat16")
EPOCH_LOOPS = ("scan", "host")
DEFAULT_MODEL_STRATEGY = "vmap"


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
    `jaxgp.train.step.default_epoch_loop`).
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

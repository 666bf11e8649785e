"""The training recipe (thesis and NGL authors) as one frozen configuration."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from jaxgp.choices import (
    AUTO,
    Auto,
    Dtype,
    EpochLoop,
    Strategy,
    parse_dtype,
    parse_epoch_loop,
    parse_strategy,
)
from jaxgp.data.augment import AugmentConfig
from jaxgp.errors import ConfigError
from jaxgp.expr.language import DEFAULT_LANGUAGE, get_language
from jaxgp.expr.program import NODE_CAP
from jaxgp.models.conv import CONV_FORMS
from jaxgp.models.layers import MAX_POOL_FORMS
from jaxgp.policy import (
    default_conv,
    default_epoch_loop,
    default_loss_strategy,
    default_max_pool,
    default_model_strategy,
)

DTYPES = tuple(Dtype)


def parse_candidates_per_batch(value: int | str) -> int | Auto:
    """`AUTO` or a positive integer (also as text, as the CLI gives it); else `ConfigError`."""
    if value == AUTO:
        return AUTO
    try:
        k = int(value)
    except (TypeError, ValueError):
        k = 0
    if k < 1 or (isinstance(value, float) and not value.is_integer()):
        raise ConfigError(
            f"candidates per batch must be 'auto' or a positive integer, got {value!r}"
        )
    return k


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
    max_pool: str = "window"
    """How the model computes its max pools (`jaxgp.models.layers.max_pool`)."""
    conv: str = "xla"
    """How the model computes its convolutions (`jaxgp.models.conv`)."""
    language: str = "thesis"
    """The loss language whose interpreter the step compiles (`jaxgp.expr.language`)."""
    progress: bool = True
    """Whether the scanned epoch reports progress through a host callback. Off, the programs
    need no host (and so compile ahead of time for a GPU target on a machine without one):
    the benchmarks turn it off; training keeps it on."""


@dataclass(frozen=True)
class TrainConfig:
    """How a candidate loss is scored: the model, the recipe and the batching of candidates.

    Defaults are the paper recipe: batch 64, Adam at 1e-3, reduce-on-plateau on validation
    accuracy (factor 0.2, patience 5, minimum 1e-4, Keras's min_delta 1e-4), the authors'
    augmentation.

    `candidates_per_batch` is K, the number of candidates trained at once (`auto`: decided
    by `jaxgp.train.batching`, measured on an accelerator, 1 on a CPU). `model_strategy` and
    `loss_strategy` say how the K candidates run: `vmap` (one batched computation) or `map`
    (one after another inside the compiled step); `epoch_loop` how an epoch's steps run:
    `scan` (the epoch is one compiled program) or `host` (Python dispatches the compiled
    step). None means the backend's default (`jaxgp.policy`); with `auto` K on an
    accelerator a model strategy left None is chosen by the probe.
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
    compute_dtype: Dtype = Dtype.FLOAT32
    input_size: int | None = None
    candidates_per_batch: int | Auto = AUTO
    max_auto_candidates: int = 32
    memory_margin: float = 0.2
    model_strategy: Strategy | None = None
    loss_strategy: Strategy | None = None
    epoch_loop: EpochLoop | None = None
    max_nodes: int = NODE_CAP
    max_pool: str | None = None
    """`window` or `slices` (`jaxgp.models.layers.max_pool`); None: the backend's
    (`jaxgp.policy.default_max_pool`). The same values and, but for ties, gradients."""
    conv: str | None = None
    """`xla` or `canonical` (`jaxgp.models.conv`); None: the backend's
    (`jaxgp.policy.default_conv`). The same values and gradients."""
    seed: int = 0
    language: str | None = None
    """The loss language the step's interpreter runs (`jaxgp.expr.language`): `thesis` or
    `priors`; None: the smallest that says every loss of a `train_candidates` call. A search
    sets it, so that every call of a run runs the same compiled step."""

    def __post_init__(self) -> None:
        positive = ("epochs", "batch_size", "eval_batch_size", "max_auto_candidates")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not all(0 < rate < math.inf for rate in (self.learning_rate, self.min_learning_rate)):
            raise ConfigError(
                f"learning rates must be finite and positive, got {self.learning_rate} (minimum "
                f"{self.min_learning_rate})"
            )
        if not 0 < self.plateau_factor < 1:
            raise ConfigError(f"plateau_factor must be in (0, 1), got {self.plateau_factor}")
        parsed = {
            "compute_dtype": parse_dtype(self.compute_dtype),
            "candidates_per_batch": parse_candidates_per_batch(self.candidates_per_batch),
            "model_strategy": parse_strategy(self.model_strategy, "model_strategy"),
            "loss_strategy": parse_strategy(self.loss_strategy, "loss_strategy"),
            "epoch_loop": parse_epoch_loop(self.epoch_loop),
        }
        for name, value in parsed.items():
            object.__setattr__(self, name, value)
        if not 0 <= self.memory_margin < 1:
            raise ConfigError(f"memory_margin must be in [0, 1), got {self.memory_margin}")
        if self.language is not None:
            get_language(self.language)
        if self.conv is not None and self.conv not in CONV_FORMS:
            raise ConfigError(f"unknown conv {self.conv!r}; valid: {', '.join(CONV_FORMS)}")
        if self.max_pool is not None and self.max_pool not in MAX_POOL_FORMS:
            raise ConfigError(
                f"unknown max_pool {self.max_pool!r}; valid: {', '.join(MAX_POOL_FORMS)}"
            )

    def for_dataset(self, dataset) -> TrainConfig:
        """This recipe for `dataset`: a horizontal flip left to the dataset (None) is the
        dataset's own choice (`Dataset.horizontal_flip`); given by name, a registered
        dataset's entry decides and any other name is not flipped."""
        if self.augment.horizontal_flip is not None:
            return self
        flip = getattr(dataset, "horizontal_flip", None)
        if flip is None:
            from jaxgp.data.registry import get_spec
            from jaxgp.errors import JaxgpError

            name = dataset if isinstance(dataset, str) else getattr(dataset, "name", "")
            try:
                flip = get_spec(name).horizontal_flip
            except JaxgpError:
                flip = False
        augment = dataclasses.replace(self.augment, horizontal_flip=bool(flip))
        return dataclasses.replace(self, augment=augment)

    def program(self, *, progress: bool = True) -> ProgramSpec:
        """The part of this configuration that the compiled programs depend on (`progress`:
        `ProgramSpec.progress`)."""
        return ProgramSpec(
            model=self.model,
            batch_size=self.batch_size,
            augment=self.augment,
            compute_dtype=self.compute_dtype,
            input_size=self.input_size,
            model_strategy=self.model_strategy or default_model_strategy(),
            loss_strategy=self.loss_strategy or default_loss_strategy(),
            epoch_loop=self.epoch_loop or default_epoch_loop(),
            max_nodes=self.max_nodes,
            max_pool=self.max_pool or default_max_pool(),
            conv=self.conv or default_conv(),
            language=self.language or DEFAULT_LANGUAGE,
            progress=progress,
        )

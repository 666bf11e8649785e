"""The training recipe's choices as enums, parsed once where a `TrainConfig` is made.

- `Strategy`: how the K candidates of a step run, for the models and for the losses:
  `vmap` (one batched computation) or `map` (one after another inside the step);
- `EpochLoop`: how an epoch's steps run: `scan` (one compiled program) or `host` (Python
  dispatches the compiled step);
- `Dtype`: the models' compute dtype;
- `Auto`: `auto`, the K that `jaxgp.train.batching` decides.

Their values are the text `config.json` holds and `jaxgp.policy` returns, so a choice
compares equal to its text and is written as it.
"""

from __future__ import annotations

from enum import StrEnum

from jaxgp.errors import parse_choice


class Strategy(StrEnum):
    VMAP = "vmap"
    MAP = "map"


class EpochLoop(StrEnum):
    SCAN = "scan"
    HOST = "host"


class Dtype(StrEnum):
    FLOAT32 = "float32"
    BFLOAT16 = "bfloat16"


class Auto(StrEnum):
    AUTO = "auto"


AUTO = Auto.AUTO


def parse_strategy(text: str | None, what: str) -> Strategy | None:
    """None (the backend's default) or the `Strategy` named `text` (`what` names the
    setting in the error)."""
    return None if text is None else parse_choice(Strategy, text, what)


def parse_epoch_loop(text: str | None) -> EpochLoop | None:
    return None if text is None else parse_choice(EpochLoop, text, "epoch_loop")


def parse_dtype(text: str) -> Dtype:
    return parse_choice(Dtype, text, "compute dtype")

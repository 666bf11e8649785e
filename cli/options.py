"""Option parsing and wording shared by the commands: comma lists, compile counts, the
training-split options (`--imbalance`, `--label-noise`, `--noise-kind`, `--train-fraction`)
and `--quiet`."""

from __future__ import annotations

from typing import Annotated

import typer

from jaxgp.errors import ConfigError

Imbalance = Annotated[
    float | None,
    typer.Option(
        "--imbalance",
        help="long-tailed training split: class c keeps n_max * R^(-c/(C-1)) images (R >= 1; "
        "validation and test untouched)",
    ),
]
LabelNoise = Annotated[
    float | None,
    typer.Option("--label-noise", help="share of training labels made wrong, in [0, 1)"),
]
NoiseKind = Annotated[
    str | None,
    typer.Option(
        "--noise-kind",
        help="symmetric (default: any other class) | asymmetric (the next class, c -> c+1)",
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars: only warnings and the final results."),
]
TrainFraction = Annotated[
    float | None,
    typer.Option("--train-fraction", help="share of each class's training images kept, (0, 1]"),
]


def train_split_options(
    imbalance: float | None,
    label_noise: float | None,
    noise_kind: str | None,
    train_fraction: float | None,
) -> dict:
    """The training-split options that were given, by `build_settings`'s names."""
    given = {"imbalance": imbalance, "label_noise": label_noise, "noise_kind": noise_kind,
             "train_fraction": train_fraction}  # fmt: skip
    return {name: value for name, value in given.items() if value is not None}


def train_split(
    imbalance: float | None,
    label_noise: float | None,
    noise_kind: str | None,
    train_fraction: float | None,
):
    """A `TrainSplit` from the options (the clean split where none was given)."""
    from jaxgp.data.train_split import TrainSplit

    return TrainSplit(**train_split_options(imbalance, label_noise, noise_kind, train_fraction))


def split_names(text: str) -> list[str]:
    """`a,b , c` -> ['a', 'b', 'c']; an empty list is an error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"expected one or more comma-separated names, got {text!r}")
    return names


def loaded_from_cache(hits: int) -> str:
    """`, N of them loaded from the compilation cache` after a compile count, or nothing."""
    return f", {hits} of them loaded from the compilation cache" if hits else ""

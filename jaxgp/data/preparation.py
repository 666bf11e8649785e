"""What `jaxgp data list` and `jaxgp data prepare` do: dataset readiness and preparation.

Readiness is checked offline from metadata only: digits and synthetic datasets are always
ready; a tfds dataset is ready when it is prepared in a readable format in the data dir.
"""

from __future__ import annotations

from dataclasses import dataclass

from jaxgp.data.registry import DATASETS, Source, get_spec
from jaxgp.data.tfds_source import Readiness, prepare_tfds, tfds_readiness


@dataclass(frozen=True)
class DatasetStatus:
    """One row of `jaxgp data list`."""

    name: str
    image_shape: tuple[int, int, int]
    num_classes: int
    source: Source
    ready: bool
    detail: str


def dataset_status(name: str, data_dir: str | None = None) -> DatasetStatus:
    """Whether dataset ``name`` can be loaded here, with a short reason."""
    spec = get_spec(name)
    if spec.source == "tfds":
        state, _ = tfds_readiness(spec, data_dir)
        ready = state is Readiness.READY
        detail = {
            Readiness.READY: "prepared",
            Readiness.NOT_PREPARED: "not prepared",
            Readiness.WRONG_FORMAT: "not ArrayRecord: prepare it again",
        }[state]
    elif spec.source == "bundled":
        ready, detail = True, "bundled with scikit-learn"
    else:
        ready, detail = True, "generated on demand"
    return DatasetStatus(spec.name, spec.image_shape, spec.num_classes, spec.source, ready, detail)


def dataset_statuses(data_dir: str | None = None) -> list[DatasetStatus]:
    """The status of every registered dataset, in registry order."""
    return [dataset_status(name, data_dir) for name in DATASETS]


def prepare_dataset(name: str, data_dir: str | None = None) -> str:
    """Make dataset ``name`` loadable here (download and prepare tfds datasets); a status line.

    Raises `ConfigError` for an unknown name and `DatasetNotReadyError` when TensorFlow or
    the network is missing.
    """
    spec = get_spec(name)
    if spec.source != "tfds":
        kind = "bundled with scikit-learn" if spec.source == "bundled" else "generated on demand"
        return f"{spec.name} needs no preparation ({kind})"
    return prepare_tfds(spec, data_dir)

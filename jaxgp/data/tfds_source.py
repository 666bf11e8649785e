"""Reading prepared tensorflow-datasets datasets without TensorFlow, and preparing them.

Reading uses ``tfds.data_source(name, split=..., data_dir=..., download=False)``, which
reads a dataset prepared in the ArrayRecord (or Parquet) format with NumPy only. Records are
fetched in chunks with the data source's ``__getitems__`` (one ArrayRecord read per chunk);
a source without a working batch access (e.g. under ``tfds.testing.mock_data``) is read
index by index. CIFAR-10's 50,000 training images take about ten seconds, almost all of it
PNG decoding.

Data directory: the ``data_dir`` argument, else ``$TFDS_DATA_DIR``, else
``~/tensorflow_datasets``. jaxgp resolves it itself and always passes it explicitly: tfds
reads ``TFDS_DATA_DIR`` only once, when it is first imported.

Preparing (downloading) needs TensorFlow and a network connection; both are checked and
reported as one line. ``tensorflow_datasets`` is imported lazily, inside the functions.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from jaxgp.data.dataset import Split
from jaxgp.data.registry import DatasetSpec
from jaxgp.errors import DatasetNotReadyError

CHUNK_SIZE = 4096
PREPARE_FILE_FORMAT = "array_record"


class Readiness(enum.Enum):
    """Whether a tfds dataset can be read locally."""

    READY = "ready"
    NOT_PREPARED = "not prepared"
    WRONG_FORMAT = "wrong format"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> str:
    """The tfds data directory: the argument, else $TFDS_DATA_DIR, else ~/tensorflow_datasets."""
    if data_dir is None or str(data_dir) == "":
        data_dir = os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")
    return os.path.abspath(os.path.expanduser(str(data_dir)))


def _import_tfds() -> Any:
    import tensorflow_datasets as tfds

    return tfds


@contextlib.contextmanager
def _quiet_tfds() -> Iterator[None]:
    """Silence tfds's absl warnings (missing OpenCV, empty variant folders) for a while."""
    logger = logging.getLogger("absl")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def not_prepared_message(name: str, directory: str) -> str:
    """The one-line explanation for a dataset that is not prepared in ``directory``."""
    return (
        f"dataset {name!r} is not prepared in {directory}; prepare it with "
        f"`jaxgp data prepare {name}` on a machine with a network connection and the "
        f"TensorFlow extra (pip install 'jaxgp[tf]'), or copy a prepared tensorflow_datasets "
        f"directory and point --data-dir or TFDS_DATA_DIR at it"
    )


def wrong_format_message(name: str, directory: str, formats: str) -> str:
    """The one-line explanation for a dataset prepared in a format jaxgp cannot read."""
    return (
        f"dataset {name!r} in {directory} is prepared as {formats}, which cannot be read "
        f"without TensorFlow; prepare it again in the ArrayRecord format into an empty "
        f"directory with `jaxgp data prepare {name} --data-dir NEW_DIR` (needs a network "
        f"connection and pip install 'jaxgp[tf]') and point --data-dir or TFDS_DATA_DIR at it"
    )


def _readiness(tfds: Any, spec: DatasetSpec, directory: str) -> tuple[Readiness, str]:
    builder = tfds.builder(spec.tfds_name, data_dir=directory)
    if not builder.is_prepared():
        return Readiness.NOT_PREPARED, not_prepared_message(spec.name, directory)
    formats = builder.info.available_file_formats()
    readable = formats & set(tfds.core.FileFormat.with_random_access())
    if readable:
        return Readiness.READY, f"dataset {spec.name!r} is prepared in {directory}"
    names = ", ".join(sorted(fmt.value for fmt in formats)) or "an unknown format"
    return Readiness.WRONG_FORMAT, wrong_format_message(spec.name, directory, names)


def tfds_readiness(spec: DatasetSpec, data_dir: str | None = None) -> tuple[Readiness, str]:
    """Whether ``spec`` is prepared in a readable format in the data dir, and a message.

    Offline and fast: it only reads the dataset's metadata files.
    """
    tfds = _import_tfds()
    with _quiet_tfds():
        return _readiness(tfds, spec, resolve_data_dir(data_dir))


def _fill(images: np.ndarray, labels: np.ndarray, start: int, records: Any, key: str) -> None:
    for offset, record in enumerate(records):
        images[start + offset] = record["image"]
        labels[start + offset] = record[key]


def _read_all(source: Any, spec: DatasetSpec) -> Split:
    n = len(source)
    images = np.empty((n, *spec.image_shape), dtype=np.uint8)
    labels = np.empty((n,), dtype=np.int32)
    batched = callable(getattr(source, "__getitems__", None))
    for start in range(0, n, CHUNK_SIZE):
        keys = list(range(start, min(n, start + CHUNK_SIZE)))
        records = None
        if batched:
            try:
                records = source.__getitems__(keys)
            except (TypeError, AttributeError, NotImplementedError):
                # e.g. tfds.testing.mock_data's unbound __getitems__: read one by one.
                batched = False
        if records is None:
            records = [source[key] for key in keys]
        _fill(images, labels, start, records, spec.label_key)
    return Split(images, labels)


def read_tfds_split(spec: DatasetSpec, split: str, data_dir: str | None = None) -> Split:
    """All records of one tfds split as a `Split`; `DatasetNotReadyError` if not prepared."""
    tfds = _import_tfds()
    directory = resolve_data_dir(data_dir)
    with _quiet_tfds():
        try:
            source = tfds.data_source(
                spec.tfds_name, split=split, data_dir=directory, download=False
            )
        except Exception as error:
            state, message = _readiness(tfds, spec, directory)
            if state is Readiness.READY:
                raise
            raise DatasetNotReadyError(message) from error
        return _read_all(source, spec)


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported (preparing tfds datasets needs it)."""
    return importlib.util.find_spec("tensorflow") is not None


def prepare_tfds(spec: DatasetSpec, data_dir: str | None = None) -> str:
    """Download and prepare ``spec`` as ArrayRecord in the data dir; returns a status line.

    Raises `DatasetNotReadyError` with one line when TensorFlow is missing, when the download
    fails (no network) or when the dataset is already there in a format jaxgp cannot read.
    """
    tfds = _import_tfds()
    directory = resolve_data_dir(data_dir)
    with _quiet_tfds():
        state, message = _readiness(tfds, spec, directory)
    if state is Readiness.READY:
        return f"{spec.name} is already prepared in {directory}"
    if state is Readiness.WRONG_FORMAT:
        raise DatasetNotReadyError(message)
    if not tensorflow_available():
        raise DatasetNotReadyError(
            f"preparing {spec.name} needs TensorFlow, which is not installed: "
            f"pip install 'jaxgp[tf]' (and a network connection), or copy a prepared "
            f"tensorflow_datasets directory and point --data-dir or TFDS_DATA_DIR at it"
        )
    builder = tfds.builder(spec.tfds_name, data_dir=directory, file_format=PREPARE_FILE_FORMAT)
    try:
        builder.download_and_prepare()
    except (OSError, tfds.download.DownloadError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetNotReadyError(
            f"could not download {spec.name} ({reason}); preparing needs a network "
            f"connection, or copy a prepared tensorflow_datasets directory and point "
            f"--data-dir or TFDS_DATA_DIR at it"
        ) from error
    return f"{spec.name} is prepared in {directory}"

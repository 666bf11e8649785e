"""Datasets (tfds, bundled digits, synthetic), device-side augmentation and epoch batching.

Importing this package does not import tensorflow_datasets; only reading or preparing a
tfds dataset does.
"""

from jaxgp.data.augment import (
    AffineParams,
    AugmentConfig,
    apply_affine,
    augment,
    preprocess,
    sample_affine,
)
from jaxgp.data.batches import (
    EvalBatches,
    epoch_permutation,
    eval_batch_indices,
    masked_mean,
    steps_per_epoch,
    train_batch_indices,
)
from jaxgp.data.dataset import Dataset, Split, split_train_val
from jaxgp.data.load import load_dataset
from jaxgp.data.preparation import DatasetStatus, dataset_status, dataset_statuses, prepare_dataset
from jaxgp.data.registry import DATASETS, DatasetSpec, dataset_names, get_spec
from jaxgp.data.tfds_source import resolve_data_dir
from jaxgp.data.train_split import NOISE_KINDS, TrainSplit, class_counts

__all__ = [
    "DATASETS",
    "AffineParams",
    "AugmentConfig",
    "Dataset",
    "DatasetSpec",
    "DatasetStatus",
    "EvalBatches",
    "NOISE_KINDS",
    "Split",
    "TrainSplit",
    "apply_affine",
    "augment",
    "class_counts",
    "dataset_names",
    "dataset_status",
    "dataset_statuses",
    "epoch_permutation",
    "eval_batch_indices",
    "get_spec",
    "load_dataset",
    "masked_mean",
    "prepare_dataset",
    "preprocess",
    "resolve_data_dir",
    "sample_affine",
    "split_train_val",
    "steps_per_epoch",
    "train_batch_indices",
]

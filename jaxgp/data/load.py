"""`load_dataset`: a registered name in, a `Dataset` with train/val/test splits out.

- tfds datasets (cifar10, cifar100, fashion_mnist): the dataset's ``train`` split is split
  90/10 (seeded) into train/val; ``test`` is the dataset's ``test`` split.
- digits: a fixed stratified 80/20 train/test split (see `jaxgp.data.digits`), then the
  seeded 90/10 train/val split.
- synthetic: ``num_train`` training and ``num_test`` test images generated from ``seed``,
  then the 90/10 split.
"""

from __future__ import annotations

from jaxgp.data.dataset import Dataset, Split, split_train_val
from jaxgp.data.digits import load_digits_splits
from jaxgp.data.registry import get_spec
from jaxgp.data.synthetic import DEFAULT_NUM_TEST, DEFAULT_NUM_TRAIN, make_synthetic_splits
from jaxgp.data.tfds_source import read_tfds_split
from jaxgp.data.train_split import TrainSplit
from jaxgp.errors import ConfigError


def load_dataset(
    name: str,
    *,
    data_dir: str | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    num_train: int | None = None,
    num_test: int | None = None,
    train_split: TrainSplit | None = None,
) -> Dataset:
    """Load dataset ``name`` into host memory as uint8 images and int32 labels.

    Args:
        name: a registered name (see `jaxgp.data.registry`), e.g. ``cifar10``, ``digits``,
            ``synthetic`` or ``synthetic:cifar100``.
        data_dir: the tensorflow-datasets directory (default: $TFDS_DATA_DIR, else
            ~/tensorflow_datasets); ignored by digits and synthetic datasets.
        seed: seeds the train/validation split (and the images of synthetic datasets).
        val_fraction: the share of the training split held out for validation.
        num_train, num_test: sizes of a synthetic dataset before the validation split
            (defaults 1024 and 256); an error for other datasets.
        train_split: what to do to the training split after the validation split is held
            out (long tail, label noise, a fraction; `jaxgp.data.train_split`), seeded by
            ``seed``; validation and test stay as they are.

    Raises:
        ConfigError: unknown name, bad fraction or sizes.
        DatasetNotReadyError: a tfds dataset that is not prepared in the data dir.
    """
    spec = get_spec(name)
    if spec.source != "generated" and (num_train is not None or num_test is not None):
        raise ConfigError(f"num_train/num_test only apply to synthetic datasets, not {spec.name}")
    if not 0.0 < val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be strictly between 0 and 1, got {val_fraction}")

    full_train: Split
    test: Split
    if spec.source == "tfds":
        full_train = read_tfds_split(spec, "train", data_dir)
        test = read_tfds_split(spec, "test", data_dir)
    elif spec.source == "bundled":
        full_train, test = load_digits_splits()
    else:
        n_train = DEFAULT_NUM_TRAIN if num_train is None else num_train
        n_test = DEFAULT_NUM_TEST if num_test is None else num_test
        if n_train < 2 or n_test < 1:
            raise ConfigError(
                f"synthetic sizes must be num_train >= 2 and num_test >= 1, got {n_train}, {n_test}"
            )
        full_train, test = make_synthetic_splits(
            spec.image_shape, spec.num_classes, seed=seed, num_train=n_train, num_test=n_test
        )
    train, val = split_train_val(full_train, val_fraction=val_fraction, seed=seed)
    dataset = Dataset(
        name=spec.name,
        num_classes=spec.num_classes,
        image_shape=spec.image_shape,
        train=train,
        val=val,
        test=test,
        horizontal_flip=spec.horizontal_flip,
    )
    return train_split.apply(dataset, seed) if train_split is not None else dataset

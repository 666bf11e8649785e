"""The tfds path: mocked data sources, a real (tiny) ArrayRecord dataset, readiness, errors.

Facts about tfds 4.9.10 these tests rely on:

- Under ``tfds.testing.mock_data`` with the default ``MockPolicy.AUTO`` no metadata files are
  found (tfds ships none), so it falls back to ``USE_CODE``: any ``data_dir`` is replaced by
  a non-existing one, ``data_source`` returns ``num_examples`` generated records for EVERY
  split (train and test hold the same records; split slicing such as ``train[:10%]`` is
  ignored), and the mocked source's ``__getitems__`` is broken (an unbound partial), so the
  loader falls back to reading records one by one.
- Preparing a dataset normally needs TensorFlow (to PNG-encode images). The real-files test
  patches ``Image.encode_example`` to encode with PIL, so a genuine ArrayRecord dataset is
  written and read through the un-mocked ``data_source``.
"""

import io
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image as PILImage

from jaxgp.data import get_spec, load_dataset, prepare_dataset, tfds_source
from jaxgp.data.preparation import dataset_status
from jaxgp.data.tfds_source import Readiness, read_tfds_split, tfds_readiness
from jaxgp.errors import DatasetNotReadyError

MOCK_EXAMPLES = 40


@pytest.mark.parametrize(
    ("name", "shape", "classes"),
    [
        ("cifar10", (32, 32, 3), 10),
        ("cifar100", (32, 32, 3), 100),
        ("fashion_mnist", (28, 28, 1), 10),
    ],
)
def test_mocked_tfds_datasets_load(name, shape, classes, tmp_path):
    with tfds.testing.mock_data(num_examples=MOCK_EXAMPLES):
        data = load_dataset(name, data_dir=str(tmp_path))
    assert (data.name, data.image_shape, data.num_classes) == (name, shape, classes)
    # Every mocked split holds MOCK_EXAMPLES records; train is then split 90/10.
    assert (len(data.train), len(data.val), len(data.test)) == (36, 4, MOCK_EXAMPLES)
    for split in (data.train, data.val, data.test):
        assert split.images.dtype == np.uint8 and split.images.shape[1:] == shape
        assert split.labels.dtype == np.int32
        assert split.labels.min() >= 0 and split.labels.max() < classes
    assert data.test.images.std() > 0  # random content, not zeros


def test_mocked_reading_matches_the_records(tmp_path):
    with tfds.testing.mock_data(num_examples=10):
        split = read_tfds_split(get_spec("cifar100"), "test", str(tmp_path))
        source = tfds.data_source("cifar100", split="test", download=False)
        records = [source[i] for i in range(10)]
    np.testing.assert_array_equal(split.images, np.stack([r["image"] for r in records]))
    np.testing.assert_array_equal(split.labels, [int(r["label"]) for r in records])


def test_not_prepared_is_one_clear_line(tmp_path):
    with pytest.raises(DatasetNotReadyError) as info:
        load_dataset("cifar10", data_dir=str(tmp_path))
    message = str(info.value)
    assert "\n" not in message
    assert f"'cifar10' is not prepared in {tmp_path}" in message
    assert "jaxgp data prepare cifar10" in message
    assert "pip install 'jaxgp[tf]'" in message
    assert "--data-dir" in message and "TFDS_DATA_DIR" in message


def test_tfds_data_dir_environment_variable_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "from_env"))
    with pytest.raises(DatasetNotReadyError, match="from_env"):
        load_dataset("fashion_mnist")
    # An explicit data_dir wins over the environment.
    with pytest.raises(DatasetNotReadyError, match="explicit"):
        load_dataset("fashion_mnist", data_dir=str(tmp_path / "explicit"))


def _png(self, array):
    buffer = io.BytesIO()
    PILImage.fromarray(array[..., 0] if array.shape[-1] == 1 else array).save(buffer, "PNG")
    return buffer.getvalue()


def _write_fake_tfds(name: str, data_dir: Path, n_train: int, n_test: int) -> None:
    """Prepare a genuine ArrayRecord dataset under the real name, with random records."""
    features = tfds.builder(name, data_dir=str(data_dir)).info.features
    version = str(tfds.builder_cls(name).VERSION)

    with tfds.core.registered.skip_registration():

        class Fake(tfds.core.GeneratorBasedBuilder):
            VERSION = tfds.core.Version(version)

            def _info(self):
                return tfds.core.DatasetInfo(builder=self, features=features)

            def _split_generators(self, dl_manager):
                return {
                    "train": self._generate_examples(n_train, 1),
                    "test": self._generate_examples(n_test, 2),
                }

            def _generate_examples(self, n, seed):
                rng = np.random.default_rng(seed)
                for i in range(n):
                    example = {
                        "image": rng.integers(0, 256, features["image"].shape, dtype=np.uint8),
                        "label": int(rng.integers(features["label"].num_classes)),
                    }
                    if "id" in features:
                        example["id"] = f"train_{i:05d}"
                    if "coarse_label" in features:
                        example["coarse_label"] = 0
                    yield i, example

        Fake.name = name
    with mock.patch.object(tfds.features.Image, "encode_example", _png):
        Fake(data_dir=str(data_dir), file_format="array_record").download_and_prepare()


@pytest.fixture(scope="module")
def prepared_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tfds")
    tfds.disable_progress_bar()
    _write_fake_tfds("fashion_mnist", data_dir, n_train=300, n_test=70)
    return data_dir


def test_real_arrayrecord_dataset_loads_in_chunks(prepared_dir, monkeypatch):
    from tensorflow_datasets.core.data_sources.base import BaseDataSource

    monkeypatch.setattr(tfds_source, "CHUNK_SIZE", 128)  # several chunks, one partial
    batch_reads = []
    original = BaseDataSource.__getitems__

    def spy(self, keys):
        batch_reads.append(len(keys))
        return original(self, keys)

    monkeypatch.setattr(BaseDataSource, "__getitems__", spy)
    data = load_dataset("fashion_mnist", data_dir=str(prepared_dir), seed=4)
    assert batch_reads == [128, 128, 44, 70]  # train in 3 chunks, test in 1
    assert (len(data.train), len(data.val), len(data.test)) == (270, 30, 70)
    assert data.train.images.dtype == np.uint8 and data.train.images.shape[1:] == (28, 28, 1)
    source = tfds.data_source("fashion_mnist", split="test", data_dir=str(prepared_dir))
    expected = np.stack([source[i]["image"] for i in range(len(source))])
    np.testing.assert_array_equal(data.test.images, expected)
    np.testing.assert_array_equal(data.test.labels, [source[i]["label"] for i in range(70)])
    assert tfds_readiness(get_spec("fashion_mnist"), str(prepared_dir))[0] is Readiness.READY
    assert dataset_status("fashion_mnist", str(prepared_dir)).ready
    assert prepare_dataset("fashion_mnist", str(prepared_dir)).endswith(
        f"already prepared in {prepared_dir}"
    )


def test_dataset_prepared_as_tfrecord_is_reported(prepared_dir, tmp_path):
    import shutil

    copy = tmp_path / "tfrecord_dir"
    shutil.copytree(prepared_dir, copy)
    (info_path,) = copy.glob("fashion_mnist/*/dataset_info.json")
    info = json.loads(info_path.read_text())
    info["fileFormat"] = "tfrecord"
    info_path.write_text(json.dumps(info))
    spec = get_spec("fashion_mnist")
    assert tfds_readiness(spec, str(copy))[0] is Readiness.WRONG_FORMAT
    with pytest.raises(DatasetNotReadyError) as info_error:
        load_dataset("fashion_mnist", data_dir=str(copy))
    message = str(info_error.value)
    assert "\n" not in message and "tfrecord" in message and "ArrayRecord" in message
    assert not dataset_status("fashion_mnist", str(copy)).ready


def test_readiness_of_an_empty_dir(tmp_path):
    state, message = tfds_readiness(get_spec("cifar100"), str(tmp_path))
    assert state is Readiness.NOT_PREPARED and "not prepared" in message
    status = dataset_status("cifar100", str(tmp_path))
    assert not status.ready and status.source == "tfds"
    assert dataset_status("digits", str(tmp_path)).ready
    assert dataset_status("synthetic", str(tmp_path)).ready


def test_prepare_without_tensorflow_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(tfds_source, "tensorflow_available", lambda: False)
    with pytest.raises(DatasetNotReadyError) as info:
        prepare_dataset("cifar10", str(tmp_path))
    message = str(info.value)
    assert "\n" not in message and "TensorFlow" in message and "jaxgp[tf]" in message


def test_prepare_without_network_says_so(tmp_path, monkeypatch):
    class OfflineBuilder:
        def download_and_prepare(self):
            raise ConnectionError("Failed to establish a new connection\nmore detail")

    real_builder = tfds.builder

    def builder(name, **kwargs):
        if "file_format" in kwargs:
            assert kwargs["file_format"] == "array_record"
            return OfflineBuilder()
        return real_builder(name, **kwargs)

    monkeypatch.setattr(tfds_source, "tensorflow_available", lambda: True)
    monkeypatch.setattr(tfds, "builder", builder)
    with pytest.raises(DatasetNotReadyError) as info:
        prepare_dataset("cifar10", str(tmp_path))
    message = str(info.value)
    assert "\n" not in message and "network connection" in message
    assert "Failed to establish" in message


def test_offline_datasets_need_no_preparation():
    assert "needs no preparation" in prepare_dataset("digits")
    assert "needs no preparation" in prepare_dataset("synthetic:cifar100")


def test_importing_jaxgp_data_does_not_import_tensorflow_datasets():
    code = "import sys, jaxgp.data; sys.exit('tensorflow_datasets' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

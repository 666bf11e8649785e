"""The dataset registry: known names, synthetic variants, unknown-name errors."""

import pytest

from jaxgp.data import DATASETS, dataset_names, get_spec
from jaxgp.errors import ConfigError


def test_known_datasets_have_the_paper_shapes():
    assert dataset_names() == ["cifar10", "cifar100", "fashion_mnist", "digits", "synthetic"]
    assert (DATASETS["cifar10"].image_shape, DATASETS["cifar10"].num_classes) == ((32, 32, 3), 10)
    assert (DATASETS["cifar100"].image_shape, DATASETS["cifar100"].num_classes) == (
        (32, 32, 3),
        100,
    )
    assert DATASETS["cifar100"].label_key == "label"
    assert (DATASETS["fashion_mnist"].image_shape, DATASETS["fashion_mnist"].num_classes) == (
        (28, 28, 1),
        10,
    )
    assert DATASETS["digits"].source == "bundled"
    assert DATASETS["synthetic"].source == "generated"
    assert DATASETS["synthetic"].image_shape == DATASETS["cifar10"].image_shape


def test_synthetic_variants_mirror_a_dataset_or_take_a_custom_shape():
    spec = get_spec("synthetic:cifar100")
    assert (spec.name, spec.image_shape, spec.num_classes, spec.source) == (
        "synthetic:cifar100",
        (32, 32, 3),
        100,
        "generated",
    )
    assert get_spec("synthetic:fashion_mnist").image_shape == (28, 28, 1)
    custom = get_spec("synthetic:16x12x3:7")
    assert (custom.image_shape, custom.num_classes) == ((16, 12, 3), 7)


def test_names_are_case_insensitive_and_accept_dashes():
    assert get_spec("Fashion-MNIST").name == "fashion_mnist"
    assert get_spec(" CIFAR10 ").name == "cifar10"


@pytest.mark.parametrize("name", ["imagenet", "synthetic:foo", "synthetic:32x32:10", ""])
def test_unknown_name_is_a_one_line_config_error_listing_valid_names(name):
    with pytest.raises(ConfigError) as info:
        get_spec(name)
    message = str(info.value)
    assert "\n" not in message
    assert "unknown dataset" in message
    for valid in dataset_names():
        assert valid in message


def test_degenerate_synthetic_shape_is_rejected():
    with pytest.raises(ConfigError):
        get_spec("synthetic:0x8x1:10")
    with pytest.raises(ConfigError):
        get_spec("synthetic:8x8x1:1")

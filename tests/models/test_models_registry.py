"""The model registry: names, validation and errors."""

import jax.numpy as jnp
import pytest

from jaxgp.errors import ConfigError
from jaxgp.models import MODELS, InceptionV3Classifier, SmallCNN, build_model


def test_registry_has_both_models():
    assert set(MODELS) == {"inception_v3", "small_cnn"}
    assert isinstance(build_model("small_cnn", num_classes=3, input_shape=(8, 8, 1)), SmallCNN)
    model = build_model("inception_v3", num_classes=3, input_shape=(28, 28, 1), input_size=96)
    assert isinstance(model, InceptionV3Classifier) and model.input_size == 96


def test_unknown_model_names_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        build_model("foo", num_classes=10, input_shape=(32, 32, 3))
    assert str(info.value) == "unknown model 'foo'; valid models: inception_v3, small_cnn"
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_classes": 1, "input_shape": (32, 32, 3)}, "classes"),
        ({"num_classes": 10, "input_shape": (32, 32)}, "input shape"),
        ({"num_classes": 10, "input_shape": (0, 32, 3)}, "input shape"),
        ({"num_classes": 10, "input_shape": (32, 32, 3), "dtype": jnp.float16}, "dtype"),
        ({"num_classes": 10, "input_shape": (32, 32, 3), "input_size": 96}, "input_size"),
    ],
)
def test_bad_settings_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        build_model("small_cnn", **kwargs)

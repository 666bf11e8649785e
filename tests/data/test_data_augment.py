"""Device-side preprocessing and Keras-style augmentation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import ndimage

from jaxgp.data import AffineParams, AugmentConfig, apply_affine, augment, preprocess, sample_affine
from jaxgp.errors import ConfigError

_STATIC = (
    "zoom",
    "width_shift",
    "height_shift",
    "horizontal_flip",
    "flip_probability",
    "interpolation",
)
jit_augment = jax.jit(augment, static_argnames=_STATIC)
jit_sample = jax.jit(sample_affine, static_argnums=(1, 2, 3), static_argnames=_STATIC[:5])


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8))


def _params(batch_size, zoom_rows=1.0, zoom_cols=1.0, shift_rows=0.0, shift_cols=0.0, flip=False):
    full = lambda value: jnp.full((batch_size,), value)  # noqa: E731
    return AffineParams(
        full(zoom_rows), full(zoom_cols), full(shift_rows), full(shift_cols), full(flip)
    )


def test_preprocess_is_inception_scaling():
    x = jnp.asarray([[[[0, 127, 255]]]], dtype=jnp.uint8)
    out = preprocess(x)
    assert out.dtype == jnp.float32
    expected = np.asarray(x, np.float32) / np.float32(127.5) - np.float32(1)  # Keras's float32
    np.testing.assert_array_equal(np.asarray(out), expected)
    np.testing.assert_array_equal(np.asarray(jax.jit(preprocess)(x)), expected)
    assert float(out.max()) == 1.0 and float(out.min()) == -1.0
    floats = preprocess(jnp.asarray([0.0, 127.5, 255.0]))
    np.testing.assert_allclose(np.asarray(floats), [-1.0, 0.0, 1.0], atol=1e-6)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_augment_keeps_shape_dtype_and_range(batch, interpolation):
    out = jax.jit(lambda k, x: augment(k, x, interpolation=interpolation))(
        jax.random.PRNGKey(1), batch
    )
    assert out.shape == batch.shape and out.dtype == jnp.float32
    assert float(out.min()) >= -1.0 and float(out.max()) <= 1.0


def test_augment_is_deterministic_in_the_key(batch):
    key = jax.random.PRNGKey(7)
    first = np.asarray(jit_augment(key, batch))
    np.testing.assert_array_equal(first, np.asarray(jit_augment(key, batch)))
    np.testing.assert_array_equal(first, np.asarray(augment(key, batch)))  # jit or not
    assert not np.array_equal(first, np.asarray(jit_augment(jax.random.PRNGKey(8), batch)))


def test_disabled_augmentation_equals_preprocess_exactly(batch):
    key = jax.random.PRNGKey(3)
    expected = np.asarray(preprocess(batch))
    disabled = AugmentConfig(enabled=False).apply(key, batch)
    np.testing.assert_array_equal(np.asarray(disabled), expected)
    off = augment(key, batch, zoom=0.0, width_shift=0.0, height_shift=0.0, horizontal_flip=False)
    np.testing.assert_array_equal(np.asarray(off), expected)
    identity = dict(zoom=0.0, width_shift=0.0, height_shift=0.0, horizontal_flip=False)
    nearest = AugmentConfig(**identity, interpolation="nearest")
    np.testing.assert_array_equal(np.asarray(nearest.apply(key, batch)), expected)
    bilinear = AugmentConfig(**identity)  # the default, Keras's: exact up to float rounding
    np.testing.assert_allclose(np.asarray(bilinear.apply(key, batch)), expected, atol=1e-6)


def test_forced_horizontal_flip_mirrors_the_image(batch):
    out = augment(
        jax.random.PRNGKey(0),
        batch,
        zoom=0.0,
        width_shift=0.0,
        height_shift=0.0,
        horizontal_flip=True,
        flip_probability=1.0,
    )
    np.testing.assert_array_equal(np.asarray(out), np.asarray(preprocess(batch[:, :, ::-1])))


def test_integer_shift_moves_content_with_nearest_fill(batch):
    out = np.asarray(apply_affine(batch, _params(batch.shape[0], shift_rows=3.0, shift_cols=-2.0)))
    x = np.asarray(batch)
    rows = np.clip(np.arange(32) + 3, 0, 31)
    cols = np.clip(np.arange(32) - 2, 0, 31)
    expected = np.asarray(preprocess(x[:, rows][:, :, cols]))
    np.testing.assert_array_equal(out, expected)
    # Content moved up by 3 rows and right by 2 columns; the borders repeat the edge pixels.
    np.testing.assert_array_equal(out[:, :29, 2:], np.asarray(preprocess(batch))[:, 3:, :30])
    np.testing.assert_array_equal(out[:, 29:, 2:], np.repeat(out[:, 28:29, 2:], 3, axis=1))
    np.testing.assert_array_equal(out[:, :, :2], np.repeat(out[:, :, 2:3], 2, axis=2))


def test_random_shifts_match_a_numpy_nearest_neighbour_map(batch):
    key = jax.random.PRNGKey(11)
    kwargs = dict(zoom=0.0, width_shift=0.1, height_shift=0.1, horizontal_flip=False)
    params = sample_affine(key, batch.shape[0], 32, 32, **kwargs)
    out = np.asarray(augment(key, batch, **kwargs))
    x = np.asarray(batch)
    for b in range(x.shape[0]):
        rows = np.clip(np.floor(np.arange(32) + float(params.shift_rows[b]) + 0.5), 0, 31)
        cols = np.clip(np.floor(np.arange(32) + float(params.shift_cols[b]) + 0.5), 0, 31)
        expected = np.asarray(preprocess(x[b][rows.astype(int)][:, cols.astype(int)]))
        np.testing.assert_array_equal(out[b], expected)


def _keras_reference(image, zoom_r, zoom_c, shift_r, shift_c, flip, order):
    """What Keras's apply_affine_transform computes: scipy's inverse map, then the flip."""
    h, w = image.shape[:2]
    offset = [(h - 1) / 2 * (1 - zoom_r) + shift_r, (w - 1) / 2 * (1 - zoom_c) + shift_c]
    channels = [
        ndimage.affine_transform(
            image[..., k].astype(np.float64),
            np.diag([zoom_r, zoom_c]),
            offset=offset,
            order=order,
            mode="nearest",
        )
        for k in range(image.shape[-1])
    ]
    out = np.stack(channels, axis=-1)
    return out[:, ::-1] if flip else out


@pytest.mark.parametrize(("interpolation", "order"), [("nearest", 0), ("bilinear", 1)])
def test_zoom_shift_flip_match_scipy_as_keras_uses_it(batch, interpolation, order):
    params = sample_affine(jax.random.PRNGKey(5), batch.shape[0], 32, 32)
    out = np.asarray(apply_affine(batch, params, interpolation=interpolation))
    for b in range(batch.shape[0]):
        values = [float(v[b]) for v in params[:4]]
        ref = _keras_reference(np.asarray(batch[b]), *values, bool(params.flip[b]), order)
        np.testing.assert_allclose(out[b], ref / 127.5 - 1.0, atol=1e-4)


def test_sampled_parameters_follow_the_keras_ranges():
    params = jit_sample(jax.random.PRNGKey(2), 2000, 32, 28)
    zooms = np.concatenate([params.zoom_rows, params.zoom_cols])
    assert zooms.min() >= 0.8 and zooms.max() <= 1.2
    assert not np.array_equal(params.zoom_rows, params.zoom_cols)  # drawn independently
    assert np.abs(params.shift_rows).max() <= 3.2 and np.abs(params.shift_cols).max() <= 2.8
    assert np.abs(params.shift_rows).max() > 3.0
    assert 0.44 < float(params.flip.mean()) < 0.56
    no_flip = jit_sample(jax.random.PRNGKey(2), 100, 32, 32, horizontal_flip=False)
    assert not bool(no_flip.flip.any())


def test_grayscale_and_non_square_images():
    images = jnp.asarray(np.random.default_rng(1).integers(0, 256, (3, 28, 20, 1), np.uint8))
    out = jit_augment(jax.random.PRNGKey(0), images)
    assert out.shape == (3, 28, 20, 1) and out.dtype == jnp.float32


def test_config_validation_and_hashability():
    assert hash(AugmentConfig()) == hash(AugmentConfig())
    for bad in (dict(zoom=1.5), dict(width_shift=-0.1), dict(interpolation="cubic")):
        with pytest.raises(ConfigError):
            AugmentConfig(**bad)

"""Device-side preprocessing and Keras-style augmentation, for use inside a jitted step.

`preprocess` is Inception's ``preprocess_input``: ``x / 127.5 - 1`` in float32.

`augment` reproduces ``ImageDataGenerator(zoom_range=0.2, width_shift_range=0.1,
height_shift_range=0.1, horizontal_flip=True, fill_mode='nearest')`` on a uint8 batch
[B, H, W, C] and returns the preprocessed float32 batch in [-1, 1]. Per image, independently:

- zoom factors ``zoom_rows`` and ``zoom_cols`` ~ U[1 - zoom, 1 + zoom], drawn separately
  (Keras draws ``zx, zy = uniform(lo, hi, 2)``);
- shifts ``shift_rows`` ~ U[-height_shift, height_shift] * H and ``shift_cols`` ~
  U[-width_shift, width_shift] * W, in pixels;
- a horizontal flip with probability 0.5.

Conventions (those of Keras's ``apply_affine_transform``, which hands an inverse map to
``scipy.ndimage.affine_transform``): output pixel (i, j) reads input coordinates

    row = zoom_rows * (i - c_r) + c_r + shift_rows,   c_r = (H - 1) / 2
    col = zoom_cols * (j' - c_c) + c_c + shift_cols,  c_c = (W - 1) / 2

where ``j' = W - 1 - j`` for a flipped image (Keras flips after the affine transform) and
``j' = j`` otherwise. So the zoom multiplies output coordinates around the centre: a factor
above 1 samples a larger area (the content shrinks), below 1 magnifies; a positive shift
reads further down/right, i.e. the content moves up/left by ``shift`` pixels. Coordinates
outside the image are clamped to the edge (``fill_mode='nearest'``). Sampling is
nearest-neighbour by default (``floor(x + 0.5)``, as scipy's order 0), so outputs are exact
preprocessed input pixels. Note that ImageDataGenerator itself defaults to
``interpolation_order=1``, i.e. bilinear: pass ``interpolation="bilinear"`` for that. Both
modes match scipy (what Keras calls) to float32 rounding; see the tests. Because the map has
no rotation or shear it is separable: a row gather then a column gather per image, vmapped
over the batch.

Recent Keras versions (Keras 3's legacy ImageDataGenerator included) swap the x/y axes of
their matrix for channels-last images, so their ``height_shift_range`` actually moves
columns and ``zx`` zooms columns; with equal ranges on square images (the thesis setting)
that is the same distribution as the convention above.

Everything is a pure function of the key; no Python loop runs over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxgp.errors import ConfigError

Interpolation = Literal["nearest", "bilinear"]
_INTERPOLATIONS = ("nearest", "bilinear")


# Keras computes ``x /= 127.5; x -= 1`` in float32. A 256-entry table holds exactly those
# values, so uint8 inputs map bit-identically in eager mode, under jit and on any backend
# (XLA would otherwise turn the division into a multiplication by 1/127.5, off by one bit).
_UINT8_TABLE = (np.arange(256, dtype=np.float32) / np.float32(127.5)) - np.float32(1.0)


def _scale(values: jax.Array) -> jax.Array:
    """Scale float pixel values in [0, 255] to [-1, 1] (the clip absorbs rounding)."""
    return jnp.clip(values / 127.5 - 1.0, -1.0, 1.0)


def preprocess(images: jax.Array) -> jax.Array:
    """Inception's preprocess_input: [..., H, W, C] pixels -> float32 ``x / 127.5 - 1``.

    uint8 inputs are looked up in a table of the exact float32 values Keras produces; other
    dtypes are scaled arithmetically. The result lies in [-1, 1].
    """
    images = jnp.asarray(images)
    if images.dtype == jnp.uint8:
        table = jnp.asarray(_UINT8_TABLE)
        return jnp.take(table, images.astype(jnp.int32), mode="clip")
    return _scale(images.astype(jnp.float32))


class AffineParams(NamedTuple):
    """Per-image transform parameters, each of shape [B] (see the module docstring)."""

    zoom_rows: jax.Array
    zoom_cols: jax.Array
    shift_rows: jax.Array
    shift_cols: jax.Array
    flip: jax.Array


def sample_affine(
    key: jax.Array,
    batch: int,
    height: int,
    width: int,
    *,
    zoom: float = 0.2,
    width_shift: float = 0.1,
    height_shift: float = 0.1,
    horizontal_flip: bool = True,
    flip_probability: float = 0.5,
) -> AffineParams:
    """Draw per-image zooms, pixel shifts and flips for a batch, as Keras does."""
    k_zoom, k_rows, k_cols, k_flip = jax.random.split(key, 4)
    zooms = jax.random.uniform(k_zoom, (batch, 2), minval=1.0 - zoom, maxval=1.0 + zoom)
    shift_rows = height * jax.random.uniform(
        k_rows, (batch,), minval=-height_shift, maxval=height_shift
    )
    shift_cols = width * jax.random.uniform(
        k_cols, (batch,), minval=-width_shift, maxval=width_shift
    )
    if horizontal_flip:
        flip = jax.random.bernoulli(k_flip, flip_probability, (batch,))
    else:
        flip = jnp.zeros((batch,), dtype=bool)
    return AffineParams(zooms[:, 0], zooms[:, 1], shift_rows, shift_cols, flip)


def _source_coords(size: int, zoom: jax.Array, shift: jax.Array, flip: jax.Array) -> jax.Array:
    out = jnp.arange(size, dtype=jnp.float32)
    out = jnp.where(flip, size - 1 - out, out)
    centre = (size - 1) / 2.0
    return zoom * (out - centre) + centre + shift


def _nearest(image: jax.Array, rows: jax.Array, cols: jax.Array) -> jax.Array:
    height, width = image.shape[0], image.shape[1]
    r = jnp.clip(jnp.floor(rows + 0.5), 0, height - 1).astype(jnp.int32)
    c = jnp.clip(jnp.floor(cols + 0.5), 0, width - 1).astype(jnp.int32)
    return preprocess(jnp.take(jnp.take(image, r, axis=0, mode="clip"), c, axis=1, mode="clip"))


def _lerp_axis(values: jax.Array, coords: jax.Array, axis: int) -> jax.Array:
    size = values.shape[axis]
    coords = jnp.clip(coords, 0.0, size - 1)
    low = jnp.floor(coords)
    weight = coords - low
    low_i = low.astype(jnp.int32)
    high_i = jnp.minimum(low_i + 1, size - 1)
    shape = [1] * values.ndim
    shape[axis] = size
    weight = weight.reshape(shape)
    a = jnp.take(values, low_i, axis=axis, mode="clip")
    b = jnp.take(values, high_i, axis=axis, mode="clip")
    return a * (1.0 - weight) + b * weight


def _bilinear(image: jax.Array, rows: jax.Array, cols: jax.Array) -> jax.Array:
    values = jnp.asarray(image).astype(jnp.float32)
    return _scale(_lerp_axis(_lerp_axis(values, rows, axis=0), cols, axis=1))


def apply_affine(
    images: jax.Array, params: AffineParams, *, interpolation: Interpolation = "nearest"
) -> jax.Array:
    """Warp a batch [B, H, W, C] with given per-image parameters; float32 in [-1, 1]."""
    if interpolation not in _INTERPOLATIONS:
        raise ConfigError(f"interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
    height, width = images.shape[1], images.shape[2]
    sample = _nearest if interpolation == "nearest" else _bilinear

    def one(image, zoom_r, zoom_c, shift_r, shift_c, flip):
        rows = _source_coords(height, zoom_r, shift_r, jnp.zeros((), dtype=bool))
        cols = _source_coords(width, zoom_c, shift_c, flip)
        return sample(image, rows, cols)

    return jax.vmap(one)(images, *params)


def augment(
    key: jax.Array,
    images: jax.Array,
    *,
    zoom: float = 0.2,
    width_shift: float = 0.1,
    height_shift: float = 0.1,
    horizontal_flip: bool = True,
    flip_probability: float = 0.5,
    interpolation: Interpolation = "nearest",
) -> jax.Array:
    """Randomly zoom, shift and flip a uint8 batch [B, H, W, C]; float32 in [-1, 1]."""
    batch, height, width = images.shape[0], images.shape[1], images.shape[2]
    params = sample_affine(
        key,
        batch,
        height,
        width,
        zoom=zoom,
        width_shift=width_shift,
        height_shift=height_shift,
        horizontal_flip=horizontal_flip,
        flip_probability=flip_probability,
    )
    return apply_affine(images, params, interpolation=interpolation)


@dataclass(frozen=True)
class AugmentConfig:
    """The augmentation settings; hashable, so it can be a static argument of `jax.jit`.

    The defaults are the NGL authors' ImageDataGenerator, whose interpolation is bilinear
    (its default `interpolation_order=1`) with nearest fill. `horizontal_flip` None means
    the dataset's choice (`jaxgp.data.Dataset.horizontal_flip`, from the registry for a
    registered dataset, resolved by `jaxgp.train.config.TrainConfig.for_dataset`).
    """

    enabled: bool = True
    zoom: float = 0.2
    width_shift: float = 0.1
    height_shift: float = 0.1
    horizontal_flip: bool | None = None
    interpolation: Interpolation = "bilinear"

    def __post_init__(self) -> None:
        if not 0.0 <= self.zoom < 1.0:
            raise ConfigError(f"zoom must be in [0, 1), got {self.zoom}")
        for name in ("width_shift", "height_shift"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"{name} must be in [0, 1), got {value}")
        if self.interpolation not in _INTERPOLATIONS:
            raise ConfigError(
                f"interpolation must be one of {_INTERPOLATIONS}, got {self.interpolation!r}"
            )

    def apply(self, key: jax.Array, images: jax.Array) -> jax.Array:
        """Augment and preprocess a uint8 batch, or only preprocess it when disabled."""
        if not self.enabled:
            return preprocess(images)
        return augment(
            key,
            images,
            zoom=self.zoom,
            width_shift=self.width_shift,
            height_shift=self.height_shift,
            horizontal_flip=self.horizontal_flip is not False,
            interpolation=self.interpolation,
        )

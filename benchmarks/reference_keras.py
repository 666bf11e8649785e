"""Benchmark: one candidate loss scored the thesis's way, with Keras, one model per candidate.

The recipe as the thesis and the NGL authors wrote it: ``keras.applications.InceptionV3(
include_top=False, weights=None, pooling='max')`` behind three ``UpSampling2D`` layers
(32 -> 256; ``--input-size`` resizes instead, as jaxgp's option), the authors' head
(BatchNorm, Dense 128 relu, Dropout 0.5, BatchNorm, Dense 64 relu, Dropout 0.5, BatchNorm,
Dense C softmax), ``Adam(1e-3)``, the candidate loss lowered to ``keras.ops`` with jaxgp's
protected semantics, ``ImageDataGenerator(zoom_range=0.2, width_shift_range=0.1,
height_shift_range=0.1, horizontal_flip=True)`` on Inception-preprocessed images, and
``model.fit`` with ``ReduceLROnPlateau(monitor='val_accuracy', factor=0.2, patience=5,
min_lr=1e-4)`` on a 10% validation split. ``--model small`` is the Keras twin of jaxgp's
``small_cnn``, for CPU runs.

It runs on whatever Keras backend is installed (``--backend`` or ``KERAS_BACKEND``):
TensorFlow where it can be installed, Keras 3 on jax or torch elsewhere; every result names
its backend. Data are jaxgp's synthetic images of the chosen dataset's shape (the same
images jaxgp trains on for the same seed and sizes); training uses the full batches only
(the last incomplete batch is dropped, as jaxgp does).

Measured: the seconds to build and compile a model, the wall time of ``model.fit`` (E
epochs with validation), their sum (``evaluation_s``: what one candidate costs on one
dataset, its own trace/compile included, since every candidate is a new model), and the
steady-state training and validation images per second from epochs 2..E (the first epoch
carries the trace/compile warm-up, reported as ``warmup_s``).

    python benchmarks/reference_keras.py --smoke --json -           # seconds, on a CPU
    python benchmarks/reference_keras.py --model inception_v3 --data cifar10 \\
        --train-images 2048 --epochs 2 --backend jax --json ref.json   # the paper setting
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere, jaxgp installed or not
    sys.path.insert(0, str(ROOT))

NGL = "exp(2.4092 - y_pred * (1.0 + y_true)) - cos(cos(sin(y_pred)))"
MODELS = ("inception_v3", "small")
BACKENDS = ("tensorflow", "jax", "torch")


def git_commit() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], text=True, cwd=ROOT, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------------------
# The loss: a jaxgp tree lowered to keras.ops with jaxgp's protected semantics.
# --------------------------------------------------------------------------------------


def loss_text(name: str) -> str:
    """Tree text for `name`: 'ngl' is the NGL formula, anything else is read as a tree."""
    return NGL if name.strip().lower() == "ngl" else name


def keras_tree_loss(text: str):
    """`f(y_true, y_pred) -> [B]`: the tree's value averaged over classes, in keras.ops.

    Keras averages the per-example values over the batch, so the loss is the mean over every
    batch and class element, as in jaxgp. The protected operators are those of
    `jaxgp.expr.primitives`, in the same double-`where` form (finite gradients everywhere).
    """
    import numpy as np
    from keras import ops

    from jaxgp import parse
    from jaxgp.expr.primitives import DIV_EPS, EXP_MAX, LOG_EPS, PRIMITIVES, SQRT_EPS

    nodes = parse(text).nodes
    log_floor = float(np.log(np.float32(LOG_EPS)))
    exp_ceiling = float(np.exp(np.float32(EXP_MAX)))

    def div(a, b):
        ok = ops.abs(b) > DIV_EPS
        safe = ops.where(ok, b, 1.0)
        return ops.where(ok, a / safe, 1.0)

    def sqrt(a):
        magnitude = ops.abs(a)
        ok = magnitude > SQRT_EPS
        return ops.where(ok, ops.sqrt(ops.where(ok, magnitude, 1.0)), 0.0)

    def log(a):
        magnitude = ops.abs(a)
        ok = magnitude > LOG_EPS
        return ops.where(ok, ops.log(ops.where(ok, magnitude, LOG_EPS)), log_floor)

    def exp(a):
        ok = a < EXP_MAX
        return ops.where(ok, ops.exp(ops.where(ok, a, EXP_MAX)), exp_ceiling)

    table = {
        "+": ops.add,
        "-": ops.subtract,
        "*": ops.multiply,
        "/": div,
        "neg": ops.negative,
        "sqrt": sqrt,
        "log": log,
        "exp": exp,
        "sin": ops.sin,
        "cos": ops.cos,
    }
    assert set(table) == set(PRIMITIVES), "the Keras lowering must cover every primitive"

    def loss(y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred, "float32")
        y_true = ops.cast(y_true, "float32")
        position = 0

        def walk():
            nonlocal position
            node = nodes[position]
            position += 1
            if node == "y_pred":
                return y_pred
            if node == "y_true":
                return y_true
            if not isinstance(node, str):
                return ops.convert_to_tensor(float(node), "float32")
            operands = [walk() for _ in range(PRIMITIVES[node].arity)]
            return table[node](*operands)

        value = walk() + ops.zeros_like(y_pred)  # a constant subtree still covers [B, C]
        return ops.mean(value, axis=-1)

    return loss


def check_loss(text: str, keras_loss) -> float:
    """Largest relative difference between the Keras lowering and `jaxgp.lower` (values)."""
    import jax.numpy as jnp
    import numpy as np
    from keras import ops

    import jaxgp

    rng = np.random.default_rng(0)
    worst = 0.0
    for classes in (10, 100):
        logits = rng.normal(size=(16, classes)) * 4
        probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        probs[0, :] = 0.0  # exact zeros: the protected branches
        probs[0, 0] = 1.0
        y_true = np.eye(classes)[rng.integers(0, classes, 16)]
        probs, y_true = probs.astype(np.float32), y_true.astype(np.float32)
        ours = float(ops.convert_to_numpy(ops.mean(keras_loss(y_true, probs))))
        reference = float(jaxgp.lower(jaxgp.parse(text))(jnp.asarray(probs), jnp.asarray(y_true)))
        worst = max(worst, abs(ours - reference) / max(abs(reference), 1e-6))
    return worst


# --------------------------------------------------------------------------------------
# Models, augmentation.
# --------------------------------------------------------------------------------------


def build_model(keras, name: str, shape, classes: int, input_size: int | None):
    """The classifier: InceptionV3 + NGL head (the authors' code) or the small CNN."""
    from keras import layers

    inputs = keras.Input(shape=shape)
    if name == "small":
        x = inputs
        for i, width in enumerate((16, 32, 32)):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)(x)
            x = layers.Activation("relu")(x)
            if i < 2 and min(x.shape[1], x.shape[2]) >= 8:
                x = layers.MaxPooling2D(2)(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(0.2)(x)
        outputs = layers.Dense(classes, activation="softmax")(x)
        return keras.Model(inputs, outputs, name="small_cnn")
    if input_size is None:
        x = layers.UpSampling2D()(inputs)
        x = layers.UpSampling2D()(x)
        x = layers.UpSampling2D()(x)
        size = (8 * shape[0], 8 * shape[1], shape[2])
    else:
        x = layers.Resizing(input_size, input_size, interpolation="bilinear")(inputs)
        size = (input_size, input_size, shape[2])
    trunk = keras.applications.InceptionV3(
        include_top=False, weights=None, pooling="max", input_shape=size
    )
    x = trunk(x)
    x = layers.Flatten()(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Dense(64, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    x = layers.BatchNormalization()(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="inception_v3_ngl")


def image_data_generator():
    """The authors' ImageDataGenerator class and where it was found (Keras 2, tf.keras, 3)."""
    paths = (
        ("keras.preprocessing.image", "ImageDataGenerator"),
        ("keras._legacy.preprocessing.image", "ImageDataGenerator"),
        ("keras.src.legacy.preprocessing.image", "ImageDataGenerator"),
    )
    import importlib

    for module, attribute in paths:
        try:
            return getattr(importlib.import_module(module), attribute), f"{module}.{attribute}"
        except (ImportError, AttributeError):
            continue
    return None, None


def layer_augmented(keras, x, y, batch_size: int, seed: int):
    """Fallback when this Keras has no ImageDataGenerator: Random* layers, batch by batch.

    RandomZoom(0.2), RandomTranslation(0.1, 0.1), RandomFlip('horizontal'), all with
    'nearest' fill, applied on the host to each shuffled batch, like the generator does.
    """
    import numpy as np
    from keras import layers

    augment = keras.Sequential([
        layers.RandomZoom((-0.2, 0.2), (-0.2, 0.2), fill_mode="nearest", seed=seed),
        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed + 1),
        layers.RandomFlip("horizontal", seed=seed + 2),
    ])  # fmt: skip

    class Augmented(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(x))

        def __len__(self):
            return len(x) // batch_size

        def __getitem__(self, index):
            batch = self.order[index * batch_size : (index + 1) * batch_size]
            images = augment(x[batch], training=True)
            return keras.ops.convert_to_numpy(images), y[batch]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(x))

    return Augmented()


# --------------------------------------------------------------------------------------
# Timing.
# --------------------------------------------------------------------------------------


def make_timer(keras):
    class EpochTimer(keras.callbacks.Callback):
        """Training and validation seconds of every epoch (validation = on_test_*)."""

        def __init__(self):
            super().__init__()
            self.train_s: list[float] = []
            self.val_s: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()
            self._val_start = self._val_end = None

        def on_test_begin(self, logs=None):
            self._val_start = time.perf_counter()

        def on_test_end(self, logs=None):
            self._val_end = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            end = time.perf_counter()
            train_end = self._val_start or end
            self.train_s.append(train_end - self._start)
            self.val_s.append((self._val_end or train_end) - train_end)

    return EpochTimer()


def backend_info(keras) -> tuple[str, str]:
    """('tensorflow 2.21.0', 'cpu (x86_64)')-style names of the backend and the device."""
    name = keras.backend.backend()
    machine = platform.machine()
    if name == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        device = "cpu"
        if gpus:
            device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
        return f"tensorflow {tf.__version__}", f"{device} ({machine})"
    if name == "jax":
        import jax

        first = jax.devices()[0]
        return f"jax {jax.__version__}", f"{first.device_kind} ({jax.default_backend()}, {machine})"
    if name == "torch":
        import torch

        device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
        return f"torch {torch.__version__}", f"{device} ({machine})"
    return name, machine


# --------------------------------------------------------------------------------------
# One evaluation: build, compile, fit E epochs with validation.
# --------------------------------------------------------------------------------------

SMOKE = {"model": "small", "train_images": 160, "batch_size": 32, "epochs": 2, "candidates": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small", choices=MODELS)
    parser.add_argument(
        "--data",
        default="cifar10",
        help="synthetic images of this dataset's shape: cifar10, fashion_mnist, cifar100, "
        "digits (a 'synthetic:' prefix is accepted)",
    )
    parser.add_argument(
        "--train-images",
        type=int,
        default=2048,
        help="synthetic training images before the 90/10 train/validation split "
        "(as benchmarks/throughput.py)",
    )
    parser.add_argument("--epochs", type=int, default=2, help="at least 2: the first warms up")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--input-size", type=int, help="inception_v3: resize to this side instead of 8x"
    )
    parser.add_argument("--loss", default="ngl", help="'ngl' or a jaxgp tree text")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow if installed, else jax)",
    )
    parser.add_argument(
        "--augment",
        default="generator",
        choices=["generator", "layers", "none"],
        help="the authors' ImageDataGenerator (default), keras.layers Random*, or none",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        default=2,
        help="models trained one after another in this process; the summary numbers are the "
        "last one's (a warm process, as in a long search: its own trace/compile included)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds on a CPU (CI)")
    parser.add_argument("--json", dest="json_path", help="write the result here ('-': stdout)")
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    if args.candidates < 1:
        parser.error("--candidates must be at least 1")
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is the warm-up)")
    if args.input_size is not None and args.model != "inception_v3":
        parser.error("--input-size applies to --model inception_v3 only")
    args.data = args.data.removeprefix("synthetic:")
    return args


def choose_backend(requested: str | None) -> str:
    import importlib.util

    if requested:
        return requested
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for name in BACKENDS:
        if importlib.util.find_spec(name) is not None:
            return name
    return "jax"


def load_data(args):
    """jaxgp's synthetic splits, as floats in [-1, 1] (Inception's preprocess_input)."""
    import numpy as np

    from jaxgp.data import load_dataset

    dataset = load_dataset(
        f"synthetic:{args.data}", seed=args.seed, num_train=args.train_images, num_test=1
    )
    steps = len(dataset.train) // args.batch_size
    if steps < 1:
        raise SystemExit(f"fewer training images than one batch of {args.batch_size}")

    def floats(split, count):
        images = np.asarray(split.images[:count], np.float32) / np.float32(127.5) - 1.0
        labels = np.eye(dataset.num_classes, dtype=np.float32)[np.asarray(split.labels[:count])]
        return images, labels

    train = floats(dataset.train, steps * args.batch_size)
    val = floats(dataset.val, len(dataset.val))
    return dataset, steps, train, val


def run(args) -> dict:
    os.environ["KERAS_BACKEND"] = choose_backend(args.backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    keras.utils.set_random_seed(args.seed)
    backend, device = backend_info(keras)
    dataset, steps, (x, y), (x_val, y_val) = load_data(args)
    text = loss_text(args.loss)
    loss = keras_tree_loss(text)

    generator, where = image_data_generator() if args.augment == "generator" else (None, None)
    if args.augment == "generator" and generator is None:
        args.augment = "layers"
    if args.augment == "generator":
        augmentation = f"{where}(zoom_range=0.2, width_shift_range=0.1, "
        augmentation += "height_shift_range=0.1, horizontal_flip=True), on the host"
    elif args.augment == "layers":
        augmentation = "keras.layers RandomZoom(0.2)/RandomTranslation(0.1)/RandomFlip "
        augmentation += "on the host (no ImageDataGenerator in this Keras)"
    else:
        augmentation = "none"

    def one_candidate(number: int) -> dict:
        """Build, compile and fit a fresh model, as the thesis does for every candidate."""
        start = time.perf_counter()
        model = build_model(
            keras, args.model, tuple(dataset.image_shape), dataset.num_classes, args.input_size
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
        build_s = time.perf_counter() - start
        if args.augment == "generator":
            datagen = generator(
                zoom_range=0.2, width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True
            )
            train = {"x": datagen.flow(x, y, batch_size=args.batch_size, seed=args.seed + number)}
        elif args.augment == "layers":
            train = {"x": layer_augmented(keras, x, y, args.batch_size, args.seed + number)}
        else:
            train = {"x": x, "y": y, "batch_size": args.batch_size}
        timer = make_timer(keras)
        plateau = keras.callbacks.ReduceLROnPlateau(
            monitor="val_accuracy", factor=0.2, patience=5, min_lr=1e-4
        )
        start = time.perf_counter()
        history = model.fit(
            **train,
            epochs=args.epochs,
            steps_per_epoch=steps,
            validation_data=(x_val, y_val),
            validation_batch_size=args.batch_size,
            callbacks=[plateau, timer],
            verbose=0,
        )
        fit_s = time.perf_counter() - start
        steady_train = float(np.mean(timer.train_s[1:]))
        steady_val = float(np.mean(timer.val_s[1:]))
        return {
            "parameters": int(model.count_params()),
            "build_s": build_s,
            "fit_s": fit_s,
            "evaluation_s": build_s + fit_s,
            "train_s_per_epoch": timer.train_s,
            "val_s_per_epoch": timer.val_s,
            "images_per_s": steps * args.batch_size / steady_train,
            "val_images_per_s": len(x_val) / steady_val if steady_val > 0 else None,
            "step_ms": steady_train / steps * 1e3,
            "warmup_s": timer.train_s[0] + timer.val_s[0] - (steady_train + steady_val),
            "final_val_accuracy": float(history.history["val_accuracy"][-1]),
            "final_loss": float(history.history["loss"][-1]),
        }

    candidates = [one_candidate(number) for number in range(args.candidates)]
    last = candidates[-1]
    return {
        "tool": "reference_keras",
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "backend": backend,
        "device": device,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "command": shlex.join(["python", *sys.argv]),
        "model": args.model,
        "data": f"synthetic:{args.data}",
        "image_shape": list(dataset.image_shape),
        "num_classes": dataset.num_classes,
        "input_size": args.input_size,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "train_images": steps * args.batch_size,
        "val_images": len(x_val),
        "loss": text,
        "loss_check_rel_diff": check_loss(text, loss),
        "augmentation": augmentation,
        "candidates": len(candidates),
        **last,
        "per_candidate": candidates,
    }


def markdown(result: dict) -> str:
    return "\n".join([
        f"Keras {result['keras']} on {result['backend']}, {result['device']}, {result['date']}, "
        f"commit {result['commit']}",
        "",
        "| model | data | batch | img/s | val img/s | step ms | warm-up s | s/evaluation |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['model']} | {result['data']} {result['image_shape']} | "
        f"{result['batch_size']} | {result['images_per_s']:.1f} | "
        f"{result['val_images_per_s'] or 0:.1f} | {result['step_ms']:.1f} | "
        f"{result['warmup_s']:.1f} | {result['evaluation_s']:.1f} "
        f"({result['epochs']} epochs x {result['train_images']} images) |",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    if not math.isfinite(result["images_per_s"]):
        raise SystemExit("no steady-state epoch was timed")
    if args.json_path == "-":
        print(json.dumps(result, indent=2))
        return
    print(markdown(result))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: one candidate loss scored the thesis's way, with Keras, one model per candidate.

The recipe as the thesis and the NGL authors wrote it: ``keras.applications.InceptionV3(
include_top=False, weights=None, pooling='max')`` behind three ``UpSampling2D`` layers
(32 -> 256; ``--input-size`` resizes instead, as jaxgp's option), the authors' head
(BatchNorm, Dense 128 relu, Dropout 0.5, BatchNorm, Dense 64 relu, Dropout 0.5, BatchNorm,
Dense C softmax), ``Adam(1e-3)``, the candidate loss, ``ImageDataGenerator(zoom_range=0.2,
width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)`` on
Inception-preprocessed images, and ``model.fit`` with ``ReduceLROnPlateau(monitor=
'val_accuracy', factor=0.2, patience=5, min_lr=1e-4)`` on a 10% validation split.
``--model small`` is the Keras twin of jaxgp's ``small_cnn``, for CPU runs.

It needs only Keras 3, a backend, NumPy and SciPy (the ImageDataGenerator's transforms; the
pinned set is ``benchmarks/reference-requirements.txt``), never jaxgp (nor jax, unless jax
is the backend): it runs on whatever Keras backend is installed (``--backend`` or
``KERAS_BACKEND``), TensorFlow where it can be installed, Keras 3 on jax or torch elsewhere;
every result names its backend. What it needs from jaxgp comes as files:

- the loss (``--loss-module``): a module defining ``loss(y_true, y_pred)``, as
  ``jaxgp export LOSS --framework keras -o FILE`` writes it, its protected operators
  generated from jaxgp's own. The default is ``ngl_keras.py`` next to this file:
  the NGL loss, exported so (a test checks it is what the export writes today);
- the data (``--data-npz``): an .npz with ``train_images`` and ``val_images`` (uint8,
  [N, H, W, C]), ``train_labels`` and ``val_labels`` (integers, [N]), ``num_classes`` and
  ``source`` (a sentence on where the images come from). ``benchmarks/vs_keras/compare.py`` writes
  jaxgp's own synthetic images so, the ones jaxgp trains on. Without it the images are
  generated here with NumPy in the shape of ``--data`` (class templates plus noise, 10% held
  out for validation): a standalone run, not jaxgp's images;
- the loss check (``--loss-check``, optional): an .npz of probe inputs ``y_pred_<C>``,
  ``y_true_<C>`` and jaxgp's loss value ``loss_<C>`` on them; ``loss_check_rel_diff`` is the
  largest relative difference of this Keras loss from those values (None without it).

Training uses the full batches only (the last incomplete batch is dropped, as jaxgp does).

Measured: the seconds to build and compile a model, the wall time of ``model.fit`` (E
epochs with validation), their sum (``evaluation_s``: what one candidate costs on one
dataset, its own trace/compile included, since every candidate is a new model), and the
steady-state training and validation images per second from epochs 2..E (the first epoch
carries the trace/compile warm-up, reported as ``warmup_s``).

    python benchmarks/vs_keras/reference_keras.py --smoke --json -           # seconds, on a CPU
    python benchmarks/vs_keras/reference_keras.py --model inception_v3 --data cifar10 \\
        --train-images 2048 --epochs 2 --backend jax --json ref.json   # the paper setting
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
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

HERE = Path(__file__).resolve().parent
DEFAULT_LOSS_MODULE = HERE / "ngl_keras.py"
MODELS = ("inception_v3", "small")
BACKENDS = ("tensorflow", "jax", "torch")
#: (image shape, classes) of the datasets a standalone run generates images like.
SHAPES = {
    "cifar10": ((32, 32, 3), 10),
    "fashion_mnist": ((28, 28, 1), 10),
    "cifar100": ((32, 32, 3), 100),
    "digits": ((8, 8, 1), 10),
}


def git_commit() -> str:
    try:
        return subprocess.check_output(
            ["git", "rev-parse", "--short", "HEAD"], text=True, cwd=HERE, stderr=subprocess.DEVNULL
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# --------------------------------------------------------------------------------------
# The loss and the data, as files (or generated here for a standalone run).
# --------------------------------------------------------------------------------------


def load_loss(path: Path):
    """(loss, its expression) from a module written by `jaxgp export --framework keras`."""
    spec = importlib.util.spec_from_file_location("candidate_loss", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "loss", None)):
        raise SystemExit(f"{path} defines no function `loss(y_true, y_pred)`")
    doc = inspect.getdoc(module.loss) or ""
    return module.loss, " ".join(doc.split("\n\n")[0].split())  # its docstring starts with it


def check_loss(loss, path: Path) -> float:
    """Largest relative difference of `loss`'s batch mean from jaxgp's values in `path`."""
    import numpy as np
    from keras import ops

    probes = np.load(path)
    worst = 0.0
    for key in (k for k in probes.files if k.startswith("loss_")):
        classes = key.removeprefix("loss_")
        y_pred, y_true = probes[f"y_pred_{classes}"], probes[f"y_true_{classes}"]
        ours = float(ops.convert_to_numpy(ops.mean(loss(y_true, y_pred))))
        reference = float(probes[key])
        worst = max(worst, abs(ours - reference) / max(abs(reference), 1e-6))
    return worst


def generated_images(name: str, seed: int, count: int) -> dict:
    """Class-conditioned uint8 images in dataset `name`'s shape, 10% held out, as an .npz
    would hold them: each image is the mean of its class's random template and noise."""
    import numpy as np

    shape, classes = SHAPES[name]
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 256, size=(classes, *shape), dtype=np.uint16)
    labels = rng.integers(0, classes, size=count)
    noise = rng.integers(0, 256, size=(count, *shape), dtype=np.uint16)
    images = ((templates[labels] + noise) // 2).astype(np.uint8)
    val = max(1, round(0.1 * count))
    return {
        "train_images": images[val:],
        "train_labels": labels[val:],
        "val_images": images[:val],
        "val_labels": labels[:val],
        "num_classes": classes,
        "source": f"generated here with NumPy in {name}'s shape ({count} images, seed {seed})",
    }


def load_data(args) -> tuple[dict, int, tuple, tuple]:
    """(the arrays, steps per epoch, (x, y) train, (x, y) validation), images in [-1, 1]
    (Inception's preprocess_input) and labels one-hot."""
    import numpy as np

    if args.data_npz:
        with np.load(args.data_npz) as file:
            arrays = {key: file[key] for key in file.files}
    else:
        arrays = generated_images(args.data, args.seed, args.train_images)
    classes = int(arrays["num_classes"])
    steps = len(arrays["train_images"]) // args.batch_size
    if steps < 1:
        raise SystemExit(f"fewer training images than one batch of {args.batch_size}")

    def floats(images, labels):
        x = np.asarray(images, np.float32) / np.float32(127.5) - 1.0
        return x, np.eye(classes, dtype=np.float32)[np.asarray(labels)]

    train = floats(
        arrays["train_images"][: steps * args.batch_size],
        arrays["train_labels"][: steps * args.batch_size],
    )
    return arrays, steps, train, floats(arrays["val_images"], arrays["val_labels"])


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
    """('tensorflow 2.21.0', 'cpu (x86_64)')-style names of the backend and the device.

    The backend's own module (already imported by Keras) names the device.
    """
    name = keras.backend.backend()
    machine = platform.machine()
    if name not in BACKENDS:
        return name, machine
    backend = importlib.import_module(name)
    version = f"{name} {backend.__version__}"
    if name == "tensorflow":
        gpus = backend.config.list_physical_devices("GPU")
        device = "cpu"
        if gpus:
            details = backend.config.experimental.get_device_details(gpus[0])
            device = details.get("device_name", "GPU")
        return version, f"{device} ({machine})"
    if name == "jax":
        first = backend.devices()[0]
        return version, f"{first.device_kind} ({backend.default_backend()}, {machine})"
    cuda = backend.cuda.is_available()
    return version, f"{backend.cuda.get_device_name(0) if cuda else 'cpu'} ({machine})"


# --------------------------------------------------------------------------------------
# One evaluation: build, compile, fit E epochs with validation.
# --------------------------------------------------------------------------------------

SMOKE = {"model": "small", "train_images": 160, "batch_size": 32, "epochs": 2, "candidates": 1}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="small", choices=MODELS)
    parser.add_argument(
        "--data-npz",
        help="the images to train on, as an .npz (benchmarks/vs_keras/compare.py writes jaxgp's); "
        "without it, images are generated here in the shape of --data",
    )
    parser.add_argument(
        "--data",
        help="without --data-npz: generate images of this dataset's shape: "
        + ", ".join(SHAPES)
        + " (default cifar10; a 'synthetic:' prefix is accepted)",
    )
    parser.add_argument(
        "--train-images",
        type=int,
        default=2048,
        help="without --data-npz: images generated before the 90/10 train/validation split",
    )
    parser.add_argument("--epochs", type=int, default=2, help="at least 2: the first warms up")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--input-size", type=int, help="inception_v3: resize to this side instead of 8x"
    )
    parser.add_argument(
        "--loss-module",
        type=Path,
        default=DEFAULT_LOSS_MODULE,
        help="the loss: a module written by `jaxgp export LOSS --framework keras` "
        "(default: the NGL loss, ngl_keras.py)",
    )
    parser.add_argument(
        "--loss-check",
        type=Path,
        help="an .npz of probe inputs and jaxgp's loss values on them (compare.py writes it)",
    )
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
    if args.data_npz and args.data:
        parser.error("--data generates images; --data-npz brings them: give one")
    args.data = (args.data or "cifar10").removeprefix("synthetic:")
    if not args.data_npz and args.data not in SHAPES:
        parser.error(f"--data must be one of {', '.join(SHAPES)}, got {args.data!r}")
    return args


def choose_backend(requested: str | None) -> str:
    if requested:
        return requested
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for name in BACKENDS:
        if importlib.util.find_spec(name) is not None:
            return name
    return "jax"


def run(args) -> dict:
    """The result of `args.candidates` evaluations, each a fresh model (the last one's numbers)."""
    os.environ["KERAS_BACKEND"] = choose_backend(args.backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.augment == "generator" and importlib.util.find_spec("scipy") is None:
        sys.exit(
            "error: the authors' ImageDataGenerator needs SciPy (its zoom and shifts use "
            "scipy.ndimage): install benchmarks/reference-requirements.txt, or pass "
            "--augment layers"
        )
    import keras
    import numpy as np

    keras.utils.set_random_seed(args.seed)
    backend, device = backend_info(keras)
    arrays, steps, (x, y), (x_val, y_val) = load_data(args)
    image_shape, classes = tuple(arrays["train_images"].shape[1:]), int(arrays["num_classes"])
    loss, expression = load_loss(args.loss_module)

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
        model = build_model(keras, args.model, image_shape, classes, args.input_size)
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
        "data": str(arrays["source"]),
        "data_npz": args.data_npz,
        "image_shape": list(image_shape),
        "num_classes": classes,
        "input_size": args.input_size,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "train_images": steps * args.batch_size,
        "val_images": len(x_val),
        "loss": expression,
        "loss_module": str(args.loss_module),
        "loss_check_rel_diff": check_loss(loss, args.loss_check) if args.loss_check else None,
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

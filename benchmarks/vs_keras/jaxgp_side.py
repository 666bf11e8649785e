"""The jaxgp side of `compare.py`: measure `train_candidates`, and hand the reference its inputs.

It runs in its own process (`compare.py --worker jaxgp`, started by `run_jaxgp`), so jaxgp
and the Keras reference never share the device or a backend. Before measuring it writes
what the reference needs into one directory (`ReferenceInputs`), so the reference imports
neither jaxgp nor jax:

- per dataset, jaxgp's own train and validation images and labels (the synthetic images
  jaxgp trains on here, same seed and sizes) as an .npz;
- the loss as `jaxgp export --framework keras` writes it, whose protected operators are
  generated from jaxgp's own definitions (`jaxgp.expr.primitives.GUARDS`);
- jaxgp's value of that loss (`jaxgp.lower`) on probe inputs with 10 and 100 classes,
  exact zeros included, for the reference to check its Keras loss against.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from benchmarks.vs_keras.keras_side import ReferenceInputs
from benchmarks.vs_keras.process import run_json

if TYPE_CHECKING:
    from jaxgp.data import Dataset


def run_jaxgp(args: argparse.Namespace, inputs: ReferenceInputs) -> dict:
    """The worker's report (`measure_jaxgp`), run in a fresh process; it also writes `inputs`."""
    command = [sys.executable, "-m", "benchmarks.vs_keras.compare", "--worker", "jaxgp"]
    command += ["--reference-inputs", str(inputs.directory)]
    command += ["--model", args.model, "--data", ",".join(args.datasets), "--ks", args.ks]
    command += ["--dtype", args.dtype, "--model-strategy", args.model_strategy]
    command += ["--train-images", str(args.train_images), "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size)]
    if args.input_size is not None:
        command += ["--input-size", str(args.input_size)]
    return run_json(command)


def load_synthetic(name: str, train_images: int) -> Dataset:
    """jaxgp's synthetic images in the shape of dataset `name` (test as large as validation)."""
    from jaxgp.data import load_dataset

    num_test = max(1, round(0.1 * train_images))
    return load_dataset(f"synthetic:{name}", seed=0, num_train=train_images, num_test=num_test)


def write_data(path: Path, dataset: Dataset, source: str) -> None:
    """A dataset's train and validation splits in the reference's .npz format."""
    np.savez(
        path,
        train_images=np.asarray(dataset.train.images),
        train_labels=np.asarray(dataset.train.labels),
        val_images=np.asarray(dataset.val.images),
        val_labels=np.asarray(dataset.val.labels),
        num_classes=np.int64(dataset.num_classes),
        source=np.str_(source),
    )


def write_loss(inputs: ReferenceInputs, loss: str) -> None:
    """The loss as a Keras module, and jaxgp's values of it on probe inputs."""
    import jax.numpy as jnp

    import jaxgp
    from jaxgp.export import export_source

    tree = jaxgp.parse(loss)
    origin = "the loss benchmarks/vs_keras/compare.py measures, handed to the Keras reference"
    inputs.loss_module.write_text(export_source(tree, "keras", origin))
    rng = np.random.default_rng(0)
    probes = {}
    for classes in (10, 100):
        logits = rng.normal(size=(16, classes)) * 4
        y_pred = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        y_pred[0, :] = 0.0  # exact zeros: the protected branches
        y_pred[0, 0] = 1.0
        y_true = np.eye(classes)[rng.integers(0, classes, 16)]
        y_pred, y_true = y_pred.astype(np.float32), y_true.astype(np.float32)
        value = jaxgp.lower(tree)(jnp.asarray(y_pred), jnp.asarray(y_true))
        probes |= {f"y_pred_{classes}": y_pred, f"y_true_{classes}": y_true}
        probes[f"loss_{classes}"] = np.float32(value)
    np.savez(inputs.loss_check, **probes)


def epoch_times(marks: list[tuple[str, int, int, float]], start: float) -> tuple[list, list]:
    """Per-epoch (train, validation) seconds from train_candidates' progress marks.

    'step' marks (steps done, steps in the epoch) come from host callbacks inside the
    compiled epoch, evenly spaced; XLA may run such a callback before the work it follows
    (it only needs the step index), so the marks give the time per step as their spacing,
    not the moment training ended. Training is the steps in the epoch times that spacing;
    validation the rest of the time up to the epoch's 'epoch' mark, sent once validation is
    done. With a single step mark the training is taken to end at it.
    """
    train, val = [], []
    begin, steps = start, []
    for what, done, total, when in marks:
        if what == "step":
            steps.append((done, total, when))
        elif what == "epoch":
            elapsed = when - begin
            if len(steps) >= 2 and steps[-1][0] > steps[0][0]:
                per_step = (steps[-1][2] - steps[0][2]) / (steps[-1][0] - steps[0][0])
                seconds = per_step * steps[-1][1]
            else:
                seconds = (steps[-1][2] if steps else when) - begin
            seconds = min(seconds, elapsed)
            train.append(seconds)
            val.append(elapsed - seconds)
            begin, steps = when, []
    return train, val


def measure_jaxgp(args: argparse.Namespace, loss: str) -> dict:
    """Per dataset and K: two `train_candidates` calls of K copies of the loss.

    The first compiles (its extra time over the second is the warm-up, paid once per run,
    dataset shape and K); the second is timed per epoch from the progress marks: steady
    training and validation rates and the seconds per evaluation (its wall time / K, the
    final test evaluation included). The reference's inputs are written first, so a failed
    measurement still leaves them.
    """
    import jax

    from benchmarks.lib.provenance import device_description
    from jaxgp.compilation import count_compilations
    from jaxgp.train import DeviceDataset, TrainConfig, train_candidates

    inputs = ReferenceInputs(Path(args.reference_inputs))
    datasets = {name: load_synthetic(name, args.train_images) for name in args.datasets}
    write_loss(inputs, loss)
    for name, dataset in datasets.items():
        source = f"synthetic:{name}, jaxgp's images ({args.train_images} before the split, seed 0)"
        write_data(inputs.data(name), dataset, source)
    rows = []
    for name, dataset in datasets.items():
        data = DeviceDataset.from_dataset(dataset)
        for k in args.k_list:
            config = TrainConfig(
                model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                input_size=args.input_size, candidates_per_batch=k, compute_dtype=args.dtype,
                model_strategy=args.model_strategy,
            )  # fmt: skip
            with count_compilations() as compiled:
                start = time.perf_counter()
                train_candidates([loss] * k, data, config)
                first_s = time.perf_counter() - start
            marks: list[tuple[str, int, int, float]] = []

            def progress(what, done, total, marks=marks):
                marks.append((what, int(done), int(total), time.perf_counter()))

            with count_compilations() as again:
                start = time.perf_counter()
                report = train_candidates([loss] * k, data, config, progress=progress)
                second_s = time.perf_counter() - start
            train_s, val_s = epoch_times(marks, start)
            steady_train = sum(train_s) / len(train_s)
            steady_val = max(sum(val_s) / len(val_s), 1e-6)  # can round to 0 when tiny
            images = data.train.size // args.batch_size * args.batch_size
            row = {
                "dataset": name,
                "k": report.candidates_per_batch,
                "image_shape": list(data.image_shape),
                "num_classes": data.num_classes,
                "train_images": images,
                "val_images": data.val.size,
                "candidate_images_per_s": k * images / steady_train,
                "val_candidate_images_per_s": k * data.val.size / steady_val,
                "step_ms": steady_train / (images / args.batch_size) * 1e3,
                "compile_s": compiled.seconds,
                "compilations": compiled.count,
                "first_call_s": first_s,
                "warmup_s": first_s - second_s,
                "evaluation_s": second_s / k,
                "evaluation_compilations": again.count,
                "train_s_per_epoch": train_s,
                "val_s_per_epoch": val_s,
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    return {
        "tool": "jaxgp",
        "backend": f"jax {jax.__version__}",
        "device": device_description(),
        "dtype": args.dtype,
        "model_strategy": args.model_strategy,
        "rows": rows,
    }

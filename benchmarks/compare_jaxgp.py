"""The jaxgp side of `compare.py`: `train_candidates` measured at each K, per dataset.

It runs in its own process (`compare.py --worker jaxgp`, started by `run_jaxgp`), so jaxgp
and the Keras reference never share the device or a backend.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from compare_process import run_json

ENTRY = Path(__file__).resolve().parent / "compare.py"


def run_jaxgp(args: argparse.Namespace) -> dict:
    """The worker's report (`measure`), run in a fresh process."""
    command = [sys.executable, str(ENTRY), "--worker", "jaxgp"]
    command += ["--model", args.model, "--data", ",".join(args.datasets), "--ks", args.ks]
    command += ["--dtype", args.dtype, "--model-strategy", args.model_strategy]
    command += ["--train-images", str(args.train_images), "--epochs", str(args.epochs)]
    command += ["--batch-size", str(args.batch_size)]
    if args.input_size is not None:
        command += ["--input-size", str(args.input_size)]
    return run_json(command)


def load(name: str, train_images: int):
    """jaxgp's synthetic images in the shape of dataset `name` (test as large as validation)."""
    from jaxgp.data import load_dataset

    num_test = max(1, round(0.1 * train_images))
    return load_dataset(f"synthetic:{name}", seed=0, num_train=train_images, num_test=num_test)


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


def measure(args: argparse.Namespace, loss: str) -> dict:
    """Per dataset and K: two `train_candidates` calls of K copies of the loss.

    The first compiles (its extra time over the second is the warm-up, paid once per run,
    dataset shape and K); the second is timed per epoch from the progress marks: steady
    training and validation rates and the seconds per evaluation (its wall time / K, the
    final test evaluation included).
    """
    import jax
    from measure import device_description

    from jaxgp.compilation import count_compilations
    from jaxgp.train import DeviceDataset, TrainConfig, train_candidates

    datasets = {name: load(name, args.train_images) for name in args.datasets}
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

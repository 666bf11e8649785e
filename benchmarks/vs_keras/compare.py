"""Benchmark: jaxgp against the thesis's Keras way, on one device, with one setting, in one run.

Two subprocesses, one after the other (so the two frameworks never share the device or a
backend): a jaxgp worker (this file with ``--worker jaxgp``, `jaxgp_side.py`) and the
Keras reference (``benchmarks/vs_keras/reference_keras.py``, run with ``--keras-python``, on
``--keras-backend``, by `keras_side.py`). The worker hands the reference its inputs as
files, so the reference needs neither jaxgp nor jax: jaxgp's synthetic images of each
dataset (the same images, shapes, sizes and seed jaxgp trains on) and the loss (the NGL
tree) as the module ``jaxgp export --framework keras`` writes. Both train the same model
(``small_cnn`` / its Keras twin ``small``, or InceptionV3 with the NGL head) with the same
batch, epochs and augmentation.

Per dataset it reports, for jaxgp at each K and for Keras (one model per candidate):

- candidate-images per second of training after warm-up (jaxgp: K * images / s of epochs
  2..E; Keras: images / s of epochs 2..E) and their ratio;
- validation images per second;
- the warm-up (jaxgp: compilation of the epoch and the evaluation, once per run and shape;
  Keras: each new model's trace/compile, paid by every candidate);
- seconds per evaluation measured at this size (one candidate trained E epochs on N images
  with validation every epoch; jaxgp: a `train_candidates` call of K candidates, already
  compiled, divided by K; Keras: build + compile + `model.fit` of a fresh model);

and projects the wall time of the thesis's experiments on the real dataset sizes from
those rates (`projection.py` says how). A dataset that was not measured is
projected with the first measured dataset's rates (say
``--data cifar10,fashion_mnist,cifar100`` to measure all three shapes). The report, as JSON
and Markdown (`report.py`), is written after jaxgp's side and again at the end.

    python -m benchmarks.vs_keras.compare --smoke                      # CPU, about a minute
    python -m benchmarks.vs_keras.compare --model inception_v3 --ks 1,4,8 \\
        --train-images 2048 --keras-backend jax --json compare.json \\
        --markdown compare.md                                         # on the GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.lib.args import script_parser
from benchmarks.lib.measure import LOSS
from benchmarks.lib.provenance import ROOT, git_commit
from benchmarks.vs_keras.jaxgp_side import measure_jaxgp, run_jaxgp
from benchmarks.vs_keras.keras_side import KERAS_MODEL, ReferenceInputs, keras_available, run_keras
from benchmarks.vs_keras.projection import project
from benchmarks.vs_keras.report import comparison_rows, markdown

SMOKE = {"model": "small_cnn", "data": "cifar10", "train_images": 160, "batch_size": 32,
         "epochs": 2, "ks": "1", "keras_candidates": 1}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; --smoke replaces the sizes with `SMOKE`'s."""
    parser = script_parser(__doc__)
    parser.add_argument("--model", default="small_cnn", choices=sorted(KERAS_MODEL))
    parser.add_argument(
        "--data",
        default="cifar10",
        help="comma-separated dataset shapes to measure (synthetic images): cifar10, "
        "fashion_mnist, cifar100",
    )
    parser.add_argument(
        "--train-images",
        type=int,
        default=2048,
        help="synthetic training images before the 90/10 train/validation split",
    )
    parser.add_argument("--epochs", type=int, default=2, help="epochs per evaluation (>= 2)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--input-size", type=int, help="inception_v3: resize instead of 8x")
    parser.add_argument("--ks", default="1,4", help="jaxgp candidates per batch to measure")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--model-strategy", default="vmap", choices=["vmap", "map"])
    parser.add_argument(
        "--keras-python",
        default=sys.executable,
        help="the Python that runs the Keras reference (e.g. a virtualenv with tensorflow)",
    )
    parser.add_argument(
        "--keras-backend",
        choices=["tensorflow", "jax", "torch"],
        help="Keras backend (default: the reference's: $KERAS_BACKEND, else tensorflow if "
        "installed, else jax)",
    )
    parser.add_argument(
        "--keras-candidates",
        type=int,
        default=2,
        help="fresh Keras models trained per dataset; the last one's numbers are used",
    )
    parser.add_argument("--skip-keras", action="store_true")
    parser.add_argument("--markdown", dest="markdown_path")
    parser.add_argument("--worker", choices=["jaxgp"], help=argparse.SUPPRESS)
    parser.add_argument("--reference-inputs", help=argparse.SUPPRESS)  # the worker's
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is the warm-up)")
    args.datasets = [name.removeprefix("synthetic:") for name in args.data.split(",") if name]
    args.k_list = sorted({int(k) for k in args.ks.split(",")})
    return args


def main(argv: list[str] | None = None) -> int:
    """Measure both sides, write the report after each, print it; 1 if a side failed."""
    args = parse_args(argv)
    if args.worker == "jaxgp":
        result = measure_jaxgp(args, LOSS)
        Path(args.json_path).write_text(json.dumps(result, indent=2) + "\n")
        return 0
    load = [round(x, 2) for x in os.getloadavg()]
    commit = git_commit()  # at the start: the code the workers load
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "jaxgp", "benchmarks"],
        capture_output=True, text=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    if dirty:
        commit += " (with uncommitted changes)"
    start = time.perf_counter()

    def build_report(jaxgp: dict, keras: list[dict], complete: bool) -> dict:
        return {
            "tool": "compare",
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "commit": commit,
            "command": shlex.join(["python", *sys.argv]) if argv is None else shlex.join(argv),
            "device": (jaxgp.get("device") if "error" not in jaxgp else None) or platform.machine(),
            "load_average": load,
            "settings": {
                "model": args.model,
                "datasets": args.datasets,
                "train_images": args.train_images,
                "batch_size": args.batch_size,
                "epochs": args.epochs,
                "input_size": args.input_size,
                "ks": args.k_list,
                "loss": LOSS,
            },
            "jaxgp": jaxgp,
            "keras": keras,
            "comparison": comparison_rows(jaxgp, keras),
            "projection": project(jaxgp, keras, args.batch_size),
            "seconds": time.perf_counter() - start,
            "complete": complete,
        }

    def write(report: dict) -> str:
        text = markdown(report)
        if args.json_path and args.json_path != "-":
            Path(args.json_path).write_text(json.dumps(report, indent=2) + "\n")
        if args.markdown_path:
            Path(args.markdown_path).write_text(text + "\n")
        return text

    with tempfile.TemporaryDirectory(prefix="compare-inputs-") as directory:
        inputs = ReferenceInputs(Path(directory))
        jaxgp = run_jaxgp(args, inputs)
        if args.skip_keras:
            keras = [{"skipped": "--skip-keras"}]
        else:
            # a run cut short while Keras trains keeps jaxgp's numbers
            write(build_report(jaxgp, [{"skipped": "not reached: the run was cut short"}], False))
            reason = keras_available(args.keras_python, args.keras_backend)
            keras = [{"skipped": reason}] if reason else run_keras(args, inputs)
    report = build_report(jaxgp, keras, True)
    text = write(report)
    if args.json_path == "-":
        print(json.dumps(report, indent=2))
    else:
        print(text)
    failed = "error" in jaxgp or any("error" in r for r in keras)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

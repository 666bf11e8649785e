"""Benchmark: jaxgp against the thesis's Keras way, on one device, with one setting, in one run.

Two subprocesses, one after the other (so the two frameworks never share the device or a
backend): a jaxgp worker (this file with ``--worker jaxgp``) and the Keras reference
(``benchmarks/reference_keras.py``, run with ``--keras-python``, on ``--keras-backend``).
Both train the same synthetic images (same shapes, sizes, seed), the same model
(``small_cnn`` / its Keras twin ``small``, or InceptionV3 with the NGL head), the same loss
(the NGL tree), batch, epochs and augmentation.

Per dataset it reports, for jaxgp at each K and for Keras (one model per candidate):

- candidate-images per second of training after warm-up (jaxgp: K * images / s of epochs
  2..E; Keras: images / s of epochs 2..E) and their ratio;
- validation images per second;
- the warm-up (jaxgp: compilation of the epoch and the evaluation, once per run and shape;
  Keras: each new model's trace/compile, paid by every candidate);
- seconds per evaluation measured at this size (one candidate trained E epochs on N images
  with validation every epoch; jaxgp: a `train_candidates` call of K candidates, already
  compiled, divided by K; Keras: build + compile + `model.fit` of a fresh model);

and projects the wall time of the thesis's experiments (Table 4.1 scales; Table 4.4 times)
on the real dataset sizes (CIFAR-10 45,000 train / 5,000 validation images, Fashion-MNIST
54,000 / 6,000, CIFAR-100 45,000 / 5,000) from those rates:

- an evaluation trains a candidate on the three datasets for E epochs (6 small, 10 large)
  and validates it after every epoch; test sets are not counted;
- sample tournament: CE baselines (3 trainings) + P + T*N evaluations (small: 8 + 4*3 = 20);
  NGL: CE + P + T*P (8 + 4*8 = 40); compare (Algorithm 2): CE + P (shared) + T*N + T*P;
- Keras: candidates one after another, each paying its build and warm-up;
- jaxgp: each group (the CE baseline, the initial population, one generation's children) is
  trained in chunks of K, with the measured K that costs least for that group (padding
  counted), plus one compilation per dataset and K used.

A dataset that was not measured is projected with the first measured dataset's rates (say
``--data cifar10,fashion_mnist,cifar100`` to measure all three shapes).

    python benchmarks/compare.py --smoke                                # CPU, about a minute
    python benchmarks/compare.py --model inception_v3 --ks 1,4,8 --train-images 2048 \\
        --keras-backend jax --json compare.json --markdown compare.md   # on the GPU machine
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
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(HERE), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

from measure import LOSS, device_description, git_commit  # noqa: E402

#: Table 4.4 of the thesis: seconds on an RTX A2000 12 GB, TensorFlow 2.6, Windows.
THESIS_SECONDS = {
    ("small", "sample_tournament"): 62_363.94,
    ("small", "ngl"): 173_286.98,
    ("large", "sample_tournament"): 426_915.20,
    ("large", "ngl"): 1_013_738.83,
}
#: Table 4.1: population P, generations T, training epochs E.
SCALES = {
    "small": {"population": 8, "generations": 4, "epochs": 6},
    "large": {"population": 8, "generations": 12, "epochs": 10},
}
#: N = G / 2 with G = 3P/4: the children of one sample-tournament generation.
TOURNAMENT_CHILDREN = 3
#: (train, validation) images of the real datasets after the 90/10 split.
REAL_SIZES = {
    "cifar10": (45_000, 5_000),
    "fashion_mnist": (54_000, 6_000),
    "cifar100": (45_000, 5_000),
}
KERAS_MODEL = {"small_cnn": "small", "inception_v3": "inception_v3"}
SMOKE = {"model": "small_cnn", "data": "cifar10", "train_images": 160, "batch_size": 32,
         "epochs": 2, "ks": "1", "keras_candidates": 1}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, CPU, about a minute")
    parser.add_argument("--json", dest="json_path", help="write the report here ('-': stdout)")
    parser.add_argument("--markdown", dest="markdown_path")
    parser.add_argument("--worker", choices=["jaxgp"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        for name, value in SMOKE.items():
            setattr(args, name, value)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is the warm-up)")
    args.datasets = [name.removeprefix("synthetic:") for name in args.data.split(",") if name]
    args.k_list = sorted({int(k) for k in args.ks.split(",")})
    return args


# --------------------------------------------------------------------------------------
# The jaxgp side (runs in its own process).
# --------------------------------------------------------------------------------------


def _epoch_times(marks: list[tuple[str, int, int, float]], start: float) -> tuple[list, list]:
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


def jaxgp_worker(args: argparse.Namespace) -> dict:
    """Per dataset and K: two `train_candidates` calls of K copies of the loss.

    The first compiles (its extra time over the second is the warm-up, paid once per run,
    dataset shape and K); the second is timed per epoch from the progress marks: steady
    training and validation rates and the seconds per evaluation (its wall time / K, the
    final test evaluation included).
    """
    import jax

    from jaxgp.compilation import count_compilations
    from jaxgp.data import load_dataset
    from jaxgp.train import DeviceDataset, TrainConfig, train_candidates

    rows = []
    for name in args.datasets:
        dataset = load_dataset(
            f"synthetic:{name}",
            seed=0,
            num_train=args.train_images,
            num_test=max(1, round(0.1 * args.train_images)),  # as large as validation
        )
        data = DeviceDataset.from_dataset(dataset)
        for k in args.k_list:
            config = TrainConfig(
                model=args.model, epochs=args.epochs, batch_size=args.batch_size,
                input_size=args.input_size, candidates_per_batch=k, compute_dtype=args.dtype,
                model_strategy=args.model_strategy,
            )  # fmt: skip
            with count_compilations() as compiled:
                start = time.perf_counter()
                train_candidates([LOSS] * k, data, config)
                first_s = time.perf_counter() - start
            marks: list[tuple[str, int, int, float]] = []

            def progress(what, done, total, marks=marks):
                marks.append((what, int(done), int(total), time.perf_counter()))

            with count_compilations() as again:
                start = time.perf_counter()
                report = train_candidates([LOSS] * k, data, config, progress=progress)
                second_s = time.perf_counter() - start
            train_s, val_s = _epoch_times(marks, start)
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


# --------------------------------------------------------------------------------------
# Running the two sides.
# --------------------------------------------------------------------------------------


def common_flags(args: argparse.Namespace) -> list[str]:
    flags = ["--train-images", str(args.train_images), "--epochs", str(args.epochs)]
    flags += ["--batch-size", str(args.batch_size)]
    if args.input_size is not None:
        flags += ["--input-size", str(args.input_size)]
    return flags


def run_json(command: list[str], env: dict | None = None) -> dict:
    """Run `command` with `--json FILE` appended; its JSON, or {'error': stderr tail}.

    The child's stderr (progress lines) is passed on to ours as it comes.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        process = subprocess.Popen(
            [*command, "--json", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        tail: list[str] = []
        for line in process.stderr:
            sys.stderr.write(line)
            tail = (tail + [line])[-40:]
        process.wait()
        if process.returncode != 0 or not out.exists():
            return {"error": f"exit {process.returncode}: {''.join(tail)[-3000:]}"}
        return json.loads(out.read_text())


def run_jaxgp(args: argparse.Namespace) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "jaxgp"]
    command += ["--model", args.model, "--data", ",".join(args.datasets), "--ks", args.ks]
    command += ["--dtype", args.dtype, "--model-strategy", args.model_strategy]
    return run_json(command + common_flags(args))


def keras_available(python: str, backend: str | None) -> str | None:
    """None if the Keras reference can run, else the reason it cannot."""
    env = dict(os.environ)
    if backend:
        env["KERAS_BACKEND"] = backend
    elif "KERAS_BACKEND" not in env:
        probe = "import importlib.util as u; print(bool(u.find_spec('tensorflow')))"
        has_tf = subprocess.run([python, "-c", probe], capture_output=True, text=True)
        env["KERAS_BACKEND"] = "tensorflow" if has_tf.stdout.strip() == "True" else "jax"
    process = subprocess.run(
        [python, "-c", "import keras; print(keras.backend.backend())"],
        capture_output=True,
        text=True,
        env=env,
    )
    if process.returncode != 0:
        last = (process.stderr.strip().splitlines() or ["?"])[-1]
        return f"keras on {env['KERAS_BACKEND']} is not importable by {python}: {last}"
    return None


def run_keras(args: argparse.Namespace) -> list[dict]:
    command = [args.keras_python, str(HERE / "reference_keras.py")]
    command += ["--model", KERAS_MODEL[args.model], "--loss", LOSS]
    command += ["--candidates", str(args.keras_candidates)]
    if args.keras_backend:
        command += ["--backend", args.keras_backend]
    if args.smoke:
        command += ["--smoke"]
    results = []
    for name in args.datasets:
        result = run_json(command + ["--data", name] + common_flags(args))
        result["dataset"] = name
        results.append(result)
    return results


# --------------------------------------------------------------------------------------
# Projection of the thesis's experiments.
# --------------------------------------------------------------------------------------


def groups(scale: str, experiment: str) -> list[int]:
    """Sizes of the groups of candidates trained together: CE, initial, generations."""
    p, t = SCALES[scale]["population"], SCALES[scale]["generations"]
    children = {
        "sample_tournament": [TOURNAMENT_CHILDREN] * t,
        "ngl": [p] * t,
        "compare": [TOURNAMENT_CHILDREN] * t + [p] * t,
    }[experiment]
    return [1, p, *children]


def _rates(rows: list[dict], dataset: str) -> tuple[list[dict], bool]:
    """The measured rows for `dataset`, or the first measured dataset's (assumed=True)."""
    own = [r for r in rows if r["dataset"] == dataset]
    if own:
        return own, False
    first = rows[0]["dataset"]
    return [r for r in rows if r["dataset"] == first], True


def keras_candidate_s(result: dict, dataset: str, epochs: int, batch_size: int) -> float:
    """Seconds for one fresh Keras model trained on the real `dataset` for `epochs`."""
    train, val = REAL_SIZES[dataset]
    images = train // batch_size * batch_size
    val_rate = result["val_images_per_s"] or result["images_per_s"]
    steady = epochs * (images / result["images_per_s"] + val / val_rate)
    return result["build_s"] + max(result["warmup_s"], 0.0) + steady


def jaxgp_group_s(rows: list[dict], dataset: str, n: int, epochs: int, batch_size: int):
    """(seconds, K) for n candidates on the real `dataset`: the cheapest measured K."""
    train, val = REAL_SIZES[dataset]
    images = train // batch_size * batch_size
    best = None
    for row in rows:
        k = row["k"]
        chunk = epochs * (
            k * images / row["candidate_images_per_s"] + k * val / row["val_candidate_images_per_s"]
        )
        cost = math.ceil(n / k) * chunk
        if best is None or cost < best[0]:
            best = (cost, k)
    return best


def project(jaxgp: dict | None, keras: list[dict], batch_size: int) -> list[dict]:
    rows = []
    keras_ok = [r for r in keras if "error" not in r and "skipped" not in r]
    for scale, setting in SCALES.items():
        epochs = setting["epochs"]
        for experiment in ("sample_tournament", "ngl", "compare"):
            sizes = groups(scale, experiment)
            row = {
                "scale": scale,
                "experiment": experiment,
                "epochs": epochs,
                "evaluations": sum(sizes[1:]),
                "trainings": 3 * sum(sizes),
                "assumed_shapes": [],
            }
            if experiment == "compare":
                thesis = sum(THESIS_SECONDS[(scale, e)] for e in ("sample_tournament", "ngl"))
            else:
                thesis = THESIS_SECONDS[(scale, experiment)]
            row["thesis_s"] = thesis
            if keras_ok:
                total = 0.0
                for dataset in REAL_SIZES:
                    own = [r for r in keras_ok if r["dataset"] == dataset]
                    result = own[0] if own else keras_ok[0]
                    if not own:
                        row["assumed_shapes"].append(f"keras {dataset}<-{result['dataset']}")
                    total += sum(sizes) * keras_candidate_s(result, dataset, epochs, batch_size)
                row["keras_s"] = total
            if jaxgp and "error" not in jaxgp and jaxgp["rows"]:
                total, ks_used = 0.0, {}
                for dataset in REAL_SIZES:
                    measured, assumed = _rates(jaxgp["rows"], dataset)
                    if assumed:
                        row["assumed_shapes"].append(f"jaxgp {dataset}<-{measured[0]['dataset']}")
                    for n in sizes:
                        seconds, k = jaxgp_group_s(measured, dataset, n, epochs, batch_size)
                        total += seconds
                        ks_used.setdefault(dataset, set()).add(k)
                    for k in ks_used[dataset]:  # one compilation per dataset and K per run
                        total += next(r for r in measured if r["k"] == k)["warmup_s"]
                row["jaxgp_s"] = total
                row["jaxgp_ks"] = sorted({k for ks in ks_used.values() for k in ks})
            if "keras_s" in row and "jaxgp_s" in row:
                row["speedup"] = row["keras_s"] / row["jaxgp_s"]
            rows.append(row)
    return rows


# --------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------


def comparison_rows(jaxgp: dict | None, keras: list[dict]) -> list[dict]:
    rows = []
    for result in keras:
        if "error" in result or "skipped" in result:
            continue
        rows.append({
            "implementation": "keras (one model per candidate)",
            "backend": result["backend"],
            "dataset": result["dataset"],
            "k": 1,
            "candidate_images_per_s": result["images_per_s"],
            "val_candidate_images_per_s": result["val_images_per_s"],
            "step_ms": result["step_ms"],
            "warmup_s": result["build_s"] + result["warmup_s"],
            "warmup_paid": "per candidate",
            "evaluation_s": result["evaluation_s"],
        })  # fmt: skip
    if jaxgp and "error" not in jaxgp:
        for row in jaxgp["rows"]:
            rows.append({
                "implementation": f"jaxgp K={row['k']}",
                "backend": jaxgp["backend"],
                "dataset": row["dataset"],
                "k": row["k"],
                "candidate_images_per_s": row["candidate_images_per_s"],
                "val_candidate_images_per_s": row["val_candidate_images_per_s"],
                "step_ms": row["step_ms"],
                "warmup_s": row["warmup_s"],
                "warmup_paid": "once per run",
                "evaluation_s": row["evaluation_s"],
            })  # fmt: skip
    for row in rows:
        reference = next(
            (
                r
                for r in rows
                if r["dataset"] == row["dataset"] and r["implementation"].startswith("keras")
            ),
            None,
        )
        if reference:
            row["vs_keras"] = row["candidate_images_per_s"] / reference["candidate_images_per_s"]
            row["evaluation_vs_keras"] = reference["evaluation_s"] / row["evaluation_s"]
    return rows


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:,.0f} s ({seconds / 3600:,.1f} h)"


def markdown(report: dict) -> str:
    s = report["settings"]
    lines = [
        f"## {s['model']}, {s['train_images']} synthetic images ({', '.join(s['datasets'])}), "
        f"batch {s['batch_size']}, {s['epochs']} epochs"
        + (f", input {s['input_size']}" if s["input_size"] else ""),
        "",
        f"Device: {report['device']}. Date {report['date']}, commit {report['commit']}, "
        f"load average at start {report['load_average']}.",
        f"Command: `{report['command']}`",
        "",
    ]
    keras = report["keras"]
    for result in keras:
        if "error" in result:
            lines.append(f"Keras reference on {result['dataset']} FAILED: {result['error'][-500:]}")
        elif "skipped" in result:
            lines.append(f"Keras reference skipped: {result['skipped']}")
        else:
            lines.append(
                f"Keras {result['keras']} on {result['backend']} ({result['device']}); "
                f"augmentation: {result['augmentation']}; loss check vs jaxgp: relative "
                f"difference {result['loss_check_rel_diff']:.1e}."
            )
    jaxgp = report["jaxgp"]
    if jaxgp and "error" in jaxgp:
        lines.append(f"jaxgp FAILED: {jaxgp['error'][-500:]}")
    elif jaxgp:
        lines.append(
            f"jaxgp on {jaxgp['backend']} ({jaxgp['device']}), {jaxgp['dtype']}, "
            f"model strategy {jaxgp['model_strategy']}."
        )
    lines += [
        "",
        "| dataset | implementation | cand-img/s | vs Keras | val img/s | step ms | warm-up s "
        "(paid) | s/evaluation | eval vs Keras |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["comparison"]:
        lines.append(
            f"| {row['dataset']} | {row['implementation']} | "
            f"{row['candidate_images_per_s']:.1f} | {_ratio(row.get('vs_keras'))} | "
            f"{row['val_candidate_images_per_s']:.1f} | {row['step_ms']:.1f} | "
            f"{row['warmup_s']:.1f} ({row['warmup_paid']}) | {row['evaluation_s']:.2f} | "
            f"{_ratio(row.get('evaluation_vs_keras'))} |"
        )
    lines += [
        "",
        "Projected wall time of the thesis's experiments on the real dataset sizes, from the "
        "rates above (thesis: RTX A2000, TensorFlow 2.6, InceptionV3 at 256x256):",
        "",
        "| scale | experiment | evaluations | thesis | Keras here | jaxgp here (K) | Keras/jaxgp |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report["projection"]:
        ks = ",".join(str(k) for k in row.get("jaxgp_ks", [])) or "-"
        speedup = f"{row['speedup']:.2f}x" if "speedup" in row else "-"
        lines.append(
            f"| {row['scale']} | {row['experiment']} | {row['evaluations']} | "
            f"{_hours(row['thesis_s'])} | {_hours(row.get('keras_s'))} | "
            f"{_hours(row.get('jaxgp_s'))} ({ks}) | {speedup} |"
        )
    assumed = sorted({a for row in report["projection"] for a in row["assumed_shapes"]})
    if assumed:
        lines += ["", "Projected with another dataset's measured rates: " + ", ".join(assumed)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker == "jaxgp":
        result = jaxgp_worker(args)
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

    jaxgp = run_jaxgp(args)
    if args.skip_keras:
        keras = [{"skipped": "--skip-keras"}]
    else:
        # a run cut short while Keras trains keeps jaxgp's numbers
        write(build_report(jaxgp, [{"skipped": "not reached: the run was cut short"}], False))
        reason = keras_available(args.keras_python, args.keras_backend)
        keras = [{"skipped": reason}] if reason else run_keras(args)
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

"""Benchmark: a training step op by op, jaxgp's against the Keras/TensorFlow reference's.

Traces `--steps` steps of each side on the same shapes (one fixed batch, K = 1) and sums the
ops' own time (an event's duration less the events nested in it on the same thread) per step
by what the op does:

- jaxgp: `jax.profiler` around the trainer's compiled host step; each XLA thunk is named
  after its HLO instruction, whose JAX name stack (`jvp(SmallCNN)/conv_1/...`, a
  `transpose(...)` for the backward pass) and fused computation (a `convolution`, a `dot`)
  say what it is;
- the reference: `vs_keras/op_profile_keras.py` in `--keras-python` under TensorFlow's
  profiler; each TensorFlow op event is `scope/...:OpType` (Conv2DBackpropFilter,
  FusedBatchNormV3, ...).

Both profilers write the same XSpace format, read here with `jax.profiler.ProfileData`.
The per-category sums are thread time: ops on two threads at once both count, so a column
can add up to more than the step's wall time; the unprofiled step time is given beside it.

    python -m benchmarks.micro.op_profile --model small_cnn --data synthetic:cifar10 \\
        --keras-python /opt/tfvenv/bin/python
    python -m benchmarks.micro.op_profile --smoke          # seconds, jaxgp side only (CI)
"""

from __future__ import annotations

import collections
import glob
import json
import math
import os
import re
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import jax
import numpy as np

from benchmarks.lib.args import add_training_shape, script_parser
from benchmarks.lib.measure import benchmark_candidates
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset, train_batch_indices
from jaxgp.policy import default_conv, default_max_pool
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.step import build_functions

KERAS_SIDE = Path(__file__).resolve().parents[1] / "vs_keras"
"""Where op_profile_keras.py and the reference it builds its model from live."""

CATEGORIES = (
    "convolution forward",
    "convolution input gradient",
    "convolution filter gradient",
    "layout transposes and copies",
    "batch norm",
    "pooling",
    "activations (ReLU) and their gradients",
    "dense, softmax, loss",
    "optimiser (and jaxgp's finite checks)",
    "data, augmentation, dropout, RNG",
    "runtime (executor, dispatch)",
    "other",
)

_INSTRUCTION = re.compile(
    r"^\s*(?:ROOT )?%?(?P<name>[\w.\-]+) = (?P<shape>\S+?)(?:\{[^}]*\})? (?P<op>[\w\-]+)\("
    r"(?P<rest>.*)$"
)  # fmt: skip
_COMPUTATION = re.compile(r"^(?:ENTRY )?%?(?P<name>[\w.\-]+) .*\{$")


def hlo_instructions(text: str) -> dict[str, dict]:
    """Each instruction of a compiled module's text: its shape, opcode, JAX op name, the
    opcodes of the computation it calls (a fusion's body) and the convolution in it, if any
    (with its window and output dimension labels)."""
    bodies: dict[str, set[str]] = collections.defaultdict(set)
    convolutions: dict[str, dict] = {}
    found: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        head = _COMPUTATION.match(line)
        if head and "=" not in line.split("{")[0]:
            current = head.group("name")
            continue
        match = _INSTRUCTION.match(line)
        if not match:
            continue
        bodies[current].add(match.group("op"))
        rest = match.group("rest")
        op_name = re.search(r'op_name="([^"]*)"', rest)
        calls = re.search(r"calls=%?([\w.\-]+)", rest)
        found[match.group("name")] = {
            "shape": match.group("shape"),
            "op": match.group("op"),
            "op_name": op_name.group(1) if op_name else "",
            "calls": calls.group(1) if calls else None,
        }
        if match.group("op") == "convolution":
            window = re.search(r"window=\{size=([\dx]+)", rest)
            labels = re.search(r"dim_labels=\w+->(\w+)", rest)
            found[match.group("name")] |= {
                "window": tuple(int(n) for n in window.group(1).split("x")) if window else (1,),
                "out_labels": labels.group(1) if labels else None,
            }
            convolutions[current] = found[match.group("name")]
    for record in found.values():
        record["body"] = bodies.get(record["calls"], set()) if record["calls"] else set()
        record["convolution"] = (
            record if record["op"] == "convolution" else convolutions.get(record["calls"])
        )
    return found


def _dims(shape: str) -> tuple[int, ...]:
    inside = re.search(r"\[([\d,]*)\]", shape)
    return tuple(int(n) for n in inside.group(1).split(",") if n) if inside else ()


def _is_filter_gradient(record: dict, batch: int) -> bool:
    """For JAX's own convolution transposes: a filter gradient slides the output gradient (a
    window larger than its output, the kernel); an input gradient slides the kernel."""
    conv = record.get("convolution") or {}
    labels, dims = conv.get("out_labels"), _dims(conv.get("shape", record["shape"]))
    if labels and len(labels) == len(dims):
        spatial = math.prod(dims[i] for i, label in enumerate(labels) if label.isdigit())
        window = math.prod(conv["window"])
        if window != spatial:
            return window > spatial
    return _dims(record["shape"])[:1] != (batch,)


def xla_category(record: dict | None, batch: int) -> str:
    """What a jaxgp thunk does, from its HLO instruction (see the module doc)."""
    if record is None:
        return "other"
    op, body, name = record["op"], record["body"] | {record["op"]}, record["op_name"]
    backward = "transpose(jvp(" in name and "transpose(jvp())" not in name
    if "convolution" in body:
        if not backward:
            return "convolution forward"
        if "input_gradient" in name or "filter_gradient" in name:  # jaxgp.models.conv's
            return f"convolution {'input' if 'input_gradient' in name else 'filter'} gradient"
        return f"convolution {'filter' if _is_filter_gradient(record, batch) else 'input'} gradient"
    if "input_gradient" in name or "filter_gradient" in name:
        return "layout transposes and copies"  # the canonical convolution's flips, transposes
    if re.search(r"/bn(_\d+)?/|BatchNorm", name):
        return "batch norm"
    if (
        re.search(r"reduce_window|select_and_scatter|max_pool|avg_pool|/max$", name)
        or op in ("reduce-window", "select-and-scatter")
        or re.search(r"\((SmallCNN|InceptionV3\w*|NGLClassifier)\)\)?/select_n$", name)
    ):
        return "pooling"
    if "relu" in name:
        return "activations (ReLU) and their gradients"
    if re.search(r"logits|/dense|head/|/exp$|/div$|log_softmax|jvp\(\)|jvp\(jit\(take", name):
        return "dense, softmax, loss"
    if op in ("transpose", "copy") or name.endswith("/transpose"):
        return "layout transposes and copies"
    if name.startswith("jit(host_step)/vmap()") or "clip" in name:
        return "optimiser (and jaxgp's finite checks)"
    if re.search(r"threefry|_uniform|_bernoulli|dropout|sample_affine|gather|_take|random", name):
        return "data, augmentation, dropout, RNG"
    return "other"


def tf_category(name: str) -> str:
    """What a TensorFlow op event (`scope/...:OpType`) does."""
    scope, _, kind = name.rpartition(":")
    if "Conv2DBackpropInput" in kind or "Conv2DBackpropInput" in scope:
        return "convolution input gradient"
    if "Conv2DBackpropFilter" in kind or "Conv2DBackpropFilter" in scope:
        return "convolution filter gradient"
    if "Conv2D" in kind:
        return "convolution forward"
    if re.search(r"Transpose|Copy|Reshape", kind):
        return "layout transposes and copies"
    if "batch_normalization" in scope or "FusedBatchNorm" in kind:
        return "batch norm"
    if re.search(r"Pool", kind) or "pooling" in scope:
        return "pooling"
    if re.search(r"Relu", kind) or "/activation" in scope:
        return "activations (ReLU) and their gradients"
    if re.search(r"adam|ResourceApply|AssignVariable|AssignSub|AssignAdd", scope + kind, re.I):
        return "optimiser (and jaxgp's finite checks)"
    if re.search(r"dense|softmax|loss|MatMul|BiasAdd", scope + kind, re.I):
        return "dense, softmax, loss"
    if re.search(r"dropout|Random", scope + kind, re.I):
        return "data, augmentation, dropout, RNG"
    return "other"


def own_spans(spans: list[tuple[int, int, str]]) -> list[tuple[str, float]]:
    """(name, own time) of each (start, end, name) span of one thread: its duration less
    that of the spans directly nested in it."""
    spans = sorted(spans, key=lambda span: (span[0], -span[1]))
    events, stack = [], []
    for start, end, name in spans:
        while stack and stack[-1][1] <= start:
            events.append((stack[-1][2], stack.pop()[3]))
        if stack:
            stack[-1][3] -= min(end, stack[-1][1]) - start
        stack.append([start, end, name, end - start])
    return events + [(entry[2], entry[3]) for entry in reversed(stack)]


def own_times(path: str, keep) -> list[tuple[str, float]]:
    """`own_spans` of every line `keep(plane name, line name)` accepts in an XSpace file."""
    from jax.profiler import ProfileData

    events = []
    for plane in ProfileData.from_file(path).planes:
        for line in plane.lines:
            if keep(plane.name, line.name):
                events += own_spans(
                    [(e.start_ns, e.start_ns + e.duration_ns, e.name) for e in line.events]
                )
    return events


def _xplane(logdir: str) -> str:
    found = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    if not found:
        raise SystemExit(f"error: no profile was written under {logdir}")
    return found[-1]


def _ms_per_step(totals: collections.Counter, steps: int) -> dict[str, float]:
    return {name: totals[name] / steps / 1e6 for name in CATEGORIES if totals[name]}


def profile_jaxgp(data: DeviceDataset, config: TrainConfig, steps: int, logdir: str) -> dict:
    """The trainer's compiled host step, `steps` times on one batch, traced."""
    functions = build_functions(data.num_classes, data.image_shape, config)
    losses, keys, state = benchmark_candidates(functions, config, 1, data.num_classes)
    indices = np.asarray(train_batch_indices(0, 0, data.train.size, config.batch_size))
    arguments = (losses, data.train, keys, indices)
    compiled = functions.step_program.lower(state, *arguments, np.int32(0)).compile()
    instructions = hlo_instructions(compiled.as_text())

    def run(state, count):
        for _ in range(count):
            state, metrics = compiled(state, *arguments, np.int32(0))
        jax.block_until_ready(metrics)
        return state

    state = run(state, 3)
    start = time.perf_counter()
    state = run(state, steps)
    step_ms = (time.perf_counter() - start) / steps * 1e3
    jax.profiler.start_trace(logdir)
    state = run(state, steps)
    jax.profiler.stop_trace()
    totals, unknown = collections.Counter(), collections.Counter()
    for name, ns in own_times(_xplane(logdir), lambda plane, line: "XLA" in line):
        if "wait for completion" in name:
            continue
        if name.startswith("ThunkExecutor") or name.startswith("CommonPjRt"):
            totals["runtime (executor, dispatch)"] += ns
            continue
        category = xla_category(instructions.get(name), config.batch_size)
        totals[category] += ns
        if category == "other":
            unknown[name] += ns
    return {
        "step_ms": step_ms,
        "ms_per_step": _ms_per_step(totals, steps),
        "largest_other": {k: v / steps / 1e6 for k, v in unknown.most_common(8)},
    }


def profile_keras(args, image_shape: tuple, classes: int, logdir: str) -> dict:
    """The reference's step in `--keras-python`, traced by TensorFlow's profiler."""
    shape = "x".join(str(n) for n in image_shape)
    model = {"small_cnn": "small", "inception_v3": "inception_v3"}[args.model]
    command = [
        args.keras_python, str(KERAS_SIDE / "op_profile_keras.py"), "--model", model,
        "--shape", shape, "--classes", str(classes), "--batch-size", str(args.batch_size),
        "--steps", str(args.steps), "--logdir", logdir,
    ]  # fmt: skip
    if args.input_size:
        command += ["--input-size", str(args.input_size)]
    environment = dict(os.environ, KERAS_BACKEND="tensorflow", PYTHONPATH=str(KERAS_SIDE))
    process = subprocess.run(command, capture_output=True, text=True, env=environment)
    if process.returncode != 0:
        tail = (process.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit(f"error: the Keras side failed: {tail}")
    info = json.loads(process.stdout.strip().splitlines()[-1])
    totals, unknown = collections.Counter(), collections.Counter()
    for name, ns in own_times(_xplane(logdir), lambda plane, line: line.startswith("tf_Compute")):
        if ":" not in name or "::" in name or name.startswith("Executor"):
            totals["runtime (executor, dispatch)"] += ns
            continue
        category = tf_category(name)
        totals[category] += ns
        if category == "other":
            unknown[name.rpartition(":")[2]] += ns
    return info | {
        "ms_per_step": _ms_per_step(totals, args.steps),
        "largest_other": {k: v / args.steps / 1e6 for k, v in unknown.most_common(8)},
    }


def markdown(report: dict) -> str:
    sides = [side for side in ("jaxgp", "keras") if side in report]
    lines = [
        f"{report['model']} on {report['data']} {report['image_shape']}"
        + (f" at {report['input_size']}" if report.get("input_size") else "")
        + f", batch {report['batch_size']}, {report['steps']} traced steps, "
        f"{report['device']}, {report['date']}, commit {report['commit']}",
        "",
        "| op category (own thread time, ms/step) | " + " | ".join(sides) + " |",
        "|---|" + "---|" * len(sides),
    ]
    for name in CATEGORIES:
        values = [report[side]["ms_per_step"].get(name, 0.0) for side in sides]
        if any(values):
            lines.append(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    sums = [sum(report[side]["ms_per_step"].values()) for side in sides]
    lines.append("| sum of the above | " + " | ".join(f"{v:.2f}" for v in sums) + " |")
    steps = [report[side]["step_ms"] for side in sides]
    lines.append("| step, unprofiled wall ms | " + " | ".join(f"{v:.2f}" for v in steps) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = script_parser(__doc__)
    add_training_shape(parser, train_images=None)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--conv", choices=["xla", "canonical"], help="default: the backend's")
    parser.add_argument("--max-pool", choices=["window", "slices"], help="default: the backend's")
    parser.add_argument("--keras-python", help="a Python with TensorFlow and Keras 3")
    args = parser.parse_args()
    if args.smoke:
        args.data, args.batch_size, args.steps = "synthetic:16x16x3:10", 32, 2
        args.keras_python = None
    if args.steps < 1 or args.batch_size < 1:
        parser.error("--steps and --batch-size must be at least 1")
    sizes = {"num_train": 4 * args.batch_size, "num_test": 32}
    dataset = load_dataset(
        args.data, seed=0, **(sizes if args.data.startswith("synthetic") else {})
    )
    data = DeviceDataset.from_dataset(dataset)
    config = TrainConfig(
        model=args.model, batch_size=args.batch_size, input_size=args.input_size,
        candidates_per_batch=1, epoch_loop="host", conv=args.conv, max_pool=args.max_pool,
    )  # fmt: skip
    report = {
        "model": args.model,
        "data": args.data,
        "image_shape": list(data.image_shape),
        "input_size": args.input_size,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "device": device_description(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "load_average": os.getloadavg()[0],
        "conv": config.conv or default_conv(),
        "max_pool": config.max_pool or default_max_pool(),
    }
    with tempfile.TemporaryDirectory() as logdir:
        report["jaxgp"] = profile_jaxgp(data, config, args.steps, os.path.join(logdir, "jax"))
        if args.keras_python:
            report["keras"] = profile_keras(
                args, data.image_shape, data.num_classes, os.path.join(logdir, "tf")
            )
    write_json(args.json_path, report)
    print(markdown(report))


if __name__ == "__main__":
    main()

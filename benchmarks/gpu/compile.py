"""jaxgp's training programs compiled for a GPU on a machine without one: compile-only facts.

    python benchmarks/gpu_compile.py --install     # once: the CUDA compile plugin, .gpu-compile/
    python benchmarks/gpu_compile.py --target h200 --model inception_v3 --data 32x32x3:10 \\
        --ks 1,2,4,8 --dtypes bfloat16,float32 --strategies vmap,map --loops host,scan \\
        --json gpu_compile.json --markdown gpu_compile.md

Each case is the trainer's own program (`build_functions`, progress off): the host loop's
step or the scanned epoch, for K candidates, a dtype and a model strategy, its arguments
those training passes (`abstract_epoch_arguments`) placed on the target's compile-only
device (`target.py`). Each case compiles in a process of its own (a crash or a time-out
costs only that case, recorded with its one-line error), and both files are rewritten after
every case. K = 1 is the same program under either strategy (`over_candidates` does not
wrap one candidate), so it is compiled once, as `-`.

Reported per case: seconds to trace and lower, and to compile (on this machine, for the
target); XLA's memory analysis (arguments, outputs, temporaries, aliased, code) and the
footprint (arguments + outputs + temporaries - aliased, as the auto-K probe reads it); the
CPU client's cost analysis of the lowered program (the plugin's own is empty): its FLOPs and
bytes, which count a loop body once (a scanned epoch, a `lax.map` over candidates), next to
K times one candidate's step (`flops.candidate_step_flops`), the FLOPs of one step of K; the
optimized HLO's convolutions by group count, cuDNN calls, fusions, while loops (and how many
have no known trip count) and conditionals; the size of the serialized executable (what a
compilation cache entry holds; it loads only on a GPU, with this jaxlib and plugin). Per
(dtype, strategy, loop): the largest K that fits the target's memory, from the footprints
of the smallest and largest K compiled (a + b K) against the device memory x JAX's 75%
preallocation x (1 - `--margin`), the budget the trainer's probe uses. Memory figures are
lower bounds: without a device no cuDNN algorithm is autotuned, so no cuDNN workspace is
counted.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import benchmarks.gpu.target as gpu_target
from jaxgp.expr.program import NODE_CAP
from jaxgp.policy import default_conv, default_loss_strategy, default_max_pool

RESULT = "GPU_COMPILE_RESULT "
PREALLOCATE = 0.75
"""The share of device memory JAX's allocator takes by default (XLA_PYTHON_CLIENT_MEM_FRACTION);
the trainer's budget is that limit less `memory_margin`."""
MIB = 2**20


def parse_data(text: str) -> tuple[tuple[int, int, int], int]:
    """`HxWxC:classes` -> ((H, W, C), classes)."""
    try:
        shape, classes = text.split(":")
        height, width, channels = (int(n) for n in shape.split("x"))
        return (height, width, channels), int(classes)
    except ValueError:
        raise SystemExit(f"--data must look like 32x32x3:10, got {text!r}") from None


def cases(args) -> list[dict]:
    """The cases in the order they compile: each loop and dtype, K = 1 once, then each K > 1
    under each strategy."""
    found = []
    for loop in args.loops:
        for dtype in args.dtypes:
            for k in args.ks:
                for strategy in ["-"] if k == 1 else args.strategies:
                    found.append({
                        "target": args.target, "model": args.model, "data": args.data,
                        "train_images": args.train_images, "batch_size": args.batch_size,
                        "input_size": args.input_size, "max_nodes": args.max_nodes,
                        "k": k, "dtype": dtype,
                        "model_strategy": strategy, "loss_strategy": args.loss_strategy,
                        "epoch_loop": loop,
                    })  # fmt: skip
    return found


# -- one case, in its own process ----------------------------------------------------------------
def compile_case(case: dict) -> dict:
    """Compile one case for the target and read what XLA made of it."""
    gpu_target.load_plugin()
    import types

    import jax
    import jax.numpy as jnp
    from jax._src.lib import _jax
    from jax.experimental import serialize_executable

    from benchmarks.lib.flops import candidate_step_flops, from_lowered_on_cpu
    from benchmarks.lib.measure import hlo_summary
    from jaxgp.train.capacity import abstract_epoch_arguments, compiled_footprint_bytes
    from jaxgp.train.config import TrainConfig
    from jaxgp.train.device_data import DeviceSplit
    from jaxgp.train.step import build_functions

    start = time.perf_counter()
    text = gpu_target.target_config(case["target"])
    sharding = gpu_target.target_sharding(text)
    image_shape, classes = parse_data(case["data"])
    k = case["k"]
    config = TrainConfig(
        model=case["model"], batch_size=case["batch_size"], compute_dtype=case["dtype"],
        input_size=case["input_size"], candidates_per_batch=k,
        model_strategy="vmap" if case["model_strategy"] == "-" else case["model_strategy"],
        loss_strategy=case["loss_strategy"], epoch_loop=case["epoch_loop"],
        max_nodes=case["max_nodes"], max_pool=default_max_pool("cuda"),
        conv=default_conv("cuda"),
    )  # fmt: skip
    n = case["train_images"]
    data = types.SimpleNamespace(
        name="synthetic", num_classes=classes, image_shape=image_shape,
        train=DeviceSplit(jax.ShapeDtypeStruct((n, *image_shape), jnp.uint8),
                          jax.ShapeDtypeStruct((n,), jnp.int32)),
    )  # fmt: skip
    functions = build_functions(classes, image_shape, config.program(progress=False))
    arguments = abstract_epoch_arguments(functions, data, config, k)
    arguments = jax.tree.map(
        lambda s: jax.ShapeDtypeStruct(s.shape, s.dtype, sharding=sharding), arguments
    )
    lowered = functions.epoch_program.lower(*arguments)
    lowered_at = time.perf_counter()
    compiled = lowered.compile()
    compiled_at = time.perf_counter()

    hlo_text = compiled.as_text()
    memory = compiled.memory_analysis()
    cpu = jax.devices("cpu")[0].client
    analysis = _jax.hlo_module_cost_analysis(cpu, lowered.compiler_ir("hlo").as_hlo_module())
    one_step = k == 1 and case["epoch_loop"] == "host"
    if one_step:  # the lowered program is one candidate's step
        candidate, source = from_lowered_on_cpu(lowered), "lowered (CPU client)"
    else:
        candidate, source = candidate_step_flops(data, config)
    hlo = hlo_summary(hlo_text)
    footprint = compiled_footprint_bytes(compiled)
    try:  # what a compilation cache entry of it would hold (it loads only on a GPU)
        serialized = len(serialize_executable.serialize(compiled)[0]) / MIB
    except Exception:  # noqa: BLE001
        serialized = None
    return {
        **case,
        "jax": jax.__version__,
        "trace_lower_s": lowered_at - start,
        "compile_s": compiled_at - lowered_at,
        "memory_mib": {
            name: getattr(memory, f"{name}_size_in_bytes") / MIB
            for name in ("argument", "output", "alias", "temp", "generated_code")
        },
        "footprint_mib": footprint / MIB if footprint else None,
        "footprint_mib_per_candidate": footprint / k / MIB if footprint else None,
        "lowered_gflop": analysis.get("flops", 0.0) / 1e9,
        "lowered_gb_accessed": analysis.get("bytes accessed", 0.0) / 1e9,
        "step_gflop": k * candidate / 1e9 if candidate else None,
        "step_flops_source": source,
        "cudnn_calls": len(re.findall(r'custom_call_target="[^"]*cudnn', hlo_text)),
        "hlo": hlo,
        "hlo_text_mb": len(hlo_text) / 1e6,
        "serialized_mib": serialized,
    }


def _child(case_json: str) -> None:
    row = compile_case(json.loads(case_json))
    print(RESULT + json.dumps(row), flush=True)


# -- the sweep: one process per case -------------------------------------------------------------
def last_line(text: str) -> str:
    """The last non-empty line (where Python names the exception)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:400] if lines else ""


def run_case(case: dict, timeout: float, plugin_dir: Path | None) -> dict:
    """One case in a subprocess whose JAX runs on the CPU; its row, or its one-line error."""
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    if plugin_dir is not None:
        env["JAXGP_GPU_COMPILE_DIR"] = str(plugin_dir)
    command = [sys.executable, "-m", "benchmarks.gpu.compile", "--case", json.dumps(case)]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, cwd=gpu_target.ROOT
        )
    except subprocess.TimeoutExpired:
        return {**case, "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT) :])
    error = last_line(done.stderr) or last_line(done.stdout) or "no output"
    return {**case, "error": f"exit {done.returncode}: {error}",
            "seconds": time.perf_counter() - start}  # fmt: skip


def largest_k(rows: list[dict], memory_bytes: int, margin: float) -> list[dict]:
    """Per (dtype, strategy, loop): the largest K whose footprint a + b K fits `memory_bytes`
    x PREALLOCATE x (1 - margin), a and b from the smallest and largest K compiled. K = 1 (one
    program under either strategy, not wrapped in a `vmap` or `lax.map`) is the smallest K
    only where a single K > 1 was compiled."""
    budget = memory_bytes * PREALLOCATE * (1 - margin)
    ok = [r for r in rows if r.get("footprint_mib")]
    groups = {(r["dtype"], r["model_strategy"], r["epoch_loop"]) for r in ok if r["k"] > 1}
    found = []
    for dtype, strategy, loop in sorted(groups):
        same = {r["k"]: r["footprint_mib"] * MIB for r in ok
                if r["dtype"] == dtype and r["epoch_loop"] == loop
                and r["model_strategy"] in (strategy, "-")}  # fmt: skip
        if len(same) > 2:
            same.pop(1, None)
        low, high = min(same), max(same)
        if low == high:
            continue
        slope = (same[high] - same[low]) / (high - low)
        base = same[low] - slope * low
        k = math.floor((budget - base) / slope) if slope > 0 else None
        found.append({
            "dtype": dtype, "model_strategy": strategy, "epoch_loop": loop,
            "from_k": [low, high], "mib_per_extra_candidate": slope / MIB,
            "fixed_mib": base / MIB, "budget_gib": budget / 2**30, "largest_k": k,
            "largest_power_of_two": 2 ** int(math.log2(k)) if k and k >= 1 else None,
        })  # fmt: skip
    return found


def render(path: Path, margin: float | None) -> dict:
    """A saved sweep's report with its largest K worked out again (at `margin`, if given)."""
    report = json.loads(path.read_text())
    if margin is not None:
        report["margin"] = margin
    memory = int(report["target_memory_gib"] * 2**30)
    report["largest_k"] = largest_k(report["rows"], memory, report["margin"])
    return report


def _number(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def markdown(report: dict) -> str:
    lines = [
        f"{report['model']} on {report['data']}, batch {report['batch_size']}, target "
        f"{report['target']} ({report['target_description']}), compiled on {report['machine']}"
        f", jax {report.get('jax', '?')}, commit {report['commit']}, {report['date']}. "
        "Compile-only facts: nothing ran on a GPU.",
        "",
        "| loop | dtype | K | models | compile s | temp MiB | footprint MiB | MiB/cand | "
        "GFLOP/step (K x 1) | lowered GFLOP | lowered GB | convolutions | cuDNN | fusions | "
        "while (unknown) | cond | error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        hlo = row.get("hlo", {})
        memory = row.get("memory_mib", {})
        convolutions = ", ".join(f"{n} {g}" for g, n in sorted(hlo.get("convolutions", {}).items()))
        unknown = _number(hlo.get("while_unknown_trip_count"), "d")
        whiles = f"{_number(hlo.get('while'), 'd')} ({unknown})"
        cells = [
            row["epoch_loop"], row["dtype"], str(row["k"]), row["model_strategy"],
            _number(row.get("compile_s"), ".0f"), _number(memory.get("temp"), ",.0f"),
            _number(row.get("footprint_mib"), ",.0f"),
            _number(row.get("footprint_mib_per_candidate"), ",.0f"),
            _number(row.get("step_gflop"), ",.0f"), _number(row.get("lowered_gflop"), ",.0f"),
            _number(row.get("lowered_gb_accessed"), ",.1f"), convolutions or "-",
            _number(row.get("cudnn_calls"), "d"), _number(hlo.get("fusions"), "d"), whiles,
            _number(hlo.get("conditional"), "d"), row.get("error", ""),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if report["largest_k"]:
        lines += [
            "",
            f"Largest K by memory: footprint a + b K (from the smallest and largest K compiled) "
            f"within {report['target_memory_gib']:.1f} GiB x {PREALLOCATE} (JAX's preallocation)"
            f" x (1 - {report['margin']}) (the probe's margin):",
            "",
            "| loop | dtype | models | from K | MiB per extra candidate | fixed MiB | budget GiB "
            "| largest K | largest power of 2 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for fit in report["largest_k"]:
            lines.append(
                f"| {fit['epoch_loop']} | {fit['dtype']} | {fit['model_strategy']} | "
                f"{fit['from_k'][0]}, {fit['from_k'][1]} | {fit['mib_per_extra_candidate']:,.0f} | "
                f"{fit['fixed_mib']:,.0f} | {fit['budget_gib']:.1f} | "
                f"{_number(fit['largest_k'], 'd')} | {_number(fit['largest_power_of_two'], 'd')} |"
            )
    return "\n".join(lines) + "\n"


def _write(path: Path | None, text: str) -> None:
    if path is None:
        return
    if str(path) == "-":
        print(text)
        return
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def sweep(args) -> dict:
    import platform

    from benchmarks.lib.provenance import git_commit

    config = gpu_target.target_config(args.target)
    description = next((line.split(":", 1)[1].strip().strip('"') for line in config.splitlines()
                        if line.startswith("device_description_str")), args.target)  # fmt: skip
    memory = gpu_target.target_memory_bytes(config)
    report = {
        "target": args.target, "target_description": description,
        "target_memory_gib": memory / 2**30, "model": args.model, "data": args.data,
        "batch_size": args.batch_size, "train_images": args.train_images,
        "margin": args.margin, "machine": f"{os.cpu_count()} CPUs, {platform.machine()}",
        "commit": git_commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "rows": [], "largest_k": [],
    }  # fmt: skip
    todo = cases(args)
    for number, case in enumerate(todo, 1):
        print(f"[{number}/{len(todo)}] {json.dumps(case)}", file=sys.stderr, flush=True)
        row = run_case(case, args.case_timeout, args.plugin_dir)
        report["rows"].append(row)
        report["jax"] = row.get("jax", report.get("jax"))
        report["largest_k"] = largest_k(report["rows"], memory, args.margin)
        summary = {k: v for k, v in row.items() if k not in ("hlo", "memory_mib")}
        print(json.dumps(summary), file=sys.stderr, flush=True)
        if args.json and str(args.json) != "-":
            _write(args.json, json.dumps(report, indent=1))
        if args.markdown and str(args.markdown) != "-":
            _write(args.markdown, markdown(report))
    if args.json and str(args.json) == "-":
        print(json.dumps(report, indent=1))
    if args.markdown and str(args.markdown) == "-":
        print(markdown(report))
    return report


def _list(kind, choices=None):
    def parse(text: str):
        try:
            values = [kind(item) for item in text.split(",") if item]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a list of {kind.__name__}: {text!r}") from None
        bad = [v for v in values if choices is not None and v not in choices]
        if bad or not values:
            raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(choices or [])}")
        return values

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--install",
        action="store_true",
        help="install the compile plugin into .gpu-compile/ and exit",
    )
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one case, in a child process
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="a saved sweep's JSON: write its JSON and Markdown again",
    )
    parser.add_argument(
        "--target", default="h200", help=f"{', '.join(gpu_target.target_names())} or a .txtpb path"
    )
    parser.add_argument("--model", default="inception_v3")
    parser.add_argument("--data", default="32x32x3:10", help="HxWxC:classes of the images")
    parser.add_argument("--train-images", type=int, default=1280)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--input-size", type=int, default=None)
    parser.add_argument(
        "--max-nodes",
        type=int,
        default=NODE_CAP,
        help="the loss interpreter's node cap (its program's size)",
    )
    parser.add_argument("--ks", type=_list(int), default=[1, 2, 4, 8])
    parser.add_argument(
        "--dtypes", type=_list(str, ("bfloat16", "float32")), default=["bfloat16", "float32"]
    )
    parser.add_argument("--strategies", type=_list(str, ("vmap", "map")), default=["vmap", "map"])
    parser.add_argument(
        "--loss-strategy",
        choices=("vmap", "map"),
        default=default_loss_strategy("cuda"),
        help="default: what jaxgp.policy picks on a GPU",
    )
    parser.add_argument("--loops", type=_list(str, ("host", "scan")), default=["host", "scan"])
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--case-timeout", type=float, default=3600.0)
    parser.add_argument("--plugin-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.install:
        return gpu_target.install(args.plugin_dir or gpu_target.INSTALL_DIR)
    if args.render:
        if not args.render.is_file():
            print(f"error: no such sweep file {args.render}", file=sys.stderr)
            return 2
        report = render(args.render, args.margin)
        _write(args.json, json.dumps(report, indent=1))
        _write(args.markdown, markdown(report))
        return 0
    try:
        if args.case:
            _child(args.case)
            return 0
        gpu_target.target_config(args.target)  # a bad target fails before any case
        parse_data(args.data)
        if any(k < 1 for k in args.ks):
            raise gpu_target.TargetError(f"K must be positive, got {args.ks}")
        if not gpu_target.plugin_available(args.plugin_dir):
            raise gpu_target.TargetError(
                "the CUDA compile plugin is not installed: run `python benchmarks/"
                "gpu_compile.py --install`"
            )
        sweep(args)
    except gpu_target.TargetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The parts of the GPU run (`gpu_run.py`), each run in a process of its own, in this order.

- `environment`: nvidia-smi, versions, devices (env.txt) and measured matmul ceilings;
- `inception`: InceptionV3 at 256x256 (CIFAR-10 shape upsampled 8x, batch 64, the NGL tree):
  K = 1 in bfloat16 and float32, K = 4 under `vmap` and under `lax.map` (against K = 1,
  one at a time), the 28x28x1 -> 224 and 100-class shapes at K = 1, and K = 1 with the
  host loop instead of the scanned epoch; each row compiled once (`measure.train_row`);
- `trace`: a profiled epoch of the first row, summarised (`trace_summary`);
- `small_cnn`: `micro/throughput.py` at K = 1, 8, 32;
- `keras`: the Keras 3 reference of the same recipe on the jax backend
  (`vs_keras/reference_keras.py`);
- `diverging`: the trainer's diverging-candidate test, on this device;
- `compare`: `jaxgp compare --scale small` cut down (population 2, one generation, one epoch,
  synthetic images in the three paper shapes; one in the smoke): the real path with its wall
  time.

`--smoke` runs every part at toy sizes (small_cnn, a few hundred images) on a CPU.
"""

from __future__ import annotations

import dataclasses
import glob
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import jax
import numpy as np

import benchmarks.gpu.results as gpu_results
from benchmarks.lib.measure import LOSS, add_mfu, matmul_ceilings, train_row
from benchmarks.lib.provenance import ROOT, device_description, git_commit
from benchmarks.vs_keras.jaxgp_side import load_synthetic, write_data, write_loss
from benchmarks.vs_keras.keras_side import ReferenceInputs
from benchmarks.vs_keras.process import readable_error
from jaxgp.compilation import cache_directory, use_persistent_cache
from jaxgp.data import load_dataset
from jaxgp.data.dataset import Dataset
from jaxgp.train import DeviceDataset, TrainConfig


@dataclass(frozen=True)
class Context:
    out: Path
    scratch: Path
    smoke: bool
    rows: tuple[str, ...] = ()

    def append(self, part: str, name: str, **values) -> None:
        gpu_results.append(self.out, {"part": part, "name": name, **values})

    def started(self, name: str) -> None:
        """Mark a row as started, so the runner can name the row a crash cut short."""
        (self.scratch / "started").write_text(name)


# -- environment -------------------------------------------------------------------------------
def _shell(command: str) -> str:
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
    return f"$ {command}\n{done.stdout}{done.stderr}\n"


def environment(ctx: Context) -> None:
    devices = jax.devices()
    stats = devices[0].memory_stats() or {}
    text = "".join(
        _shell(command)
        for command in (
            "date -u; uname -a; nproc; free -g | head -2",
            "nvidia-smi",
            "nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,"
            "clocks.max.mem,power.limit,persistence_mode --format=csv",
            f"{sys.executable} -V",
            f"{sys.executable} -m pip list 2>/dev/null | grep -iE "
            "'^(jax|jaxlib|jax-cuda|flax|optax|numpy|keras|nvidia-cudnn|nvidia-cublas)'",
        )
    )
    text += f"jax {jax.__version__} {jax.default_backend()} {devices}\nmemory stats {stats}\n"
    (ctx.out / "env.txt").write_text(text)
    header = {
        "device": device_description(),
        "jax": jax.__version__,
        "commit": git_commit(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "smoke": ctx.smoke,
    }
    row = {"part": "environment", "name": "device", "device": header["device"],
           "jax": jax.__version__, "memory_gb": stats.get("bytes_limit", 0) / 1e9,
           **matmul_ceilings(512 if ctx.smoke else 8192)}  # fmt: skip
    gpu_results.append(ctx.out, row, header=header)


def measured_peak(out: Path) -> float | None:
    """The bfloat16 matmul rate the environment part measured, in FLOP/s."""
    rows = [r for r in gpu_results.load(out)["rows"] if r["part"] == "environment"]
    rate = rows[0].get("bf16_tflop_per_s") if rows else None
    return rate * 1e12 if rate else None


# -- InceptionV3 training rows ----------------------------------------------------------------
INCEPTION_ROWS = {
    "k1_bf16": {"k": 1, "dtype": "bfloat16"},
    "k1_f32": {"k": 1, "dtype": "float32", "against": "k1_bf16"},
    "k4_vmap_bf16": {"k": 4, "dtype": "bfloat16", "model_strategy": "vmap", "against": "k1_bf16"},
    "k4_map_bf16": {"k": 4, "dtype": "bfloat16", "model_strategy": "map", "against": "k1_bf16"},
    "fmnist_k1_bf16": {"k": 1, "dtype": "bfloat16", "data": "fashion_mnist"},
    "c100_k1_bf16": {"k": 1, "dtype": "bfloat16", "data": "cifar100"},
    "k1_host_bf16": {"k": 1, "dtype": "bfloat16", "epoch_loop": "host", "against": "k1_bf16"},
}
"""Row name -> settings; `against` names the row whose candidate-images/s `vs` divides by
(K = 1 is the one-at-a-time rate that K = 4 must beat)."""
SMOKE_SHAPES = {"cifar10": "16x16x3:10", "fashion_mnist": "12x12x1:10", "cifar100": "16x16x3:100"}


def _synthetic(ctx: Context, data: str, train_images: int) -> DeviceDataset:
    name = f"synthetic:{SMOKE_SHAPES[data] if ctx.smoke else data}"
    dataset = load_dataset(name, seed=0, num_train=train_images, num_test=64)
    return DeviceDataset.from_dataset(dataset)


def row_config(ctx: Context, spec: dict) -> TrainConfig:
    return TrainConfig(
        model="small_cnn" if ctx.smoke else "inception_v3",
        batch_size=32 if ctx.smoke else 64,
        compute_dtype=spec["dtype"],
        candidates_per_batch=spec["k"],
        model_strategy=spec.get("model_strategy"),
        epoch_loop=spec.get("epoch_loop"),
    )


def inception(ctx: Context) -> None:
    peak = measured_peak(ctx.out)
    rates = {r["name"]: r.get("candidate_images_per_s") for r in gpu_results.load(ctx.out)["rows"]
             if r["part"] == "inception"}  # fmt: skip
    for name in ctx.rows or tuple(INCEPTION_ROWS):
        ctx.started(name)
        spec = INCEPTION_ROWS[name]
        data = _synthetic(ctx, spec.get("data", "cifar10"), 160 if ctx.smoke else 1280)
        try:
            row = add_mfu(train_row(data, row_config(ctx, spec), spec["k"]), peak)
        except Exception as error:  # noqa: BLE001  (a row that fails is a result too)
            ctx.append("inception", name, error=f"{type(error).__name__}: {error}"[:400])
            continue
        hlo = row.pop("hlo")
        grouped = sum(n for groups, n in hlo["convolutions"].items() if groups != "groups=1")
        row.update(hlo_loops_unknown=hlo["while_unknown_trip_count"],
                   hlo_conditionals=hlo["conditional"], hlo_grouped_convolutions=grouped,
                   hlo=hlo)  # fmt: skip
        base = rates.get(spec.get("against", ""))
        row["against"] = spec.get("against")
        row["vs"] = row["candidate_images_per_s"] / base if base else None
        rates[name] = row["candidate_images_per_s"]
        ctx.append("inception", name, **row)
        print(json.dumps({"row": name, **{k: v for k, v in row.items() if k != "hlo"}}))


# -- the trace ---------------------------------------------------------------------------------
def trace(ctx: Context) -> None:
    from benchmarks.lib.trace_summary import summarize
    from jaxgp.train.loop import train_candidates

    ctx.started("k1_bf16")
    spec = INCEPTION_ROWS["k1_bf16"]
    data = _synthetic(ctx, "cifar10", 160 if ctx.smoke else 1280)
    config = dataclasses.replace(row_config(ctx, spec), epochs=1)
    train_candidates(["ngl"], data, config)  # compiled (or loaded from the cache), warm
    directory = ctx.scratch / "trace"
    shutil.rmtree(directory, ignore_errors=True)
    with jax.profiler.trace(str(directory)):
        train_candidates(["ngl"], data, config)
    path = glob.glob(f"{directory}/**/*.xplane.pb", recursive=True)[0]
    steps = data.train.size // config.batch_size
    summary = {"row": "k1_bf16", "xplane_mb": os.path.getsize(path) / 1e6, **summarize(path, steps)}
    (ctx.out / "trace.json").write_text(json.dumps(summary, indent=1))
    packed = ctx.out / "trace.xplane.pb.gz"
    with open(path, "rb") as source, gzip.open(packed, "wb", compresslevel=6) as target:
        shutil.copyfileobj(source, target)
    if packed.stat().st_size > 15e6:
        packed.unlink()  # too big to come back; the summary has what matters
    gpu = summary.get("gpu", {})
    waits = sum(v["calls"] for v in summary["host_waits_per_step"].values())
    ctx.append("trace", "k1_bf16 (one epoch, evaluation included)", **{
        k: gpu.get(k) for k in ("kernels_per_step", "busy_ms_per_step", "span_ms_per_step",
                                "idle_fraction")
    }, host_wait_calls_per_step=waits, by_part=summary["xla_op_ms_per_step_by_part"])  # fmt: skip


# -- small_cnn, Keras, the diverging test: other scripts ----------------------------------------
def _script(command: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command in the checkout, which imports jaxgp and benchmarks from it (installed or
    not)."""
    env = dict(env or os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)


def small_cnn(ctx: Context) -> None:
    path = ctx.scratch / "small_cnn.json"
    sizes = ["--smoke"] if ctx.smoke else ["--train-images", "6400", "--ks", "1,8,32"]
    done = _script([sys.executable, "-m", "benchmarks.micro.throughput", "--model", "small_cnn",
                    "--data", "synthetic:cifar10", "--epochs", "2", *sizes,
                    "--json", str(path)])  # fmt: skip
    print(done.stdout[-3000:], done.stderr[-3000:])
    rows = json.loads(path.read_text())["rows"] if path.exists() else []
    for row in rows:
        row.pop("hlo", None)
        ctx.append("small_cnn", f"K={row['k']}", vs_k1=row.get("speedup_vs_k1"), **row)
    if done.returncode != 0 or not rows:
        ctx.append("small_cnn", "micro.throughput", error=done.stderr[-400:] or "no rows")


def keras(ctx: Context) -> None:
    env = dict(os.environ, KERAS_BACKEND="jax")
    wheels = sorted(glob.glob(str(ROOT / ".whl" / "*.whl")))
    if wheels and _script([sys.executable, "-c", "import keras"], env).returncode != 0:
        site = ctx.scratch / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps",
                        "--no-compile", "--no-cache-dir", "--upgrade", "--target", str(site),
                        *wheels], check=True)  # fmt: skip
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [env.get("PYTHONPATH"), str(site)]))
    path = ctx.scratch / "keras.json"
    inputs = ReferenceInputs(ctx.scratch / "reference")
    inputs.directory.mkdir(parents=True, exist_ok=True)
    write_data(inputs.data("cifar10"), load_synthetic("cifar10", 160 if ctx.smoke else 1280),
               "jaxgp synthetic:cifar10")  # fmt: skip
    write_loss(inputs, LOSS)
    sizes = ["--smoke"] if ctx.smoke else ["--model", "inception_v3", "--epochs", "2"]
    command = [sys.executable, "benchmarks/vs_keras/reference_keras.py", "--backend", "jax", *sizes,
               "--data-npz", str(inputs.data("cifar10")), "--loss-module",
               str(inputs.loss_module), "--loss-check", str(inputs.loss_check)]  # fmt: skip
    done = _script([*command, "--json", str(path)], env)
    print(done.stdout[-3000:], done.stderr[-3000:])
    if not path.exists():
        error = readable_error(done.returncode, done.stderr.splitlines(), limit=600)
        ctx.append("keras", "reference", error=error)
        return
    result = json.loads(path.read_text())
    jaxgp = [r for r in gpu_results.load(ctx.out)["rows"] if r.get("name") == "k1_f32"]
    rate = jaxgp[0].get("candidate_images_per_s") if jaxgp else None
    result["vs_jaxgp_k1"] = (
        rate / result["images_per_s"] if rate and result.get("images_per_s") else None
    )
    ctx.append("keras", f"{result.get('model', '?')} on {result.get('backend', '?')}", **result)


def diverging(ctx: Context) -> None:
    start = time.perf_counter()
    done = _script([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "tests/train/test_train.py", "-k", "diverging"])  # fmt: skip
    lines = (done.stdout.strip() or done.stderr.strip() or "no output").splitlines()
    print(done.stdout[-3000:], done.stderr[-3000:])
    ctx.append("diverging", "test_a_diverging_candidate_is_frozen_without_disturbing_the_others",
               returncode=done.returncode, outcome=lines[-1],
               seconds=time.perf_counter() - start, device=device_description())  # fmt: skip


# -- jaxgp compare --scale small, cut down ------------------------------------------------------
COMPARE_IMAGES = 2048


def paper_shaped(name: str, **_: object) -> Dataset:
    """`load_dataset` for the compare part: synthetic images in the named dataset's shape."""
    smoke = os.environ.get("JAXGP_GPU_RUN_SMOKE") == "1"
    source = f"synthetic:{SMOKE_SHAPES[name] if smoke else name}"
    size = 200 if smoke else COMPARE_IMAGES  # before the 90/10 split
    data = load_dataset(source, seed=0, num_train=size, num_test=size // 8)
    return dataclasses.replace(data, name=name)


def compare_run_dir(scratch: Path) -> Path:
    return scratch / "compare-run"


def compare(ctx: Context) -> None:
    from jaxgp.report import write_report
    from jaxgp.search import RunOptions, RunSettings, run_search
    from jaxgp.search.rundir import RunDir

    run_dir = compare_run_dir(ctx.scratch)
    shutil.rmtree(run_dir, ignore_errors=True)
    extra = {"model": "small_cnn", "datasets": ["cifar10"]} if ctx.smoke else {}
    os.environ["JAXGP_GPU_RUN_SMOKE"] = "1" if ctx.smoke else "0"
    start = time.perf_counter()
    # the search's own time: no confirmation of the best on more seeds
    options = RunOptions(out=str(run_dir), scale="small", population=2, generations=1, epochs=1,
                         confirm_seeds=0, **extra)  # fmt: skip
    summary = run_search("compare", options, load_fn=paper_shaped)
    settings = RunSettings.from_dict(RunDir.existing(run_dir).read_config())
    wall = time.perf_counter() - start
    report = write_report(str(run_dir), str(ctx.scratch / "compare-report"))
    shutil.copy(report, ctx.out / "compare_report.md")
    decisions = summary.candidates_per_batch
    probe_s = sum(d.get("probe", {}).get("seconds", 0.0) for d in decisions.values()
                  if d.get("source") == "probed")  # fmt: skip
    images = 200 if ctx.smoke else COMPARE_IMAGES
    ctx.append("compare", f"{settings.train.model}, P=2, T=1, 1 epoch, {images} images each",
               wall_s=wall, evaluations=summary.evaluations,
               compilations=summary.compilations, compile_s=summary.compile_seconds,
               probe_s=probe_s, summary=summary.to_dict(),
               decisions={k: v.get("k_by_candidates") for k, v in decisions.items()},
               model_strategies={k: v.get("model_strategy") for k, v in decisions.items()},
               )  # fmt: skip


def compare_progress(scratch: Path) -> dict:
    """How far a compare part got (for a part cut short by its time box)."""
    path = compare_run_dir(scratch) / "trainings.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return {"trainer_calls_done": len(lines)}


PARTS = {
    "environment": environment,
    "inception": inception,
    "trace": trace,
    "small_cnn": small_cnn,
    "keras": keras,
    "diverging": diverging,
    "compare": compare,
}


def run_part(name: str, out: Path, scratch: Path, smoke: bool, rows: tuple[str, ...]) -> None:
    use_persistent_cache(cache_directory())
    np.set_printoptions(precision=4)
    PARTS[name](Context(out, scratch, smoke, rows))

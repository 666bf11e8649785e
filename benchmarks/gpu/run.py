"""The GPU measurement: everything jaxgp needs to learn from a short loan of a GPU, one command.

    python benchmarks/gpu_run.py                   # on the GPU machine: results in $OUT
    python benchmarks/gpu_run.py --smoke --out D   # the same parts at toy sizes, on a CPU (CI)

It runs from a bare checkout without network: jaxgp imports from the checkout
(tensorflow-datasets is only imported to read tfds datasets), and the Keras reference
installs the wheels in `.whl/` if they are there (see benchmarks/RESULTS.md). The parts
(`parts.py`) run in priority order, each in its own process under its own time box, so
a slow compilation or a crash costs only its part (a part that crashes is started again for
its remaining rows); the whole run ends by itself within `--budget` seconds (default 530,
inside the GPU machine's 10-minute command limit). Every row is written to
`results.json` and `results.md` as soon as it is measured; the directory holds at most
these files (the GPU machine returns at most 8): env.txt, results.json, results.md,
log.txt, trace.json, trace.xplane.pb.gz, compare_report.md. The summary table is printed
last. Compiled programs are kept in a persistent cache in the scratch directory, so a part
that needs a program another part compiled loads it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import benchmarks.gpu.results as gpu_results
from benchmarks.lib.provenance import ROOT

ORDER = ("environment", "inception", "trace", "small_cnn", "keras", "diverging", "compare")
"""The parts in priority order, with the most seconds each may take on the GPU machine."""
MAX_SECONDS = {
    "environment": 60, "inception": 330, "trace": 90, "small_cnn": 90, "keras": 240,
    "diverging": 90, "compare": 400,
}  # fmt: skip
SMOKE_SECONDS = 1500
"""A smoke part's time box: on a busy CPU (beside the test suite, and whatever else a
newcomer's machine runs) the InceptionV3 part took over 600 s at load 3-16."""
MIN_SECONDS = 20
RESERVE = 8


def _log(out: Path, text: str) -> None:
    print(text, flush=True)
    with open(out / "log.txt", "a", encoding="utf-8") as log:
        log.write(text + "\n")


def _run_part(args, name: str, rows: tuple[str, ...], seconds: float) -> tuple[int | None, float]:
    """Run one part in a subprocess for at most `seconds`: (return code or None, seconds)."""
    command = [sys.executable, "-m", "benchmarks.gpu.run", "--part", name,
               "--out", str(args.out), "--scratch", str(args.scratch)]  # fmt: skip
    command += ["--smoke"] if args.smoke else []
    command += ["--rows", ",".join(rows)] if rows else []
    start = time.perf_counter()
    with open(args.out / "log.txt", "a", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            code = process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            code = None
    return code, time.perf_counter() - start


def _missing_rows(out: Path, part: str, rows: tuple[str, ...]) -> tuple[str, ...]:
    done = {row["name"] for row in gpu_results.load(out)["rows"] if row["part"] == part}
    return tuple(row for row in rows if row not in done)


def run_all(args) -> None:
    from benchmarks.gpu.parts import INCEPTION_ROWS, compare_progress

    deadline = time.perf_counter() + args.budget
    parts = args.parts.split(",") if args.parts else list(ORDER)
    chosen = tuple(args.inception_rows.split(",")) if args.inception_rows else INCEPTION_ROWS
    for name in parts:
        rows = tuple(chosen) if name == "inception" else ()
        while True:
            left = deadline - time.perf_counter() - RESERVE
            box = min(SMOKE_SECONDS if args.smoke else MAX_SECONDS[name], left)
            if box < MIN_SECONDS:
                gpu_results.append(
                    args.out,
                    {
                        "part": name,
                        "name": "(skipped)",
                        "error": f"{left:.0f} s left of the budget",
                    },
                )
                _log(args.out, f"=== {name}: skipped, {left:.0f} s left")
                break
            _log(args.out, f"=== {name}: time box {box:.0f} s, {left:.0f} s left")
            code, seconds = _run_part(args, name, rows, box)
            _log(args.out, f"=== {name}: return code {code} after {seconds:.0f} s")
            missing = _missing_rows(args.out, name, rows)
            if code is None:
                extra = compare_progress(args.scratch) if name == "compare" else {}
                for row in missing or ("(part)",):
                    gpu_results.append(args.out, {"part": name, "name": row,
                                                  "error": f"cut by the {box:.0f} s time box",
                                                  **extra})  # fmt: skip
                break
            if code != 0:
                started = args.scratch / "started"
                crashed = started.read_text() if started.exists() else "(part)"
                gpu_results.append(args.out, {"part": name, "name": crashed,
                                              "error": f"the process died (code {code}): "
                                                       "see log.txt"})  # fmt: skip
                missing = _missing_rows(args.out, name, rows)
                if missing:
                    rows = missing
                    continue
            break
    print(gpu_results.markdown(gpu_results.load(args.out)), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu-run")))
    parser.add_argument("--budget", type=float, default=530.0, help="seconds for the whole run")
    parser.add_argument("--smoke", action="store_true", help="toy sizes, on a CPU (CI)")
    parser.add_argument("--parts", help=f"comma-separated, in this order: {','.join(ORDER)}")
    parser.add_argument("--inception-rows", help="comma-separated rows of the inception part "
                        "(default: all, in gpu/parts.py's INCEPTION_ROWS order)")  # fmt: skip
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--rows", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.parts and not set(args.parts.split(",")) <= set(ORDER):
        parser.error(f"--parts takes some of {','.join(ORDER)}, got {args.parts!r}")
    if args.inception_rows:
        from benchmarks.gpu.parts import INCEPTION_ROWS

        unknown = sorted(set(args.inception_rows.split(",")) - set(INCEPTION_ROWS))
        if unknown:
            parser.error(f"unknown --inception-rows {','.join(unknown)}; valid: "
                         f"{','.join(INCEPTION_ROWS)}")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    if args.part:
        from benchmarks.gpu.parts import run_part

        rows = tuple(args.rows.split(",")) if args.rows else ()
        run_part(args.part, args.out, args.scratch, args.smoke, rows)
        return
    existing = [p.name for p in args.out.iterdir() if p.name in gpu_results.FILES]
    if existing:
        parser.error(f"{args.out} already holds results ({', '.join(existing)}): use another --out")
    args.scratch = Path(tempfile.mkdtemp(prefix="jaxgp-gpu-run-"))
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if os.environ.get("JAXGP_COMPILATION_CACHE", "").lower() not in ("none", "off"):
        os.environ["JAXGP_COMPILATION_CACHE"] = str(args.scratch / "xla")
    try:
        run_all(args)
    finally:
        shutil.rmtree(args.scratch, ignore_errors=True)


if __name__ == "__main__":
    main()

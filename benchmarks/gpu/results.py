"""The GPU run's result files: every row appended to `results.json`, `results.md` rewritten.

Each part of `gpu_run.py` (a process of its own) appends its rows as it measures them, so a
part cut short by its time box, or a crash, keeps what it measured. A row is a flat-ish dict
with at least `part` and `name`; `markdown` lays out one table per part.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FILES = ("env.txt", "results.json", "results.md", "log.txt", "trace.json")
"""What a run leaves in its directory (plus `trace.xplane.pb.gz` and `compare_report.md`
when they were made): at most 8 files come back from the GPU machine."""

TABLES = {
    "environment": (
        "device", "jax", "bf16_tflop_per_s", "f32_default_precision_tflop_per_s",
        "f32_highest_precision_tflop_per_s", "copy_tb_per_s", "memory_gb",
    ),
    "inception": (
        "name", "k", "dtype", "model_strategy", "epoch_loop", "candidate_images_per_s",
        "against", "vs", "step_ms", "compile_s", "first_epoch_s", "memory_per_candidate_mb",
        "memory_source", "candidate_step_gflop", "flops_source", "achieved_tflop_per_s",
        "mfu_measured_peak", "mfu_datasheet_peak", "hlo_loops_unknown", "hlo_conditionals",
        "hlo_grouped_convolutions", "error",
    ),
    "trace": (
        "name", "kernels_per_step", "busy_ms_per_step", "span_ms_per_step", "idle_fraction",
        "host_wait_calls_per_step", "by_part", "error",
    ),
    "small_cnn": (
        "name", "k", "dtype", "candidate_images_per_s", "vs_k1", "step_ms", "compile_s",
        "achieved_tflop_per_s", "error",
    ),
    "keras": (
        "name", "backend", "images_per_s", "step_ms", "build_s", "warmup_s", "evaluation_s",
        "vs_jaxgp_k1", "error",
    ),
    "diverging": ("name", "returncode", "outcome", "seconds", "error"),
    "compare": (
        "name", "wall_s", "evaluations", "compilations", "compile_s", "probe_s", "decisions",
        "model_strategies", "trainer_calls_done", "error",
    ),
}  # fmt: skip


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def load(out: Path) -> dict:
    path = Path(out) / "results.json"
    if not path.exists():
        return {"rows": []}
    return json.loads(path.read_text())


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_cell(v)}" for k, v in value.items())
    return str(value).replace("|", "/").replace("\n", " ")[:160]


def markdown(report: dict) -> str:
    """One table per part, in the order the parts ran."""
    lines = [f"# jaxgp GPU run: {_cell(report.get('header'))}", ""]
    parts = list(dict.fromkeys(row["part"] for row in report["rows"]))
    for part in parts:
        rows = [row for row in report["rows"] if row["part"] == part]
        columns = [c for c in TABLES.get(part, ("name",)) if any(c in row for row in rows)]
        columns = columns or ["name"]
        lines += [f"## {part}", "", "| " + " | ".join(columns) + " |"]
        lines.append("|" + "---|" * len(columns))
        for row in rows:
            lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
        lines.append("")
    return "\n".join(lines)


def append(out: Path, row: dict, header: dict | None = None) -> None:
    """Add `row` to the run's results and rewrite both files."""
    out = Path(out)
    report = load(out)
    if header is not None:
        report["header"] = header
    report["rows"].append(row)
    _write(out / "results.json", json.dumps(report, indent=1, default=str))
    _write(out / "results.md", markdown(report) + "\n")

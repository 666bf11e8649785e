"""The report of `compare.py`: jaxgp's and Keras's rates side by side, and as Markdown."""

from __future__ import annotations

from benchmarks.vs_keras.process import first_line


def comparison_rows(jaxgp: dict | None, keras: list[dict]) -> list[dict]:
    """One row per Keras dataset and jaxgp (dataset, K), with its ratios to Keras."""
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
    """The report as Markdown: settings, both sides' rates, the projected experiments."""
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
            error = first_line(result["error"])
            lines.append(f"Keras reference on {result['dataset']} FAILED: {error}")
        elif "skipped" in result:
            lines.append(f"Keras reference skipped: {result['skipped']}")
        else:
            check = result["loss_check_rel_diff"]
            lines.append(
                f"Keras {result['keras']} on {result['backend']} ({result['device']}), "
                f"{result['data']}; augmentation: {result['augmentation']}; loss check vs "
                "jaxgp: "
                + ("not made" if check is None else f"relative difference {check:.1e}")
                + "."
            )
    jaxgp = report["jaxgp"]
    if jaxgp and "error" in jaxgp:
        lines.append(f"jaxgp FAILED: {first_line(jaxgp['error'])}")
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

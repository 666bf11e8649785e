"""Benchmark: training throughput of K candidates at once, against K = 1.

For each K and dtype, `measure.train_row` compiles the trainer's epoch (the scanned epoch,
or the host loop's step) once, reads XLA's memory analysis and optimized HLO from that
compilation, trains one warm-up epoch and times `--epochs` epochs. Reported per row:
candidate-images per second (K * images per step / step time), the speed-up over K = 1,
compile seconds, XLA's memory per candidate, on a GPU the allocator's peak (shown only for
a row that raised it: the allocator keeps one peak for the whole process), XLA's FLOPs per
candidate step, the achieved FLOP/s and the MFU against the data sheet's dense bfloat16
peak (none for a CPU). Data are synthetic images of the chosen dataset's shape, on the
device. `auto` is what the trainer would choose for 64 candidates
(`jaxgp.train.batching`: 1 on a CPU, probed on an accelerator).

    python -m benchmarks.micro.throughput                        # small_cnn on cifar10-shaped data
    python -m benchmarks.micro.throughput --model inception_v3 --data synthetic:cifar10 \\
        --ks 1,2,4,8,auto --dtypes float32,bfloat16       # the paper setting, on a GPU
    python -m benchmarks.micro.throughput --smoke                # seconds, on a CPU (CI)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.lib.args import add_training_shape, script_parser
from benchmarks.lib.measure import add_mfu, train_row
from benchmarks.lib.provenance import device_description, git_commit, write_json
from jaxgp.data import load_dataset
from jaxgp.train import DeviceDataset, TrainConfig
from jaxgp.train.batching import decide
from jaxgp.train.step import build_functions


def markdown(report: dict) -> str:
    lines = [
        f"{report['model']} on {report['data']} {report['image_shape']}, batch "
        f"{report['batch_size']}, {report['device']}, {report['date']}, commit {report['commit']}",
        "",
        "| dtype | K | models | losses | epoch | cand-img/s | vs K=1 | step ms | compile s "
        "| MB/cand (XLA) | peak MB | GFLOP/cand-step | TFLOP/s | MFU (data sheet) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def number(value, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    for row in report["rows"]:
        lines.append(
            f"| {row['dtype']} | {row['k']} | {row['model_strategy']} | {row['loss_strategy']} | "
            f"{row['epoch_loop']} | {row['candidate_images_per_s']:.1f} | "
            f"{number(row.get('speedup_vs_k1'), '.2f')}x | {row['step_ms']:.1f} | "
            f"{row['compile_s']:.1f} | {number(row['memory_per_candidate_mb'], '.1f')} | "
            f"{number(row['peak_device_memory_mb'], '.0f')} | "
            f"{number(row['candidate_step_gflop'], '.2f')} | "
            f"{number(row['achieved_tflop_per_s'], '.3f')} | "
            f"{number(row['mfu_datasheet_peak'], '.1%')} |"
        )
    return "\n".join(lines)


def with_speedups(rows: list[dict]) -> list[dict]:
    """Each row's candidate-images/s over that of the K = 1 row of its dtype and settings."""
    same = ("dtype", "model_strategy", "loss_strategy", "epoch_loop")
    for row in rows:
        one = next((r for r in rows if r["k"] == 1 and all(r[f] == row[f] for f in same)), None)
        rate = one["candidate_images_per_s"] if one else None
        row["speedup_vs_k1"] = row["candidate_images_per_s"] / rate if rate else None
    return rows


def write(report: dict, args: argparse.Namespace) -> str:
    """Write the JSON and Markdown files; return the Markdown."""
    with_speedups(report["rows"])
    text = markdown(report)
    write_json(args.json_path, report)
    if args.markdown_path:
        Path(args.markdown_path).write_text(text + "\n")
    return text


def main() -> None:
    parser = script_parser(__doc__)
    add_training_shape(parser, train_images=2048)
    parser.add_argument("--ks", default="1,2,4,8,auto")
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--model-strategy", choices=["vmap", "map"], help="default: vmap")
    parser.add_argument("--loss-strategy", choices=["vmap", "map"], help="default: by backend")
    parser.add_argument(
        "--epoch-loop", choices=["scan", "host"], help="default: host on a CPU, else scan"
    )
    parser.add_argument("--markdown", dest="markdown_path")
    args = parser.parse_args()
    if args.smoke:
        args.train_images, args.ks, args.epochs, args.batch_size = 128, "1,2", 1, 32

    dataset = load_dataset(args.data, seed=0, num_train=args.train_images, num_test=64)
    data = DeviceDataset.from_dataset(dataset)
    report = {
        "model": args.model,
        "data": args.data,
        "image_shape": list(data.image_shape),
        "batch_size": args.batch_size,
        "device": device_description(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "commit": git_commit(),
        "complete": False,
        "rows": [],
    }
    for dtype in args.dtypes.split(","):
        base = TrainConfig(
            model=args.model, batch_size=args.batch_size, input_size=args.input_size,
            compute_dtype=dtype, model_strategy=args.model_strategy,
            loss_strategy=args.loss_strategy, epoch_loop=args.epoch_loop,
        )  # fmt: skip
        for text in args.ks.split(","):
            config = dataclasses.replace(
                base, candidates_per_batch=text if text == "auto" else int(text)
            )
            functions = build_functions(data.num_classes, data.image_shape, config)
            decision = decide(64, data, config, functions)
            config = dataclasses.replace(config, model_strategy=decision.model_strategy)
            row = add_mfu(train_row(data, config, decision.k, args.epochs), None)
            row["requested"] = text
            row["decision"] = decision.to_dict()
            report["rows"].append(row)
            print(json.dumps(row), flush=True)
            write(report, args)  # a run cut short keeps the rows it measured
    report["complete"] = True
    print(write(report, args))


if __name__ == "__main__":
    main()

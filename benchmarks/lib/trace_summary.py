"""A jax.profiler trace of training steps, summarised compactly enough to come back.

`summarize(xplane_path, steps)` reads the `.xplane.pb` that `jax.profiler.trace` wrote and
returns, per step: GPU kernels, the busy time (the union of kernel intervals), idle gaps by
size, kernel time by category and the top kernels; the time of XLA's ops by the part of
jaxgp's step they come from (read from the op's JAX name stack: the loss interpreter, the
model, the optimiser, the data pipeline); and the host calls that wait for the device or
copy from it (what a data-dependent loop or a conditional would add at every row).
"""

from __future__ import annotations

import collections
import re

PARTS = (
    ("loss interpreter", r"tree_values|interpreter|select_n|loss_value"),
    ("optimiser", r"adam|apply_updates|optax|inject_hyperparams"),
    ("data and augmentation", r"augment|affine|preprocess|one_hot|sample_affine"),
    ("model", r"Inception|SmallCNN|Conv|BatchNorm|Dense|conv|dot_general|vjp"),
)
HOST_WAITS = r"Synchroniz|DtoH|DeviceToHost|MemcpyD2H|EventSynchronize|StreamWait|BlockHost"


def kernel_category(name: str) -> str:
    """A coarse class of a GPU kernel, by its name."""
    n = name.lower()
    if re.search(r"memcpy|memset", n):
        return "memcpy/memset"
    if re.search(r"conv|dgrad|wgrad|fprop|implicit_gemm|winograd|cudnn", n):
        return "convolution (cuDNN)"
    if re.search(r"gemm|cutlass|cublas|nvjet|matmul|xmma", n):
        return "matmul"
    if re.search(r"reduce|reduction", n):
        return "XLA reductions"
    return "XLA fusions and other"


def _part(stats: dict, name: str) -> str:
    text = " ".join(str(v) for v in stats.values() if isinstance(v, str)) + " " + name
    return next((part for part, pattern in PARTS if re.search(pattern, text)), "other")


def _busy_and_gaps(intervals: list[tuple[int, int]]) -> tuple[float, collections.Counter, float]:
    intervals.sort()
    busy, gaps, gap_total = 0.0, collections.Counter(), 0.0
    start, end = intervals[0]
    for s, e in intervals[1:]:
        if s > end:
            busy += end - start
            gap = s - end
            gap_total += gap
            size = "<5us" if gap < 5e3 else "5-50us" if gap < 5e4 else "50-500us"
            gaps[size if gap < 5e5 else ">500us"] += 1
            start, end = s, e
        else:
            end = max(end, e)
    return busy + end - start, gaps, gap_total


def summarize(path: str, steps: int) -> dict:
    """The summary of a trace that covers `steps` training steps (see the module doc)."""
    from jax.profiler import ProfileData

    data = ProfileData.from_file(path)
    intervals, kernels = [], collections.defaultdict(lambda: [0, 0.0])
    parts, waits = collections.Counter(), collections.defaultdict(lambda: [0, 0.0])
    planes = []
    for plane in data.planes:
        device = plane.name.startswith("/device:")
        planes.append(plane.name)
        for line in plane.lines:
            for event in line.events:
                if device and line.name.startswith("Stream"):
                    intervals.append((event.start_ns, event.start_ns + event.duration_ns))
                    record = kernels[event.name[:120]]
                    record[0] += 1
                    record[1] += event.duration_ns
                elif device and line.name == "XLA Ops":
                    parts[_part(dict(event.stats), event.name)] += event.duration_ns
                elif not device and re.search(HOST_WAITS, event.name):
                    record = waits[event.name[:80]]
                    record[0] += 1
                    record[1] += event.duration_ns
    summary: dict = {"planes": planes, "steps": steps}
    if intervals:
        busy, gaps, gap_total = _busy_and_gaps(intervals)
        span = max(e for _, e in intervals) - min(s for s, _ in intervals)
        categories = collections.Counter()
        for name, (_, ns) in kernels.items():
            categories[kernel_category(name)] += ns
        top = sorted(kernels.items(), key=lambda item: -item[1][1])[:25]
        summary["gpu"] = {
            "kernels_per_step": len(intervals) / steps,
            "span_ms_per_step": span / steps / 1e6,
            "busy_ms_per_step": busy / steps / 1e6,
            "idle_fraction": 1 - busy / span if span else 0.0,
            "gaps_per_step": {size: n / steps for size, n in gaps.items()},
            "gap_ms_per_step": gap_total / steps / 1e6,
            "kernel_ms_per_step_by_category": {
                name: ns / steps / 1e6 for name, ns in categories.most_common()
            },
            "top_kernels": [
                {"name": name, "per_step": count / steps, "ms_per_step": ns / steps / 1e6}
                for name, (count, ns) in top
            ],
        }
    summary["xla_op_ms_per_step_by_part"] = {
        part: ns / steps / 1e6 for part, ns in parts.most_common()
    }
    summary["host_waits_per_step"] = {
        name: {"calls": count / steps, "ms": ns / steps / 1e6}
        for name, (count, ns) in sorted(waits.items(), key=lambda item: -item[1][1])[:15]
    }
    return summary

"""benchmarks/lib/measure.py's pure helpers: peaks, memory, the HLO summary; nothing measured."""

from types import SimpleNamespace

import jax

from benchmarks.lib import measure


def test_a_row_that_did_not_raise_the_process_peak_reports_no_peak():
    assert measure.row_peak_mb(2**30, 2**30) is None
    assert measure.row_peak_mb(2**30, 2**29) is None
    assert measure.row_peak_mb(2**29, 2**30) == 1024.0


def test_the_bf16_peak_is_known_for_the_device_machines_gpus_and_not_for_a_cpu(monkeypatch):
    def kind(name):
        monkeypatch.setattr(jax, "devices", lambda: [SimpleNamespace(device_kind=name)])
        return measure.datasheet_peak_flops()

    assert kind("NVIDIA H100 80GB HBM3") == 989e12
    assert kind("NVIDIA H200") == 989e12
    assert kind("cpu") is None


def test_the_hlo_summary_counts_what_makes_a_gpu_wait():
    text = "\n".join([
        '  %w = (s32[]) while(%t), body=%b, backend_config={"known_trip_count":{"n":"9"}}',
        "  %v = (s32[]) while(%u), condition=%c2, body=%b2",
        "  %k = f32[] conditional(%p, %a, %b), branch_computations={%x, %y}",
        "  %c = f32[2,8,8,4] convolution(%i, %f), window={size=3x3}, feature_group_count=2",
    ])  # fmt: skip
    summary = measure.hlo_summary(text)
    assert summary["while"] == 2 and summary["while_unknown_trip_count"] == 1
    assert summary["conditional"] == 1 and summary["convolutions"] == {"groups=2": 1}

"""The pure helpers of the benchmark scripts: the allocator-peak rule and the MFU peak table."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import jax

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "throughput.py"
spec = importlib.util.spec_from_file_location("benchmark_throughput", PATH)
throughput = importlib.util.module_from_spec(spec)
spec.loader.exec_module(throughput)


def test_a_row_that_did_not_raise_the_process_peak_reports_no_peak():
    assert throughput.row_peak_mb(2**30, 2**30) is None
    assert throughput.row_peak_mb(2**30, 2**29) is None
    assert throughput.row_peak_mb(2**29, 2**30) == 1024.0


def test_the_bf16_peak_is_known_for_the_device_machines_gpus_and_not_for_a_cpu(monkeypatch):
    def kind(name):
        monkeypatch.setattr(jax, "devices", lambda: [SimpleNamespace(device_kind=name)])
        return throughput.device_peak_flops()

    assert kind("NVIDIA H100 80GB HBM3") == 989e12
    assert kind("NVIDIA H200") == 989e12
    assert kind("cpu") is None

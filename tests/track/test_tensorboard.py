"""`--track tensorboard`: event files in RUN/tensorboard/, read back with TensorBoard's own
reader (the one its server uses)."""

import errno

import pytest

from tests.track.runs import (
    GENERATIONS,
    Acting,
    confirmed_curve,
    confirmed_ranking,
    expected,
    tracked,
)

pytest.importorskip("tensorboard", reason="TensorBoard is not installed (pip install tensorboard)")

from tensorboard.backend.event_processing import plugin_event_accumulator  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def read(logdir):
    """{tag: [(step, value)]} of every scalar and text TensorBoard finds in `logdir`."""
    reader = plugin_event_accumulator.EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    reader.Reload()
    found = {}
    for tag in reader.Tags()["tensors"]:
        values = []
        for event in reader.Tensors(tag):
            value = tensor_util.make_ndarray(event.tensor_proto)
            value = value.item() if value.dtype.kind != "O" else value.item().decode()
            values.append((event.step, value))
        found[tag] = values
    return found


def test_each_generation_and_the_confirmed_curves_are_in_tensorboards_files(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"
    code, _, err = tracked(monkeypatch, capsys, out, "tensorboard")
    assert code == 0, err
    logged = read(out / "tensorboard")
    steps = list(range(GENERATIONS + 1))
    for (algorithm, step), want in expected(out).items():

        def at(name, algorithm=algorithm, step=step):
            return dict(logged[f"{algorithm}/{name}"]).get(step)

        assert at("best_expression") == want["best_expression"]
        assert at("best_fitness") == pytest.approx(want["best_fitness"], rel=1e-6)
        assert at("best_wins") == want["best_wins"]
        assert at("failed_share") == pytest.approx(want["failed_share"])
        assert at("stopped_share") == pytest.approx(want["stopped_share"])
        assert at("evaluations") == want["evaluations"]
        if want["median_fitness"] is not None:
            assert at("median_fitness") == pytest.approx(want["median_fitness"], rel=1e-6)
        assert at("evaluations_per_second") > 0
        assert 0 <= at("rejected_share") <= 1
        assert [s for s, _ in logged[f"{algorithm}/best_fitness"]] == steps
    assert dict(logged["ngl/rejected_share"])[0] > 0.5  # most random trees fail the screen
    for rank, expression in enumerate(confirmed_ranking(out), start=1):
        assert dict(logged[f"confirmed/{rank}/expression"])[0] == expression
        curve = logged[f"confirmed/{rank}/digits/val_accuracy"]
        want = confirmed_curve(out, expression, "digits", "val_accuracy")
        assert [s for s, _ in curve] == list(range(1, len(want) + 1))
        assert [v for _, v in curve] == pytest.approx(want, rel=1e-6)
    ce = [v for _, v in logged["confirmed/ce/digits/val_loss"]]
    assert ce == pytest.approx(confirmed_curve(out, "ce", "digits", "val_loss"), rel=1e-6)
    assert '"population": 4' in dict(logged["config"])[0]


def test_a_resumed_run_continues_its_event_files_without_logging_a_generation_twice(
    monkeypatch, capsys, tmp_path
):
    out = tmp_path / "run"

    def interrupt():
        raise KeyboardInterrupt

    code, _, _ = tracked(monkeypatch, capsys, out, "tensorboard", trainer=Acting(6, interrupt))
    assert code == 130
    before = read(out / "tensorboard")
    assert 0 < len(before["ngl/best_fitness"]) < GENERATIONS + 1
    code, _, err = tracked(monkeypatch, capsys, out, resume=True)  # its trackers, continued
    assert code == 0, err
    assert len(list((out / "tensorboard").iterdir())) == 2
    after = read(out / "tensorboard")
    for algorithm in ("ngl", "tournament"):
        assert [s for s, _ in after[f"{algorithm}/best_fitness"]] == list(range(GENERATIONS + 1))
    for (algorithm, step), want in expected(out).items():
        assert dict(after[f"{algorithm}/best_expression"])[step] == want["best_expression"]


def test_a_full_disk_under_the_event_files_is_a_warning_and_the_search_finishes(
    monkeypatch, capsys, tmp_path
):
    from tensorboard.summary.writer import record_writer

    write, written = record_writer.RecordWriter.write, []

    def filling(self, data):
        written.append(data)
        if len(written) > 3:  # the file's header and the settings went in; then it is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(self, data)

    monkeypatch.setattr(record_writer.RecordWriter, "write", filling)
    out = tmp_path / "run"
    code, stdout, err = tracked(monkeypatch, capsys, out, "tensorboard")
    assert code == 0 and "best overall" in stdout
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: --track tensorboard: logging ")
    assert "No space left on device" in warnings[0] and "the search goes on" in warnings[0]
    assert (out / "summary.json").exists()
    assert set(expected(out)) == {(a, s) for a in ("ngl", "tournament") for s in range(3)}

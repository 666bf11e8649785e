"""The run directory: creation, recognition, durable journals of typed records, truncated
lines, strict JSON, and every record's JSON round trip."""

import json
import math

import pytest

from jaxgp.errors import ConfigError
from jaxgp.fitness import Fitness, Metric, Scores
from jaxgp.search.records import (
    Baselines,
    Candidate,
    Evaluation,
    Member,
    Phase,
    Snapshot,
    Summary,
    Training,
)
from jaxgp.search.rundir import RunDir, dumps
from jaxgp.status import Status
from jaxgp.train.results import EpochRecord

SCORES = {
    "digits": Scores(0.9, 0.6, 1.0, 0.55, history=(EpochRecord(1, 0.9, 0.6, 0.9, 0.6, 1e-3),))
}
BASE = {"digits": Scores(1.0, 0.5, 1.1, 0.5)}


def evaluation(i: int, status: str = "trained") -> Evaluation:
    candidate = Candidate.scored(f"y_pred * {i}.5", status, SCORES, BASE, "accuracy")
    return Evaluation(**vars(candidate), algorithm="ngl", generation=i, seconds=0.5,
                      eval_key="key", time=1.0)  # fmt: skip


def training(i: int) -> Training:
    return Training("key", "ngl", i, "digits", ("a", "b"), ((SCORES["digits"], 0.5),) * 2)


def test_create_then_open(tmp_path):
    RunDir.create(tmp_path / "run", {"a": 1})
    assert RunDir.open(tmp_path / "run").read_config() == {"a": 1}
    assert (tmp_path / "run" / "generations").is_dir()


def test_create_refuses_an_existing_run(tmp_path):
    RunDir.create(tmp_path / "run", {})
    with pytest.raises(ConfigError, match="--resume"):
        RunDir.create(tmp_path / "run", {})


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "not json",
        '{"settings": {}}',
        "[1, 2]",
        '{"format": "jaxgp-run"}',
        '{"format": "jaxgp-run", "settings": 5}',
    ],
)
def test_open_refuses_what_is_not_a_run(tmp_path, content):
    if content is not None:
        (tmp_path / "config.json").write_text(content)
    with pytest.raises(ConfigError, match="not a jaxgp run directory"):
        RunDir.open(tmp_path)
    with pytest.raises(ConfigError, match="not a jaxgp run directory"):
        RunDir.open(tmp_path / "missing")


def test_evaluations_are_appended_and_read_back_as_they_were(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    written = [evaluation(i) for i in range(3)]
    for record in written:
        run.append_evaluation(record)
    records, warnings = run.read_evaluations()
    assert records == written and warnings == []
    assert records[0].scores["digits"].history == SCORES["digits"].history


@pytest.mark.parametrize(
    ("name", "append", "read", "make", "kind"),
    [
        ("ledger.jsonl", "append_evaluation", "read_evaluations", evaluation, "evaluation"),
        ("trainings.jsonl", "append_training", "read_trainings", training, "training"),
    ],
)
def test_a_truncated_last_line_is_skipped_with_a_warning_and_repaired_only_when_asked(
    tmp_path, name, append, read, make, kind
):
    run = RunDir.create(tmp_path / "run", {})
    getattr(run, append)(make(0))
    with open(run.path / name, "a") as handle:
        handle.write('{"algorithm": "ngl", "expre')
    torn = (run.path / name).read_bytes()
    records, warnings = getattr(run, read)()
    assert records == [make(0)] and len(warnings) == 1 and "truncated" in warnings[0]
    assert f"that {kind} will be redone" in warnings[0]
    assert (run.path / name).read_bytes() == torn  # a reader leaves the file as it was
    getattr(RunDir.open(run.path, writer=False), read)(repair=True)
    assert (run.path / name).read_bytes() == torn  # and so does a run opened to read
    getattr(RunDir.existing(run.path), read)(repair=True)
    assert (run.path / name).read_bytes() == torn  # and an existing run, only ever read
    getattr(RunDir.open(run.path), read)(repair=True)
    assert (run.path / name).read_bytes() != torn  # a run opened to continue writes
    getattr(run, append)(make(2))
    assert getattr(run, read)() == ([make(0), make(2)], [])


def test_an_unreadable_middle_line_or_a_line_of_another_kind_is_skipped_with_a_warning(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    good = json.dumps(evaluation(0).to_dict())
    (run.path / "ledger.jsonl").write_text(f'{good}\ngarbage\n{{"i": 2}}\n{good}\n')
    records, warnings = run.read_evaluations()
    assert records == [evaluation(0)] * 2
    assert ["line 2" in warnings[0], "line 3" in warnings[1]] == [True, True]


def test_a_training_line_with_fewer_results_than_expressions_is_skipped_with_a_warning(tmp_path):
    line = training(0).to_dict()
    line["results"] = line["results"][:1]
    with pytest.raises(ValueError, match="as many results as expressions expected"):
        Training.from_dict(line)
    run = RunDir.create(tmp_path / "run", {})
    (run.path / "trainings.jsonl").write_text(json.dumps(line) + "\n")
    trainings, warnings = run.read_trainings()
    assert trainings == [] and len(warnings) == 1 and "unreadable line 1" in warnings[0]


def test_rewritten_files_are_atomic_strict_json(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    run.write_baselines(Baselines("key", {"digits": Scores(math.inf, 0.5, math.nan, 0.5)}))
    stored = json.loads((tmp_path / "run" / "baselines.json").read_text())
    assert stored["datasets"]["digits"]["val_loss"] is None
    assert not list((tmp_path / "run").rglob("*.tmp"))
    assert "NaN" not in dumps({"x": math.nan})


def test_snapshots_are_read_back_per_algorithm_and_generation(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    member = Member("y_pred", "trained", 1, 2.5, False)
    run.write_snapshot(Snapshot("ngl", 2, (member,), ("y_true",)))
    (run.path / "generations" / "tournament_1.json").write_text("{}")
    warnings = []
    snapshots = run.read_snapshots(warnings)
    assert snapshots == {"ngl": {2: Snapshot("ngl", 2, (member,), ("y_true",))}}
    assert len(warnings) == 1 and "tournament_1.json" in warnings[0]
    assert "unreadable population snapshot, skipped" in warnings[0]


def test_neither_a_stray_file_nor_an_unreadable_snapshot_hides_the_snapshots_after_them(
    tmp_path,
):
    run = RunDir.create(tmp_path / "run", {})
    (run.path / "generations" / "a-note.txt").write_text("not a snapshot")
    (run.path / "generations" / "ngl_1.json").write_text("{")
    snapshot = Snapshot("ngl", 2, (Member("y_pred", "trained", 1, 2.5, False),))
    run.write_snapshot(snapshot)
    warnings = []
    assert run.read_snapshots(warnings) == {"ngl": {2: snapshot}}
    assert len(warnings) == 1 and "ngl_1.json" in warnings[0]


def test_a_member_of_each_status_survives_its_json_round_trip_with_its_flags():
    members = (
        Member("y_pred", Status.TRAINED, 0, 2.5, False),
        Member("y_true", Status.STOPPED, 0, -1.0, False, stopped=True),
        Member("y_pred * y_true", Status.FAILED, 0, None, True),
        Member("y_pred + y_true", Status.CACHED, 2, 0.5, False),
    )
    for member in members:
        assert Member.from_dict(json.loads(dumps(member.to_dict()))) == member


def test_every_record_survives_its_json_round_trip():
    best = Candidate.scored("y_pred", Status.TRAINED, SCORES, BASE, Metric.LOSS)
    phase = Phase(wall_seconds=2.0, compilations=3, evaluations=4, trained=3, cached=1, failed=0,
                  replayed=0, expected_evaluations=4, best=best,
                  final_population=(best.member(),))  # fmt: skip
    summary = Summary(command="compare", metric=Metric.LOSS, best=best, best_algorithm="ngl",
                      baselines=BASE, initial=Phase(wall_seconds=1.0), algorithms={"ngl": phase},
                      eval_key="key", wall_seconds=5.0, compilations=7,
                      candidates_per_batch={"digits": {"source": "cpu"}})  # fmt: skip
    trip = json.loads(dumps(summary.to_dict()))
    assert Summary.from_dict(trip) == summary
    assert Training.from_dict(json.loads(dumps(training(3).to_dict()))) == training(3)
    assert Baselines.from_dict(json.loads(dumps(Baselines("k", BASE).to_dict()))) == Baselines(
        "k", BASE
    )


def test_an_evaluation_ranks_by_its_runs_metric_and_a_failed_one_last():
    trained, failed = evaluation(1), evaluation(2, status="failed")
    assert trained.sort_key == trained.fitness["accuracy"].sort_key > failed.sort_key
    assert failed.sort_key == (0, 0, 0.0) and failed.member().failed


def test_a_ledger_line_without_the_fitness_of_every_metric_ranks_by_its_top_level_fields():
    line = {"algorithm": "initial", "generation": 0, "expression": "y_pred", "status": "trained",
            "wins": 1, "average_improvement": 3.0}  # fmt: skip
    record = Evaluation.from_dict(line, metric="accuracy")
    assert record.ranking == Fitness("accuracy", 1, 3.0)
    assert record.sort_key == (2, 1, 3.0)


@pytest.mark.parametrize(
    "data, failed, stopped",
    [
        ({"status": "stopped", "wins": 0, "average_improvement": 2.0}, False, True),
        ({"status": "failed", "wins": 0, "average_improvement": None}, True, False),
        ({"status": "cached", "wins": 0, "average_improvement": None}, True, False),
        ({"status": "cached", "wins": 0, "average_improvement": 2.0, "stopped": True}, False, True),
        ({"wins": 2, "average_improvement": 1.0}, False, False),
    ],
    ids=[
        "stopped, before the flags",
        "failed, before the flags",
        "cached copy of a failed one",
        "cached copy of a stopped one",
        "before statuses",
    ],
)
def test_a_snapshot_member_ends_as_its_flags_its_status_or_its_missing_average_say(
    data, failed, stopped
):
    member = Member.from_dict({"expression": "x", **data})
    assert (member.failed, member.stopped) == (failed, stopped)
    assert member.status == data.get("status", Status.TRAINED)
    assert Member.from_dict(member.to_dict()) == member


def test_records_written_before_each_held_its_metric_rank_under_the_summarys():
    old = {"expression": "y_pred", "status": "trained", "wins": 1, "average_improvement": 3.0}
    data = {"fitness_metric": "loss", "best": {"algorithm": "ngl", **old},
            "initial": {"best": old}, "algorithms": {"ngl": {"best": old}}}  # fmt: skip
    summary = Summary.from_dict(data)
    bests = (summary.best, summary.initial.best, summary.algorithms["ngl"].best)
    assert [best.metric for best in bests] == ["loss"] * 3
    assert all(best.ranking == Fitness("loss", 1, 3.0) for best in bests)
    assert Candidate.from_dict(old, "loss").metric == "loss"
    assert Candidate.from_dict(old).metric == "accuracy"


def test_a_training_line_written_before_its_results_held_their_seconds_reads_them_as_zero():
    data = training(1).to_dict()
    for result in data["results"]:
        del result["seconds"]
    assert [seconds for _, seconds in Training.from_dict(data).results] == [0.0, 0.0]


def test_an_unreadable_baselines_file_reads_as_none_with_or_without_a_warnings_list(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    (run.path / "baselines.json").write_text("{")
    assert run.read_baselines() is None
    warnings = []
    assert run.read_baselines(warnings) is None
    assert len(warnings) == 1 and warnings[0].startswith(f"{run.path}/baselines.json: unreadable")
    run.write_baselines(Baselines("k", BASE))
    assert run.read_baselines() == Baselines("k", BASE)


def test_a_directory_without_a_generations_folder_has_no_snapshots(tmp_path):
    assert RunDir(tmp_path, writer=False).read_snapshots([]) == {}


def test_a_finished_runs_summary_is_written_once(tmp_path):
    run = RunDir.create(tmp_path / "run", {})
    run.write_summary(Summary())
    with pytest.raises(ConfigError) as refused:
        run.write_summary(Summary())
    assert str(refused.value) == f"{run.path} is finished: its summary.json is kept as it is"

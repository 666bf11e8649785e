"""Whole runs with the fake trainer: evaluation counts, files, compare, resume, refusals."""

import json
import tempfile
from collections import Counter

import numpy as np
import pytest

from jaxgp import distributed
from jaxgp.errors import ConfigError, RunFinished
from jaxgp.search import ALGORITHMS, Progress, RunOptions, plan_run, run_search, session
from jaxgp.search.run_settings import build_settings
from jaxgp.search.rundir import RunDir
from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer, fake_load

TINY = dict(population=8, generations=2, datasets=["digits"])


def run_evolve(out, trainer=None, **options):
    trainer = trainer or FakeTrainer()
    given = RunOptions(out=str(out), **{**TINY, **options})
    summary = run_search("evolve", given, trainer=trainer, load_fn=fake_load)
    return summary, trainer, [e.to_dict() for e in RunDir.open(out).read_evaluations()[0]]


def final_state(out):
    summary = json.loads((out / "summary.json").read_text())
    (name,) = summary["algorithms"]
    return summary["best"], summary["algorithms"][name]["final_population"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted fake run with the settings of the resume tests."""
    out = tmp_path_factory.mktemp("reference") / "run"
    fake_run.run(out)
    return out


@pytest.mark.parametrize("name, per_generation", [("tournament", 3), ("ngl", 8)])
def test_evaluation_counts_from_the_ledger(tmp_path, name, per_generation):
    summary, trainer, ledger = run_evolve(tmp_path / "run", algorithm=name)
    assert len(ledger) == 8 + 2 * per_generation  # P + T*N and P + T*P
    by_label = Counter(record["algorithm"] for record in ledger)
    assert by_label == {"initial": 8, name: 2 * per_generation}
    assert summary.evaluations == len(ledger)
    assert summary.algorithms[name].evaluations == 2 * per_generation
    assert Counter(trainer.trained()).most_common(1)[0][1] == 1  # nothing trained twice
    statuses = Counter(record["status"] for record in ledger)
    trained = statuses["trained"] + statuses["failed"] + statuses["stopped"]
    assert trained == len(set(trainer.trained()))
    assert summary.cache_hits == statuses["cached"]


def test_run_directory_files(tmp_path):
    run_evolve(tmp_path / "run", fitness="loss")
    out = tmp_path / "run"
    summary = json.loads((out / "summary.json").read_text())
    names = sorted(p.name for p in (out / "generations").iterdir())
    assert names == ["initial_0.json", "tournament_1.json", "tournament_2.json"]
    baselines = json.loads((out / "baselines.json").read_text())
    assert set(baselines["datasets"]) == {"digits"}
    assert summary["fitness_metric"] == "loss"
    for key in ("wall_seconds", "compilations", "compile_seconds", "cache_hits", "timing"):
        assert key in summary
    assert set(summary["best"]["datasets"]["digits"]) >= {"val_accuracy", "test_loss"}
    population = summary["algorithms"]["tournament"]["final_population"]
    assert len(population) == 8
    assert (
        population
        == json.loads((out / "generations" / "tournament_2.json").read_text())["population"]
    )


def test_compare_gives_both_algorithms_the_same_initial_population(tmp_path, monkeypatch):
    received = {}
    for name, algorithm in ALGORITHMS.items():

        def spy(self, initial, _init=algorithm.search.init, _name=name):
            received[_name] = [individual.expression for individual in initial]
            return _init(self, initial)

        monkeypatch.setattr(algorithm.search, "init", spy)
    given = RunOptions(out=str(tmp_path / "run"), **TINY)
    summary = run_search("compare", given, trainer=FakeTrainer(), load_fn=fake_load)
    run = RunDir.open(tmp_path / "run")
    assert list(received) == ["ngl", "tournament"]
    assert received["ngl"] == received["tournament"] and len(received["ngl"]) == 8
    ledger, _ = run.read_evaluations()
    assert Counter(r.algorithm for r in ledger) == {"initial": 8, "ngl": 16, "tournament": 6}
    for name in ("ngl", "tournament"):
        assert summary.algorithms[name].wall_seconds > 0
    assert "excluded" in summary.timing


def test_resuming_a_finished_run_trains_and_writes_nothing_and_gives_its_summary(reference):
    before = files_of(reference)
    trainer = FakeTrainer()
    with pytest.raises(RunFinished, match="is finished: its summary.json is final") as finished:
        fake_run.run(reference, resume=True, trainer=trainer)
    assert trainer.calls == []
    assert files_of(reference) == before
    assert finished.value.summary.best.expression == final_state(reference)[0]["expression"]


@pytest.mark.parametrize("keep", [3, 9, 12])
def test_a_cut_ledger_resumes_to_the_same_result(reference, tmp_path, keep):
    lines = reference.joinpath("ledger.jsonl").read_text().splitlines(keepends=True)
    out = fake_run.cut_copy(reference, tmp_path, keep, torn=lines[keep][:25])
    warnings = []

    class Collect(Progress):
        def warning(self, text):
            warnings.append(text)

    trainer = FakeTrainer()
    fake_run.run(out, resume=True, trainer=trainer, progress=Collect())
    assert len(warnings) == 1 and "truncated" in warnings[0]
    done = {json.loads(line)["expression"] for line in lines[:keep]}
    assert not done & set(trainer.trained())
    assert final_state(out) == final_state(reference)
    assert len(RunDir.open(out).read_evaluations()[0]) == len(lines)


def test_a_resume_takes_ce_from_baselines_json_and_trains_it_again_only_for_new_training(
    reference, tmp_path
):
    phases = fake_run.Phases()
    fake_run.run_with(tmp_path / "fresh", FakeTrainer(), fake_run.OPTIONS, progress=phases)
    assert phases.seen[0] == ("baselines", 0)
    trainer, phases = FakeTrainer(), fake_run.Phases()
    fake_run.run(fake_run.cut_copy(reference, tmp_path, 9), resume=True, trainer=trainer,
                 progress=phases)  # fmt: skip
    assert "ce" not in trainer.calls and "baselines" not in dict(phases.seen)
    forced = fake_run.cut_copy(reference, tmp_path / "forced", 9)
    trainer = FakeTrainer()
    given = RunOptions(resume=str(forced), force=True, epochs=fake_run.epochs_of(reference) + 1)
    summary = run_search("evolve", given, trainer=trainer, load_fn=fake_load)
    assert trainer.calls.count("ce") == 1  # digits, under the new evaluation key
    assert json.loads((forced / "baselines.json").read_text())["eval_key"] == summary.eval_key


def test_out_and_resume_together_must_name_the_same_run(reference, tmp_path):
    cut = fake_run.cut_copy(reference, tmp_path, 9)
    with pytest.raises(ConfigError) as refused:
        plan_run("evolve", RunOptions(out=str(tmp_path / "other"), resume=str(cut)))
    assert str(refused.value) == (
        "give either --out (a new run) or --resume (an existing one), not both"
    )
    same = RunOptions(out=str(tmp_path / "." / "cut"), resume=str(cut))
    assert plan_run("evolve", same)[1:] == (cut, True)


def files_of(directory):
    return {p.relative_to(directory): p.read_bytes() for p in directory.rglob("*") if p.is_file()}


def test_another_process_resumes_from_a_copy_of_process_0s_records_and_removes_it(
    reference, tmp_path, monkeypatch
):
    records = {name: (reference / name).read_text() for name in session.RESUME_FILES}
    monkeypatch.setattr(distributed, "process_count", lambda: 2)
    monkeypatch.setattr(distributed, "process_index", lambda: 1)
    answers = iter([json.dumps(records).encode(), b""])  # the records; process 0 claimed the run
    monkeypatch.setattr(distributed, "broadcast_bytes", lambda _: next(answers))
    monkeypatch.setattr(distributed, "check_same", lambda text, what: None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    copies, copy_of = [], session.shared_resume

    def shared_resume(path):
        copies.append(copy_of(path))
        return copies[-1]

    monkeypatch.setattr(session, "shared_resume", shared_resume)
    before = files_of(reference)
    trainer = FakeTrainer()
    fake_run.run(reference, resume=True, trainer=trainer)
    (copy,) = copies
    assert copy.startswith(str(tmp_path / session.RESUME_COPY_PREFIX))
    assert trainer.calls == []
    assert not list(tmp_path.iterdir())
    assert files_of(reference) == before


def test_resuming_with_other_settings_is_refused_unless_forced(reference, tmp_path):
    out = tmp_path / "forced"  # the reference's records without its summary: unfinished
    out.mkdir()
    for name in ("config.json", "baselines.json", "ledger.jsonl"):
        out.joinpath(name).write_text(reference.joinpath(name).read_text())
    with pytest.raises(ConfigError, match="population: 8 -> 6.*--force"):
        plan_run("evolve", RunOptions(resume=str(out), population=6))
    with pytest.raises(ConfigError, match="is finished and its settings stay.*population: 8 -> 6"):
        plan_run("evolve", RunOptions(resume=str(reference), population=6, force=True))
    with pytest.raises(ConfigError, match="jaxgp evolve --resume"):
        plan_run("compare", RunOptions(resume=str(reference)))
    with pytest.raises(ConfigError, match="not a jaxgp run"):
        plan_run("evolve", RunOptions(resume=str(tmp_path)))
    with pytest.raises(ConfigError, match="already holds a run"):
        run_search("evolve", RunOptions(out=str(reference)), trainer=FakeTrainer())
    settings, _, resumed = plan_run(
        "evolve", RunOptions(resume=str(out), generations=4, force=True)
    )
    assert resumed and settings.search.generations == 4
    trainer = FakeTrainer()
    run_search("evolve", RunOptions(resume=str(out), generations=4, force=True), trainer=trainer,
               load_fn=fake_load)  # fmt: skip
    ledger = [json.loads(line) for line in reference.joinpath("ledger.jsonl").open()]
    assert not {r["expression"] for r in ledger} & set(trainer.trained())
    assert len(trainer.trained()) <= 3  # only generation 4 is new


def test_the_summary_records_the_augmentation_each_dataset_trained_with(tmp_path):
    summary, _, _ = run_evolve(tmp_path / "run", datasets=["digits", "synthetic"])
    assert summary.augmentation["digits"]["horizontal_flip"] is False
    assert summary.augmentation["synthetic"]["horizontal_flip"] is True
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["augmentation"] == summary.augmentation


def test_with_two_fitness_seeds_every_candidate_and_ce_train_twice_and_score_their_mean(tmp_path):
    from jaxgp.fitness import Scores
    from tests.search.fake_trainer import fake_result

    out = tmp_path / "run"
    summary, trainer, ledger = run_evolve(out, seed=3, fitness_seeds=2, early_stop="none")
    other = 3 + 200 + 1
    second = Counter(label for label, seed in trainer.reseeded if seed == other)
    assert second == Counter(trainer.calls)  # every training again, on the second seed
    baselines = json.loads((out / "baselines.json").read_text())
    ce = baselines["datasets"]["digits"]
    assert ce["epochs_trained"] == 2 * 10
    for record in ledger:
        if record["status"] != "trained":
            continue
        runs = [Scores.from_result(fake_result(record["expression"], "digits", 10, seed))
                for seed in (3, other)]  # fmt: skip
        scores = record["datasets"]["digits"]
        assert scores["val_accuracy"] == pytest.approx(np.mean([r.val_accuracy for r in runs]))
        assert scores["test_loss"] == pytest.approx(np.mean([r.test_loss for r in runs]))
        assert scores["epochs_trained"] == 20
    trained = sum(1 for r in ledger if r["status"] in ("trained", "failed", "stopped"))
    assert summary.candidate_epochs_saved == 0
    assert summary.candidate_epochs_trained >= 20 * (trained - summary.failed)
    config = json.loads((out / "config.json").read_text())
    assert config.get("settings", config)["fitness_seeds"] == 2


def test_a_run_with_two_fitness_seeds_resumes_to_the_same_result_without_training_again(
    tmp_path,
):
    full = tmp_path / "full"
    run_evolve(full, seed=3, fitness_seeds=2, early_stop="baseline")
    cut = tmp_path / "cut"  # everything but the summary: an unfinished run, every call recorded
    cut.mkdir()
    for name in ("config.json", "baselines.json", "ledger.jsonl", "trainings.jsonl"):
        cut.joinpath(name).write_text(full.joinpath(name).read_text())
    lines = cut.joinpath("ledger.jsonl").read_text().splitlines(keepends=True)
    cut.joinpath("ledger.jsonl").write_text("".join(lines[:9]))
    again = FakeTrainer()
    resumed = run_search("evolve", RunOptions(resume=str(cut)), trainer=again, load_fn=fake_load)
    assert again.calls == [] and again.reseeded == []
    assert resumed.evaluations == 8 + 2 * 3
    assert final_state(cut) == final_state(full)


def test_in_compare_a_child_both_algorithms_ask_for_is_trained_by_each_with_its_own_cache(
    tmp_path, monkeypatch
):
    """The summary's timing note says neither algorithm reuses the other's training: a tree
    that NGL trained is trained again when the tournament asks for it, not taken from NGL's
    cache."""
    from jaxgp.expr import parse

    shared = parse("sin(y_pred) * y_true * y_true")
    for algorithm in ALGORITHMS.values():
        monkeypatch.setattr(algorithm.search, "propose", lambda self, state, rng: [shared])
    given = RunOptions(out=str(tmp_path / "run"), **{**TINY, "generations": 1})
    trainer = FakeTrainer()
    run_search("compare", given, trainer=trainer, load_fn=fake_load)
    ledger, _ = RunDir.open(tmp_path / "run").read_evaluations()
    lines = {(e.algorithm, e.expression): e.status for e in ledger if e.algorithm != "initial"}
    assert set(lines) == {("ngl", str(shared)), ("tournament", str(shared))}
    assert "cached" not in lines.values()
    assert trainer.trained().count(str(shared)) == 2


def test_each_dataset_is_loaded_from_the_runs_data_directory_with_its_seed():
    calls = []

    def load(name, **kwargs):
        calls.append((name, kwargs))
        return fake_load(name)

    options = RunOptions(datasets=["digits", "synthetic"], data_dir="/data/tfds", seed=7)
    loaded = session.load_datasets(build_settings("evolve", options), FakeTrainer(), load)
    assert [d.name for d in loaded] == ["digits", "synthetic"]
    assert calls == [
        (name, {"data_dir": "/data/tfds", "seed": 7}) for name in ("digits", "synthetic")
    ]

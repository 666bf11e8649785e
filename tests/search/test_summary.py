"""The run summary (`jaxgp.search.summary`): its counts, each phase's best and population and
what it replayed, checked against the run directory's own files; its record of the trainer's
batch plans, checked against the plans it was given."""

import json
from collections import Counter

import pytest

from jaxgp.search import RunOptions, run_search
from jaxgp.search.summary import batching_record
from jaxgp.train.batch_plan import BatchPlan, PlanSource, Probe
from tests.search import fake_run
from tests.search.fake_trainer import FakeTrainer, fake_load

SETTINGS = dict(population=8, generations=2, datasets=["digits"], early_stop="baseline",
                seed=11)  # fmt: skip
"""A compare run whose ledger holds every status: trained, stopped, failed and cached."""


def compare(out, *, resume=False, **options):
    return fake_run.run_with(out, FakeTrainer(), options, resume=resume, command="compare")


def ledger_of(out):
    return [json.loads(line) for line in (out / "ledger.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("summary") / "run"
    return out, compare(out, **SETTINGS)


def phases(summary):
    return {"initial": summary.initial, **summary.algorithms}


def test_every_status_is_in_the_ledger_the_counts_are_checked_against(run):
    out, _ = run
    assert set(Counter(line["status"] for line in ledger_of(out))) == {
        "trained", "stopped", "failed", "cached"}  # fmt: skip


def test_each_phases_counts_are_its_ledger_lines_and_the_totals_their_sums(run):
    out, summary = run
    ledger = ledger_of(out)
    for label, phase in phases(summary).items():
        lines = [line for line in ledger if line["algorithm"] == label]
        statuses = Counter(line["status"] for line in lines)
        trained = [line for line in lines if line["status"] != "cached"]
        ran = sum(len(d["history"]) for line in trained for d in line["datasets"].values())
        assert (phase.evaluations, phase.trained, phase.cached, phase.failed, phase.stopped) == (
            len(lines), statuses["trained"], statuses["cached"], statuses["failed"],
            statuses["stopped"])  # fmt: skip
        assert phase.candidate_epochs_trained == ran
        assert phase.candidate_epochs_saved == fake_run.epochs_of(out) * len(trained) - ran
    statuses = Counter(line["status"] for line in ledger)
    assert (summary.evaluations, summary.trained, summary.cache_hits, summary.failed,
            summary.stopped) == (len(ledger), statuses["trained"], statuses["cached"],
                                 statuses["failed"], statuses["stopped"])  # fmt: skip
    assert summary.candidate_epochs_trained == sum(
        p.candidate_epochs_trained for p in phases(summary).values()
    )
    assert summary.candidate_epochs_saved == sum(
        p.candidate_epochs_saved for p in phases(summary).values()
    )


def test_the_summary_names_its_command_and_language_and_holds_the_runs_baselines(run):
    out, summary = run
    settings = json.loads((out / "config.json").read_text())["settings"]
    language = settings["search"]["tree"]["language"]
    assert (summary.command, summary.language) == ("compare", language)
    baselines = json.loads((out / "baselines.json").read_text())["datasets"]
    assert {name: s.to_dict() for name, s in summary.baselines.items()} == baselines


def test_the_summary_records_where_and_under_which_key_the_run_trained_and_its_session(run):
    out, summary = run
    (key,) = {line["eval_key"] for line in ledger_of(out)}
    assert (summary.run_dir, summary.eval_key, summary.resumed) == (str(out), key, False)
    assert summary.wall_seconds > 0 and summary.wall_seconds >= summary.compile_seconds >= 0
    assert summary.compilations >= 0 and summary.compilation_cache_hits >= 0
    assert summary.candidates_per_batch == {}  # the fake trainer makes no batch plans


def test_a_run_resumed_with_settings_that_change_training_counts_only_the_new_trainings(
    run, tmp_path
):
    out, summary = run
    cut = fake_run.cut_copy(out, tmp_path, kept=12)
    given = RunOptions(resume=str(cut), force=True, epochs=fake_run.epochs_of(out) + 1)
    resumed = run_search("compare", given, trainer=FakeTrainer(), load_fn=fake_load)
    ledger = ledger_of(cut)
    new = [line for line in ledger if line["eval_key"] == resumed.eval_key]
    assert resumed.resumed and resumed.eval_key != summary.eval_key
    assert resumed.evaluations == len(new) == len(ledger) - 12
    assert {label: p.replayed for label, p in phases(resumed).items()} == dict.fromkeys(
        ("initial", "ngl", "tournament"), 0)  # fmt: skip


def test_each_algorithms_phase_holds_its_last_populations_members_and_its_best(run):
    out, summary = run
    for name, phase in summary.algorithms.items():
        last = json.loads((out / "generations" / f"{name}_2.json").read_text())["population"]
        assert [member.to_dict() for member in phase.final_population] == last
        assert phase.best is not None and phase.best.expression == last[0]["expression"]
        assert phase.expected_evaluations == phase.evaluations  # the run finished
    leader = max(summary.algorithms, key=lambda n: summary.algorithms[n].best.sort_key)
    assert summary.best_algorithm == leader
    assert summary.best == summary.algorithms[leader].best


def test_ngls_snapshots_hold_its_archive_of_removed_trees(run):
    out, _ = run
    evaluated = {line["expression"] for line in ledger_of(out)}
    for generation in (1, 2):
        snapshot = json.loads((out / "generations" / f"ngl_{generation}.json").read_text())
        archive, members = snapshot["archive"], {m["expression"] for m in snapshot["population"]}
        assert archive and set(archive) <= evaluated and not set(archive) & members


def test_an_uninterrupted_run_replayed_nothing_and_a_resumed_one_each_phases_kept_lines(
    run, tmp_path
):
    out, summary = run
    assert {label: phase.replayed for label, phase in phases(summary).items()} == {
        "initial": 0, "ngl": 0, "tournament": 0}  # fmt: skip
    kept = 12
    cut = fake_run.cut_copy(out, tmp_path, kept)
    resumed = compare(cut, resume=True)
    labels = Counter(line["algorithm"] for line in ledger_of(out)[:kept])
    assert labels["ngl"] > 0  # the cut falls inside the first algorithm's phase
    assert {label: phase.replayed for label, phase in phases(resumed).items()} == {
        "initial": labels["initial"], "ngl": labels["ngl"], "tournament": 0}  # fmt: skip
    assert resumed.best == summary.best


def test_with_two_model_seeds_the_epochs_saved_count_both_seeds_on_every_dataset(tmp_path):
    out = tmp_path / "run"
    two = {**SETTINGS, "generations": 1, "datasets": ["digits", "synthetic"]}
    summary = compare(out, **two, fitness_seeds=2)
    trained = [line for line in ledger_of(out) if line["status"] != "cached"]
    ran = sum(d["epochs_trained"] for line in trained for d in line["datasets"].values())
    assert summary.candidate_epochs_trained == ran
    models = 2 * 2 * len(trained)  # two seeds on two datasets
    assert summary.candidate_epochs_saved == fake_run.epochs_of(out) * models - ran > 0


PROBE = Probe({"vmap": {1: 10.0, 4: 30.0}}, {"vmap": "slower"}, 1.5, 8)


def test_the_batch_record_keeps_k_per_call_size_and_the_latest_plan_for_several_candidates():
    probed = BatchPlan(4, PlanSource.PROBED, PROBE, "vmap")
    remembered = BatchPlan(2, PlanSource.REMEMBERED, None, "scan")
    one = BatchPlan(1, PlanSource.ONE_CANDIDATE, None, "vmap")
    plans = [("a", 8, probed), ("a", 1, one), ("a", 2, remembered), ("a", 1, one),
             ("b", 1, one), ("b", 1, BatchPlan(1, PlanSource.CPU, None, "vmap"))]  # fmt: skip
    assert batching_record(plans) == {  # the probe of the first plan is not the latest's
        "a": {"k_by_candidates": {"8": 4, "1": 1, "2": 2}, "source": "remembered",
              "model_strategy": "scan"},
        "b": {"k_by_candidates": {"1": 1}, "source": "one candidate", "model_strategy": "vmap"},
    }  # fmt: skip
    assert batching_record(plans[:1])["a"]["probe"] == PROBE.to_dict()
    assert batching_record([]) == {}


def test_an_algorithm_of_no_generations_counts_nothing(tmp_path):
    summary = compare(tmp_path / "run", **{**SETTINGS, "generations": 0})
    for phase in summary.algorithms.values():
        counts = (phase.evaluations, phase.trained, phase.cached, phase.failed, phase.stopped,
                  phase.candidate_epochs_trained, phase.candidate_epochs_saved)  # fmt: skip
        assert counts == (0,) * 7 and phase.expected_evaluations == 0
    assert summary.initial.evaluations == 8

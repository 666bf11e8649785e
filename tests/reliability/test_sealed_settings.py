"""A run's settings are sealed: config.json carries a fingerprint, and a resume after a hand
edit of a setting that shapes the search stops with one line naming it (nothing written);
`--force` continues with the edited value as with an option; settings that cannot change
results may be edited; runs made before the fingerprint resume, and are sealed then."""

import json

import pytest

from jaxgp.search import session
from tests.cli.invoke import run_main
from tests.reliability.runs import copy_of, files_of, finished_run
from tests.search.fake_trainer import FakeTrainer


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("sealed"))


def edit(run, change) -> None:
    config = json.loads((run / "config.json").read_text())
    change(config)
    (run / "config.json").write_text(json.dumps(config, indent=2))


def population(config, value=12):
    config["settings"]["search"]["population"] = value


def test_an_edited_setting_stops_the_resume_naming_it(monkeypatch, capsys, finished, tmp_path):
    run = copy_of(finished, tmp_path, finished=False)
    edit(run, population)
    before = files_of(run)
    code, stdout, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(run))
    assert (code, stdout) == (2, "")
    assert err == (
        f"error: {run}/config.json was edited after the run started (search.population changed)"
        "; undo the edit, or give the new value as an option with --force\n"
    )
    assert files_of(run) == before


def test_with_force_the_edited_value_is_the_runs_and_sealed(
    monkeypatch, capsys, finished, tmp_path
):
    run = copy_of(finished, tmp_path, finished=False)
    edit(run, population)
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    code, _, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(run), "--force")
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["settings"]["search"]["population"] == 12
    summary = json.loads((run / "summary.json").read_text())
    assert len(summary["algorithms"]["tournament"]["final_population"]) == 12
    code, _, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(run))
    assert code == 0 and "is finished" in err  # sealed again: no edit is reported


@pytest.mark.parametrize(
    "change",
    [
        lambda config: config["settings"].update(data_dir="/elsewhere"),
        lambda config: config["settings"]["train"].update(candidates_per_batch=4),
        lambda config: config.pop("fingerprint"),  # a run made before fingerprints
    ],
    ids=["data_dir", "candidates_per_batch", "no fingerprint"],
)
def test_what_cannot_change_results_may_be_edited(monkeypatch, capsys, finished, tmp_path, change):
    run = copy_of(finished, tmp_path, finished=False)
    edit(run, change)
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())
    code, _, err = run_main(monkeypatch, capsys, "evolve", "--resume", str(run))
    assert code == 0, err
    assert "fingerprint" in json.loads((run / "config.json").read_text())

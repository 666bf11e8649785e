"""The seal on a run's settings (`jaxgp.search.seal`): which settings an edit changed."""

import pytest

from jaxgp.search.seal import edited, fingerprint

SETTINGS = {"search": {"population": 8, "generations": 4}, "train": {"learning_rate": 0.001},
            "data_dir": "/data"}  # fmt: skip


def test_an_unedited_run_has_no_edited_setting_and_the_environment_is_not_sealed():
    sealed = fingerprint(SETTINGS)
    assert sorted(sealed) == ["search.generations", "search.population", "train.learning_rate"]
    assert edited(SETTINGS, sealed) == []
    assert edited({**SETTINGS, "data_dir": "/elsewhere"}, sealed) == []


def test_a_changed_added_or_removed_setting_is_named():
    sealed = fingerprint(SETTINGS)
    changed = {**SETTINGS, "search": {"population": 12, "generations": 4}}
    added = {**SETTINGS, "search": {**SETTINGS["search"], "top_n": 2}}
    removed = {**SETTINGS, "train": {}}
    assert edited(changed, sealed) == ["search.population"]
    assert edited(added, sealed) == ["search.top_n"]
    assert edited(removed, sealed) == ["train.learning_rate"]


@pytest.mark.parametrize("sealed", [None, "abc", ["search.population"], {"search.population": 8}])
def test_a_seal_that_is_not_a_fingerprint_is_named_as_the_edited_setting(sealed):
    assert edited(SETTINGS, sealed) == ["fingerprint"]


def test_the_digests_stay_those_that_runs_on_disk_were_sealed_with():
    """Pinned: a change of the digest's text (its JSON separators, key order, length) would
    report every earlier run as edited on resume."""
    settings = {"search": {"population": 8}, "datasets": ["digits", "cifar10"],
                "split": [{"b": 1, "a": 2}]}  # fmt: skip
    assert fingerprint(settings) == {
        "datasets": "9558f08bd1d1", "search.population": "2c624232cdd2", "split": "82c9656ed6aa",
    }  # fmt: skip

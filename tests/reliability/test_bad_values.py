"""Every bad value of the hostile list is one `error:` line and exit 2, found before anything
is written: no run directory is left behind and no training starts."""

import pytest

from tests.cli.invoke import run_main as jaxgp

HUGE = "99999999999999999999"
SEARCH = [
    (["evolve", "--learning-rate", "nan"], "learning rates must be finite and positive, got nan"),
    (["compare", "--learning-rate", "inf"], "learning rates must be finite and positive, got inf"),
    (["evolve", "--learning-rate", "1e400"], "learning rates must be finite and positive"),
    (["evolve", "--learning-rate", "-1e-3"], "learning rates must be finite and positive"),
    (["evolve", "--seed", "-1"], "seed must be in [0, 2**32)"),
    (["evolve", "--seed", "4294967296"], "seed must be in [0, 2**32)"),
    (["compare", "--seed", HUGE], "seed must be in [0, 2**32)"),
    (["evolve", "-P", "12000"], "population must be at most 500 (the initial population is"),
    (["evolve", "-T", HUGE], "generations must be at most 1000"),
    (["evolve", "--epochs", HUGE], "epochs must be at most 1000"),
    (["evolve", "--confirm-seeds", "99999999999"], "confirm seeds must be at most 100"),
    (["evolve", "--imbalance", "nan"], "imbalance must be a ratio of at least 1"),
    (["evolve", "--label-noise", "nan"], "label noise must be in [0, 1)"),
    (["evolve", "--data", "synthetic:99999x99999x3:10"], "is too large: at most 256x256x4"),
]


@pytest.mark.parametrize(("args", "message"), SEARCH, ids=[" ".join(a) for a, _ in SEARCH])
def test_a_bad_search_option_is_one_line_before_the_run_directory_exists(
    monkeypatch, capsys, tmp_path, args, message
):
    out = tmp_path / "run"
    code, stdout, err = jaxgp(monkeypatch, capsys, *args, "--out", str(out))
    assert (code, stdout) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert not out.exists()


OTHERS = [
    (["train", "--loss", "ce", "--seed", "-1"], "--seed must be in [0, 2**32)"),
    (["train", "--loss", "ce", "--seed", HUGE], "--seed must be in [0, 2**32)"),
    (["train", "--loss", "ce", "--epochs", HUGE], "epochs must be at most 1000"),
    (["train", "--loss", "ce", "--data", "synthetic:99999x99999x3:10"], "is too large"),
    (["data", "show", "digits", "--seed", "-1"], "--seed must be in [0, 2**32)"),
    (["data", "show", "synthetic:99999x99999x3:10"], "is too large"),
    (["verify", "ngl", "--seeds", HUGE], "seeds must be at most 100 (each seed trains"),
    (["verify", "ngl", "--epochs", HUGE], "epochs must be at most 1000"),
    (["verify", "ngl", "--learning-rates", "nan"], "learning rates must be positive numbers"),
]


@pytest.mark.parametrize(("args", "message"), OTHERS, ids=[" ".join(a) for a, _ in OTHERS])
def test_a_bad_option_of_train_verify_or_data_show_is_one_line(
    monkeypatch, capsys, tmp_path, args, message
):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = jaxgp(monkeypatch, capsys, *args)
    assert (code, stdout) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert list(tmp_path.iterdir()) == []

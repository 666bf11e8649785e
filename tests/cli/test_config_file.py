"""`--config FILE` and `--print-config` of evolve, compare and verify."""

import json
import math
import tomllib

import pytest
import typer.main
from hypothesis import given
from hypothesis import strategies as st

from jaxgp.cli.main import _register, app
from jaxgp.cli.toml_writer import toml_table
from jaxgp.search import session
from jaxgp.search.options import RunOptions
from jaxgp.search.run_settings import build_settings, options_of
from jaxgp.search.scales import SCALES
from tests.cli.invoke import run_main as jaxgp
from tests.search.fake_trainer import FakeTrainer


@pytest.fixture
def fake_training(monkeypatch):
    monkeypatch.setattr(session, "DeviceTrainer", lambda: FakeTrainer())


def settings_of(run_dir):
    return json.loads((run_dir / "config.json").read_text())["settings"]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_run_takes_its_options_from_the_file_and_the_command_line_overrides_them(
    monkeypatch, capsys, tmp_path, fake_training
):
    config = write(
        tmp_path / "run.toml",
        'population = 4\ngenerations = 2\nearly_stop = "none"\ndata = ["digits"]\n'
        "confirm-seeds = 0\nlearning-rate = 3e-3\nimbalance = 5\n",
    )
    out = tmp_path / "run"
    code, _, err = jaxgp(
        monkeypatch, capsys, "evolve", "--config", config, "--generations", "1", "--out", str(out)
    )
    assert code == 0, err
    settings = settings_of(out)
    assert settings["search"]["population"] == 4 and settings["search"]["generations"] == 1
    assert settings["early_stop"] == "none" and settings["confirm_seeds"] == 0
    assert settings["train"]["learning_rate"] == 3e-3
    assert settings["train_split"]["imbalance"] == 5.0


def test_every_option_of_the_search_and_verify_commands_is_a_key(monkeypatch, capsys, tmp_path):
    _register()
    commands = typer.main.get_command(app).commands
    for name in ("evolve", "compare", "verify"):
        options = {
            opt[2:]
            for param in commands[name].params
            for opt in param.opts
            if opt.startswith("--") and opt not in ("--config", "--print-config", "--help")
        }
        write(tmp_path / "bad.toml", "nonsense = 1\n")
        args = [name, "--config", str(tmp_path / "bad.toml")]
        code, _, err = jaxgp(monkeypatch, capsys, *args, *(["ce"] if name == "verify" else []))
        assert code == 2 and err.count("\n") == 1
        listed = err.split("valid keys: ")[1].strip().split(", ")
        assert set(listed) == options, name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("populaton = 4\n", "unknown key 'populaton' (did you mean population?); valid keys: "),
        ("population = 4.5\n", "population must be an integer, got 4.5"),
        ('population = "4"\n', "population must be an integer, got '4'"),
        ("learning-rate = true\n", "learning-rate must be a number, got True"),
        ("[search]\npopulation = 4\n", "unknown key 'search'; valid keys: algorithm, "),
        ("population = \n", "is not valid TOML: "),
    ],
)
def test_a_bad_key_or_value_is_one_line_and_exit_2_before_anything_is_written(
    monkeypatch, capsys, tmp_path, text, message
):
    config = write(tmp_path / "run.toml", text)
    out = tmp_path / "run"
    code, _, err = jaxgp(monkeypatch, capsys, "evolve", "--config", config, "--out", str(out))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_a_missing_file_is_one_line_and_exit_2(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "no.toml"
    code, _, err = jaxgp(monkeypatch, capsys, "compare", "--config", str(missing))
    assert code == 2 and err == f"error: --config {missing}: No such file or directory\n"


def test_print_config_writes_the_scales_settings_and_reading_them_back_changes_nothing(
    monkeypatch, capsys, tmp_path
):
    code, printed, _ = jaxgp(monkeypatch, capsys, "evolve", "--scale", "tiny-lt", "--print-config")
    assert code == 0 and printed.startswith("# jaxgp evolve --config FILE reads these options")
    values = tomllib.loads(printed)
    assert values["population"] == 32 and values["learning-rate"] == 1e-2
    assert values["language"] == "priors" and values["imbalance"] == 20.0
    assert values["data"] == ["digits"] and "out" not in values
    config = write(tmp_path / "lt.toml", printed)
    code, again, _ = jaxgp(monkeypatch, capsys, "evolve", "--config", config, "--print-config")
    assert code == 0 and again == printed
    code, changed, _ = jaxgp(
        monkeypatch, capsys, "evolve", "--config", config, "-P", "40", "--print-config"
    )
    assert tomllib.loads(changed)["population"] == 40
    assert "sample-size" not in changed  # G and N stay derived from the population


def test_an_earlier_runs_config_json_is_a_template_for_a_new_run(
    monkeypatch, capsys, tmp_path, fake_training
):
    first = tmp_path / "first"
    args = ["--population", "4", "--generations", "1", "--seed", "7", "--epochs", "3"]
    args += ["--imbalance", "4", "--out", str(first)]
    code, _, _ = jaxgp(monkeypatch, capsys, "evolve", *args)
    assert code == 0
    second = tmp_path / "second"
    code, _, err = jaxgp(
        monkeypatch, capsys, "evolve", "--config", str(first / "config.json"), "--out", str(second)
    )
    assert code == 0, err
    assert settings_of(second) == settings_of(first)
    code, printed, _ = jaxgp(monkeypatch, capsys, "verify", "ngl", "--config", str(first),
                             "--print-config")  # fmt: skip
    values = tomllib.loads(printed)  # the keys verify has: the recipe and the split
    assert values["epochs"] == 3 and values["imbalance"] == 4.0 and "seed" not in values


def test_a_file_that_is_not_a_runs_config_json_is_refused(monkeypatch, capsys, tmp_path):
    config = write(tmp_path / "config.json", '{"population": 4}')
    code, _, err = jaxgp(monkeypatch, capsys, "evolve", "--config", config)
    assert code == 2 and "is not a jaxgp run's config.json" in err


@pytest.mark.parametrize("scale", list(SCALES))
@pytest.mark.parametrize("command", ["evolve", "compare"])
def test_the_options_of_a_runs_settings_build_those_settings_again(scale, command):
    settings = build_settings(command, RunOptions(scale=scale, algorithm=None))
    assert build_settings(command, options_of(settings)) == settings
    changed = build_settings(
        command, RunOptions(scale=scale, population=12, sample_size=5, label_noise=0.1, seed=3)
    )
    assert build_settings(command, options_of(changed)) == changed


values = st.dictionaries(
    st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True),
    st.one_of(
        st.text(),
        st.integers(-(2**63), 2**63 - 1),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.text(), max_size=3),
    ),
)


@given(values)
def test_the_toml_writer_is_read_back_by_tomllib_as_written(table):
    read = tomllib.loads(toml_table(table, "a comment\nover two lines"))
    assert read.keys() == table.keys()
    for key, value in table.items():
        if isinstance(value, float) and math.isinf(value):
            assert read[key] == value
        else:
            assert read[key] == value and type(read[key]) is type(value)

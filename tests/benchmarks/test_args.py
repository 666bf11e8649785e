"""Every measuring script takes the shared options (benchmarks/lib/args.py) and answers --help,
its parser built in this process: nothing is measured or compiled."""

import importlib
import sys

import pytest

from benchmarks.lib.args import SHARED, script_parser

SCRIPTS = [
    "benchmarks.micro.throughput",
    "benchmarks.micro.step_profile",
    "benchmarks.micro.interpreter",
    "benchmarks.micro.op_profile",
    "benchmarks.studies.k_dependence",
    "benchmarks.studies.prior_language",
    "benchmarks.studies.screen",
    "benchmarks.studies.early_stop",
    "benchmarks.vs_keras.compare",
]


def test_the_shared_options_parse_to_the_names_the_scripts_read():
    args = script_parser("A benchmark.\n\nMore.").parse_args(["--smoke", "--json", "-"])
    assert args.smoke is True and args.json_path == "-"
    assert script_parser("A benchmark.").parse_args([]).json_path is None


@pytest.mark.parametrize("name", SCRIPTS)
def test_each_script_lists_the_shared_options_in_its_help(name, monkeypatch, capsys):
    module = importlib.import_module(name)
    monkeypatch.setattr(sys, "argv", [name, "--help"])
    with pytest.raises(SystemExit) as exit_info:
        module.main()
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    assert module.__doc__.splitlines()[0] in " ".join(help_text.split())
    for action in SHARED._actions:
        assert action.option_strings[0] in help_text

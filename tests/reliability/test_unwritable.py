"""A path the machine refuses (here: under a file, as under /proc or on a read-only disk)
for a run, a report or a verification is one line naming it and the system's reason, exit
3, before anything is trained, and nothing is left behind."""

import pytest

from tests.cli.invoke import run_main
from tests.reliability.runs import finished_run


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return finished_run(tmp_path_factory.mktemp("unwritable"))


@pytest.mark.parametrize(
    "command",
    [
        ["evolve", "--out"],
        ["report", "{run}", "--out"],
        ["verify", "{run}", "--seeds", "2", "--out"],
    ],
    ids=["evolve", "report", "verify"],
)
def test_an_output_path_the_machine_refuses_is_one_line_and_exit_3(
    monkeypatch, capsys, tmp_path, finished, command
):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    args = [arg.format(run=finished) for arg in command]
    code, stdout, err = run_main(monkeypatch, capsys, *args, str(blocker / "out"))
    assert (code, stdout) == (3, "")
    assert (
        err.splitlines()[-1] == f"error: cannot create {blocker / 'out'}: Not a directory (ENOTDIR)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]

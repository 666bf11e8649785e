"""Arguments are not paths unless they name one: a text longer than a file name may be (255
bytes) reaches the expression parser or gives one line, never `File name too long`."""

import pytest

from tests.cli.invoke import run_main as jaxgp

LONG_LOSS = " + ".join(["exp(y_pred) * y_true"] * 12)  # 275 characters, a valid expression
LONG_TEXT = "a" * 300


def test_a_loss_longer_than_a_file_name_is_exported(monkeypatch, capsys):
    assert len(LONG_LOSS) > 255
    code, stdout, err = jaxgp(monkeypatch, capsys, "export", LONG_LOSS)
    assert code == 0, err
    assert "exp(y_pred) * y_true" in stdout and "def " in stdout


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("export", "unknown name"),
        ("verify", "is neither a run directory nor a loss"),
        ("report", "is not a directory (expected a jaxgp run directory)"),
    ],
)
def test_a_text_longer_than_a_file_name_is_one_line(monkeypatch, capsys, command, message):
    code, stdout, err = jaxgp(monkeypatch, capsys, command, LONG_TEXT)
    assert (code, stdout) == (2, "")
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert "File name too long" not in err

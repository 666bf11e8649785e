"""Option parsing shared by the commands: comma lists, K, and the training recipe."""

from __future__ import annotations

from jaxgp.errors import ConfigError


def split_names(text: str) -> list[str]:
    """`a,b , c` -> ['a', 'b', 'c']; an empty list is an error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"expected one or more comma-separated names, got {text!r}")
    return names


def candidates_per_batch(text: str) -> int | str:
    """`auto` or a positive integer."""
    if text == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(
            f"--candidates-per-batch must be 'auto' or a positive integer, got {text!r}"
        )
    return value

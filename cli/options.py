"""Option parsing and wording shared by the commands: comma lists, compile counts."""

from __future__ import annotations

from jaxgp.errors import ConfigError


def split_names(text: str) -> list[str]:
    """`a,b , c` -> ['a', 'b', 'c']; an empty list is an error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ConfigError(f"expected one or more comma-separated names, got {text!r}")
    return names


def loaded_from_cache(hits: int) -> str:
    """`, N of them loaded from the compilation cache` after a compile count, or nothing."""
    return f", {hits} of them loaded from the compilation cache" if hits else ""

"""A flat TOML table as text: what `--print-config` writes.

Options are strings, integers, floats, booleans and lists of them, so the writer is this
small; its output is read back by `tomllib` (Python's own reader) in the tests. Strings are
basic strings with JSON's escapes (every one of which TOML has) and DEL escaped, which JSON
leaves raw; floats keep `repr`'s digits, with `nan` and `inf` spelled as TOML spells them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: object) -> str:
    """One value as TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = repr(value)
        return text if any(c in text for c in ".en") else text + ".0"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__} {value!r}")


def toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else toml_value(key)


def toml_table(values: Mapping[str, object], comment: str = "") -> str:
    """`key = value` lines (None values left out), after `# comment` lines if given."""
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in values.items() if v is not None]
    return "\n".join(lines) + "\n"

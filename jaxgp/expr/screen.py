"""`Screen`: which validity screen a search's trees must pass (`jaxgp.expr.validity`).

`thesis` (the thesis's filter) and `learnable` (that filter and the learnability screen)
are chosen with `--screen`; `legacy` is what runs made before the thesis's signed filter
ran with, read from their `config.json` so that they resume as they ran. Parsed once, where
a `TreeConfig` is made; its text is what the run directory holds.
"""

from __future__ import annotations

from enum import StrEnum

from jaxgp.errors import ConfigError


class Screen(StrEnum):
    THESIS = "thesis"
    LEARNABLE = "learnable"
    LEGACY = "legacy"

    @staticmethod
    def parse(text: str) -> Screen:
        """The screen named `text`; `ConfigError` naming those a run may choose otherwise."""
        try:
            return Screen(text)
        except ValueError:
            raise ConfigError(
                f"unknown screen {text!r}; valid: {', '.join(CHOSEN_SCREENS)}"
            ) from None


CHOSEN_SCREENS = (Screen.THESIS, Screen.LEARNABLE)
"""The screens a new run may choose (`legacy` only continues old runs)."""

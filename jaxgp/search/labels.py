"""`Stage`: the parts of a run that label records as an algorithm does but are none.

A ledger line, a trainer call and a snapshot say which part of the run made them in their
`algorithm` field: an algorithm's name (`jaxgp.search.algorithms.ALGORITHMS`), or one of
these stages. Their values are the text the run directory has always held.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    BASELINE = "baseline"
    """The CE baselines' trainer calls."""
    INITIAL = "initial"
    """The initial population, evaluated once before the algorithms fork."""
    CONFIRM = "confirm"
    """Confirmation's trainer calls (`jaxgp.search.confirm`)."""

"""The largest sizes, counts and seeds jaxgp accepts, each with the reason it stops there.

A value typed with a few digits too many must stop in a second with one line, not fill the
memory (a count of seeds is a list of trainings) or run for years. The bounds, and why:

- a seed is in [0, 2**32): one 32-bit word, which NumPy's generators and JAX's random keys
  take whole (past 2**63 JAX cannot take it at all);
- population at most 500: the initial population is drawn from at most 10,000 random
  trees (`jaxgp.expr.generate.random_trees`), of which about 7 in 100 pass the learnability
  screen (145 of 2,000 measured), so 500 leaves a wide margin; the thesis's scales use 8;
- generations at most 1,000: a run keeps a population snapshot per generation and a resume
  replays every generation from the first; the thesis's large scale runs 12;
- epochs at most 1,000: every evaluation keeps its per-epoch history in its ledger line,
  which a resume and a report read whole; the thesis trains 6 to 10;
- seeds trained again (`--confirm-seeds`, `verify --seeds`) at most 100: each seed trains
  every loss compared again on every dataset.

The checks raise `ConfigError` (one line, exit 2) naming the bound and its reason.
"""

from __future__ import annotations

from jaxgp.errors import ConfigError

SEED_LIMIT = 2**32
MAX_POPULATION = 500
MAX_GENERATIONS = 1000
MAX_EPOCHS = 1000
MAX_SEEDS = 100

WHY = {
    "population": "the initial population is drawn from at most 10000 random trees and about "
    "7 in 100 pass the learnability screen",
    "generations": "a run keeps a snapshot per generation and a resume replays them all",
    "epochs": "every evaluation keeps its per-epoch history in the ledger",
    "seeds": "each seed trains every loss compared again on every dataset",
}


def check_seed(seed: int, what: str = "seed") -> int:
    """`seed` if it is in [0, 2**32); else `ConfigError` naming `what`."""
    if not 0 <= seed < SEED_LIMIT:
        raise ConfigError(f"{what} must be in [0, 2**32) (one 32-bit word), got {seed}")
    return int(seed)


def check_at_most(value: int, limit: int, what: str, why: str) -> int:
    """`value` if it is at most `limit`; else `ConfigError` saying `why` there is a limit."""
    if value > limit:
        raise ConfigError(f"{what} must be at most {limit} ({why}), got {value}")
    return value


def check_run_size(population: int, generations: int, epochs: int, confirm_seeds: int) -> None:
    """`ConfigError` for a search larger than the bounds above."""
    check_at_most(population, MAX_POPULATION, "population", WHY["population"])
    check_at_most(generations, MAX_GENERATIONS, "generations", WHY["generations"])
    check_epochs(epochs)
    check_at_most(confirm_seeds, MAX_SEEDS, "confirm seeds", WHY["seeds"])


def check_epochs(epochs: int) -> int:
    """`epochs` if at most `MAX_EPOCHS` (the lower bound is `TrainConfig`'s); else
    `ConfigError`."""
    return check_at_most(epochs, MAX_EPOCHS, "epochs", WHY["epochs"])

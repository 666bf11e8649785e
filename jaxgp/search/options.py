"""`RunOptions`: what a user asked of `jaxgp evolve` or `jaxgp compare`, as one typed value.

The CLI parses its options into one; `jaxgp.search.session.run_search` plans, starts and
runs the run it describes, and `jaxgp.search.run_settings.build_settings` turns it into
the run's `RunSettings`. A field left None was not given: it keeps the stored run's value
when resuming, else the scale's default.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunOptions:
    """The options of a search command; None where an option was not given."""

    algorithm: str | None = None
    """`evolve` only: tournament (the default) or ngl."""
    scale: str | None = None
    population: int | None = None
    generations: int | None = None
    sample_size: int | None = None
    top_n: int | None = None
    epochs: int | None = None
    datasets: tuple[str, ...] | None = None
    model: str | None = None
    fitness: str | None = None
    seed: int | None = None
    data_dir: str | None = None
    candidates_per_batch: str | int | None = None
    screen: str | None = None
    early_stop: str | None = None
    imbalance: float | None = None
    label_noise: float | None = None
    noise_kind: str | None = None
    train_fraction: float | None = None
    confirm_seeds: int | None = None
    learning_rate: float | None = None
    fitness_seeds: int | None = None
    """Model seeds each candidate's fitness averages over."""
    language: str | None = None
    """The loss language: thesis or priors (`jaxgp.expr.language`)."""
    out: str | None = None
    """The new run's directory (default `runs/<time>`)."""
    resume: str | None = None
    """The run directory to continue."""
    force: bool = False
    """Resume even where settings changed."""
    track: tuple[str, ...] | None = None
    """Trackers to log the run to (`tensorboard`, `mlflow`, `mlflow=URI`, `none`:
    `jaxgp.track`); None: none, or when resuming, those that followed the run before. Not
    a setting of the run: it changes what is logged, never what is searched."""

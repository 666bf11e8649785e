"""`verify`: train a found loss and CE again from scratch, on seeds the search did not use.

A search scores each loss by one training per dataset with the run's seed, so a loss can
beat CE by that seed's luck. `verify(target, seeds=n)` trains the loss and CE n times more
on each dataset and compares their test accuracy seed by seed: the mean and standard
deviation (n - 1 degrees of freedom) of each, and the paired difference loss - CE with its
95 % interval and verdict (`jaxgp.paired`).

Seeds: the search used its run's seed s (for a loss given as text, s = 0, the default of
`jaxgp evolve`) for everything random in a training. Verification seed i (i = 0 .. n-1) is
s + 1000 + i; it initialises the model and drives the dropout of the i-th model of the loss
and of the i-th model of CE, so the two models of a pair start from the same weights. The
data order, the augmentation and the train/validation split of all 2n models use
s + 1000. No model is trained with s. So the spread over seeds is that of initialisation
and dropout; the data are handled as in one search evaluation, under another seed.

All 2n models of a dataset are the candidates of one `train_candidates` call, so on an
accelerator they train K at a time.

The target is a run directory (its best loss, trained with the run's model, epochs,
datasets and data directory unless overridden) or a loss (a named loss or an expression;
by default with the tiny scale's recipe). `write_verification` puts `verify.json` and
`verify.png` in a directory (a run's, where `jaxgp report` shows them).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.losses import LossSpec, resolve_loss
from jaxgp.search.run_settings import check_datasets, check_model
from jaxgp.search.rundir import write_json_atomic
from jaxgp.search.scales import get_scale
from jaxgp.train.config import TrainConfig
from jaxgp.verify_result import VERIFY_JSON, VERIFY_PNG, DatasetVerification, VerifyResult

SEED_OFFSET = 1000
DEFAULT_SCALE = "tiny"


def verification_seeds(search_seed: int, count: int) -> list[int]:
    """The model seeds of a verification of a search that used `search_seed`."""
    return [search_seed + SEED_OFFSET + i for i in range(count)]


@dataclass(frozen=True)
class VerifyPlan:
    """What a verification will train: the loss, its origin, the recipe and the datasets."""

    loss: LossSpec
    origin: str
    run_dir: str | None
    search_seed: int
    config: TrainConfig
    datasets: tuple[str, ...]
    data_dir: str | None
    seeds: tuple[int, ...]


def _run_plan(path: Path) -> tuple[LossSpec, str, Any]:
    from jaxgp.report.run_data import load_best

    run, algorithm, _, tree = load_best(path, "verify")
    return resolve_loss(tree), f"the best loss of run {path}, found by {algorithm}", run.settings


def _loss(target: str) -> LossSpec:
    try:
        return resolve_loss(target)
    except (ConfigError, ExpressionError) as error:
        if Path(target).exists():
            raise ConfigError(f"{target} is a file, not a run directory or a loss") from None
        if target.strip() and not any(c.isspace() for c in target.strip()):
            raise ConfigError(
                f"{target!r} is neither a run directory nor a loss: {error}"
            ) from None
        raise


def plan_verification(
    target: str,
    *,
    seeds: int = 5,
    datasets: Sequence[str] | None = None,
    epochs: int | None = None,
    model: str | None = None,
    data_dir: str | None = None,
) -> VerifyPlan:
    """Check the input and resolve the loss and recipe of a verification (see `verify`);
    `ConfigError` (or `ExpressionError`) for bad input."""
    if seeds < 2:
        raise ConfigError(f"seeds must be at least 2 for a confidence interval, got {seeds}")
    if Path(target).is_dir():
        loss, origin, settings = _run_plan(Path(target))
        base, names, seed = settings.train, settings.datasets, settings.seed
        run_dir, data_dir = str(target), data_dir if data_dir is not None else settings.data_dir
    else:
        loss, origin, seed, run_dir = _loss(target), "given on the command line", 0, None
        scale = get_scale(DEFAULT_SCALE)
        base = TrainConfig(model=scale.model, epochs=scale.epochs)
        names = scale.datasets
    names = check_datasets(tuple(datasets) if datasets else tuple(names))
    model = check_model(model if model is not None else base.model)
    config = dataclasses.replace(
        base, model=model, epochs=epochs if epochs is not None else base.epochs,
        seed=seed + SEED_OFFSET,
    )  # fmt: skip
    model_seeds = tuple(verification_seeds(seed, seeds))
    return VerifyPlan(loss, origin, run_dir, seed, config, names, data_dir, model_seeds)


def run_verification(
    plan: VerifyPlan,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    train_fn: Callable[..., Any] | None = None,
    load_fn: Callable[..., Any] | None = None,
) -> VerifyResult:
    """Train what `plan` says; `train_fn` and `load_fn` default to `train_candidates` and
    `load_dataset`."""
    if train_fn is None:
        from jaxgp.train.loop import train_candidates as train_fn
    if load_fn is None:
        from jaxgp.data.load import load_dataset as load_fn
    n = len(plan.seeds)
    start = time.perf_counter()
    verified = []
    for name in plan.datasets:
        dataset = load_fn(name, data_dir=plan.data_dir, seed=plan.config.seed)
        losses = [plan.loss] * n + ["ce"] * n
        report = train_fn(
            losses, dataset, plan.config, seeds=list(plan.seeds) * 2, progress=progress
        )
        loss_results, ce_results = report.results[:n], report.results[n:]
        verified.append(
            DatasetVerification(
                name,
                tuple(float(r.test_accuracy) for r in loss_results),
                tuple(float(r.test_accuracy) for r in ce_results),
                sum(r.failed for r in loss_results),
                sum(r.failed for r in ce_results),
                float(report.seconds),
            )
        )
    return VerifyResult(
        loss=plan.loss.label,
        origin=plan.origin,
        model=plan.config.model,
        epochs=plan.config.epochs,
        search_seed=plan.search_seed,
        seeds=plan.seeds,
        data_seed=plan.config.seed,
        datasets=tuple(verified),
        run_dir=plan.run_dir,
        seconds=time.perf_counter() - start,
    )


def verify(
    target: str,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    train_fn: Callable[..., Any] | None = None,
    load_fn: Callable[..., Any] | None = None,
    **options: Any,
) -> VerifyResult:
    """Train the loss of `target` and CE on new seeds per dataset and compare them.

    `target` is a run directory or a loss; `options` are `plan_verification`'s (`seeds`,
    and `datasets`, `epochs`, `model`, `data_dir` overriding its recipe). Bad input raises
    `ConfigError` (or `ExpressionError`) before anything is loaded or trained.
    """
    plan = plan_verification(target, **options)
    return run_verification(plan, progress=progress, train_fn=train_fn, load_fn=load_fn)


def check_directory(directory: str | Path) -> Path:
    """`directory` as a path, or `ConfigError` when it exists and is not a directory."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"--out {directory} exists and is not a directory")
    return directory


def write_verification(result: VerifyResult, directory: str | Path) -> tuple[Path, Path]:
    """Write `verify.json` and `verify.png` into `directory`; returns their paths."""
    from jaxgp.report.verification import verification_figure

    directory = check_directory(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_json_atomic(directory / VERIFY_JSON, result.to_dict())
    return directory / VERIFY_JSON, verification_figure(result, directory / VERIFY_PNG)

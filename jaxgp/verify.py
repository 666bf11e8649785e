"""`verify`: train found losses and their references again from scratch, on seeds the search
did not use, and compare them.

A search scores each loss by one training per dataset with the run's seed, so a loss can
beat CE by that seed's luck. `verify(target, seeds=n)` trains the loss and CE n times more
on each dataset and compares their test accuracy seed by seed: the mean and standard
deviation (n - 1 degrees of freedom) of each, and the paired difference loss - CE with its
95 % interval, p value and verdict (`jaxgp.paired`).

- `against`: the references (default CE; e.g. ce, ngl, focal, fpl); every loss is compared
  with each, and the verdicts are Holm-corrected over all comparisons (datasets included),
  so their familywise error stays at 5 %.
- `learning_rates`: every loss and reference is trained at each rate and compared at the
  rate where its mean validation accuracy was best, so a "better loss" that only rescales
  the gradient (a learning rate in disguise) is seen as such.
- Several losses may be verified at once; each model is trained once (CE once per seed and
  dataset, whatever it is paired with), all in one trainer call per dataset, so on an
  accelerator they train K at a time.

Seeds: the search used its run's seed s (for a loss given as text, s = 0, the default of
`jaxgp evolve`) for everything random in a training. Verification seed i (i = 0 .. n-1) is
s + 1000 + i; it initialises the model and drives the dropout of the i-th model of every
loss, so the models of a pair start from the same weights. The data order, the
augmentation, the train/validation split and the training-split transform (long tail,
noise) of all models use s + 1000. No model is trained with s (nor with the confirmation
seeds s + 100 + i of `jaxgp.search.confirm`). So the spread over seeds is that of
initialisation and dropout; the data are handled as in one search evaluation, under
another seed.

The target is a run directory (its best loss, trained with the run's model, epochs,
datasets, training split and data directory unless overridden) or losses (named or
expressions; by default with the tiny scale's recipe). Datasets may be registered names or
`jaxgp.data.Dataset`s. `write_verification` puts `verify.json` and `verify.png` in a
directory (a run's, where `jaxgp report` shows them).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jaxgp.data.dataset import Dataset
from jaxgp.data.train_split import TrainSplit
from jaxgp.errors import ConfigError, ExpressionError
from jaxgp.expr.language import DEFAULT_LANGUAGE, smallest_language
from jaxgp.limits import MAX_SEEDS, WHY, check_at_most, check_epochs
from jaxgp.losses import LossSpec, resolve_loss
from jaxgp.search.run_settings import check_datasets, check_model
from jaxgp.search.rundir import make_directory, write_json_atomic
from jaxgp.search.scales import get_scale
from jaxgp.train.config import TrainConfig
from jaxgp.verify_result import VERIFY_JSON, VERIFY_PNG, Comparison, RateSweep, VerifyResult

SEED_OFFSET = 1000
DEFAULT_SCALE = "tiny"


def verification_seeds(search_seed: int, count: int) -> list[int]:
    """The model seeds of a verification of a search that used `search_seed`."""
    return [search_seed + SEED_OFFSET + i for i in range(count)]


@dataclass(frozen=True)
class VerifyPlan:
    """What a verification will train: the losses, their references, the recipe, the
    datasets (registered names, or `Dataset`s given as they are) and the seeds."""

    losses: tuple[LossSpec, ...]
    origin: str
    run_dir: str | None
    search_seed: int
    config: TrainConfig
    datasets: tuple[str | Dataset, ...]
    data_dir: str | None
    seeds: tuple[int, ...]
    train_split: TrainSplit = TrainSplit()
    against: tuple[LossSpec, ...] = (resolve_loss("ce"),)
    learning_rates: tuple[float, ...] = ()
    """Empty: the recipe's own rate only."""

    @property
    def loss(self) -> LossSpec:
        return self.losses[0]

    @property
    def rates(self) -> tuple[float, ...]:
        return self.learning_rates or (self.config.learning_rate,)

    def trained(self) -> list[LossSpec]:
        """Every loss to train once per seed and rate: the verified ones, then the
        references that are not among them (CE is trained once, whatever it is paired with)."""
        specs: dict[str, LossSpec] = {}
        for spec in (*self.losses, *self.against):
            specs.setdefault(spec.label, spec)
        return list(specs.values())


def _run_plan(path: Path) -> tuple[LossSpec, str, Any]:
    from jaxgp.report.run_data import load_best

    run, algorithm, _, tree = load_best(path, "verify")
    origin = f"the best loss of run {path}, found by {algorithm}"
    if run.confirmed_best() is not None:
        origin += f", confirmed on {run.settings.confirm_seeds} more seeds"
    return resolve_loss(tree), origin, run.settings


def _loss(target: str) -> LossSpec:
    try:
        return resolve_loss(target)
    except (ConfigError, ExpressionError) as error:
        if os.path.exists(target):  # False for a text no file can be named
            raise ConfigError(f"{target} is a file, not a run directory or a loss") from None
        if target.strip() and not any(c.isspace() for c in target.strip()):
            raise ConfigError(
                f"{target!r} is neither a run directory nor a loss: {error}"
            ) from None
        raise


def _dataset_names(datasets: Sequence[str | Dataset]) -> tuple[str | Dataset, ...]:
    names = [d if isinstance(d, str) else d.name for d in datasets]
    check_datasets(tuple(n for n, d in zip(names, datasets, strict=True) if isinstance(d, str)))
    if len(set(names)) != len(names):
        raise ConfigError(f"a dataset is listed twice: {', '.join(names)}")
    return tuple(datasets)


def _rates(values: Sequence[float] | None) -> tuple[float, ...]:
    rates = tuple(float(v) for v in values or ())
    if any(not (r > 0 and r < float("inf")) for r in rates):
        raise ConfigError(f"learning rates must be positive numbers, got {list(rates)}")
    if len(set(rates)) != len(rates):
        raise ConfigError(f"a learning rate is listed twice: {list(rates)}")
    return rates


def plan_verification(
    target: str | Sequence[str],
    *,
    seeds: int = 5,
    datasets: Sequence[str | Dataset] | None = None,
    epochs: int | None = None,
    model: str | None = None,
    data_dir: str | None = None,
    train_split: TrainSplit | None = None,
    against: Sequence[str] | None = None,
    learning_rates: Sequence[float] | None = None,
) -> VerifyPlan:
    """Check the input and resolve the losses and recipe of a verification (see `verify`);
    `ConfigError` (or `ExpressionError`) for bad input.

    `target`: a run directory (its best loss, with its recipe), or one or more losses
    (named or expressions, with the tiny scale's recipe). `against`: the references each
    is compared with (default CE). `learning_rates`: train every loss at each and compare
    each at its own best validation rate.
    """
    if seeds < 2:
        raise ConfigError(f"seeds must be at least 2 for a confidence interval, got {seeds}")
    check_at_most(seeds, MAX_SEEDS, "seeds", WHY["seeds"])
    if epochs is not None:
        check_epochs(epochs)
    targets = [target] if isinstance(target, str) else list(target)
    if not targets:
        raise ConfigError("nothing to verify: give a run directory or a loss")
    if len(targets) == 1 and os.path.isdir(targets[0]):
        loss, origin, settings = _run_plan(Path(targets[0]))
        losses = (loss,)
        base, names, seed = settings.train, settings.datasets, settings.seed
        run_dir = str(targets[0])
        data_dir = data_dir if data_dir is not None else settings.data_dir
        split = settings.train_split
    else:
        losses = tuple(_loss(t) for t in targets)
        origin, seed, run_dir = "given on the command line", 0, None
        scale = get_scale(DEFAULT_SCALE)
        base = TrainConfig(model=scale.model, epochs=scale.epochs)
        names, split = scale.datasets, scale.train_split
    references = tuple(resolve_loss(a) for a in (against if against is not None else ["ce"]))
    if not references:
        raise ConfigError("--against needs at least one loss to compare with")
    if {r.label for r in references} <= {spec.label for spec in losses} and len(losses) == 1:
        raise ConfigError("--against compares the loss with itself only: name another loss")
    chosen = _dataset_names(tuple(datasets) if datasets else tuple(names))
    model = check_model(model if model is not None else base.model)
    trees = [spec.tree for spec in (*losses, *references) if spec.tree is not None]
    language = smallest_language(trees, at_least=base.language or DEFAULT_LANGUAGE)
    config = dataclasses.replace(
        base, model=model, epochs=epochs if epochs is not None else base.epochs,
        seed=seed + SEED_OFFSET, language=language.name,
    )  # fmt: skip
    model_seeds = tuple(verification_seeds(seed, seeds))
    split = train_split if train_split is not None else split
    return VerifyPlan(
        losses, origin, run_dir, seed, config, chosen, data_dir, model_seeds, split,
        references, _rates(learning_rates),
    )  # fmt: skip


def run_verification(
    plan: VerifyPlan,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    train_fn: Callable[..., Any] | None = None,
    load_fn: Callable[..., Any] | None = None,
) -> VerifyResult:
    """Train what `plan` says (every loss and reference at every rate on every seed of a
    dataset in one trainer call); `train_fn` and `load_fn` default to `train_candidates`
    and `load_dataset`."""
    if train_fn is None:
        from jaxgp.train.loop import train_candidates as train_fn
    if load_fn is None:
        from jaxgp.data.load import load_dataset as load_fn
    seeds, rates, specs = list(plan.seeds), plan.rates, plan.trained()
    n = len(seeds)
    start = time.perf_counter()
    comparisons: list[Comparison] = []
    sweeps: list[RateSweep] = []
    for entry in plan.datasets:
        loaded = (
            load_fn(entry, data_dir=plan.data_dir, seed=plan.config.seed)
            if isinstance(entry, str) else entry
        )  # fmt: skip
        dataset = plan.train_split.apply(loaded, plan.config.seed)
        grid = [(spec, rate) for spec in specs for rate in rates]
        extra = (
            {"learning_rates": [rate for _, rate in grid for _ in seeds]}
            if plan.learning_rates
            else {}
        )
        report = train_fn(
            [spec for spec, _ in grid for _ in seeds], dataset, plan.config,
            seeds=seeds * len(grid), progress=progress, **extra,
        )  # fmt: skip
        by_rate = {
            (spec.label, rate): report.results[i * n : (i + 1) * n]
            for i, (spec, rate) in enumerate(grid)
        }
        best: dict[str, float] = {}
        for spec in specs:
            sweep = RateSweep(
                dataset.name, spec.label, tuple(rates),
                tuple(_mean(r.val_accuracy for r in by_rate[spec.label, rate]) for rate in rates),
                tuple(_mean(r.test_accuracy for r in by_rate[spec.label, rate]) for rate in rates),
            )  # fmt: skip
            best[spec.label] = sweep.chosen
            if plan.learning_rates:
                sweeps.append(sweep)
        for loss in plan.losses:
            for reference in plan.against:
                if reference.label == loss.label:
                    continue
                mine = by_rate[loss.label, best[loss.label]]
                theirs = by_rate[reference.label, best[reference.label]]
                comparisons.append(
                    Comparison(
                        dataset.name, loss.label, reference.label,
                        tuple(float(r.test_accuracy) for r in mine),
                        tuple(float(r.test_accuracy) for r in theirs),
                        sum(r.failed for r in mine), sum(r.failed for r in theirs),
                        best[loss.label] if plan.learning_rates else None,
                        best[reference.label] if plan.learning_rates else None,
                        float(report.seconds),
                    )
                )  # fmt: skip
    return VerifyResult(
        losses=tuple(spec.label for spec in plan.losses),
        origin=plan.origin,
        model=plan.config.model,
        epochs=plan.config.epochs,
        search_seed=plan.search_seed,
        seeds=plan.seeds,
        data_seed=plan.config.seed,
        comparisons=tuple(comparisons),
        run_dir=plan.run_dir,
        seconds=time.perf_counter() - start,
        train_split=plan.train_split,
        sweeps=tuple(sweeps),
    )


def _mean(values) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values) if values else float("nan")


def verify(
    target: str | Sequence[str],
    *,
    progress: Callable[[str, int, int], None] | None = None,
    train_fn: Callable[..., Any] | None = None,
    load_fn: Callable[..., Any] | None = None,
    **options: Any,
) -> VerifyResult:
    """Train the loss(es) of `target` and their references on new seeds per dataset and
    compare them.

    `target` is a run directory or one or more losses; `options` are
    `plan_verification`'s (`seeds`, `against`, `learning_rates`, `train_split`, and
    `datasets` (names or `Dataset`s), `epochs`, `model`, `data_dir` overriding its recipe).
    Bad input raises `ConfigError` (or `ExpressionError`) before anything is loaded or
    trained.
    """
    plan = plan_verification(target, **options)
    return run_verification(plan, progress=progress, train_fn=train_fn, load_fn=load_fn)


def check_directory(directory: str | Path) -> Path:
    """`directory` as a path, or `ConfigError` when it exists and is not a directory."""
    directory = Path(directory)
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise ConfigError(f"--out {directory} exists and is not a directory")
    return directory


def write_verification(result: VerifyResult, directory: str | Path) -> tuple[Path, Path]:
    """Write `verify.json` and `verify.png` into `directory`; returns their paths."""
    from jaxgp.report.verification import verification_figure

    directory = make_directory(check_directory(directory))
    write_json_atomic(directory / VERIFY_JSON, result.to_dict())
    return directory / VERIFY_JSON, verification_figure(result, directory / VERIFY_PNG)

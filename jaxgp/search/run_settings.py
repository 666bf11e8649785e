"""Everything that defines a run (`RunSettings`, the record of `config.json`), built from a
scale plus overrides.

`build_settings` is what the CLI calls: options left as `None` come from `base` (the stored
configuration when resuming) or else from the scale. `RunSettings.to_dict` / `from_dict`
are the `config.json` form; `differences` lists what changed between two configurations,
ignoring the settings that cannot change results (`ENVIRONMENT_KEYS`: the data directory and
how candidates are batched on the device). `evaluation_key` hashes what a training result
depends on (suite, model, recipe, seed, and the early-stop policy with the metric it judges
by, the training split's transform and a loss language other than the thesis's), so that
the fitness cache and the CE baselines are only reused under the same training settings.

`train.max_pool` and `train.conv` are the models' kernel forms on the backend a run starts
on (`jaxgp.policy`), kept so that a resumed run trains as it began (runs made before them
read as the forms they trained with: `window`, `xla`); like the batching settings they
change results only at float32 rounding, so they are environment keys.

The loss language (`jaxgp.expr.language`) is one setting kept in two places, each where it
acts: `search.tree.language` (what trees are drawn) and `train.language` (which
interpreter the trainer compiles); runs made before it existed read as `thesis`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from jaxgp.choices import AUTO
from jaxgp.data.augment import AugmentConfig
from jaxgp.data.registry import get_spec
from jaxgp.data.train_split import TrainSplit
from jaxgp.errors import ConfigError
from jaxgp.expr.generate import TreeConfig
from jaxgp.expr.language import DEFAULT_LANGUAGE, get_language
from jaxgp.expr.validity import LEGACY_SCREEN
from jaxgp.fitness import Metric
from jaxgp.limits import check_run_size, check_seed
from jaxgp.policy import default_conv, default_max_pool
from jaxgp.record_fields import json_field, record_dict, record_from
from jaxgp.search.early_stop import DEFAULT_POLICY, StopPolicy
from jaxgp.search.options import RunOptions
from jaxgp.search.scales import DEFAULT_SCALE, SearchConfig, get_scale
from jaxgp.train.config import TrainConfig, parse_candidates_per_batch

COMMANDS = ("evolve", "compare")
ENVIRONMENT_KEYS = (
    "data_dir",
    "train.candidates_per_batch",
    "train.max_auto_candidates",
    "train.memory_margin",
    "train.model_strategy",
    "train.loss_strategy",
    "train.epoch_loop",
    "train.max_pool",
    "train.conv",
)
#: Compare runs both algorithms in the thesis's order (Algorithm 2: NGL first).
COMPARE_ALGORITHMS = ("ngl", "tournament")


def _search(data: dict) -> SearchConfig:
    search = dict(data)
    # runs made before the thesis's signed filter: keep what they ran with
    search["tree"] = TreeConfig(**{"screen": LEGACY_SCREEN, **search["tree"]})
    return SearchConfig(**search)


def _train(data: dict) -> TrainConfig:
    train = dict(data)
    train["augment"] = AugmentConfig(**train["augment"])
    # runs made before the CPU's kernel forms: the forms they trained with
    train.setdefault("max_pool", "window")
    train.setdefault("conv", "xla")
    return TrainConfig(**train)


def _strings(data: list) -> tuple[str, ...]:
    return tuple(data)


def _or(default: int):
    return lambda value: int(value or default)


REQUIRED = ("command", "algorithms", "scale", "search", "train", "datasets", "fitness", "seed")
"""The keys every `config.json` has held (the others came later and have defaults)."""


@dataclass(frozen=True)
class RunSettings:
    """A run's command, algorithms, scale, search and training settings, datasets, the
    metric fitness compares (`metric`, `config.json`'s `fitness`), early-stop policy, seed
    and data directory."""

    command: str
    algorithms: tuple[str, ...] = json_field(write=list, parse=_strings)
    scale: str = json_field()
    search: SearchConfig = json_field(write=dataclasses.asdict, parse=_search)
    train: TrainConfig = json_field(write=dataclasses.asdict, parse=_train)
    datasets: tuple[str, ...] = json_field(write=list, parse=_strings)
    metric: Metric = json_field(default=Metric.ACCURACY, key="fitness", write=str,
                                parse=Metric.parse)  # fmt: skip
    seed: int = json_field(default=0, parse=int)
    data_dir: str | None = None
    early_stop: StopPolicy = json_field(default=StopPolicy.NONE, write=str,
                                        parse=StopPolicy.parse)  # fmt: skip
    """`jaxgp.search.early_stop` policy; runs made before it existed read as `none`."""
    train_split: TrainSplit = json_field(
        default=TrainSplit(), write=dataclasses.asdict, parse=TrainSplit.from_dict
    )
    """What the run does to every training split (`jaxgp.data.train_split`); runs made
    before it existed read as the clean split."""
    confirm_seeds: int = json_field(default=0, parse=_or(0))
    """Seeds the best few of the final population and CE are trained again on before the
    run names its best (`jaxgp.search.confirm`); 0: none (runs made before it existed)."""
    fitness_seeds: int = json_field(default=1, parse=_or(1))
    """Model seeds each candidate and CE train with during the search, the fitness
    comparing their means (`jaxgp.search.evaluations.fitness_seeds`); 1: the run seed alone
    (runs made before it existed)."""

    def __post_init__(self) -> None:
        tree, train = self.search.tree.language, self.train.language
        if train is None:
            object.__setattr__(self, "train", dataclasses.replace(self.train, language=tree))
        elif train != tree:
            raise ConfigError(
                f"the search draws trees in the {tree} language but trains them in the "
                f"{train} language (config.json's search.tree.language and train.language)"
            )

    @property
    def language(self) -> str:
        """The run's loss language (`jaxgp.expr.language`)."""
        return self.search.tree.language

    def to_dict(self) -> dict:
        return record_dict(self)

    @staticmethod
    def from_dict(data: dict) -> RunSettings:
        """The settings of `config.json`; `ConfigError` when it holds something else."""
        try:
            missing = [key for key in REQUIRED if key not in data]
            if missing:
                raise KeyError(missing[0])
            return record_from(RunSettings, data)
        except (KeyError, TypeError) as error:
            raise ConfigError(f"config.json is not a jaxgp run configuration ({error})") from error


def check_datasets(names: tuple[str, ...]) -> tuple[str, ...]:
    """`names` if each is a known dataset and none is listed twice; else `ConfigError`."""
    for name in names:
        get_spec(name)
    if len(set(names)) != len(names):
        raise ConfigError(f"a dataset is listed twice: {', '.join(names)}")
    return names


def check_model(name: str) -> str:
    """`name` if it is a known model; else `ConfigError` naming the valid ones."""
    from jaxgp.models.registry import MODELS

    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(sorted(MODELS))}")
    return name


def build_settings(
    command: str, options: RunOptions | None = None, *, base: RunSettings | None = None
) -> RunSettings:
    """Validated settings; an option left None keeps `base`'s value, or the scale's default."""
    from jaxgp.search.algorithms import ALGORITHMS

    options = options or RunOptions()

    if command not in COMMANDS:
        raise ConfigError(f"unknown command {command!r}")
    scale_name = options.scale or (base.scale if base else DEFAULT_SCALE)
    preset = get_scale(scale_name)
    # Values a scale sets come from `base` only while the scale stays the same.
    sb = base if base is not None and scale_name == base.scale else None
    if command == "compare":
        algorithms = COMPARE_ALGORITHMS
    else:
        name = _pick(options.algorithm, base.algorithms[0] if base else None, "tournament")
        if name not in ALGORITHMS:
            raise ConfigError(f"unknown algorithm {name!r}; valid: {', '.join(ALGORITHMS)}")
        algorithms = (name,)
    language = get_language(
        _pick(options.language, sb.language if sb else None, preset.language)
    ).name
    p = _pick(options.population, sb.search.population if sb else None, preset.population)
    kept = sb.search if sb is not None and p == sb.search.population else None
    search = SearchConfig(
        population=p,
        generations=_pick(
            options.generations, sb.search.generations if sb else None, preset.generations
        ),
        sample_size=_pick(options.sample_size, kept.sample_size if kept else None, None),
        top_n=_pick(options.top_n, kept.top_n if kept else None, None),
        tree=dataclasses.replace(
            base.search.tree if base else TreeConfig(),
            screen=_pick(options.screen, base.search.tree.screen if base else None, preset.screen),
            language=language,
        ),
    )
    names = (
        tuple(options.datasets) if options.datasets else (sb.datasets if sb else preset.datasets)
    )
    names = check_datasets(names)
    model_name = check_model(_pick(options.model, sb.train.model if sb else None, preset.model))
    run_seed = check_seed(_pick(options.seed, base.seed if base else None, 0))
    k = (
        None
        if options.candidates_per_batch is None
        else parse_candidates_per_batch(options.candidates_per_batch)
    )
    train = dataclasses.replace(
        base.train if base else TrainConfig(),
        model=model_name,
        epochs=_pick(options.epochs, sb.train.epochs if sb else None, preset.epochs),
        seed=run_seed,
        candidates_per_batch=_pick(k, base.train.candidates_per_batch if base else None, AUTO),
        learning_rate=_pick(
            options.learning_rate, sb.train.learning_rate if sb else None, preset.learning_rate
        ),
        language=language,
        # the backend's kernel forms, fixed when the run starts: a resumed run keeps them
        max_pool=base.train.max_pool if base else default_max_pool(),
        conv=base.train.conv if base else default_conv(),
    )
    settings = RunSettings(
        command=command,
        algorithms=algorithms,
        scale=scale_name,
        search=search,
        train=train,
        datasets=names,
        metric=Metric.parse(_pick(options.fitness, base.metric if base else None, Metric.ACCURACY)),
        seed=run_seed,
        data_dir=_pick(options.data_dir, base.data_dir if base else None, None),
        early_stop=StopPolicy.parse(
            _pick(options.early_stop, base.early_stop if base else None, DEFAULT_POLICY)
        ),
        train_split=_train_split(
            sb.train_split if sb else preset.train_split,
            imbalance=options.imbalance,
            label_noise=options.label_noise,
            noise_kind=options.noise_kind,
            train_fraction=options.train_fraction,
        ),  # fmt: skip
        confirm_seeds=check_confirm_seeds(
            _pick(options.confirm_seeds, sb.confirm_seeds if sb else None, preset.confirm_seeds)
        ),
        fitness_seeds=check_fitness_seeds(
            _pick(options.fitness_seeds, sb.fitness_seeds if sb else None, preset.fitness_seeds)
        ),
    )
    check_run_size(search.population, search.generations, train.epochs, settings.confirm_seeds)
    return settings


def options_of(settings: RunSettings) -> RunOptions:
    """The options that build `settings` again (`build_settings(command, options_of(s))`
    equals `s` for any run built from options): every setting an option has, except G and
    N where they are the population's defaults, so that an edited population keeps them
    derived. The run's directory is not among them."""
    search, split = settings.search, settings.train_split
    derived = SearchConfig(population=search.population)
    return RunOptions(
        algorithm=settings.algorithms[0] if settings.command == "evolve" else None,
        scale=settings.scale,
        population=search.population,
        generations=search.generations,
        sample_size=None if search.sample_size == derived.sample_size else search.sample_size,
        top_n=None if search.top_n == max(1, search.G // 2) else search.top_n,
        epochs=settings.train.epochs,
        datasets=tuple(settings.datasets),
        model=settings.train.model,
        fitness=str(settings.metric),
        seed=settings.seed,
        data_dir=settings.data_dir,
        candidates_per_batch=settings.train.candidates_per_batch,
        screen=search.tree.screen,
        early_stop=str(settings.early_stop),
        imbalance=split.imbalance,
        label_noise=split.label_noise,
        noise_kind=split.noise_kind,
        train_fraction=split.train_fraction,
        confirm_seeds=settings.confirm_seeds,
        learning_rate=settings.train.learning_rate,
        fitness_seeds=settings.fitness_seeds,
        language=settings.language,
    )  # fmt: skip


def check_confirm_seeds(count: int) -> int:
    """0 (no confirmation) or at least 2 (a paired interval needs two); else `ConfigError`."""
    if count != 0 and count < 2:
        raise ConfigError(f"confirm seeds must be 0 (none) or at least 2, got {count}")
    return int(count)


MAX_FITNESS_SEEDS = 16
"""More model seeds per candidate than this multiply a search's cost past any use."""


def check_fitness_seeds(count: int) -> int:
    """1 to `MAX_FITNESS_SEEDS`; else `ConfigError`."""
    if not 1 <= count <= MAX_FITNESS_SEEDS:
        raise ConfigError(f"fitness seeds must be between 1 and {MAX_FITNESS_SEEDS}, got {count}")
    return int(count)


def _train_split(base: TrainSplit, **given: float | str | None) -> TrainSplit:
    """`base` with the fields that were given replaced (`ConfigError` for bad values)."""
    return dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})


def _pick(value, previous, default):
    if value is not None:
        return value
    return previous if previous is not None else default


def flatten(data: dict, prefix: str = "") -> dict:
    """Nested settings as one level, keys joined with dots (`search.population`)."""
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def differences(old: RunSettings, new: RunSettings) -> list[str]:
    """`key: old -> new` for every result-relevant setting that differs."""
    a, b = flatten(old.to_dict()), flatten(new.to_dict())
    keys = sorted((set(a) | set(b)) - set(ENVIRONMENT_KEYS))
    return [f"{key}: {a.get(key)!r} -> {b.get(key)!r}" for key in keys if a.get(key) != b.get(key)]


PROCESS_LOCAL_KEYS = ("data_dir",)
"""Settings the processes of one search may hold differently (each host its own data
directory); all others, K and the strategies included, must agree, since the processes
split every candidate batch between them."""


def agreement(settings: RunSettings, resumed: bool) -> str:
    """What the processes of one search must agree on, as text to compare across them."""
    same = {k: v for k, v in flatten(settings.to_dict()).items() if k not in PROCESS_LOCAL_KEYS}
    return json.dumps({**same, "resumed": resumed}, sort_keys=True)


def evaluation_key(settings: RunSettings) -> str:
    """A short hash of what one training result depends on."""
    train = flatten(dataclasses.asdict(settings.train), "train.")
    relevant = {k: v for k, v in train.items() if k not in ENVIRONMENT_KEYS}
    if relevant.get("train.language") in (None, DEFAULT_LANGUAGE):  # older runs' keys hold
        relevant.pop("train.language", None)
    relevant["datasets"] = list(settings.datasets)
    if settings.early_stop is not StopPolicy.NONE:  # results then depend on it and the metric
        relevant["early_stop"] = [str(settings.early_stop), str(settings.metric)]
    if not settings.train_split.identity:  # runs on the clean split keep their old key
        relevant["train_split"] = settings.train_split.to_dict()
    if settings.fitness_seeds != 1:  # and so do runs scored on one model seed
        relevant["fitness_seeds"] = settings.fitness_seeds
    text = json.dumps(relevant, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

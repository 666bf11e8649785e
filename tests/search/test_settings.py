"""Settings: scales, defaults G = 3P/4 and N = G/2, and every kind of bad input."""

import pytest

from jaxgp.data import TrainSplit
from jaxgp.errors import ConfigError
from jaxgp.search import SCALES, SearchConfig, build_settings, get_scale
from jaxgp.search.options import RunOptions
from jaxgp.search.run_settings import RunSettings, differences, evaluation_key


def test_thesis_defaults():
    config = SearchConfig(population=8)
    assert (config.G, config.N) == (6, 3)
    assert (config.crossover_rate, config.subtree_rate, config.point_rate) == (0.5, 0.3, 0.1)


@pytest.mark.parametrize(
    "scale, p, t, epochs, model",
    [("tiny", 8, 2, 10, "small_cnn"), ("small", 8, 4, 6, "inception_v3"),
     ("large", 8, 12, 10, "inception_v3")],
)  # fmt: skip
def test_scales_follow_table_4_1(scale, p, t, epochs, model):
    settings = build_settings("evolve", RunOptions(scale=scale))
    assert (settings.search.population, settings.search.generations) == (p, t)
    assert (settings.train.epochs, settings.train.model) == (epochs, model)
    if scale != "tiny":
        assert settings.datasets == ("cifar10", "fashion_mnist", "cifar100")
    assert SCALES[scale].population == p


BAD = [
    ({"population": 1}, "population"),
    ({"population": 0}, "population"),
    ({"generations": -1}, "generations"),
    ({"top_n": 4, "sample_size": 3}, "top N"),
    ({"sample_size": 9}, "sample size"),
    ({"top_n": 0}, "top N"),
    ({"sample_size": 0}, "sample size"),
    ({"datasets": ["imagenet"]}, "unknown dataset"),
    ({"datasets": ["digits", "digits"]}, "twice"),
    ({"model": "resnet"}, "unknown model"),
    ({"fitness": "f1"}, "fitness metric"),
    ({"algorithm": "random"}, "unknown algorithm"),
    ({"scale": "huge"}, "unknown scale"),
    ({"seed": -1}, "seed"),
    ({"epochs": 0}, "epochs"),
    ({"candidates_per_batch": "0"}, "candidates per batch"),
    ({"candidates_per_batch": "many"}, "candidates per batch"),
]


@pytest.mark.parametrize("options, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        build_settings("evolve", RunOptions(**options))


def test_round_trip_and_differences():
    settings = build_settings("compare", RunOptions(population=6, datasets=["digits", "synthetic"]))
    assert settings.algorithms == ("ngl", "tournament")
    assert RunSettings.from_dict(settings.to_dict()) == settings
    other = build_settings(
        "compare", RunOptions(generations=5, candidates_per_batch="3"), base=settings
    )
    assert differences(settings, other) == ["search.generations: 2 -> 5"]
    assert evaluation_key(settings) == evaluation_key(other)
    assert evaluation_key(
        build_settings("compare", RunOptions(epochs=2), base=settings)
    ) != evaluation_key(settings)


def test_options_default_to_the_stored_settings_on_resume():
    stored = build_settings(
        "evolve", RunOptions(algorithm="ngl", population=4, seed=9, fitness="loss")
    )
    assert build_settings("evolve", base=stored) == stored


def test_the_screen_is_a_setting_recorded_in_the_configuration():
    settings = build_settings("evolve", RunOptions(screen="learnable"))
    assert settings.search.tree.screen == "learnable"
    assert RunSettings.from_dict(settings.to_dict()).search.tree.screen == "learnable"
    assert build_settings("evolve").search.tree.screen == get_scale("tiny").screen
    with pytest.raises(ConfigError, match="unknown screen 'strict'; valid: thesis, learnable"):
        build_settings("evolve", RunOptions(screen="strict"))


def test_a_configuration_written_before_the_screen_existed_resumes_with_the_legacy_rules():
    data = build_settings("evolve").to_dict()
    del data["search"]["tree"]["screen"]
    stored = RunSettings.from_dict(data)
    assert stored.search.tree.screen == "legacy"
    assert build_settings("evolve", base=stored).search.tree.screen == "legacy"


def test_the_early_stop_policy_is_recorded_and_part_of_the_evaluation_key():
    settings = build_settings("evolve")
    assert settings.early_stop == "baseline"
    assert RunSettings.from_dict(settings.to_dict()) == settings
    full = build_settings("evolve", RunOptions(early_stop="none"))
    assert differences(settings, full) == ["early_stop: 'baseline' -> 'none'"]
    assert evaluation_key(full) != evaluation_key(settings)
    # under a policy the stops judge by the fitness metric, so it changes results too
    by_loss = build_settings("evolve", RunOptions(fitness="loss"))
    assert evaluation_key(by_loss) != evaluation_key(settings)
    assert evaluation_key(
        build_settings("evolve", RunOptions(fitness="loss", early_stop="none"))
    ) == (evaluation_key(full))
    with pytest.raises(
        ConfigError, match="unknown early-stop policy 'halve'; valid: none, baseline"
    ):
        build_settings("evolve", RunOptions(early_stop="halve"))


def test_a_configuration_written_before_early_stopping_resumes_without_it():
    data = build_settings("evolve", RunOptions(early_stop="none")).to_dict()
    key = evaluation_key(RunSettings.from_dict(data))
    del data["early_stop"]
    stored = RunSettings.from_dict(data)
    assert stored.early_stop == "none" and evaluation_key(stored) == key
    assert build_settings("evolve", base=stored).early_stop == "none"


def test_tiny_lt_is_digits_long_tailed_at_ratio_20_with_five_confirmation_seeds():
    settings = build_settings("evolve", RunOptions(scale="tiny-lt"))
    assert settings.datasets == ("digits",) and settings.train.model == "small_cnn"
    assert settings.train_split == TrainSplit(imbalance=20)
    assert settings.confirm_seeds == 5
    assert settings.fitness_seeds == 2 and settings.language == "priors"
    assert RunSettings.from_dict(settings.to_dict()) == settings  # both seed counts kept
    assert build_settings("evolve", RunOptions(scale="tiny")).fitness_seeds == 1
    with pytest.raises(ConfigError, match="fitness seeds must be between 1 and 16, got 0"):
        build_settings("evolve", RunOptions(fitness_seeds=0))


def test_the_training_split_is_recorded_and_keys_only_the_runs_that_change_it():
    clean = build_settings("evolve")
    assert evaluation_key(clean) == evaluation_key(
        build_settings("evolve", RunOptions(imbalance=1.0))
    )
    noisy = build_settings("evolve", RunOptions(label_noise=0.4))
    assert evaluation_key(noisy) != evaluation_key(clean)
    assert RunSettings.from_dict(noisy.to_dict()) == noisy
    assert differences(clean, noisy) == ["train_split.label_noise: 0.0 -> 0.4"]
    old = clean.to_dict()
    del old["train_split"]
    assert RunSettings.from_dict(old).train_split == TrainSplit()


def test_a_given_split_option_changes_only_its_field_of_the_scales_split():
    settings = build_settings("evolve", RunOptions(scale="tiny-lt", label_noise=0.2))
    assert settings.train_split == TrainSplit(imbalance=20, label_noise=0.2)
    resumed = build_settings("evolve", RunOptions(noise_kind="asymmetric"), base=settings)
    assert resumed.train_split == TrainSplit(20, 0.2, "asymmetric")


def test_tiny_lt_trains_at_ces_best_rate_and_a_given_rate_overrides_the_scales():
    assert build_settings("evolve", RunOptions(scale="tiny-lt")).train.learning_rate == 1e-2
    assert build_settings("evolve", RunOptions(scale="tiny")).train.learning_rate == 1e-3
    assert (
        build_settings(
            "evolve", RunOptions(scale="tiny-lt", learning_rate=3e-3)
        ).train.learning_rate
        == 3e-3
    )
    with pytest.raises(ConfigError, match="learning rates must be finite and positive, got -1"):
        build_settings("evolve", RunOptions(learning_rate=-1.0))


def test_the_language_is_recorded_twice_where_it_acts_and_keys_only_runs_outside_the_thesis():
    thesis = build_settings("evolve", RunOptions(seed=3))
    assert thesis.language == thesis.train.language == "thesis"
    # the key of a tiny run at seed 3 as bf30d01 wrote it, before languages existed
    assert evaluation_key(thesis) == "fb4d2f1152486f92"
    priors = build_settings("evolve", RunOptions(seed=3, language="priors"))
    assert priors.search.tree.language == priors.train.language == "priors"
    assert evaluation_key(priors) != evaluation_key(thesis)
    assert differences(thesis, priors) == [
        "search.tree.language: 'thesis' -> 'priors'",
        "train.language: 'thesis' -> 'priors'",
    ]
    assert build_settings("evolve", RunOptions(scale="tiny-lt")).language == "priors"
    with pytest.raises(ConfigError, match="unknown language 'greek'; valid: thesis, priors"):
        build_settings("evolve", RunOptions(language="greek"))


def test_a_configuration_written_before_languages_resumes_in_the_thesis_language():
    data = build_settings("evolve").to_dict()
    key = evaluation_key(RunSettings.from_dict(data))
    del data["search"]["tree"]["language"], data["train"]["language"]
    stored = RunSettings.from_dict(data)
    assert stored.language == stored.train.language == "thesis"
    assert evaluation_key(stored) == key
    assert differences(stored, build_settings("evolve", base=stored)) == []


def test_a_configuration_whose_two_language_entries_disagree_is_refused():
    data = build_settings("evolve").to_dict()
    data["train"]["language"] = "priors"
    with pytest.raises(ConfigError, match="draws trees in the thesis language but trains"):
        RunSettings.from_dict(data)


def test_a_run_keeps_the_kernel_forms_it_started_with_and_older_runs_read_as_theirs():
    from jaxgp.policy import default_conv, default_max_pool

    settings = build_settings("evolve")
    assert (settings.train.max_pool, settings.train.conv) == (default_max_pool(), default_conv())
    data = settings.to_dict()
    data["train"]["max_pool"], data["train"]["conv"] = "window", "xla"
    stored = RunSettings.from_dict(data)
    resumed = build_settings("evolve", base=stored)
    assert (resumed.train.max_pool, resumed.train.conv) == ("window", "xla")
    del data["train"]["max_pool"], data["train"]["conv"]
    older = RunSettings.from_dict(data)
    assert (older.train.max_pool, older.train.conv) == ("window", "xla")
    assert evaluation_key(older) == evaluation_key(settings)


def test_config_json_keeps_the_form_runs_have_always_written():
    """`RunSettings` is written field by field (`record_fields`); the text is the one the
    hand-written form gave: nested settings as dicts, tuples as lists, choices as text, the
    metric under `fitness`."""
    import dataclasses
    import json
    from enum import Enum

    settings = build_settings(
        "evolve", RunOptions(early_stop="baseline", confirm_seeds=2, imbalance=10.0)
    )
    old = {}
    for spec in dataclasses.fields(settings):
        value = getattr(settings, spec.name)
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Enum):
            value = str(value)
        elif dataclasses.is_dataclass(value):
            value = dataclasses.asdict(value)
        old["fitness" if spec.name == "metric" else spec.name] = value
    assert json.dumps(settings.to_dict()) == json.dumps(old)
    assert RunSettings.from_dict(json.loads(json.dumps(old))) == settings


def test_a_configuration_without_a_key_every_run_wrote_is_refused_naming_the_first_missing():
    data = build_settings("evolve", RunOptions()).to_dict()
    del data["search"], data["seed"]
    with pytest.raises(ConfigError) as refused:
        RunSettings.from_dict(data)
    assert str(refused.value) == "config.json is not a jaxgp run configuration ('search')"

"""The thesis's experiments projected from `compare.py`'s measured rates to the real datasets.

The wall time of the thesis's experiments (Table 4.1 scales, `jaxgp.search.SCALES`; Table
4.4 times) on the real dataset sizes (CIFAR-10 45,000 train / 5,000 validation images,
Fashion-MNIST 54,000 / 6,000, CIFAR-100 45,000 / 5,000):

- an evaluation trains a candidate on the three datasets for E epochs (the scale's: 6 small,
  10 large) and validates it after every epoch; test sets are not counted;
- the evaluations are jaxgp's algorithms' own counts (`ALGORITHMS[name].evaluations`):
  sample tournament P + T*N (small: 8 + 4*3 = 20), NGL P + T*P (8 + 4*8 = 40), compare
  (Algorithm 2) both on one shared initial population, P + T*N + T*P; the CE baselines are
  one training per dataset more;
- Keras: candidates one after another, each paying its build and warm-up;
- jaxgp: each group (the CE baseline, the initial population, one generation's children) is
  trained in chunks of K, with the measured K that costs least for that group (padding
  counted), plus one compilation per dataset and K used.

A dataset that was not measured is projected with the first measured dataset's rates, and
the row says so in `assumed_shapes`.
"""

from __future__ import annotations

import math

from jaxgp.search import ALGORITHMS, SCALES, SearchConfig

#: Table 4.4 of the thesis: seconds on an RTX A2000 12 GB, TensorFlow 2.6, Windows.
THESIS_SECONDS = {
    ("small", "sample_tournament"): 62_363.94,
    ("small", "ngl"): 173_286.98,
    ("large", "sample_tournament"): 426_915.20,
    ("large", "ngl"): 1_013_738.83,
}
THESIS_SCALES = ("small", "large")
#: The experiments and the algorithms they run; compare runs both on one initial population.
EXPERIMENTS = {
    "sample_tournament": ("tournament",),
    "ngl": ("ngl",),
    "compare": ("tournament", "ngl"),
}
#: (train, validation) images of the real datasets after the 90/10 split.
REAL_SIZES = {
    "cifar10": (45_000, 5_000),
    "fashion_mnist": (54_000, 6_000),
    "cifar100": (45_000, 5_000),
}


def search_config(scale: str) -> SearchConfig:
    """The search parameters of a thesis scale (G and N at their defaults)."""
    return SearchConfig(population=SCALES[scale].population, generations=SCALES[scale].generations)


def groups(scale: str, experiment: str) -> list[int]:
    """Sizes of the groups of candidates trained together: CE, initial, each generation."""
    config = search_config(scale)
    children = [
        ALGORITHMS[name].children_per_generation(config)
        for name in EXPERIMENTS[experiment]
        for _ in range(config.generations)
    ]
    return [1, config.population, *children]


def evaluations(scale: str, experiment: str) -> int:
    """Evaluations of the experiment, its initial population counted once."""
    config = search_config(scale)
    runs = [ALGORITHMS[name].evaluations(config) for name in EXPERIMENTS[experiment]]
    return sum(runs) - (len(runs) - 1) * config.population


def _rates(rows: list[dict], dataset: str) -> tuple[list[dict], bool]:
    """The measured rows for `dataset`, or the first measured dataset's (assumed=True)."""
    own = [r for r in rows if r["dataset"] == dataset]
    if own:
        return own, False
    first = rows[0]["dataset"]
    return [r for r in rows if r["dataset"] == first], True


def keras_candidate_s(result: dict, dataset: str, epochs: int, batch_size: int) -> float:
    """Seconds for one fresh Keras model trained on the real `dataset` for `epochs`."""
    train, val = REAL_SIZES[dataset]
    images = train // batch_size * batch_size
    val_rate = result["val_images_per_s"] or result["images_per_s"]
    steady = epochs * (images / result["images_per_s"] + val / val_rate)
    return result["build_s"] + max(result["warmup_s"], 0.0) + steady


def jaxgp_group_s(
    rows: list[dict], dataset: str, n: int, epochs: int, batch_size: int
) -> tuple[float, int]:
    """(seconds, K) for n candidates on the real `dataset`: the cheapest measured K."""
    train, val = REAL_SIZES[dataset]
    images = train // batch_size * batch_size
    best = None
    for row in rows:
        k = row["k"]
        chunk = epochs * (
            k * images / row["candidate_images_per_s"] + k * val / row["val_candidate_images_per_s"]
        )
        cost = math.ceil(n / k) * chunk
        if best is None or cost < best[0]:
            best = (cost, k)
    return best


def project(jaxgp: dict | None, keras: list[dict], batch_size: int) -> list[dict]:
    """One row per thesis scale and experiment: thesis, Keras and jaxgp seconds."""
    rows = []
    keras_ok = [r for r in keras if "error" not in r and "skipped" not in r]
    for scale in THESIS_SCALES:
        epochs = SCALES[scale].epochs
        for experiment in EXPERIMENTS:
            sizes = groups(scale, experiment)
            row = {
                "scale": scale,
                "experiment": experiment,
                "epochs": epochs,
                "evaluations": evaluations(scale, experiment),
                "trainings": len(REAL_SIZES) * sum(sizes),
                "assumed_shapes": [],
            }
            if experiment == "compare":
                thesis = sum(THESIS_SECONDS[(scale, e)] for e in ("sample_tournament", "ngl"))
            else:
                thesis = THESIS_SECONDS[(scale, experiment)]
            row["thesis_s"] = thesis
            if keras_ok:
                total = 0.0
                for dataset in REAL_SIZES:
                    own = [r for r in keras_ok if r["dataset"] == dataset]
                    result = own[0] if own else keras_ok[0]
                    if not own:
                        row["assumed_shapes"].append(f"keras {dataset}<-{result['dataset']}")
                    total += sum(sizes) * keras_candidate_s(result, dataset, epochs, batch_size)
                row["keras_s"] = total
            if jaxgp and "error" not in jaxgp and jaxgp["rows"]:
                total, ks_used = 0.0, {}
                for dataset in REAL_SIZES:
                    measured, assumed = _rates(jaxgp["rows"], dataset)
                    if assumed:
                        row["assumed_shapes"].append(f"jaxgp {dataset}<-{measured[0]['dataset']}")
                    for n in sizes:
                        seconds, k = jaxgp_group_s(measured, dataset, n, epochs, batch_size)
                        total += seconds
                        ks_used.setdefault(dataset, set()).add(k)
                    for k in ks_used[dataset]:  # one compilation per dataset and K per run
                        total += next(r for r in measured if r["k"] == k)["warmup_s"]
                row["jaxgp_s"] = total
                row["jaxgp_ks"] = sorted({k for ks in ks_used.values() for k in ks})
            if "keras_s" in row and "jaxgp_s" in row:
                row["speedup"] = row["keras_s"] / row["jaxgp_s"]
            rows.append(row)
    return rows

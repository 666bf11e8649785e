"""The evolution engine: sample-tournament and NGL GP, evaluation with a cache, runs.

- `ALGORITHMS`: name -> `Algorithm` (`tournament`: thesis Algorithm 1; `ngl`: the NGL GP);
- `SearchConfig`, `SCALES`: search parameters and the thesis's scales;
- `Evaluator`: trees -> evaluated `Individual`s through replay, cache, trainer and ledger;
- `open_run` / `execute`: a whole `evolve` or `compare` run in a run directory.
"""

from jaxgp.search.algorithms import ALGORITHMS, Algorithm
from jaxgp.search.config import SCALES, Scale, SearchConfig, get_scale
from jaxgp.search.evaluate import Evaluator, train_baselines
from jaxgp.search.population import Individual, generation_rng, keep_best, make_children, ranked
from jaxgp.search.reporting import Reporter
from jaxgp.search.result import GenerationHooks, SearchResult
from jaxgp.search.session import execute, open_run
from jaxgp.search.settings import RunSettings, build_settings

__all__ = [
    "ALGORITHMS",
    "SCALES",
    "Algorithm",
    "Evaluator",
    "GenerationHooks",
    "Individual",
    "Reporter",
    "RunSettings",
    "Scale",
    "SearchConfig",
    "SearchResult",
    "build_settings",
    "execute",
    "generation_rng",
    "get_scale",
    "keep_best",
    "make_children",
    "open_run",
    "ranked",
    "train_baselines",
]

"""The evolution engine: sample-tournament and NGL GP as ask/tell searches, runs, records.

- `ALGORITHMS`: name -> `Algorithm` (`tournament`: thesis Algorithm 1; `ngl`: the NGL GP),
  each a `Search` (a config and a seed) that gives the children of a `SearchState` (`ask`)
  and, told their scores, the next state (`tell`);
- `SearchConfig`, `SCALES`: search parameters and the thesis's scales;
- `Evaluations`: trees -> `Evaluated` individuals through the `EvaluationStore` (ledger and
  trainings file), a cache and the trainer (an algorithm sees an `Individual`: a tree and
  its fitness);
- `run_search(command, RunOptions(...))`: a whole `evolve` or `compare` run in a run
  directory (its steps: `plan_run`, `load_datasets`, `start_run`, `execute`), whose
  records are in `jaxgp.search.records`.
"""

from jaxgp.search.algorithms import ALGORITHMS, Algorithm
from jaxgp.search.ask_tell import Search, SearchState
from jaxgp.search.evaluated import Evaluated
from jaxgp.search.evaluations import DeviceTrainer, Evaluations, Trainer, train_baselines
from jaxgp.search.options import RunOptions
from jaxgp.search.population import Individual, generation_rng, keep_best, make_children, ranked
from jaxgp.search.progress import Progress
from jaxgp.search.run_settings import RunSettings, build_settings
from jaxgp.search.scales import SCALES, Scale, SearchConfig, get_scale
from jaxgp.search.session import execute, load_datasets, plan_run, run_search, start_run
from jaxgp.search.store import EvaluationStore

__all__ = [
    "ALGORITHMS",
    "SCALES",
    "Algorithm",
    "DeviceTrainer",
    "Evaluated",
    "EvaluationStore",
    "Evaluations",
    "Individual",
    "Progress",
    "RunOptions",
    "RunSettings",
    "Scale",
    "Search",
    "SearchConfig",
    "SearchState",
    "Trainer",
    "build_settings",
    "execute",
    "generation_rng",
    "get_scale",
    "keep_best",
    "load_datasets",
    "make_children",
    "plan_run",
    "ranked",
    "run_search",
    "start_run",
    "train_baselines",
]

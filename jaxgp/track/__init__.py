"""Experiment tracking: a run logged live to TensorBoard or MLflow (`--track`).

- `trackers`: what `--track tensorboard` and `--track mlflow[=URI]` mean, and the checks
  made before a run starts (an unknown tracker or a missing package is a one-line error);
- `stats`: each generation's statistics (best and median fitness, failed, stopped and
  screened-out shares, evaluations per second, the best expression);
- `ending`: a finished run's final numbers and its confirmed candidates' curves;
- `progress`: `track_run`, the trackers behind the run's progress observer, each failure a
  warning that never stops the search;
- `state`: `tracking.json`, by which a resumed run continues the same tracking run;
- `tensorboard_tracker`, `mlflow_tracker`: the two trackers (optional extra `track`).
"""

from jaxgp.track.progress import track_run
from jaxgp.track.trackers import TrackSpec, parse_tracks

__all__ = ["TrackSpec", "parse_tracks", "track_run"]

"""`BatchPlan`: how many candidates one trainer call trains at once (K), under which model
strategy, and why; `Probe`: what the `auto` probe measured (`jaxgp.train.batching`).

Plain records without JAX, so the run's records (`jaxgp.search.records`) hold them as they
are and read them back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from jaxgp.choices import Strategy

CLEAR_MARGIN = 1.10
"""K > 1 is chosen only if it trains the call this much faster than K = 1."""


@dataclass(frozen=True)
class Probe:
    """What the probe measured: candidate-images per second per model strategy and K, and
    why each strategy's sequence stopped."""

    rates: dict[str, dict[int, float]]
    """strategy -> K -> rate; K = 1 (one program whatever the strategy) under each."""
    stopped: dict[str, str]
    """strategy -> `slower` (K stopped paying), `memory` (the next K did not fit) or `cap`."""
    seconds: float
    """Wall time of the probe, compilations included."""
    cap: int

    def best(self, n: int) -> tuple[int, str]:
        """The measured (K, strategy) that trains n candidates soonest; K = 1 (under the
        first strategy) unless another clearly wins."""
        cost = {
            (k, strategy): math.ceil(n / k) * k / rate
            for strategy, rates in self.rates.items()
            for k, rate in rates.items()
            if rate > 0
        }
        first = next(iter(self.rates), Strategy.VMAP)
        one = min((c for (k, _), c in cost.items() if k == 1), default=None)
        if not cost:
            return 1, first
        k, strategy = min(cost, key=cost.get)
        if k == 1 or (one is not None and one < CLEAR_MARGIN * cost[(k, strategy)]):
            return 1, first
        return k, strategy

    @property
    def reached_cap(self) -> bool:
        return "cap" in self.stopped.values()

    def to_dict(self) -> dict:
        return {
            "rates": {s: {str(k): v for k, v in r.items()} for s, r in self.rates.items()},
            "stopped": dict(self.stopped),
            "seconds": self.seconds,
            "cap": self.cap,
        }

    @staticmethod
    def from_dict(data: dict, strategy: str = Strategy.VMAP) -> Probe:
        """A stored probe; one written before strategies were probed (rates by K, one
        `stopped`) measured `strategy` only."""
        rates, stopped = data["rates"], data["stopped"]
        if isinstance(stopped, str):
            rates, stopped = {strategy: rates}, {strategy: stopped}
        parsed = {str(s): {int(k): float(v) for k, v in r.items()} for s, r in rates.items()}
        return Probe(parsed, {str(s): str(v) for s, v in stopped.items()},
                     float(data["seconds"]), int(data["cap"]))  # fmt: skip


class PlanSource(StrEnum):
    """Why a plan has its K: given (`explicit`), forced (`one candidate`, `cpu`, `several
    processes`), or measured by a probe here (`probed`) or earlier in this process or on
    this machine (`remembered`)."""

    EXPLICIT = "explicit"
    ONE_CANDIDATE = "one candidate"
    CPU = "cpu"
    SEVERAL_PROCESSES = "several processes"
    PROBED = "probed"
    REMEMBERED = "remembered"


PER_DEVICE = "; one per device or more"
"""What the source's text adds where K was raised to a multiple of the device count."""


@dataclass(frozen=True)
class BatchPlan:
    """K for one trainer call, the model strategy it trains with, and why (`source`, and
    `per_device` where K was raised to a multiple of the device count). The trainer makes
    it (`jaxgp.train.batching.decide`); the run's records keep it as it is until the
    summary writes it."""

    k: int
    source: PlanSource
    probe: Probe | None = field(default=None)
    model_strategy: str | None = None
    """The strategy the K candidates run under (None: the configuration's)."""
    per_device: bool = False

    @property
    def source_text(self) -> str:
        """The source as the records write it (`PER_DEVICE` added where it applies)."""
        return f"{self.source}{PER_DEVICE}" if self.per_device else str(self.source)

    def to_dict(self) -> dict:
        data: dict = {"k": self.k, "source": self.source_text}
        if self.model_strategy is not None:
            data["model_strategy"] = self.model_strategy
        if self.probe is not None:
            data["probe"] = self.probe.to_dict()
        return data

    @staticmethod
    def from_dict(data: Mapping) -> BatchPlan:
        """The plan `to_dict` wrote (a trainings line's `batching`)."""
        probe, text = data.get("probe"), str(data["source"])
        per_device = text.endswith(PER_DEVICE)
        return BatchPlan(int(data["k"]), PlanSource(text.removesuffix(PER_DEVICE)),
                         None if probe is None else Probe.from_dict(probe),
                         data.get("model_strategy"), per_device)  # fmt: skip

    def describe(self) -> str:
        text = f"K={self.k} ({self.source_text})"
        if self.k > 1 and self.model_strategy is not None:
            text += f" under {self.model_strategy}"
        if self.probe is not None:
            rates = "; ".join(
                f"{strategy}: " + ", ".join(f"K={k} {r:,.0f}" for k, r in sorted(by_k.items()))
                for strategy, by_k in self.probe.rates.items()
            )
            stopped = ", ".join(f"{s} {why}" for s, why in self.probe.stopped.items())
            text += (
                f"; candidate-images/s {rates}; stopped: {stopped}; the probe took "
                f"{self.probe.seconds:.1f} s"
            )
        return text

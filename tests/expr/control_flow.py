"""What in a jaxpr or an optimized HLO module would make a GPU wait for its host."""

from __future__ import annotations

import re

import jax.extend.core


def jaxpr_primitives(jaxpr) -> set[str]:
    """Every primitive in a (closed) jaxpr, sub-jaxprs (scan bodies, custom rules) included."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for value in eqn.params.values():
            for sub in value if isinstance(value, list | tuple) else [value]:
                if isinstance(sub, jax.extend.core.Jaxpr | jax.extend.core.ClosedJaxpr):
                    names |= jaxpr_primitives(sub)
    return names


def hlo_loops_and_conditionals(text: str) -> dict[str, int]:
    """Counts in optimized HLO text: while loops, those without a known trip count, and
    conditionals (each of the last two copies a value to the host on XLA:GPU)."""
    loops = [line for line in text.splitlines() if re.search(r"\swhile\(", line)]
    return {
        "while": len(loops),
        "while_unknown_trip_count": sum("known_trip_count" not in line for line in loops),
        "conditional": len(re.findall(r"\sconditional\(", text)),
    }

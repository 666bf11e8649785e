"""The seal on a run's settings: `config.json` carries a fingerprint of every setting that
shapes the search, so that a resume finds a hand edit before it mixes the records of two
searches in one ledger.

The fingerprint is one short SHA-256 digest per setting, under its flattened name
(`search.population`, `train.learning_rate`), so that the edit can be named. The settings
that cannot change results (`run_settings.ENVIRONMENT_KEYS`: the data directory and how
candidates are batched on the device) are left out: they may be edited, or given again on
the command line, freely. A `config.json` without a fingerprint (a run made before it
existed) is not checked; it is sealed when it resumes.
"""

from __future__ import annotations

import hashlib
import json

from jaxgp.search.run_settings import ENVIRONMENT_KEYS, flatten

DIGEST_CHARS = 12


def fingerprint(settings: dict) -> dict[str, str]:
    """Setting name -> digest of its value, for the settings as `config.json` stores them."""
    flat = flatten(settings)
    return {key: _digest(flat[key]) for key in sorted(flat) if key not in ENVIRONMENT_KEYS}


def edited(settings: dict, sealed: object) -> list[str]:
    """The names of the settings whose value is not the one `sealed` (a `fingerprint`)
    holds, added and removed ones included; `["fingerprint"]` when `sealed` is not one."""
    if not isinstance(sealed, dict) or not all(isinstance(v, str) for v in sealed.values()):
        return ["fingerprint"]
    now = fingerprint(settings)
    return [key for key in sorted(set(now) | set(sealed)) if now.get(key) != sealed.get(key)]


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]

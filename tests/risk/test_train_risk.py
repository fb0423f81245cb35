"""bench/train_risk.py's leave-one-brand-out helpers: which training titles a left-out brand removes."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def train_risk() -> Iterator[ModuleType]:
    """bench/train_risk.py, loaded as a module; it puts the repo and bench/ on sys.path: both are undone after."""
    path, modules = list(sys.path), set(sys.modules)
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("train_risk_under_test", BENCH / "train_risk.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = path
        for name in set(sys.modules) - modules:
            if name == "_common":  # bench/_common.py: not a package anything else may import
                del sys.modules[name]


def unit(*rows: list[float]) -> np.ndarray:
    x = np.asarray(rows, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_same_story_by_cosine_or_by_contained_words(train_risk: ModuleType) -> None:
    x_train = unit([1, 0, 0], [0, 1, 0], [0, 0, 1], [0.6, 0.8, 0])
    w_train = [
        frozenset({"alluvione"}),  # one word: never a containment match
        frozenset({"terremoto", "napoli"}),  # contains the held title's words
        frozenset({"sciopero", "treno"}),  # another story
        frozenset({"derby", "milano"}),
    ]
    x_held = unit([1, 0.05, 0], [0, 0.2, -1])
    w_held = [frozenset({"alluvione", "emilia"}), frozenset({"terremoto", "napoli", "oggi"})]
    mask = train_risk.same_story(x_train, w_train, x_held, w_held, 0.75)
    # cosine 0.999 with the first held title; words contained in the second; neither; cosine 0.63 only
    assert mask.tolist() == [True, True, False, False]


def test_same_story_with_a_brand_without_titles_removes_nothing(train_risk: ModuleType) -> None:
    x_train = unit([1, 0], [0, 1])
    mask = train_risk.same_story(x_train, [frozenset({"a", "b"})] * 2, np.zeros((0, 2), dtype=np.float32), [], 0.75)
    assert mask.tolist() == [False, False]


def test_threshold_for_flags_at_most_the_share_of_safe_titles(train_risk: ModuleType) -> None:
    safe = np.linspace(0.0, 0.99, 100)
    high = train_risk.threshold_for(safe, 0.06)
    assert int((safe >= high).sum()) == 6
    assert train_risk.threshold_for(np.array([]), 0.06) == 0.5

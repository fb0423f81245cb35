"""Run the real `onda watch` loop (signals, MonitorService, AlertDispatcher, outbox) with a keyword scorer.

Used as a subprocess by test_faults_signals.py: only `monitor.compose.build_service` is replaced, so
the signal handling, the service life-cycle and alert delivery are the shipped ones; the scorer is a
keyword stand-in (no model load) and the one source is a real BlueskySource pointed at a loopback URL.

    python watch_harness.py --source URL --brand BRAND.toml [--once] [--no-analyser]

Settings come from the environment (ONDA_STORAGE__PATH, ONDA_SLACK__WEBHOOK_URL, ...).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared fakes
from fakes import KeywordScorer

import monitor.compose
from brand_dna.dna import load_brand
from monitor.alerts import AlertDispatcher
from monitor.clustering import Clusterer, TextAnalyser
from monitor.config import Settings, load_settings
from monitor.service import MonitorService
from monitor.sources.bluesky import BlueskySource
from monitor.watch import run_watch


class IdleAnalyser(TextAnalyser):
    """For runs that never receive items: skip loading spaCy (which would delay exit by seconds)."""

    def ensure(self) -> None:
        return None


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--source", required=True)
    p.add_argument("--brand", required=True)
    p.add_argument("--once", action="store_true")
    p.add_argument("--no-analyser", action="store_true")
    args = p.parse_args()

    def build_service(settings: Settings, *, offline: bool, db: str | None = None) -> MonitorService:
        brands = [load_brand(args.brand)]
        storage = monitor.compose.open_storage(settings, db)
        scorer = KeywordScorer(brands)
        alerts = AlertDispatcher(settings, storage, None, brands, slack_pace_s=0.0)
        clusterer = Clusterer(
            scorer.embedder,
            storage,
            lambda: datetime.now(UTC),
            analyser=IdleAnalyser() if args.no_analyser else None,
        )
        source: Any = BlueskySource(url=args.source, interval_s=3600)
        return MonitorService(
            settings,
            storage=storage,
            scorer=scorer,
            connections=monitor.compose.HttpConnections(settings, storage, sources=[source]),
            alerts=alerts,
            clusterer=clusterer,
            flush_interval_s=0.2,
        )

    monitor.compose.build_service = build_service  # type: ignore[assignment]
    return run_watch(load_settings(None), offline=False, once=args.once)


if __name__ == "__main__":
    raise SystemExit(main())

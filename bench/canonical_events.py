"""Canonical form of `onda watch --offline --once` output, for before/after comparisons.

Reads JSON lines on stdin and prints them sorted, without the fields that differ between two
runs of the same day (wall-clock times, temp paths). Two runs of the same code give the same
dump; a refactor that keeps behaviour gives the same dump as the code before it::

    onda watch --offline --once | python bench/canonical_events.py > after.jsonl
    diff before.jsonl after.jsonl

With ``--final`` only each story's final state is kept (see ``_final``): that part is stable
between runs, while the full dump also shows how updates arrived.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

_VOLATILE = {"first_seen", "last_seen", "at", "time", "ts", "next_run", "last_success", "last_attempt"}
_TMP = re.compile(r"/tmp/[^\s\"']+")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in sorted(value.items()) if k not in _VOLATILE}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return _TMP.sub("<tmp>", value)
    return value


def _final(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each story's last trend event, reduced to what does not depend on poll arrival order.

    Sources are polled concurrently, so the order in which headlines arrive (and therefore which
    five URLs or headlines a trend keeps, and the intermediate updates) varies between runs of the
    same code. The final verdicts, sources and titles do not.
    """
    last: dict[str, dict[str, Any]] = {}
    changes: dict[str, list[str]] = {}
    for ev in events:
        if ev.get("event") != "trend":
            continue
        last[ev["id"]] = ev
        changes.setdefault(ev["id"], []).append(ev.get("change", ""))
    out = []
    for tid, ev in sorted(last.items()):
        verdicts = {
            brand: {"verdict": v["verdict"], "fit": v["fit"], "risk": v["risk"]["level"],
                    "categories": sorted(v["risk"]["categories"])}
            for brand, v in sorted(ev.get("verdicts", {}).items())
        }
        out.append({"id": tid, "title": ev["title"], "lang": ev.get("lang"), "sources": sorted(ev["sources"]),
                    "news": changes[tid].count("new"), "verdicts": verdicts})
    return out


def main() -> int:
    final = "--final" in sys.argv[1:]
    events = [json.loads(line) for line in sys.stdin if line.strip()]
    rows = _final(events) if final else [_clean(ev) for ev in events]
    for row in sorted(json.dumps(r, ensure_ascii=False, sort_keys=True) for r in rows):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

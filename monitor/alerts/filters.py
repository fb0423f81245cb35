"""`onda watch --min-fit X --only opportunities|risks --changes new,...`: a pure filter over event JSON lines.

Rules (documented for scripts):
- trend lines: `changes` (when given) keeps only those whose `change` is one of them (`new`, `update`,
  `risk_changed`): `{"new"}` gives each story once, at its first sighting; the rules below apply after it.
- trend lines: `only="opportunities"` keeps a trend if some brand's verdict is `fit` (and fit >= min_fit when
  given); `only="risks"` keeps it if some brand's verdict is `risky`; with no `only`, `min_fit` keeps trends where
  some brand's fit >= min_fit.
- alert lines (alert_queued / alert_sent / alert_failed): `only` selects by kind (opportunity vs
  used_turned_risky); `min_fit` does not apply (they already passed the alert policy).
- any other line (source_error, source_health, status): kept when `only` is None, dropped otherwise.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

Only = Literal["opportunities", "risks"]
_ALERT_KIND = {"opportunities": "opportunity", "risks": "used_turned_risky"}


def _fit(v: Mapping[str, Any]) -> float:
    try:
        return float(v.get("fit", float("-inf")))
    except (TypeError, ValueError):
        return float("-inf")


def passes_filters(
    event_json: dict[str, Any], *, min_fit: float | None, only: Only | None, changes: Collection[str] | None = None
) -> bool:
    """True if the `onda watch` line should be printed under these filters (`changes` None = every change)."""
    if only is not None and only not in _ALERT_KIND:
        raise ValueError(f"--only must be 'opportunities' or 'risks', not {only!r}")
    event = str(event_json.get("event", ""))
    if event == "trend":
        if changes is not None and event_json.get("change") not in changes:
            return False
        raw = event_json.get("verdicts")
        verdicts = [v for v in raw.values() if isinstance(v, Mapping)] if isinstance(raw, Mapping) else []
        floor = float("-inf") if min_fit is None else min_fit
        if only == "opportunities":
            return any(v.get("verdict") == "fit" and _fit(v) >= floor for v in verdicts)
        if only == "risks":
            return any(v.get("verdict") == "risky" for v in verdicts)
        return min_fit is None or any(_fit(v) >= floor for v in verdicts)
    if event.startswith("alert_"):
        return only is None or event_json.get("kind") == _ALERT_KIND[only]
    return only is None

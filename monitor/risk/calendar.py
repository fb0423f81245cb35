"""Anniversary layer: tragedies whose anniversaries brands keep stumbling on (AT&T on 9/11, SpaghettiOs on Pearl Harbor).

A trend naming the event is tragedy/high around its date and medium at other times; on the day of a
major anniversary a commemorative-sounding trend gets a low flag even without naming it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor.evidence import CalendarEvidence
from monitor.models import RiskFlag, RiskLevel
from monitor.risk.lexicon import GARM_BY_GROUP
from monitor.text import may_match, run_keys, word_runs

DATA_FILE = Path(__file__).with_name("data") / "anniversaries.toml"
DEFAULT_WINDOW_DAYS = 3
GARM = GARM_BY_GROUP["death"]  # the GARM name of every calendar flag
COMMEMORATIVE = re.compile(
    r"(?<!\w)(anniversario|anniversary|anniversaire|ricorrenza|commemorazione|commemorate|commemoration|"
    r"remember|remembrance|never forget|neverforget|in memoria|memoriale|memorial|minuto di silenzio|"
    r"moment of silence|per non dimenticare|lest we forget)(?!\w)"
)


@dataclass(frozen=True, slots=True)
class Anniversary:
    """A sensitive date (tragedy, memorial day) and the names and dates that refer to it."""

    name: str
    day: date
    aliases: re.Pattern[str]
    date_aliases: re.Pattern[str] | None
    major: bool = False
    window_days: int = DEFAULT_WINDOW_DAYS
    keys: frozenset[str] | None = None  # first_run of every alias: none among a text's runs = no alias (None = search)


def _clean_terms(terms: list[str]) -> list[str]:
    """Lowercased, single-spaced, distinct, longest first (the longest alternative wins)."""
    return sorted({" ".join(t.lower().split()) for t in terms if t.strip()}, key=len, reverse=True)


def _alternation(terms: list[str]) -> re.Pattern[str] | None:
    cleaned = _clean_terms(terms)
    if not cleaned:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(t) for t in cleaned) + r")(?!\w)")


def _alias_keys(terms: list[str]) -> frozenset[str] | None:
    return run_keys(_clean_terms(terms))


def load_calendar(path: Path = DATA_FILE) -> list[Anniversary]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    out: list[Anniversary] = []
    for i, ev in enumerate(data.get("event", [])):
        try:
            day = date.fromisoformat(str(ev["date"]))
            aliases = _alternation(list(ev.get("aliases", [])))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: event #{i + 1}: {exc}") from None
        if aliases is None:
            raise ValueError(f"{path}: event #{i + 1} ({ev.get('name')}) has no aliases")
        out.append(
            Anniversary(
                name=str(ev.get("name", f"event {i + 1}")),
                day=day,
                aliases=aliases,
                date_aliases=_alternation(list(ev.get("date_aliases", []))),
                keys=_alias_keys(list(ev.get("aliases", []))),
                major=bool(ev.get("major", False)),
                window_days=int(ev.get("window_days", DEFAULT_WINDOW_DAYS)),
            )
        )
    return out


def days_from_anniversary(day: date, today: date) -> int:
    """Distance in days from `today` to the nearest anniversary of `day` (previous, this or next year)."""
    best = 366
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            ann = day.replace(year=year)
        except ValueError:  # 29 February
            ann = date(year, 3, 1)
        best = min(best, abs((ann - today).days))
    return best


class AnniversaryCalendar:
    """Flags trends that mention an anniversary near today."""

    def __init__(self, events: list[Anniversary] | None = None) -> None:
        self.events = events if events is not None else load_calendar()
        # Distances depend only on the day: computed once per day, not per trend.
        self._distances: tuple[tuple[date, int, int], list[int]] | None = None

    def _distances_on(self, today: date) -> list[int]:
        key = (today, id(self.events), len(self.events))
        cached = self._distances  # one read, one assignment: safe across threads
        if cached is None or cached[0] != key:
            cached = (key, [days_from_anniversary(ev.day, today) for ev in self.events])
            self._distances = cached
        return cached[1]

    def assess(self, text: str, today: date) -> list[RiskFlag]:
        """Flags for one trend text (title + headlines), judged on `today`."""
        low = " ".join(text.lower().split())
        flags: list[RiskFlag] = []
        runs = word_runs(low)
        for ev, dist in zip(self.events, self._distances_on(today), strict=True):
            near = dist <= ev.window_days
            m = ev.aliases.search(low) if may_match(ev.keys, runs) else None
            if m is None and near and ev.date_aliases is not None:
                m = ev.date_aliases.search(low)
            if m is not None:
                level: RiskLevel = "high" if near else "medium"
                found = CalendarEvidence(ev.name, ev.day, today.year - ev.day.year, dist, near, mention=m.group(0))
                flags.append(RiskFlag("tragedy", level, garm=GARM, evidence=found, strength=1.0 if near else 0.5))
            elif ev.major and dist == 0:
                c = COMMEMORATIVE.search(low)
                if c is not None:
                    found = CalendarEvidence(ev.name, ev.day, today.year - ev.day.year, dist, near, wording=c.group(0))
                    flags.append(RiskFlag("tragedy", "low", garm=GARM, evidence=found, strength=0.25))
        return flags

"""Helpers for alert tests: a fake Slack (served on 127.0.0.1 by conftest), trends, verdicts, a clock."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from brand_dna.dna import BrandDNA
from monitor.alerts import AlertDispatcher
from monitor.config import Settings
from monitor.events import Event, TrendEvent
from monitor.evidence import FitEvidence, LexiconEvidence, TermCount
from monitor.models import RiskAssessment, RiskFlag, Trend, Verdict
from monitor.storage import Storage

SECRET_TOKEN = "XXsecretTOKENxx1234567890"
SLACK_PATH = f"/services/T0000TEST/B0000TEST/{SECRET_TOKEN}"
T0 = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    status: int

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeSlack:
    """Behaves like a Slack incoming webhook; `script` is consumed one response per request, then `default`.

    Script items: ("ok",), ("status", code, body), ("429", retry_after), ("hang", seconds),
    ("echo", code): a misconfigured proxy that answers `code` with the full request URL (token and all)
    in its body.
    """

    script: list[tuple[Any, ...]] = field(default_factory=list)
    default: tuple[Any, ...] = ("ok",)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""
    checker: Callable[[web.Request, bytes], tuple[int, str] | None] | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        step = self.script.pop(0) if self.script else self.default
        status = 200
        if step[0] == "hang":
            rec = Recorded(request.path, dict(request.headers), body, time.monotonic(), 0)
            self.requests.append(rec)
            await asyncio.sleep(step[1])
            return web.Response(text="ok")
        if self.checker is not None:
            verdict = self.checker(request, body)
            if verdict is not None:
                status, text = verdict
                self.requests.append(Recorded(request.path, dict(request.headers), body, time.monotonic(), status))
                return web.Response(status=status, text=text)
        headers: dict[str, str] = {}
        if step[0] == "ok":
            text = "ok"
        elif step[0] == "429":
            status, text = 429, "rate_limited"
            headers["Retry-After"] = str(step[1])
        elif step[0] == "echo":
            status, text = int(step[1]), f"no_service: no route for POST {request.url} (path {request.path})"
        else:
            status, text = int(step[1]), str(step[2])
        self.requests.append(Recorded(request.path, dict(request.headers), body, time.monotonic(), status))
        return web.Response(status=status, text=text, headers=headers, content_type="text/plain")

    @property
    def delivered(self) -> list[Recorded]:
        return [r for r in self.requests if r.status == 200]


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def make_settings(**sections: Any) -> Settings:
    """Settings from the environment (Slack URL) plus test overrides; fast timeouts by default."""
    sections.setdefault("http", {"total_timeout_s": 2.0, "connect_timeout_s": 1.0, "max_backoff_s": 3600.0})
    return Settings(**sections)


BRAND = BrandDNA(name="Lavazza", dna=("Italian family coffee roaster since 1895",), alert_threshold=0.0)


def make_trend(
    tid: str = "t1",
    title: str = "Sinner vince gli Australian Open",
    *,
    momentum: float = 5.0,
    context: list[str] | None = None,
    urls: list[str] | None = None,
    sources: list[str] | None = None,
) -> Trend:
    return Trend(
        id=tid,
        title=title,
        lang="it",
        first_seen=T0 - timedelta(hours=1),
        last_seen=T0,
        context=context if context is not None else ["Sinner trionfa a Melbourne", "Festa in Alto Adige"],
        urls=urls if urls is not None else ["https://www.ansa.it/sport/sinner.html"],
        sources=sources if sources is not None else ["google_trends", "rss"],
        momentum=momentum,
    )


def make_verdict(
    tid: str = "t1",
    verdict: str = "fit",
    fit: float = 0.4,
    *,
    level: str = "none",
    terms: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
) -> Verdict:
    """`terms`: words of one lexicon finding at `level` (its reason reads "'term' — tragedy: death ...")."""
    evidence = LexiconEvidence("death", tuple(TermCount(t, 1, "death") for t in terms))
    flags = (RiskFlag("tragedy", level, "Death, Injury or Military Conflict", evidence),) if terms else ()  # type: ignore[arg-type]
    return Verdict(
        id=tid,
        verdict=verdict,  # type: ignore[arg-type]
        fit=fit,
        matched="Early sponsor and ambassador partnership with Jannik Sinner",
        risk=RiskAssessment(level=level, categories=categories, flags=flags),  # type: ignore[arg-type]
        fit_evidence=FitEvidence(threshold=0.26, semantic_z=4.0, cosine=0.35, shared_terms=1, names=("Jannik Sinner",)),
    )


def trend_event(trend: Trend | None = None, verdict: Verdict | None = None, *, is_new: bool = True) -> TrendEvent:
    trend = trend or make_trend()
    verdict = verdict or make_verdict(trend.id)
    return TrendEvent(trend=trend, verdicts={BRAND.name: verdict}, source="rss", is_new=is_new)


class Events(list[Event]):
    def kinds(self) -> list[str]:
        return [e.to_json()["event"] for e in self]


def make_dispatcher(
    settings: Settings,
    storage: Storage,
    session: aiohttp.ClientSession | None,
    events: Events,
    clock: Clock,
    **kw: Any,
) -> AlertDispatcher:
    kw.setdefault("slack_pace_s", 0.0)
    kw.setdefault("tz", UTC)
    return AlertDispatcher(settings, storage, session, [BRAND], events.append, clock, **kw)

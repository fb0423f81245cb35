"""A deterministic stand-in for MonitorService, for screenshots, demos and the TUI tests.

Its brands have no file: a Brand DNA save re-scores in memory and writes nothing.

`python -m tui.demo [--live] [--brand NAME]` opens the dashboard on fixed data (no
model, no network). `--live` keeps adding a trend every few seconds and makes one
source fail, to watch the dashboard move. The data includes a headline full of
Textual markup to show that it renders literally.

Over 400 lines because most of it is the fixed day itself (trends, verdicts and evidence as
data); the behaviour is a small ServiceAPI implementation.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from brand_dna.dna import BrandDNA
from monitor.alerts.preview import preview_text
from monitor.api import RescoreDiff, VerdictChange
from monitor.events import Event, Listener, SourceErrorEvent, SourceHealthEvent, StatusEvent, StatusKind, TrendEvent
from monitor.evidence import (
    CredibilityEvidence,
    FitEvidence,
    LexiconEvidence,
    PrototypeEvidence,
    SourceRating,
    TermCount,
)
from monitor.models import Mark, OutboxRow, RiskAssessment, RiskFlag, SourceHealth, StatementScore, Trend, Verdict

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DEMO_THRESHOLD = 0.5  # the fit the hand-written verdicts are judged against
MARKUP_TITLE = "[bold red]BREAKING[/] espresso [@click=app.quit]prices[/] soar [link=https://evil.example]x[/link] ]["

LAVAZZA = BrandDNA(
    name="Lavazza",
    language="it",
    dna=(
        "Italian family coffee roaster since 1895: espresso and the Italian coffee ritual",
        "Coffee moments through the day: breakfast, cappuccino, the espresso break",
        "Baristas, coffee culture, blends and coffee machines at home and in the café",
    ),
    positioning=(
        "Official coffee of the tennis Grand Slams: Wimbledon, Australian Open, US Open",
        "Ambassador partnership with Italian tennis champion Jannik Sinner",
    ),
    avoid=("politics", "gambling"),
)
DUCATI = BrandDNA(
    name="Ducati",
    language="it",
    dna=(
        "Italian motorcycle maker from Borgo Panigale, Bologna, since 1926",
        "Racing DNA: the Ducati Lenovo Team in MotoGP and World Superbike",
    ),
    avoid=("politics",),
)
SOURCES = ("google_trends", "gdelt", "mastodon", "rss_ansa")


def _mentions(first: datetime, counts: list[int]) -> list[tuple[datetime, int]]:
    return [(first + timedelta(minutes=15 * i), c) for i, c in enumerate(counts)]


def _trend(tid: str, title: str, minutes_ago: int, counts: list[int], sources: list[str], **kw: Any) -> Trend:
    now: datetime = kw.get("now", NOW)
    first = now - timedelta(minutes=minutes_ago)
    return Trend(
        id=tid,
        title=title,
        lang=kw.get("lang", "it"),
        first_seen=first,
        last_seen=now - timedelta(minutes=kw.get("last_ago", 2)),
        context=kw.get("context", []),
        urls=kw.get("urls", []),
        sources=sources,
        traffic=kw.get("traffic"),
        momentum=float(counts[-1]) * 4 if counts else 0.0,
        mentions=_mentions(first, counts),
    )


def _breakdown(brand: BrandDNA, best: int, fit: float) -> tuple[StatementScore, ...]:
    out = []
    for i, (kind, st) in enumerate(brand.statements):
        sem = fit if i == best else round(max(fit - 0.18 - 0.04 * abs(i - best), 0.02), 2)
        lex = 0.5 if i == best else 0.0
        out.append(StatementScore(statement=st, kind=kind, semantic=sem, lexical=lex, score=round(sem + 0.1 * lex, 3)))
    return tuple(out)


def _verdict(brand: BrandDNA, trend: Trend, verdict: str, fit: float, best: int = 0, **kw: Any) -> Verdict:
    statements = brand.statements
    flags: list[RiskFlag] = kw.get("flags", [])
    risk = RiskAssessment.from_flags(flags, avoid_hit=kw.get("avoid_hit"))
    return Verdict(
        id=trend.id,
        verdict=verdict,  # type: ignore[arg-type]
        fit=fit,
        matched=statements[best][1] if verdict != "off_brand" or fit > 0.3 else None,
        risk=risk,
        fit_evidence=FitEvidence(
            threshold=DEMO_THRESHOLD,
            semantic_z=round((fit - 0.3) * 5, 1),
            cosine=fit,
            shared_terms=1 if fit >= DEMO_THRESHOLD else 0,
            names=kw.get("names", ()),
        ),
        breakdown=_breakdown(brand, best, fit),
    )


def demo_trends(now: datetime = NOW) -> list[Trend]:
    """The fixed demo stories, timed relative to `now`."""
    trends = [
        _trend(
            "t-sinner",
            "Sinner vince gli Australian Open: secondo titolo consecutivo",
            95,
            [2, 5, 9, 14, 22, 31],
            ["google_trends", "gdelt", "rss_ansa"],
            context=["Sinner batte Medvedev in finale a Melbourne", "Jannik Sinner campione a Melbourne"],
            urls=["https://www.ansa.it/sport/tennis/sinner-melbourne", "https://www.gdeltproject.org/x"],
            traffic=200000,
        ),
        _trend(
            "t-barista",
            "World Barista Championship 2026: the Italian team reaches the final",
            240,
            [4, 6, 7, 7, 6, 6],
            ["mastodon", "gdelt"],
            context=["Italian barista in the WBC final in Milan"],
            urls=["https://worldcoffeeevents.example/wbc"],
            last_ago=9,
        ),
        _trend(
            "t-markup",
            MARKUP_TITLE,
            30,
            [1, 3, 8],
            ["mastodon"],
            context=["[b]not bold[/b] and [@click=app.bell]no action[/]"],
            urls=["https://example.org/[red]x[/red]"],
        ),
        _trend(
            "t-coffeeday",
            "Giornata internazionale del caffè: file ai bar di Torino",
            600,
            [9, 7, 5, 4, 3, 2],
            ["google_trends"],
            last_ago=40,
        ),
        _trend(
            "t-quake",
            "Terremoto in Calabria: vittime e crolli",
            50,
            [3, 12, 40, 61],
            ["google_trends", "gdelt", "rss_ansa", "mastodon"],
            context=["Scossa di magnitudo 5.9, almeno 12 morti"],
        ),
        _trend(
            "t-election",
            "Elezioni: scontro sul caffè al bar tra i leader",
            120,
            [5, 5, 6, 6],
            ["rss_ansa", "gdelt"],
        ),
        _trend(
            "t-cure",
            "Il caffè cura il cancro, dice un video virale",
            70,
            [2, 4, 9],
            ["mastodon"],
            urls=["https://fake-health-news.example/caffe-cura"],
        ),
        _trend("t-phone", "Nuovo smartphone pieghevole presentato a Barcellona", 180, [8, 8, 7, 5], ["google_trends"]),
        _trend("t-crypto", "Bitcoin sopra i 120 mila dollari", 300, [3, 3, 4, 3], ["gdelt"], last_ago=25),
        _trend("t-motogp", "MotoGP, Bagnaia vince in Qatar con la Ducati", 80, [3, 8, 15], ["google_trends", "gdelt"]),
    ]
    shift = now - NOW
    for t in trends:
        t.first_seen += shift
        t.last_seen += shift
        t.mentions = [(at + shift, c) for at, c in t.mentions]
    return trends


def demo_verdicts(brand: BrandDNA, trends: list[Trend]) -> dict[str, Verdict]:
    """Hand-written verdicts per brand (the fake has no model)."""
    by_id = {t.id: t for t in trends}
    death, social = "Death, Injury or Military Conflict", "Debated Sensitive Social Issues"
    tragedy = RiskFlag("tragedy", "high", death, LexiconEvidence("death", (TermCount("vittime", 1, "death"),)))
    tragedy2 = RiskFlag("tragedy", "high", death, PrototypeEvidence("Natural disaster with casualties", 0.41, 0.22))
    elezioni = LexiconEvidence("elections", (TermCount("elezioni", 1, "elections"),))
    polar = RiskFlag("polarizing", "high", social, elezioni)
    unreliable = SourceRating("fake-health-news.example", ("Iffy index of unreliable sources",))
    misinfo = RiskFlag("misinformation", "high", "Misinformation", CredibilityEvidence((unreliable,), judged=1))
    crolli = LexiconEvidence("disaster", (TermCount("crolli", 1, "disaster"),))
    misinfo_low = RiskFlag("tragedy", "low", death, crolli, allowed_by="disasters")
    plan: dict[str, tuple[str, float, int, dict[str, Any]]]
    if brand.name == "Ducati":
        plan = {
            "t-motogp": ("fit", 0.74, 1, {}),
            "t-quake": ("risky", 0.1, 0, {"flags": [tragedy]}),
            "t-election": ("risky", 0.05, 0, {"flags": [polar], "avoid_hit": "politics"}),
        }
    else:
        plan = {
            "t-sinner": ("fit", 0.71, 4, {"names": ("Jannik Sinner",)}),
            "t-barista": ("fit", 0.64, 2, {}),
            "t-markup": ("fit", 0.52, 0, {}),
            "t-coffeeday": ("fit", 0.58, 1, {}),
            "t-quake": ("risky", 0.12, 0, {"flags": [tragedy, tragedy2, misinfo_low]}),
            "t-election": ("risky", 0.41, 1, {"flags": [polar], "avoid_hit": "politics"}),
            "t-cure": ("risky", 0.48, 0, {"flags": [misinfo]}),
        }
    out: dict[str, Verdict] = {}
    for tid, trend in by_id.items():
        name, fit, best, kw = plan.get(tid, ("off_brand", 0.08 + (len(tid) % 5) / 20, 0, {}))
        out[tid] = _verdict(brand, trend, name, fit, min(best, len(brand.statements) - 1), **kw)
    return out


def demo_health(now: datetime = NOW) -> list[SourceHealth]:
    return [
        SourceHealth("google_trends", now - timedelta(minutes=3), next_run=now + timedelta(minutes=7), items_last=20),
        SourceHealth("gdelt", now - timedelta(minutes=1), next_run=now + timedelta(minutes=14), items_last=75),
        SourceHealth(
            "mastodon",
            now - timedelta(minutes=48),
            last_error="HTTP 429 Too Many Requests [retry-after: 600]",
            last_error_at=now - timedelta(minutes=4),
            consecutive_failures=3,
            next_run=now + timedelta(minutes=6),
        ),
        SourceHealth("rss_ansa", now - timedelta(minutes=6), next_run=now + timedelta(minutes=4), items_last=12),
    ]


def demo_outbox(now: datetime = NOW) -> list[OutboxRow]:
    def row(i: int, brand: str, tid: str, title: str, status: str, err: str | None, mins: int) -> OutboxRow:
        at = now - timedelta(minutes=mins)
        return OutboxRow(
            id=i,
            dedupe_key=f"{brand}:{tid}:opportunity",
            brand=brand,
            trend_id=tid,
            kind="opportunity",
            channel="slack",
            payload={"title": title},
            status=status,
            attempts=1 if status != "failed" else 5,
            last_error=err,
            created_at=at,
            next_attempt_at=at,
            sent_at=at if status == "sent" else None,
        )

    return [
        row(3, "Lavazza", "t-markup", MARKUP_TITLE, "pending", None, 1),
        row(2, "Lavazza", "t-sinner", "Sinner vince gli Australian Open", "sent", None, 20),
        row(1, "Lavazza", "t-coffeeday", "Giornata internazionale del caffè", "failed", "HTTP 500 from Slack", 300),
    ]


class DemoService:
    """Implements monitor.api.ServiceAPI over fixed data; records every call in `calls`."""

    def __init__(
        self,
        *,
        brands: list[BrandDNA] | None = None,
        load_delay: float = 0.0,
        live: bool = False,
        clock: Callable[[], datetime] = lambda: NOW,
    ) -> None:
        self._brands = list(brands or [LAVAZZA, DUCATI])
        self.load_delay = load_delay
        self.live = live
        self.clock = clock
        self.calls: list[tuple[Any, ...]] = []
        self.listeners: list[Listener] = []
        self.ready = False
        start = clock()
        self.trends: dict[str, Trend] = {t.id: t for t in demo_trends(start)}
        self.verdicts: dict[str, dict[str, Verdict]] = {
            b.name: demo_verdicts(b, list(self.trends.values())) for b in self._brands
        }
        self._health = {h.name: h for h in demo_health(start)}
        self._outbox = demo_outbox(start)
        self._marks: dict[tuple[str, str], Mark] = {}
        self._authors: dict[tuple[str, str], str] = {}
        self.user = "demo"
        self.channels: list[str] = ["slack"]  # where alerts go (alert_channels); ["log"]: none configured
        self._task: asyncio.Task[None] | None = None

    # -- ServiceAPI -------------------------------------------------------------------
    @property
    def brands(self) -> list[BrandDNA]:
        return list(self._brands)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self.calls.append(("subscribe",))
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener) if listener in self.listeners else None

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    async def start(self) -> None:
        self.calls.append(("start",))
        self.emit(StatusEvent(StatusKind.MODEL_LOADING, "loading model…"))
        await self._load()
        self.ready = True
        self.emit(StatusEvent(StatusKind.MODEL_READY, "model ready"))
        for h in self._health.values():
            self.emit(SourceHealthEvent(h))
        if self.live:
            self._task = asyncio.create_task(self._live())

    async def _load(self) -> None:
        if self.load_delay:
            await asyncio.sleep(self.load_delay)

    async def stop(self) -> None:
        self.calls.append(("stop",))
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.emit(StatusEvent(StatusKind.STOPPED, "stopped"))

    async def run_once(self) -> None:
        self.calls.append(("run_once",))

    async def poll_now(self, source: str) -> None:
        self.calls.append(("poll_now", source))
        old = self._health.get(source, SourceHealth(source))
        h = replace(old, last_success=self.clock(), consecutive_failures=0, last_error=None)
        self._health[source] = h
        self.emit(SourceHealthEvent(h))

    def source_names(self) -> list[str]:
        return list(SOURCES)

    def health(self) -> list[SourceHealth]:
        return list(self._health.values())

    def recent(self, brand: str, limit: int = 500) -> list[tuple[Trend, Verdict]]:
        self.calls.append(("recent", brand))
        if not self.ready:
            return []
        verdicts = self.verdicts.get(brand, {})
        return [(t, verdicts[t.id]) for t in list(self.trends.values())[:limit] if t.id in verdicts]

    def set_mark(self, trend_id: str, brand: str, mark: Mark | None) -> None:
        self.calls.append(("set_mark", trend_id, brand, mark))
        if mark is None:
            self._marks.pop((trend_id, brand), None)
        else:
            self._marks[(trend_id, brand)] = mark
        self._authors[(trend_id, brand)] = self.user

    def mark_for(self, trend_id: str, brand: str) -> Mark | None:
        return self._marks.get((trend_id, brand))

    def marks(self, brand: str, trend_ids: Sequence[str]) -> dict[str, Mark]:
        return {tid: m for tid in trend_ids if (m := self._marks.get((tid, brand))) is not None}

    def mark_authors(self, brand: str, trend_ids: Sequence[str]) -> dict[str, str]:
        return {tid: self._authors[(tid, brand)] for tid in trend_ids if (tid, brand) in self._marks}

    def alert_channels(self, brand: str) -> list[str]:
        return list(self.channels)

    def alert_preview(self, row: OutboxRow) -> str:
        return preview_text(row, [])  # the demo has no webhook URL or key to hide

    async def update_brand(self, brand: BrandDNA, *, save: bool = True) -> RescoreDiff:
        """Fake rescoring: new statements sharing a word with a title make it fit; removed ones unmatch."""
        self.calls.append(("update_brand", brand.name, brand))
        await asyncio.sleep(0)
        old = next(b for b in self._brands if b.name == brand.name)
        self._brands = [brand if b.name == brand.name else b for b in self._brands]
        before = self.verdicts.get(brand.name, {})
        after: dict[str, Verdict] = {}
        changes: list[VerdictChange] = []
        added = [s for s in brand.dna + brand.positioning if s not in old.dna + old.positioning]
        removed = {s for s in old.dna + old.positioning if s not in brand.dna + brand.positioning}
        new_avoid = [a for a in brand.avoid if a not in old.avoid]
        for tid, v in before.items():
            trend = self.trends[tid]
            words = {w.lower().strip(",.:") for w in trend.title.split() if len(w) >= 4}
            nv = v
            if any(a.lower() in trend.title.lower() for a in new_avoid):
                nv = replace(v, verdict="risky", risk=RiskAssessment.from_flags([], avoid_hit=new_avoid[0]))
            elif v.verdict != "risky" and v.matched in removed:
                nv = replace(v, verdict="off_brand", fit=round(v.fit - 0.3, 2), matched=None)
            elif v.verdict == "off_brand":
                hit = next((s for s in added if words & {w.lower().strip(",.:") for w in s.split()}), None)
                if hit is not None:
                    nv = replace(v, verdict="fit", fit=0.6, matched=hit)
            after[tid] = nv
            if nv.verdict != v.verdict:
                changes.append(VerdictChange(tid, trend.title, v.verdict, nv.verdict, v.fit, nv.fit))
        self.verdicts[brand.name] = after
        diff = RescoreDiff(brand=brand.name, rescored=len(before), changes=changes)  # no file: nothing written
        self.emit(StatusEvent(StatusKind.RESCORED, f"{brand.name}: {len(before)} trends re-scored", {"brand": brand.name}))
        return diff

    def outbox(self, limit: int = 200) -> list[OutboxRow]:
        self.calls.append(("outbox",))
        return self._outbox[:limit]

    # -- demo only ----------------------------------------------------------------------
    def add_trend(self, trend: Trend, verdicts: dict[str, Verdict], source: str = "gdelt") -> None:
        is_new = trend.id not in self.trends
        self.trends[trend.id] = trend
        for b, v in verdicts.items():
            self.verdicts.setdefault(b, {})[trend.id] = v
        marks = {b: m for b in verdicts if (m := self._marks.get((trend.id, b))) is not None}
        self.emit(TrendEvent(trend, verdicts, source, is_new, marks=marks))

    async def _live(self) -> None:
        i = 0
        while True:
            await asyncio.sleep(4)
            i += 1
            now = self.clock()
            t = Trend(
                id=f"live-{i}",
                title=f"Espresso trend #{i}: coffee break challenge goes viral",
                lang="en",
                first_seen=now,
                last_seen=now,
                sources=["mastodon"],
                mentions=[(now, i)],
                momentum=float(i),
            )
            self.add_trend(t, {b.name: _verdict(b, t, "fit", 0.5 + (i % 4) / 20, 0) for b in self._brands})
            if i % 3 == 0:
                self.emit(SourceErrorEvent("gdelt", "timeout after 20 s", i // 3, now + timedelta(minutes=5)))


def main(argv: list[str] | None = None) -> int:
    from tui.app import OndaApp

    parser = argparse.ArgumentParser(prog="python -m tui.demo", description=__doc__)
    parser.add_argument("--live", action="store_true", help="keep adding trends")
    parser.add_argument("--brand", default=None)
    parser.add_argument("--delay", type=float, default=1.5, help="fake model load seconds")
    args = parser.parse_args(argv)
    clock = (lambda: datetime.now(UTC)) if args.live else (lambda: NOW)
    service = DemoService(load_delay=args.delay, live=args.live, clock=clock)
    OndaApp(service, brand=args.brand, clock=clock).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

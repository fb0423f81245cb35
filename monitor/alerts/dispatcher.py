"""AlertDispatcher: scored trends -> durable outbox -> Slack / generic webhook / log.

Order of operations is what makes alerts "never lost, never twice":
1. `consider()` applies the policy and writes the alert to the SQLite outbox (UNIQUE dedupe key)
   *before* anything is sent; an alert already queued or sent is silently skipped.
2. `flush()` sends what is due and marks each row sent only after Slack answered `ok` (2xx for
   the generic webhook). A crash or an outage leaves rows `pending`; the next process sends them.
   The only window for a repeat is a crash between Slack's `ok` and the `mark_sent` write
   (milliseconds): delivery is at-least-once, never silently dropped.

Channels, decided per brand when the alert is queued:
- `slack`   when a webhook URL is configured for the brand (per-brand env var or ONDA_SLACK__WEBHOOK_URL);
- `webhook` when `webhook.url` is set (in addition to Slack);
- `log`     when neither is configured: the row is written and marked sent at once (it shows in the
  TUI Alerts log and in `onda watch` as alert_queued + alert_sent), nothing leaves the machine.

Timing (applied in `flush()`, to opportunities only): quiet hours, digest mode (Slack), max per hour.
Pull-the-post alerts (`used_turned_risky`) are urgent and bypass all three. Held-back alerts get a
later `next_attempt_at`; nothing is dropped. Slack is paced to one message per second per webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo

import aiohttp

from brand_dna.dna import BrandDNA
from monitor.alerts import slack, webhook
from monitor.alerts.delivery import SendResult
from monitor.alerts.escape import clean
from monitor.alerts.policy import (
    OPPORTUNITY,
    QuietHoursError,
    RecentAlert,
    alert_kind,
    backoff_s,
    build_payload,
    dedupe_key,
    digest_due_at,
    hourly_slot_at,
    in_cooldown,
    parse_quiet_hours,
    quiet_until,
)
from monitor.config import ConfigError, Settings
from monitor.events import AlertEvent, Event, StatusEvent, TrendEvent
from monitor.storage import OutboxRow, Storage, StorageError

log = logging.getLogger(__name__)

SLACK, WEBHOOK, LOG = "slack", "webhook", "log"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _dest_key(channel: str, url: str) -> str:
    """In-memory key for pacing/blocking a destination without keeping the URL itself around as a key."""
    return f"{channel}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class AlertDispatcher:
    """Implements monitor.api.AlertSink.

    `session` and `emit` are public attributes so the service may attach its shared aiohttp session
    and its event bus after construction. Without a session, one is created on first send and
    closed by `close()`.
    """

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        session: aiohttp.ClientSession | None = None,
        brands: Sequence[BrandDNA] = (),
        emit: Callable[[Event], None] = lambda e: None,
        clock: Callable[[], datetime] = _utcnow,
        *,
        tz: tzinfo | None = None,
        slack_pace_s: float = 1.0,
        retry_base_s: float = 15.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.session = session
        self.emit = emit
        self.clock = clock
        self.tz = tz  # quiet hours are local time; None = the machine's local zone
        self.slack_pace_s = slack_pace_s
        self.retry_base_s = retry_base_s
        self._environ = environ
        self._brands = {b.name: b for b in brands}
        try:
            self._quiet = parse_quiet_hours(settings.alerts.quiet_hours)
        except QuietHoursError as exc:
            raise ConfigError(f"{settings.source_file or '(settings)'}: key 'alerts.quiet_hours': {exc}") from None
        self._lock = asyncio.Lock()
        self._own_session: aiohttp.ClientSession | None = None
        self._next_send: dict[str, float] = {}  # destination -> loop time of the next allowed POST
        self._blocked: dict[str, datetime] = {}  # destination -> do not try before (429 / outage)
        self._recent: list[RecentAlert] | None = None
        self._down: set[str] = set()  # destinations currently failing (for log-once / recovered notices)
        self._inflight: set[asyncio.Task[None]] = set()  # POSTs on the wire (see _send_rows)
        self._closed = False

    # -- configuration ------------------------------------------------------------------------------
    def attach(
        self, *, session: aiohttp.ClientSession | None = None, emit: Callable[[Event], None] | None = None
    ) -> None:
        """Let the service hand over its shared HTTP session and its event bus after construction."""
        if session is not None:
            self.session = session
        if emit is not None:
            self.emit = emit

    def set_brands(self, brands: Sequence[BrandDNA]) -> None:
        """Pick up edited brands (alert_threshold) after a DNA save."""
        self._brands = {b.name: b for b in brands}

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def channels_for(self, brand: str) -> list[str]:
        channels = []
        if slack.webhook_for(self.settings, brand, self.env):
            channels.append(SLACK)
        if webhook.webhook_url(self.settings):
            channels.append(WEBHOOK)
        return channels or [LOG]

    def _secrets(self) -> list[str]:
        url = webhook.webhook_url(self.settings)
        return slack.all_webhooks(self.settings, self.env) + ([url] if url else [])

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _emit(self, event: Event) -> None:
        try:
            self.emit(event)
        except Exception:  # a broken listener must not stop alerting
            log.exception("alert event listener failed")

    # -- policy + enqueue ----------------------------------------------------------------------------
    def _recent_alerts(self) -> list[RecentAlert]:
        if self._recent is None:
            self._recent = [
                RecentAlert(r.brand, r.kind, str(r.payload.get("topic") or ""), r.trend_id, r.created_at)
                for r in self.storage.outbox(limit=1000)
            ]
        return self._recent

    def consider(self, event: TrendEvent) -> list[OutboxRow]:
        """Queue (durably) the alerts this scored trend deserves; returns the new outbox rows."""
        if not self.settings.alerts.enabled or self._closed:
            return []
        cfg = self.settings.alerts
        now = self._now()
        trend = event.trend
        queued: list[OutboxRow] = []
        for brand_name, verdict in event.verdicts.items():
            brand = self._brands.get(brand_name)
            try:
                used = self.storage.used_trends(brand_name) if verdict.verdict == "risky" else set()
                kind = alert_kind(
                    trend,
                    verdict,
                    is_new=event.is_new,
                    used=used,
                    brand_threshold=brand.alert_threshold if brand else 0.0,
                    min_fit=cfg.min_fit,
                    require_rising=cfg.require_rising,
                )
                if kind is None:
                    continue
                payload = build_payload(trend, verdict, brand=brand_name, kind=kind, is_new=event.is_new)
                topic = str(payload["topic"])
                if kind == OPPORTUNITY and in_cooldown(
                    brand=brand_name,
                    kind=kind,
                    topic=topic,
                    trend_id=trend.id,
                    now=now,
                    cooldown=timedelta(minutes=cfg.cooldown_min),
                    recent=self._recent_alerts(),
                ):
                    log.info("alert for %r skipped: same topic alerted for %s within the cool-down", topic, brand_name)
                    continue
                for channel in self.channels_for(brand_name):
                    row = self._enqueue(brand_name, trend.id, kind, channel, payload, now)
                    if row is not None:
                        queued.append(row)
            except StorageError as exc:
                log.error("cannot queue alert for %s: %s", brand_name, exc)
        return queued

    def _enqueue(
        self, brand: str, trend_id: str, kind: str, channel: str, payload: dict[str, object], now: datetime
    ) -> OutboxRow | None:
        key = dedupe_key(brand, trend_id, kind, channel)
        alert_id = self.storage.enqueue_alert(
            dedupe_key=key, brand=brand, trend_id=trend_id, kind=kind, channel=channel, payload=payload, not_before=now
        )
        if alert_id is None:
            return None  # already queued or sent: never twice
        row = OutboxRow(
            id=alert_id,
            dedupe_key=key,
            brand=brand,
            trend_id=trend_id,
            kind=kind,
            channel=channel,
            payload=payload,
            status="pending",
            attempts=0,
            last_error=None,
            created_at=now,
            next_attempt_at=now,
            sent_at=None,
        )
        recent = self._recent_alerts()
        recent.append(RecentAlert(brand, kind, str(payload.get("topic") or ""), trend_id, now))
        if len(recent) > 2000:  # bounded memory on long runs: only the cool-down window matters
            cutoff = now - timedelta(minutes=self.settings.alerts.cooldown_min)
            self._recent = [r for r in recent if r.at >= cutoff]
        self._emit(AlertEvent("queued", row))
        if channel == LOG:
            row = self._mark_sent(row, now)
        return row

    # -- sending --------------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Send whatever is due (quiet hours, digest, hourly cap, pacing, retries honoured)."""
        async with self._lock:
            if self._closed:
                return
            now = self._now()
            try:
                due = self.storage.due_alerts(now)
            except StorageError as exc:
                log.error("cannot read the alert outbox: %s", exc)
                return
            by_channel: dict[str, list[OutboxRow]] = {SLACK: [], WEBHOOK: []}
            for row in due:
                if row.channel == LOG:
                    self._mark_sent(row, now)
                elif row.channel in by_channel:
                    by_channel[row.channel].append(row)
                else:
                    self._mark_failed(row, f"unknown alert channel {row.channel!r}")
            for channel, rows in by_channel.items():
                if rows:
                    try:
                        await self._flush_channel(channel, rows, now)
                    except StorageError as exc:
                        log.error("alert outbox write failed: %s", exc)

    async def _flush_channel(self, channel: str, rows: list[OutboxRow], now: datetime) -> None:
        urgent = [r for r in rows if r.kind != OPPORTUNITY]
        normal = [r for r in rows if r.kind == OPPORTUNITY]
        for row in urgent:
            await self._send_rows(channel, [row])
        if not normal:
            return
        local_now = now.astimezone(self.tz) if self.tz is not None else now.astimezone()
        quiet_end = quiet_until(self._quiet, local_now)
        if quiet_end is not None:
            self._defer(normal, quiet_end.astimezone(UTC))
            return
        digest_min = self.settings.alerts.digest_min
        if channel == SLACK and digest_min > 0:
            due_at = digest_due_at(self._last_sent_opportunity(channel), digest_min)
            if due_at is not None and due_at > now:
                self._defer(normal, due_at)
                return
            by_url: dict[str, list[OutboxRow]] = {}
            for row in normal:
                url = slack.webhook_for(self.settings, row.brand, self.env) or ""
                by_url.setdefault(url, []).append(row)
            for group in by_url.values():
                await self._send_rows(channel, group, digest=True)
            return
        max_per_hour = self.settings.alerts.max_per_hour
        for i, row in enumerate(normal):
            slot = hourly_slot_at(self._sent_times(channel, now), now, max_per_hour)
            if slot is not None:
                self._defer(normal[i:], slot)
                return
            await self._send_rows(channel, [row])

    def _sent_times(self, channel: str, now: datetime) -> list[datetime]:
        """When opportunity alerts went out on this channel during the last hour (durable, survives restarts)."""
        limit = self.settings.alerts.max_per_hour * 4 + 100
        return [
            r.sent_at
            for r in self.storage.outbox(status="sent", limit=limit)
            if r.channel == channel
            and r.kind == OPPORTUNITY
            and r.sent_at is not None
            and now - r.sent_at < timedelta(hours=1)
        ]

    def _last_sent_opportunity(self, channel: str) -> datetime | None:
        times = [
            r.sent_at
            for r in self.storage.outbox(status="sent", limit=200)
            if r.channel == channel and r.kind == OPPORTUNITY and r.sent_at is not None
        ]
        return max(times) if times else None

    async def _send_rows(self, channel: str, rows: list[OutboxRow], *, digest: bool = False) -> None:
        """One POST for `rows` (one alert, or a digest of several) and the bookkeeping of its result."""
        first = rows[0]
        timeout = aiohttp.ClientTimeout(
            total=self.settings.http.total_timeout_s, connect=self.settings.http.connect_timeout_s
        )
        secrets = self._secrets()
        call: Callable[[aiohttp.ClientSession], Awaitable[SendResult]]
        if channel == SLACK:
            surl = slack.webhook_for(self.settings, first.brand, self.env)
            if surl is None:
                for row in rows:
                    self._mark_failed(row, f"no Slack webhook configured for brand {first.brand!r}")
                return
            url = surl
            message = slack.build_digest([r.payload for r in rows]) if digest else slack.build_message(first.payload)
            pace = self.slack_pace_s

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return slack.send(s, url, message, client_timeout=timeout, secrets=secrets)
        else:
            wurl = webhook.webhook_url(self.settings)
            if wurl is None:
                for row in rows:
                    self._mark_failed(row, "the generic webhook is no longer configured")
                return
            url = wurl
            key = webhook.webhook_secret(self.settings, self.env)
            pace = 0.0

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return webhook.send(s, url, first, key=key, client_timeout=timeout)

        dest = _dest_key(channel, url)
        blocked = self._blocked.get(dest)
        if blocked is not None and blocked > self._now():
            return  # destination rate-limited or down: rows stay pending, untouched
        loop = asyncio.get_running_loop()
        wait = self._next_send.get(dest, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._closed:
            return  # close() ran while we waited: leave the rows pending for the next process
        session = await self._session()
        # Once a POST is on the wire it runs to its end (bounded by the HTTP timeout) even if the flush is
        # cancelled (SIGTERM, stop): Slack may already have posted the message, and a row left pending
        # would be sent a second time by the next process. close() waits for these.
        task = asyncio.ensure_future(self._deliver(channel, rows, call, session, dest, pace))
        self._inflight.add(task)
        task.add_done_callback(self._delivered)
        await asyncio.shield(task)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here: the flush that awaited it (if still alive) reports it

    async def _deliver(
        self,
        channel: str,
        rows: list[OutboxRow],
        call: Callable[[aiohttp.ClientSession], Awaitable[SendResult]],
        session: aiohttp.ClientSession,
        dest: str,
        pace: float,
    ) -> None:
        first = rows[0]
        loop = asyncio.get_running_loop()
        result = await call(session)
        self._next_send[dest] = loop.time() + pace
        sent_at = self._now()
        if result.outcome != "retry" and dest in self._down:
            self._down.discard(dest)
            log.info("%s alerts are being delivered again", channel)
            self._emit(StatusEvent("notice", f"{channel} alerts are being delivered again"))
        if result.outcome == "sent":
            for row in rows:
                self._mark_sent(row, sent_at)
        elif result.outcome == "failed":
            for row in rows:
                self._mark_failed(row, result.error or "rejected")
        else:
            attempts = max(r.attempts for r in rows) + 1
            delay = result.retry_after_s
            if delay is None:
                delay = backoff_s(attempts, base_s=self.retry_base_s, max_s=self.settings.http.max_backoff_s)
            delay = min(delay, self.settings.http.max_backoff_s)
            next_at = sent_at + timedelta(seconds=delay)
            self._blocked[dest] = next_at
            error = result.error or "temporary error"
            for row in rows:
                self.storage.mark_retry(row.id, error, next_at)
            when = f"retrying in {delay:.0f} s"
            if dest not in self._down:  # one warning + notice per outage, not one per attempt
                self._down.add(dest)
                log.warning("%s alerts not delivered (%s); %s, nothing is lost", channel, error, when)
                self._emit(StatusEvent("notice", f"{channel} alerts delayed: {error}; {when}", {"channel": channel}))
            else:
                log.debug("%s alert %s not delivered (%s); %s", channel, first.id, error, when)

    async def _session(self) -> aiohttp.ClientSession:
        if self.session is not None and not self.session.closed:
            return self.session
        if self._own_session is None or self._own_session.closed:
            self._own_session = aiohttp.ClientSession(headers={"User-Agent": self.settings.http.user_agent})
        return self._own_session

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _defer(self, rows: list[OutboxRow], until: datetime) -> None:
        for row in rows:
            if row.next_attempt_at < until:
                self.storage.defer_alert(row.id, until)

    def _mark_sent(self, row: OutboxRow, at: datetime) -> OutboxRow:
        self.storage.mark_sent(row.id, at)
        done = replace(row, status="sent", attempts=row.attempts + 1, last_error=None, sent_at=at)
        log.info(
            "alert %s (%s, %s) sent via %s: %s",
            row.id,
            row.kind,
            row.brand,
            row.channel,
            clean(row.payload.get("title"), 120),
        )
        self._emit(AlertEvent("sent", done))
        return done

    def _mark_failed(self, row: OutboxRow, error: str) -> None:
        line = clean(error, 200)
        self.storage.mark_failed(row.id, line)
        log.warning("alert %s (%s, %s) failed via %s: %s", row.id, row.kind, row.brand, row.channel, line)
        self._emit(
            AlertEvent("failed", replace(row, status="failed", attempts=row.attempts + 1, last_error=line), line)
        )

    async def close(self) -> None:
        """Stop sending and close the session we opened (never the service's shared one)."""
        self._closed = True
        if self._inflight:  # let POSTs already on the wire finish and be marked sent (each is time-bounded)
            await asyncio.wait(set(self._inflight), timeout=self.settings.http.total_timeout_s + 1)
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()
        self._own_session = None

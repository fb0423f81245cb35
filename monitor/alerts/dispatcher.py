"""AlertDispatcher: scored trends -> durable outbox -> Slack / generic webhook / log.

Order of operations is what makes alerts "never lost, never twice":
1. `consider()` applies the policy and writes the alert to the SQLite outbox (UNIQUE dedupe key)
   *before* anything is sent; an alert already queued or sent is silently skipped.
2. `flush()` picks what is due, *claims* each row in the database right before its POST (claimant
   id + lease, see monitor.storage) and marks it sent only after Slack answered `ok` (2xx for the
   generic webhook), and only while it still holds the claim. Several processes on one database
   (two `onda watch`, a watcher and the dashboard) therefore send each alert once. A crash or an
   outage leaves rows `pending`; their claims expire and the next process sends them. The only
   window for a repeat is a crash while a POST is in flight or between Slack's `ok` and the
   `mark_sent` write: delivery is at-least-once, never silently dropped.
3. A full disk: if "sent" cannot be written after Slack's `ok`, that fact is kept in memory and the
   write is retried before any new send (an acknowledged alert is never POSTed again by this
   process); an alert that cannot be queued waits in a bounded in-memory queue and is written when
   space returns. One `status` event (kind `error`, `alerts_at_risk` > 0) per episode, one notice on
   recovery.

Channels, decided per brand when the alert is queued:
- `slack`   when a webhook URL is configured for the brand (per-brand env var or ONDA_SLACK__WEBHOOK_URL);
- `webhook` when `webhook.url` is set (in addition to Slack);
- `log`     when neither is configured: the row is written and marked sent at once (it shows in the
  TUI Alerts log and in `onda watch` as alert_queued + alert_sent), nothing leaves the machine.

Timing (applied in `flush()`, to opportunities only): quiet hours, digest mode (Slack), max per hour.
Pull-the-post alerts (`used_turned_risky`) are urgent and bypass all three. Held-back alerts get a
later `next_attempt_at`; nothing is dropped. Slack is paced to one message per second per webhook.

The service never flushes directly: it says "there is work" (`request_flush()`, after new alerts
and on a periodic tick for retries and held-back alerts). Requests are coalesced: one flush runs in
the background at a time, and requests that arrive meanwhile make it run once more, so flushes never
overlap or pile up however often they are asked for. A failing flush is logged and emitted as a
status `error`; the next request tries again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

import aiohttp

from brand_dna.dna import BrandDNA
from monitor.alerts import slack, webhook
from monitor.alerts.delivery import SendResult
from monitor.alerts.escape import redact
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
from monitor.alerts.preview import alert_secrets
from monitor.config import ConfigError, Settings
from monitor.events import AlertEvent, Event, StatusEvent, StatusKind, TrendEvent
from monitor.models import OutboxRow
from monitor.storage import Storage, StorageError, new_holder_id
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)

SLACK, WEBHOOK, LOG = "slack", "webhook", "log"
UNQUEUED_MAX = 1000  # alerts kept in memory while the outbox cannot be written (disk full)


@dataclass(frozen=True, slots=True)
class _Unqueued:
    """An alert the policy decided on that could not be written to the outbox yet."""

    brand: str
    trend_id: str
    kind: str
    channel: str
    payload: dict[str, object]
    at: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _dest_key(channel: str, url: str) -> str:
    """In-memory key for pacing/blocking a destination without keeping the URL itself around as a key."""
    return f"{channel}:{hashlib.sha256(url.encode()).hexdigest()[:16]}"


class AlertDispatcher:
    """Implements monitor.api.AlertSink.

    `session` and `emit` are public attributes so the service may attach its shared aiohttp session
    and its event bus after construction. Without a session, one is created on first send and
    closed by `close()`. `fit_threshold` is the scorer's fit threshold (compose passes it): a brand's
    opportunity alerts from that fit + `alerts.min_fit` + its `alert_threshold` (policy.alert_bar).
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
        claimant: str | None = None,
        claim_s: float | None = None,
        unqueued_max: int = UNQUEUED_MAX,
        fit_threshold: float = 0.0,
    ) -> None:
        self.settings = settings
        self.fit_threshold = fit_threshold
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
        self._flush_task: asyncio.Task[None] | None = None  # the background flush (request_flush)
        self._flush_again = False  # requested while it ran: run once more
        self._closed = False
        self.claimant = claimant or new_holder_id()
        # A claim covers one POST (bounded by the HTTP timeout) and its bookkeeping, with room to spare.
        self.claim_s = claim_s if claim_s is not None else settings.http.total_timeout_s + 60.0
        self._unrecorded: dict[int, tuple[OutboxRow, datetime]] = {}  # Slack said ok, "sent" not written yet
        self._unqueued: deque[_Unqueued] = deque()
        self._unqueued_max = unqueued_max
        self._dropped = 0  # alerts lost because the in-memory queue overflowed (counted, logged)
        self._at_risk = False  # inside a "cannot write the outbox" episode

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
        """Everything to redact from error texts: every webhook URL and the HMAC key."""
        return alert_secrets(self.settings, self.env)

    def _safe_error(self, text: str, limit: int = 200) -> str:
        """Redact first, then cut: a cut must never leave part of a token behind."""
        return clean_text(redact(text, self._secrets()), limit)

    @property
    def alerts_at_risk(self) -> int:
        """Alerts that exist only in this process's memory (not queued, or sent but not recorded)."""
        return len(self._unqueued) + len(self._unrecorded)

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
                    fit_threshold=self.fit_threshold,
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
                    pending = _Unqueued(brand_name, trend.id, kind, channel, payload, now)
                    if self._unqueued:  # keep the order: older unqueued alerts are written first
                        self._keep_unqueued(pending, None)
                        continue
                    try:
                        row = self._enqueue(pending)
                    except StorageError as exc:
                        self._keep_unqueued(pending, exc)
                        continue
                    if row is not None:
                        queued.append(row)
            except StorageError as exc:
                log.error("cannot decide on an alert for %s: %s", brand_name, exc)
        return queued

    def _keep_unqueued(self, pending: _Unqueued, exc: StorageError | None) -> None:
        key = dedupe_key(pending.brand, pending.trend_id, pending.kind, pending.channel)
        if any(dedupe_key(p.brand, p.trend_id, p.kind, p.channel) == key for p in self._unqueued):
            return
        if len(self._unqueued) >= self._unqueued_max:
            self._dropped += 1
            if self._dropped > 1:
                return  # counted, and reported once more when the outbox works again
            log.error(
                "alert for %s dropped: %d alerts already wait in memory for the outbox (further drops are counted)",
                pending.brand,
                self._unqueued_max,
            )
            return
        self._unqueued.append(pending)
        self._note_at_risk(f"cannot queue alerts: {exc}" if exc is not None else "cannot queue alerts")

    def _note_at_risk(self, reason: str) -> None:
        """One error line and one status event per episode of an unwritable outbox."""
        if self._at_risk:
            return
        self._at_risk = True
        message = (
            f"alerts at risk: {self._safe_error(reason, 300)}; "
            f"kept in memory (up to {self._unqueued_max}) and written when the database accepts writes again"
        )
        log.error("%s", message)
        self._emit(StatusEvent(StatusKind.ERROR, message, {"topic": "alerts", "alerts_at_risk": self.alerts_at_risk}))

    def _settle(self) -> bool:
        """Write what only memory knows (acknowledged sends first, then unqueued alerts). False while that fails."""
        for alert_id, (row, at) in list(self._unrecorded.items()):
            try:
                recorded = self.storage.mark_sent(alert_id, at, claimant=self.claimant)
            except StorageError as exc:
                self._note_at_risk(f"cannot record sent alerts: {exc}")
                return False
            del self._unrecorded[alert_id]
            self._after_sent(row, at, recorded)
        while self._unqueued:
            try:
                self._enqueue(self._unqueued[0])
            except StorageError as exc:
                self._note_at_risk(f"cannot queue alerts: {exc}")
                return False
            self._unqueued.popleft()
        if self._at_risk:
            self._at_risk = False
            message = "alerts are being stored again: nothing kept in memory is lost"
            if self._dropped:
                message = (
                    f"alerts are being stored again; {self._dropped} alert(s) were dropped while the outbox was full"
                )
                self._dropped = 0
            log.warning("%s", message)
            self._emit(StatusEvent(StatusKind.NOTICE, message, {"topic": "alerts", "alerts_at_risk": 0}))
        return True

    def _enqueue(self, pending: _Unqueued) -> OutboxRow | None:
        brand, trend_id, kind, channel, payload, now = (
            pending.brand,
            pending.trend_id,
            pending.kind,
            pending.channel,
            pending.payload,
            pending.at,
        )
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
            try:
                row = self._mark_sent(row, now)
            except StorageError as exc:  # stays pending: the next flush marks it
                log.warning("could not record log alert %s as sent: %s", row.id, exc)
        return row

    # -- coalesced flushing -----------------------------------------------------------------------------
    def request_flush(self) -> None:
        """There is work: flush in the background, or once more after the flush in progress."""
        if self._closed:
            return
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_again = True
            return
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_loop(), name="onda-alerts-flush")

    async def drain(self) -> None:
        """Flush once more and wait until no flush runs or is requested."""
        self.request_flush()
        while self._flush_task is not None and not self._flush_task.done():
            await asyncio.wait({self._flush_task})

    async def _flush_loop(self) -> None:
        while True:
            self._flush_again = False
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("sending alerts failed")
                self._emit(StatusEvent(StatusKind.ERROR, f"sending alerts failed: {clean_text(str(exc), ERROR_CHARS)}"))
            if not self._flush_again or self._closed:
                return

    # -- sending --------------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Send whatever is due (quiet hours, digest, hourly cap, pacing, retries honoured)."""
        async with self._lock:
            if self._closed or not self._settle():
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
                    try:
                        self._mark_sent(row, now)
                    except StorageError as exc:
                        log.error("alert outbox write failed: %s", exc)
                elif row.channel in by_channel:
                    by_channel[row.channel].append(row)
                else:
                    try:
                        self._mark_failed(row, f"unknown alert channel {row.channel!r}")
                    except StorageError as exc:
                        log.error("alert outbox write failed: %s", exc)
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
        """One POST for `rows` (one alert, or a digest of several) and the bookkeeping of its result.

        Nothing new is sent while an acknowledged alert is not yet recorded as sent (`_settle`), and
        only the rows this process managed to claim are sent.
        """
        if not self._settle():
            return
        first = rows[0]
        timeout = aiohttp.ClientTimeout(
            total=self.settings.http.total_timeout_s, connect=self.settings.http.connect_timeout_s
        )
        secrets = self._secrets()
        if channel == SLACK:
            surl = slack.webhook_for(self.settings, first.brand, self.env)
            if surl is None:
                for row in rows:
                    self._mark_failed(row, f"no Slack webhook configured for brand {first.brand!r}")
                return
            url = surl
            pace = self.slack_pace_s
        else:
            wurl = webhook.webhook_url(self.settings)
            if wurl is None:
                for row in rows:
                    self._mark_failed(row, "the generic webhook is no longer configured")
                return
            url = wurl
            pace = 0.0

        dest = _dest_key(channel, url)
        blocked = self._blocked.get(dest)
        if blocked is not None and blocked > self._now():
            return  # destination rate-limited or down: rows stay pending, untouched
        loop = asyncio.get_running_loop()
        wait = self._next_send.get(dest, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._closed or not self._settle():
            return  # close() ran while we waited: leave the rows pending for the next process
        now = self._now()
        claimed = self.storage.claim_alerts(
            [r.id for r in rows], self.claimant, now + timedelta(seconds=self.claim_s), now
        )
        if not claimed:
            return  # another process is sending them (or already did)
        rows = claimed
        first = rows[0]
        call: Callable[[aiohttp.ClientSession], Awaitable[SendResult]]
        if channel == SLACK:
            message = slack.build_digest([r.payload for r in rows]) if digest else slack.build_message(first.payload)

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return slack.send(s, url, message, client_timeout=timeout, secrets=secrets)
        else:
            key = webhook.webhook_secret(self.settings, self.env)

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return webhook.send(s, url, first, key=key, client_timeout=timeout, secrets=secrets)

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
            self._emit(StatusEvent(StatusKind.NOTICE, f"{channel} alerts are being delivered again"))
        if result.outcome == "sent":
            for row in rows:
                try:
                    self._mark_sent(row, sent_at)
                except StorageError as exc:  # Slack has it: never POST it again, record it when we can
                    self._unrecorded[row.id] = (row, sent_at)
                    self._note_at_risk(f"cannot record sent alerts: {exc}")
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
            error = self._safe_error(result.error or "temporary error")
            for row in rows:
                self.storage.mark_retry(row.id, error, next_at, claimant=self.claimant)
            when = f"retrying in {delay:.0f} s"
            if dest not in self._down:  # one warning + notice per outage, not one per attempt
                self._down.add(dest)
                log.warning("%s alerts not delivered (%s); %s, nothing is lost", channel, error, when)
                self._emit(StatusEvent(StatusKind.NOTICE, f"{channel} alerts delayed: {error}; {when}", {"channel": channel}))
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
        """Record a delivered alert (by its claimant; log-channel rows need no claim). Raises StorageError."""
        recorded = self.storage.mark_sent(row.id, at, claimant=None if row.channel == LOG else self.claimant)
        return self._after_sent(row, at, recorded)

    def _after_sent(self, row: OutboxRow, at: datetime, recorded: bool) -> OutboxRow:
        done = replace(row, status="sent", attempts=row.attempts + 1, last_error=None, sent_at=at)
        if not recorded:
            if row.channel != LOG:  # our claim was taken over: the other process may repeat it
                log.warning("alert %s was delivered, but another process had taken it over", row.id)
            return done
        log.info(
            "alert %s (%s, %s) sent via %s: %s",
            row.id,
            row.kind,
            row.brand,
            row.channel,
            clean_text(row.payload.get("title"), 120),
        )
        self._emit(AlertEvent("sent", done))
        return done

    def _mark_failed(self, row: OutboxRow, error: str) -> None:
        line = self._safe_error(error)
        ours = row.claimed_by == self.claimant
        if not self.storage.mark_failed(row.id, line, claimant=self.claimant if ours else None):
            return  # no longer ours, or no longer pending
        log.warning("alert %s (%s, %s) failed via %s: %s", row.id, row.kind, row.brand, row.channel, line)
        self._emit(
            AlertEvent("failed", replace(row, status="failed", attempts=row.attempts + 1, last_error=line), line)
        )

    async def close(self) -> None:
        """Stop sending and close the session we opened (never the service's shared one)."""
        self._closed = True
        flushing, self._flush_task = self._flush_task, None
        if flushing is not None and not flushing.done():  # POSTs already on the wire are shielded from this
            flushing.cancel()
            await asyncio.gather(flushing, return_exceptions=True)
        if self._inflight:  # let POSTs already on the wire finish and be marked sent (each is time-bounded)
            await asyncio.wait(set(self._inflight), timeout=self.settings.http.total_timeout_s + 1)
        self._settle()
        if self.alerts_at_risk:
            log.error(
                "stopping with %d alert(s) only in memory (%d delivered but not recorded as sent, %d not queued): "
                "the database did not accept writes",
                self.alerts_at_risk,
                len(self._unrecorded),
                len(self._unqueued),
            )
        try:
            self.storage.release_claims(self.claimant)
        except StorageError as exc:
            log.warning("could not release alert claims: %s", exc)
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()
        self._own_session = None

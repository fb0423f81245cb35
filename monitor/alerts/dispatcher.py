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

This module applies the policy (`consider`) and the timing rules (`flush`); the parts it drives:
channels.py (where alerts go, secrets), outbox.py (every outbox write and the in-memory fallback),
sender.py (claim, POST, result), coalesce.py (the background flush), policy.py (what deserves an alert).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo

import aiohttp

from brand_dna.dna import BrandDNA
from monitor.alerts.channels import LOG, SLACK, WEBHOOK, Channels
from monitor.alerts.coalesce import Coalesced
from monitor.alerts.outbox import UNQUEUED_MAX, Outbox, PendingAlert
from monitor.alerts.policy import (
    OPPORTUNITY,
    QuietHoursError,
    alert_kind,
    build_payload,
    digest_due_at,
    hourly_slot_at,
    in_cooldown,
    parse_quiet_hours,
    quiet_until,
)
from monitor.alerts.sender import Sender
from monitor.config import ConfigError, Settings
from monitor.events import Event, StatusEvent, StatusKind, TrendEvent
from monitor.models import OutboxRow
from monitor.storage import Storage, StorageError, new_holder_id
from monitor.text import ERROR_CHARS, clean_text

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AlertDispatcher:
    """Implements monitor.api.AlertSink.

    The service hands over its shared aiohttp session and its event bus with `attach()` after
    construction. Without a session, one is created on first send and closed by `close()`.
    `fit_threshold` is the scorer's fit threshold (compose passes it): a brand's opportunity alerts
    from that fit + `alerts.min_fit` + its `alert_threshold` (policy.alert_bar).
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
        self.emit = emit
        self.clock = clock
        self.tz = tz  # quiet hours are local time; None = the machine's local zone
        self._brands = {b.name: b for b in brands}
        try:
            self._quiet = parse_quiet_hours(settings.alerts.quiet_hours)
        except QuietHoursError as exc:
            raise ConfigError(f"{settings.source_file or '(settings)'}: key 'alerts.quiet_hours': {exc}") from None
        self._lock = asyncio.Lock()
        self._closed = False
        self.claimant = claimant or new_holder_id()
        self._channels = Channels(settings, environ)
        self._outbox = Outbox(
            storage,
            self.claimant,
            self._emit,
            self._channels.safe_error,
            cooldown_min=settings.alerts.cooldown_min,
            unqueued_max=unqueued_max,
        )
        self._sender = Sender(
            settings,
            self._channels,
            self._outbox,
            now=self._now,
            emit=self._emit,
            stopped=lambda: self._closed,
            slack_pace_s=slack_pace_s,
            retry_base_s=retry_base_s,
            # A claim covers one POST (bounded by the HTTP timeout) and its bookkeeping, with room to spare.
            claim_s=claim_s if claim_s is not None else settings.http.total_timeout_s + 60.0,
            session=session,
        )
        self._flushes = Coalesced(lambda: self.flush(), self._flush_failed, name="onda-alerts-flush")  # flush looked up per run

    # -- configuration ------------------------------------------------------------------------------
    def attach(
        self, *, session: aiohttp.ClientSession | None = None, emit: Callable[[Event], None] | None = None
    ) -> None:
        """Let the service hand over its shared HTTP session and its event bus after construction."""
        if session is not None:
            self._sender.session = session
        if emit is not None:
            self.emit = emit

    def set_brands(self, brands: Sequence[BrandDNA]) -> None:
        """Pick up edited brands (alert_threshold) after a DNA save."""
        self._brands = {b.name: b for b in brands}

    def channels_for(self, brand: str) -> list[str]:
        """Where this brand's alerts go (`log` alone when no Slack or webhook is configured)."""
        return self._channels.for_brand(brand)

    @property
    def alerts_at_risk(self) -> int:
        """Alerts that exist only in this process's memory (not queued, or sent but not recorded)."""
        return self._outbox.alerts_at_risk

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def _emit(self, event: Event) -> None:
        try:
            self.emit(event)
        except Exception:  # a broken listener must not stop alerting
            log.exception("alert event listener failed")

    # -- policy + enqueue ----------------------------------------------------------------------------
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
                    recent=self._outbox.recent(),
                ):
                    log.info("alert for %r skipped: same topic alerted for %s within the cool-down", topic, brand_name)
                    continue
                for channel in self._channels.for_brand(brand_name):
                    row = self._outbox.queue(PendingAlert(brand_name, trend.id, kind, channel, payload, now))
                    if row is not None:
                        queued.append(row)
            except StorageError as exc:
                log.error("cannot decide on an alert for %s: %s", brand_name, exc)
        return queued

    # -- coalesced flushing -----------------------------------------------------------------------------
    def request_flush(self) -> None:
        """There is work: flush in the background, or once more after the flush in progress."""
        if not self._closed:
            self._flushes.request()

    async def drain(self) -> None:
        """Flush once more and wait until no flush runs or is requested."""
        await self._flushes.drain()

    def _flush_failed(self, exc: Exception) -> None:
        log.exception("sending alerts failed")
        self._emit(StatusEvent(StatusKind.ERROR, f"sending alerts failed: {clean_text(str(exc), ERROR_CHARS)}"))

    # -- timing ---------------------------------------------------------------------------------------
    async def flush(self) -> None:
        """Send whatever is due (quiet hours, digest, hourly cap, pacing, retries honoured)."""
        async with self._lock:
            if self._closed or not self._outbox.settle():
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
                        self._outbox.mark_sent(row, now)
                    except StorageError as exc:
                        log.error("alert outbox write failed: %s", exc)
                elif row.channel in by_channel:
                    by_channel[row.channel].append(row)
                else:
                    try:
                        self._outbox.mark_failed(row, f"unknown alert channel {row.channel!r}")
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
            await self._sender.send(channel, [row])
        if not normal:
            return
        local_now = now.astimezone(self.tz) if self.tz is not None else now.astimezone()
        quiet_end = quiet_until(self._quiet, local_now)
        if quiet_end is not None:
            self._outbox.defer(normal, quiet_end.astimezone(UTC))
            return
        digest_min = self.settings.alerts.digest_min
        if channel == SLACK and digest_min > 0:
            due_at = digest_due_at(self._outbox.last_sent_opportunity(channel), digest_min)
            if due_at is not None and due_at > now:
                self._outbox.defer(normal, due_at)
                return
            by_url: dict[str, list[OutboxRow]] = {}
            for row in normal:
                url = self._channels.slack_url(row.brand) or ""
                by_url.setdefault(url, []).append(row)
            for group in by_url.values():
                await self._sender.send(channel, group, digest=True)
            return
        max_per_hour = self.settings.alerts.max_per_hour
        for i, row in enumerate(normal):
            slot = hourly_slot_at(self._outbox.sent_times(channel, now, max_per_hour), now, max_per_hour)
            if slot is not None:
                self._outbox.defer(normal[i:], slot)
                return
            await self._sender.send(channel, [row])

    async def close(self) -> None:
        """Stop sending and close the session we opened (never the service's shared one)."""
        self._closed = True
        await self._flushes.stop()  # POSTs already on the wire are shielded from this ...
        await self._sender.close()  # ... and finish here, to be marked sent
        self._outbox.close()

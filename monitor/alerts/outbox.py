"""Every write to the alert outbox, and what memory keeps while the database refuses writes.

An alert is written (UNIQUE dedupe key) before anything is sent; a row already queued or sent is
skipped: never twice. A full disk: an alert that cannot be queued waits in a bounded in-memory queue
(`queue`), and a send Slack acknowledged but that cannot be recorded is kept too (`record_sent`);
`settle()` writes both when space returns and must succeed before anything new is sent, so an
acknowledged alert is never POSTed again by this process. One `status` event (kind `error`,
`alerts_at_risk` > 0) per episode, one notice on recovery.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitor.alerts.channels import LOG
from monitor.alerts.policy import OPPORTUNITY, RecentAlert, dedupe_key
from monitor.events import AlertEvent, Event, StatusEvent, StatusKind
from monitor.models import OutboxRow
from monitor.storage import Storage, StorageError
from monitor.text import clean_text

log = logging.getLogger(__name__)

UNQUEUED_MAX = 1000  # alerts kept in memory while the outbox cannot be written (disk full)


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An alert the policy decided on, before it is written to the outbox."""

    brand: str
    trend_id: str
    kind: str
    channel: str
    payload: dict[str, object]
    at: datetime


class Outbox:
    """The outbox rows of one process (`claimant`): queue, claim, mark sent / failed / retry / deferred."""

    def __init__(
        self,
        storage: Storage,
        claimant: str,
        emit: Callable[[Event], None],
        safe_error: Callable[[str, int], str],
        *,
        cooldown_min: float,
        unqueued_max: int = UNQUEUED_MAX,
    ) -> None:
        self.storage = storage
        self.claimant = claimant
        self._emit = emit
        self._safe_error = safe_error
        self._cooldown_min = cooldown_min
        self._recent: list[RecentAlert] | None = None
        self._unrecorded: dict[int, tuple[OutboxRow, datetime]] = {}  # Slack said ok, "sent" not written yet
        self._unqueued: deque[PendingAlert] = deque()
        self._unqueued_max = unqueued_max
        self._dropped = 0  # alerts lost because the in-memory queue overflowed (counted, logged)
        self._at_risk = False  # inside a "cannot write the outbox" episode

    @property
    def alerts_at_risk(self) -> int:
        """Alerts that exist only in this process's memory (not queued, or sent but not recorded)."""
        return len(self._unqueued) + len(self._unrecorded)

    def recent(self) -> list[RecentAlert]:
        """The alerts queued lately (for the cool-down), read from the outbox once, then kept up to date."""
        if self._recent is None:
            self._recent = [
                RecentAlert(r.brand, r.kind, str(r.payload.get("topic") or ""), r.trend_id, r.created_at)
                for r in self.storage.outbox(limit=1000)
            ]
        return self._recent

    # -- queueing -----------------------------------------------------------------------------------
    def queue(self, pending: PendingAlert) -> OutboxRow | None:
        """Write the alert (the new row), or keep it in memory while the outbox cannot be written (None)."""
        if self._unqueued:  # keep the order: older unqueued alerts are written first
            self._keep_unqueued(pending, None)
            return None
        try:
            return self._enqueue(pending)
        except StorageError as exc:
            self._keep_unqueued(pending, exc)
            return None

    def _keep_unqueued(self, pending: PendingAlert, exc: StorageError | None) -> None:
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

    def settle(self) -> bool:
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

    def _enqueue(self, pending: PendingAlert) -> OutboxRow | None:
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
        recent = self.recent()
        recent.append(RecentAlert(brand, kind, str(payload.get("topic") or ""), trend_id, now))
        if len(recent) > 2000:  # bounded memory on long runs: only the cool-down window matters
            cutoff = now - timedelta(minutes=self._cooldown_min)
            self._recent = [r for r in recent if r.at >= cutoff]
        self._emit(AlertEvent("queued", row))
        if channel == LOG:
            try:
                row = self.mark_sent(row, now)
            except StorageError as exc:  # stays pending: the next flush marks it
                log.warning("could not record log alert %s as sent: %s", row.id, exc)
        return row

    # -- sending bookkeeping --------------------------------------------------------------------------
    def claim(self, rows: list[OutboxRow], until: datetime, now: datetime) -> list[OutboxRow]:
        """The rows this process may send now (claimed until `until`); others are another process's."""
        return self.storage.claim_alerts([r.id for r in rows], self.claimant, until, now)

    def mark_sent(self, row: OutboxRow, at: datetime) -> OutboxRow:
        """Record a delivered alert (by its claimant; log-channel rows need no claim). Raises StorageError."""
        recorded = self.storage.mark_sent(row.id, at, claimant=None if row.channel == LOG else self.claimant)
        return self._after_sent(row, at, recorded)

    def record_sent(self, rows: list[OutboxRow], at: datetime) -> None:
        """Slack (or the webhook) has these: record them, or keep that fact in memory until it can be written."""
        for row in rows:
            try:
                self.mark_sent(row, at)
            except StorageError as exc:  # Slack has it: never POST it again, record it when we can
                self._unrecorded[row.id] = (row, at)
                self._note_at_risk(f"cannot record sent alerts: {exc}")

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

    def mark_failed(self, row: OutboxRow, error: str) -> None:
        """A permanent failure (rejected, no longer configured): recorded once, by whoever holds the row."""
        line = self._safe_error(error, 200)
        ours = row.claimed_by == self.claimant
        if not self.storage.mark_failed(row.id, line, claimant=self.claimant if ours else None):
            return  # no longer ours, or no longer pending
        log.warning("alert %s (%s, %s) failed via %s: %s", row.id, row.kind, row.brand, row.channel, line)
        self._emit(
            AlertEvent("failed", replace(row, status="failed", attempts=row.attempts + 1, last_error=line), line)
        )

    def mark_retry(self, rows: list[OutboxRow], error: str, next_at: datetime) -> None:
        """A temporary failure: the rows stay pending until `next_at`."""
        for row in rows:
            self.storage.mark_retry(row.id, error, next_at, claimant=self.claimant)

    def defer(self, rows: list[OutboxRow], until: datetime) -> None:
        """Hold rows back (quiet hours, digest, hourly cap) until `until`; nothing is dropped."""
        for row in rows:
            if row.next_attempt_at < until:
                self.storage.defer_alert(row.id, until)

    # -- reads for the timing rules -------------------------------------------------------------------
    def sent_times(self, channel: str, now: datetime, max_per_hour: int) -> list[datetime]:
        """When opportunity alerts went out on this channel during the last hour (durable, survives restarts)."""
        limit = max_per_hour * 4 + 100
        return [
            r.sent_at
            for r in self.storage.outbox(status="sent", limit=limit)
            if r.channel == channel
            and r.kind == OPPORTUNITY
            and r.sent_at is not None
            and now - r.sent_at < timedelta(hours=1)
        ]

    def last_sent_opportunity(self, channel: str) -> datetime | None:
        """When the last opportunity alert went out on this channel."""
        times = [
            r.sent_at
            for r in self.storage.outbox(status="sent", limit=200)
            if r.channel == channel and r.kind == OPPORTUNITY and r.sent_at is not None
        ]
        return max(times) if times else None

    # -- stopping --------------------------------------------------------------------------------------
    def close(self) -> None:
        """Write what memory still knows if the database allows it (else say how much is lost); release claims."""
        self.settle()
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

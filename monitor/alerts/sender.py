"""One POST of due outbox rows: claim them, send (Slack or generic webhook), record the result.

Rows are *claimed* in the database right before their POST (claimant id + lease, see monitor.storage)
and marked sent only after Slack answered `ok` (2xx for the generic webhook), and only while this
process still holds the claim, so several processes on one database send each alert once. A POST on
the wire runs to its end even if the flush is cancelled; `close()` waits for those. Slack is paced to
one message per second per webhook; a 429 or an outage blocks that destination until the retry time
(one warning and one notice per outage, one notice on recovery).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp

from monitor.alerts import slack, webhook
from monitor.alerts.channels import SLACK, Channels, Destination
from monitor.alerts.delivery import SendResult
from monitor.alerts.outbox import Outbox
from monitor.alerts.policy import backoff_s
from monitor.config import Settings
from monitor.events import Event, StatusEvent, StatusKind
from monitor.models import OutboxRow

log = logging.getLogger(__name__)

Call = Callable[[aiohttp.ClientSession], Awaitable[SendResult]]


class Sender:
    """Sends claimed rows over a shared or own aiohttp session; keeps pacing and outage state per destination."""

    def __init__(
        self,
        settings: Settings,
        channels: Channels,
        outbox: Outbox,
        *,
        now: Callable[[], datetime],
        emit: Callable[[Event], None],
        stopped: Callable[[], bool],
        slack_pace_s: float,
        retry_base_s: float,
        claim_s: float,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.settings = settings
        self._channels = channels
        self._outbox = outbox
        self._now = now
        self._emit = emit
        self._stopped = stopped
        self.slack_pace_s = slack_pace_s
        self.retry_base_s = retry_base_s
        self.claim_s = claim_s
        self.session = session
        self._own_session: aiohttp.ClientSession | None = None
        self._next_send: dict[str, float] = {}  # destination -> loop time of the next allowed POST
        self._blocked: dict[str, datetime] = {}  # destination -> do not try before (429 / outage)
        self._down: set[str] = set()  # destinations currently failing (for log-once / recovered notices)
        self._inflight: set[asyncio.Task[None]] = set()  # POSTs on the wire (see send)

    async def send(self, channel: str, rows: list[OutboxRow], *, digest: bool = False) -> None:
        """One POST for `rows` (one alert, or a digest of several) and the bookkeeping of its result.

        Nothing new is sent while an acknowledged alert is not yet recorded as sent (`Outbox.settle`),
        and only the rows this process managed to claim are sent.
        """
        if not self._outbox.settle():
            return
        first = rows[0]
        timeout = aiohttp.ClientTimeout(
            total=self.settings.http.total_timeout_s, connect=self.settings.http.connect_timeout_s
        )
        secrets = self._channels.secrets()
        dest = self._channels.destination(channel, first.brand)
        if not isinstance(dest, Destination):
            for row in rows:
                self._outbox.mark_failed(row, dest)
            return
        pace = self.slack_pace_s if channel == SLACK else 0.0
        blocked = self._blocked.get(dest.key)
        if blocked is not None and blocked > self._now():
            return  # destination rate-limited or down: rows stay pending, untouched
        loop = asyncio.get_running_loop()
        wait = self._next_send.get(dest.key, 0.0) - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._stopped() or not self._outbox.settle():
            return  # close() ran while we waited: leave the rows pending for the next process
        now = self._now()
        claimed = self._outbox.claim(rows, now + timedelta(seconds=self.claim_s), now)
        if not claimed:
            return  # another process is sending them (or already did)
        rows = claimed
        first = rows[0]
        url = dest.url
        call: Call
        if channel == SLACK:
            message = slack.build_digest([r.payload for r in rows]) if digest else slack.build_message(first.payload)

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return slack.send(s, url, message, client_timeout=timeout, secrets=secrets)
        else:
            key = self._channels.webhook_key()

            def call(s: aiohttp.ClientSession) -> Awaitable[SendResult]:
                return webhook.send(s, url, first, key=key, client_timeout=timeout, secrets=secrets)

        session = await self._session()
        # Once a POST is on the wire it runs to its end (bounded by the HTTP timeout) even if the flush is
        # cancelled (SIGTERM, stop): Slack may already have posted the message, and a row left pending
        # would be sent a second time by the next process. close() waits for these.
        task = asyncio.ensure_future(self._deliver(channel, rows, call, session, dest.key, pace))
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
        call: Call,
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
            self._outbox.record_sent(rows, sent_at)
        elif result.outcome == "failed":
            for row in rows:
                self._outbox.mark_failed(row, result.error or "rejected")
        else:
            attempts = max(r.attempts for r in rows) + 1
            delay = result.retry_after_s
            if delay is None:
                delay = backoff_s(attempts, base_s=self.retry_base_s, max_s=self.settings.http.max_backoff_s)
            delay = min(delay, self.settings.http.max_backoff_s)
            next_at = sent_at + timedelta(seconds=delay)
            self._blocked[dest] = next_at
            error = self._channels.safe_error(result.error or "temporary error")
            self._outbox.mark_retry(rows, error, next_at)
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

    async def close(self) -> None:
        """Let POSTs already on the wire finish (each is time-bounded); close the session we opened (never a shared one)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=self.settings.http.total_timeout_s + 1)
        if self._own_session is not None and not self._own_session.closed:
            await self._own_session.close()
        self._own_session = None

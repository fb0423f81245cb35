"""Slack incoming webhooks: Block Kit messages from outbox payloads, routing, one POST.

The webhook URL is a secret: it comes only from the environment (ONDA_SLACK__WEBHOOK_URL, read by
pydantic-settings into `settings.slack.webhook_url`, or a per-brand env var named in
`settings.slack.brand_webhook_env`). It is resolved at send time, never stored in the outbox,
never logged, and redacted from every error text.

Every piece of trend text goes through `escape()` (Slack's `& < >` rules, defused broadcasts) and
every mrkdwn text object is `verbatim`, so Slack does not auto-link names or mentions either.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import aiohttp

from monitor.alerts.delivery import SendResult, post
from monitor.alerts.escape import (
    FIELD_MAX,
    HEADER_MAX,
    SECTION_MAX,
    domain,
    escape,
    link,
    truncate,
)
from monitor.config import Settings
from monitor.explain import level_words

MAX_DIGEST_ITEMS = 20
_RISK_EMOJI = {
    "none": ":large_green_circle:",
    "low": ":large_yellow_circle:",
    "medium": ":large_orange_circle:",
    "high": ":red_circle:",
}


# -- routing -------------------------------------------------------------------------------------------
def webhook_for(settings: Settings, brand: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The brand's own webhook (env var named in brand_webhook_env) or the global one; None = no Slack."""
    env = os.environ if environ is None else environ
    var = settings.slack.brand_webhook_env.get(brand)
    if var:
        url = env.get(var, "").strip()
        if url:
            return url
    secret = settings.slack.webhook_url
    url = secret.get_secret_value().strip() if secret is not None else ""
    return url or None


def all_webhooks(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """Every configured Slack URL (for redaction)."""
    env = os.environ if environ is None else environ
    urls = [env.get(var, "").strip() for var in settings.slack.brand_webhook_env.values()]
    if settings.slack.webhook_url is not None:
        urls.append(settings.slack.webhook_url.get_secret_value().strip())
    return [u for u in urls if u]


# -- message building (pure) ------------------------------------------------------------------------
def _mrkdwn(text: str, limit: int = SECTION_MAX) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": truncate(text, limit), "verbatim": True}


def _header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_MAX), "emoji": True}}


def _join_lines(lines: Sequence[str], limit: int = SECTION_MAX) -> str:
    """Join whole lines up to `limit` so a link `<url|label>` is never cut in half."""
    out: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit:
            break
        out.append(line)
        used += len(line) + 1
    return "\n".join(out) if out else truncate(lines[0], limit) if lines else ""


def _momentum(p: Mapping[str, Any]) -> str:
    m = float(p.get("momentum") or 0.0)
    text = f"{m:+.1f} mentions/h"
    return text + " (new)" if p.get("is_new") else text


def _sources(p: Mapping[str, Any]) -> str:
    sources = [escape(s, 40) for s in p.get("sources") or []][:8]
    n = int(p.get("corroboration") or len(sources))
    names = ", ".join(sources) or "unknown"
    return f"{names} ({n} source{'s' if n != 1 else ''})"


def _risk_line(p: Mapping[str, Any]) -> str:
    risk = p.get("risk") or {}
    level = str(risk.get("level") or "none")
    cats = ", ".join(escape(c, 40) for c in risk.get("categories") or [])
    emoji = _RISK_EMOJI.get(level, "")
    return f"{emoji} {escape(level_words(level), 20)}" + (f" ({cats})" if cats else "")


def _headline_lines(p: Mapping[str, Any]) -> list[str]:
    lines = [f"• {escape(h, 300)}" for h in (p.get("headlines") or [])[:3]]
    links = [link(u, domain(u) or "link", 80) for u in (p.get("urls") or [])[:3]]
    links = [lk for lk in links if lk.startswith("<")]
    if links:
        lines.append("Links: " + " · ".join(links))
    return lines


def fallback_text(p: Mapping[str, Any]) -> str:
    """Plain notification text (also Slack-escaped: notifications parse it too)."""
    brand, title = escape(p.get("brand"), 100), escape(p.get("title"), 300)
    if p.get("kind") == "used_turned_risky":
        level = escape((p.get("risk") or {}).get("level"), 10)
        return truncate(f'PULL THE POST? {brand}: "{title}" is now risky ({level})', SECTION_MAX)
    return truncate(f'Opportunity for {brand}: "{title}" (fit {float(p.get("fit") or 0):.2f})', SECTION_MAX)


def build_message(p: Mapping[str, Any]) -> dict[str, Any]:
    """Block Kit message for one alert payload (see policy.build_payload)."""
    brand, title = escape(p.get("brand"), 100), escape(p.get("title"), 300)
    fit = float(p.get("fit") or 0.0)
    risky = p.get("kind") == "used_turned_risky"
    blocks: list[dict[str, Any]] = []
    if risky:
        blocks.append(_header(f":warning: PULL THE POST? {brand}: {title}"))
        reasons = [f"• {escape(r, 300)}" for r in ((p.get("risk") or {}).get("reasons") or [])[:5]]
        intro = f"*You marked this trend as used — it is now RISKY for {brand}.* Consider pulling the post."
        blocks.append({"type": "section", "text": _mrkdwn(_join_lines([intro, f"*Risk:* {_risk_line(p)}", *reasons]))})
    else:
        blocks.append(_header(f":sparkles: {brand}: {title}"))
        matched = escape(p.get("matched"), 500) if p.get("matched") else "—"
        why = escape(p.get("why"), 300)
        lines = [f"*Fit {fit:.2f}* — matches: “{matched}”"] + ([why] if why else [])
        blocks.append({"type": "section", "text": _mrkdwn(_join_lines(lines))})
    blocks.append(
        {
            "type": "section",
            "fields": [
                _mrkdwn(f"*Fit*\n{fit:.2f}", FIELD_MAX),
                _mrkdwn(f"*Momentum*\n{_momentum(p)}", FIELD_MAX),
                _mrkdwn(f"*Sources*\n{_sources(p)}", FIELD_MAX),
                _mrkdwn(f"*Risk*\n{_risk_line(p)}", FIELD_MAX),
            ],
        }
    )
    headlines = _headline_lines(p)
    if headlines:
        blocks.append({"type": "section", "text": _mrkdwn(_join_lines(["*Top headlines*", *headlines]))})
    trend_id = escape(p.get("trend_id"), 80)
    blocks.append({"type": "context", "elements": [_mrkdwn(f"Onda · {escape(p.get('kind'), 30)} · trend {trend_id}")]})
    return {"text": fallback_text(p), "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def build_digest(payloads: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One message summarising several opportunity payloads (digest mode)."""
    n = len(payloads)
    blocks: list[dict[str, Any]] = [_header(f":bell: Onda digest: {n} opportunit{'y' if n == 1 else 'ies'}")]
    for p in payloads[:MAX_DIGEST_ITEMS]:
        title = escape(p.get("title"), 200)
        urls = p.get("urls") or []
        first = link(urls[0], p.get("title"), 200) if urls else title
        line = (
            f"*{escape(p.get('brand'), 100)}* · {first}\n"
            f"fit {float(p.get('fit') or 0):.2f} · {_momentum(p)} · {_sources(p)} · risk {_risk_line(p)}"
        )
        blocks.append({"type": "section", "text": _mrkdwn(line)})
    if n > MAX_DIGEST_ITEMS:
        blocks.append({"type": "context", "elements": [_mrkdwn(f"+{n - MAX_DIGEST_ITEMS} more in Onda")]})
    titles = "; ".join(escape(p.get("title"), 80) for p in payloads[:5])
    text = truncate(f"Onda digest: {n} opportunities — {titles}", SECTION_MAX)
    return {"text": text, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


# -- sending ---------------------------------------------------------------------------------------------
async def send(
    session: aiohttp.ClientSession,
    url: str,
    message: Mapping[str, Any],
    *,
    client_timeout: aiohttp.ClientTimeout,
    secrets: list[str],
) -> SendResult:
    """POST one message. Slack answers 200 "ok"; errors are plain-text codes (invalid_payload, ...)."""
    body = json.dumps(message, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    return await post(session, url, body, headers=headers, client_timeout=client_timeout, secrets=[url, *secrets])

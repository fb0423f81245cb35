"""schema.org ClaimReview files -> FactCheck debunks (for `onda data import-factchecks` and ClaimReview feeds).

Accepted shapes (untrusted JSON, any field may be missing or of the wrong type):
- a DataFeed, as fact-check aggregators publish it: `dataFeedElement[].item`, a list or one object;
- a JSON array of ClaimReview objects, or JSON lines (one per line);
- a Google Fact Check Tools `claims:search` response (`claims[].claimReview[]`).

A review whose rating means true ("Vero", "True", "Correct", ...) is not a debunk: it is skipped with
that reason, like every malformed item, so the caller can report how many were skipped and why, and
it is kept in `withdrawn`: a debunk stored earlier for that URL and claim has been corrected. The
rating is the textual one (`alternateName`, else `name`); a review with only a number is read on
its scale (`ratingValue` between `worstRating` and `bestRating`, schema.org's defaults 1 and 5):
the worst end is False, the best end True, in between Mostly false / Half true / Mostly true. A
review with no rating at all says nothing about the claim: skipped.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from monitor.models import FactCheck, FactCheckWrite, parse_seen_date
from monitor.risk.factcheck import is_debunk_rating
from monitor.text import MAX_TITLE_CHARS, clean_text


def _iso_date(value: Any) -> date | None:
    """A review's ISO date or datetime (untrusted: anything else is no date)."""
    try:
        return parse_seen_date(value) if isinstance(value, str) and value.strip() else None
    except ValueError:
        return None


@dataclass(slots=True)
class ImportResult:
    """What a ClaimReview import found: its rated reviews in file order, the skipped items by reason."""

    reviews: list[FactCheck] = field(default_factory=list)  # debunks and reviews rated true, as read
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    notes: Counter[str] = field(default_factory=Counter)  # imported with a remark (no usable date) -> count

    def _latest(self) -> list[FactCheck]:
        """One review per (URL, claim): the last in the file (a corrected review follows the first)."""
        return list({(fc.url, fc.claim): fc for fc in self.reviews}.values())

    @property
    def debunks(self) -> list[FactCheck]:
        return [fc for fc in self._latest() if is_debunk_rating(fc.rating)]

    @property
    def withdrawn(self) -> list[FactCheck]:
        """Reviews rated true: a debunk stored earlier under that URL and claim is withdrawn."""
        return [fc for fc in self._latest() if not is_debunk_rating(fc.rating)]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def unchanged(self, write: FactCheckWrite) -> int:
        """How many of the debunks the store already had as they are, given what storing them changed."""
        return len({fc.url for fc in self.debunks}) - write.new - write.updated


_SCALE = ("False", "Mostly false", "Half true", "Mostly true", "True")


def _rating(obj: Any) -> str:
    """The review's rating as words: its textual rating, else its number read on its scale, else ''."""
    if not isinstance(obj, dict):
        return ""
    text = clean_text(str(obj.get("alternateName") or obj.get("name") or ""), 60)
    if text:
        return text
    numbers = [obj.get("ratingValue"), obj.get("bestRating", 5), obj.get("worstRating", 1)]
    if any(isinstance(x, bool) for x in numbers):
        return ""
    try:
        value, best, worst = (float(x) for x in numbers)  # untrusted: a TypeError is caught
    except (TypeError, ValueError):
        return ""
    if not (best > worst and worst <= value <= best):  # also NaN
        return ""
    if value in (worst, best):  # only the ends of the scale say plainly false or true
        return _SCALE[0] if value == worst else _SCALE[-1]
    share = (value - worst) / (best - worst)
    return _SCALE[1] if share < 0.375 else _SCALE[2] if share <= 0.625 else _SCALE[3]


def _review(obj: Any, result: ImportResult) -> None:
    if not isinstance(obj, dict):
        result.skipped["not a JSON object"] += 1
        return
    kinds = obj.get("@type")
    names = [str(k).rsplit(":", 1)[-1].rsplit("/", 1)[-1] for k in (kinds if isinstance(kinds, list) else [kinds])]
    if kinds is not None and "ClaimReview" not in names:  # "schema:ClaimReview", "https://schema.org/ClaimReview"
        result.skipped[f"not a ClaimReview (@type {str(kinds)[:30]})"] += 1
        return
    claim = obj.get("claimReviewed")
    if not isinstance(claim, str) or not claim.strip():
        result.skipped["no claimReviewed"] += 1
        return
    url = obj.get("url")
    if not isinstance(url, str) or not url.strip().startswith(("http://", "https://")):
        result.skipped["no http(s) url"] += 1
        return
    rating = _rating(obj.get("reviewRating"))
    if not rating:
        result.skipped["no rating (reviewRating without alternateName or ratingValue)"] += 1
        return
    debunk = is_debunk_rating(rating)
    if not debunk:
        result.skipped[f"rated true ('{rating}'): not a debunk"] += 1
    author = obj.get("author")
    if isinstance(author, list):
        author = author[0] if author else None
    publisher = author.get("name", "") if isinstance(author, dict) else (author if isinstance(author, str) else "")
    headline = obj.get("name") or obj.get("headline")
    item = obj.get("itemReviewed")
    published = _iso_date(obj.get("datePublished"))
    if published is None and isinstance(item, dict):
        published = _iso_date(item.get("datePublished"))
    if published is None and debunk:
        given = obj.get("datePublished")
        shown = f"datePublished {clean_text(str(given), 30)!r} is not a date" if given else "no datePublished"
        result.notes[f"without a usable date ({shown}): counts from the day it was first stored"] += 1
    result.reviews.append(
        FactCheck(
            title=clean_text(headline if isinstance(headline, str) and headline.strip() else claim, MAX_TITLE_CHARS),
            url=url.strip()[:1000],
            publisher=clean_text(str(publisher), 80),
            published=published,
            claim=clean_text(claim, MAX_TITLE_CHARS),
            rating=rating,
        )
    )


def google_claims(obj: Any, result: ImportResult) -> None:
    """A Google Fact Check Tools `claims:search` response: one review per (claim, claimReview)."""
    if not isinstance(obj, dict):
        result.skipped["not a JSON object"] += 1
        return
    claims = obj.get("claims")
    if not isinstance(claims, list):
        result.skipped["'claims' is not a list"] += 1
        return
    for claim in claims:
        if not isinstance(claim, dict):
            result.skipped["not a JSON object"] += 1
            continue
        text = claim.get("text")
        reviews = claim.get("claimReview")
        if not isinstance(text, str) or not text.strip():
            result.skipped["no claim text"] += 1
            continue
        for review in reviews if isinstance(reviews, list) else []:
            if not isinstance(review, dict):
                result.skipped["not a JSON object"] += 1
                continue
            publisher = review.get("publisher")
            publisher = publisher if isinstance(publisher, dict) else {}
            _review(
                {
                    "@type": "ClaimReview",
                    "claimReviewed": text,
                    "url": review.get("url"),
                    "name": review.get("title"),
                    "author": {"name": publisher.get("name") or publisher.get("site") or ""},
                    "datePublished": review.get("reviewDate") or claim.get("claimDate"),
                    "reviewRating": {"alternateName": review.get("textualRating", "")},
                },
                result,
            )


def _walk(obj: Any, result: ImportResult) -> None:
    if isinstance(obj, list):
        for x in obj:
            _walk(x, result)
        return
    if isinstance(obj, dict) and isinstance(obj.get("dataFeedElement"), list):
        for element in obj["dataFeedElement"]:
            if isinstance(element, dict) and "item" in element:
                _walk(element["item"], result)
            else:
                _review(element, result)
        return
    if isinstance(obj, dict) and "claims" in obj and "claimReviewed" not in obj:
        google_claims(obj, result)
        return
    _review(obj, result)


def parse_claimreview(text: str) -> ImportResult:
    """Parse a whole file's text (JSON document or JSON lines). Raises ValueError when it is neither."""
    result = ImportResult()
    if not text.strip():
        raise ValueError("empty: no JSON in it")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as first:
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) < 2:
            raise ValueError(f"not JSON: {first.msg} (line {first.lineno})") from None
        for n, line in enumerate(lines, start=1):
            try:
                _walk(json.loads(line), result)
            except (json.JSONDecodeError, RecursionError):
                result.skipped[f"line {n} is not JSON"] += 1
        if not result.debunks and result.skipped_total == len(lines) and all(
            k.endswith("is not JSON") for k in result.skipped
        ):
            raise ValueError(f"not JSON or JSON lines: {first.msg} (line {first.lineno})") from None
        return result
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    _walk(doc, result)
    return result

"""Source-credibility layer: is a story carried only by low-credibility sites, with no newsroom pickup?

Lists (formats of the public originals, see `data_update.SOURCES`):
- Iffy index: one URL pattern per line (`https://example.com/*`) -> low.
- Lin et al. 2023 `domain,pc1` (0 = lowest quality): pc1 < 0.4 -> low, pc1 >= 0.75 -> high.
- OpenSources CSV `(domain),type,2nd type,3rd type,...`: fake/conspiracy/junksci/unreliable/hate/rumor/satire -> low;
  reliable -> high.
- Wikipedia perennial sources, CSV (`status`, space-separated `domains`) or the parser's JSONL: gu/d -> low, gr -> high.
Plus the built-in `data/mainstream.txt` -> high.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from monitor.evidence import CredibilityEvidence, SourceRating
from monitor.models import RiskFlag
from monitor.risk.lexicon import GARM_BY_GROUP

MAINSTREAM_FILE = Path(__file__).with_name("data") / "mainstream.txt"
GARM = GARM_BY_GROUP["misinformation"]
PC1_LOW = 0.4
PC1_HIGH = 0.75
OPENSOURCES_LOW = {"fake", "fake news", "conspiracy", "junksci", "unreliable", "unrealiable", "hate", "rumor", "satire"}
# Platforms and aggregators say nothing about who verified a story.
NEUTRAL_DOMAINS = {
    "twitter.com",
    "x.com",
    "t.co",
    "facebook.com",
    "fb.com",
    "instagram.com",
    "youtube.com",
    "youtu.be",
    "tiktok.com",
    "reddit.com",
    "bsky.app",
    "threads.net",
    "news.google.com",
    "google.com",
    "wikipedia.org",
    "t.me",
    "telegram.org",
    "whatsapp.com",
    "linkedin.com",
    "mastodon.social",
    "mastodon.uno",
    "msn.com",
}
LIST_PATTERNS: dict[str, tuple[str, ...]] = {
    "iffy": ("*iffy*.txt",),
    "lin2023": ("*pc1*.csv",),
    "opensources": ("*opensources*.csv",),
    "wikipedia_rsp": ("*perennial*.csv", "*perennial*.jsonl"),
}
LIST_TITLES = {
    "iffy": "Iffy index of unreliable sources",
    "lin2023": "Lin et al. 2023 domain quality (pc1)",
    "opensources": "OpenSources 2017",
    "wikipedia_rsp": "Wikipedia perennial sources",
}
_RSPUSES = re.compile(r"\{\{WP:RSPUSES\|([^}]*)\}\}")


def url_domain(url: str) -> str | None:
    """Host of a URL, lower-cased, without www./m./amp. prefixes; None when there is none."""
    try:
        host = urlsplit(url.strip() if "//" in url else "//" + url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.lower().rstrip(".")
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
    return host


def _parents(domain: str) -> list[str]:
    """example.news.co.uk -> [example.news.co.uk, news.co.uk, co.uk] (at least two labels)."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]


@dataclass(frozen=True, slots=True)
class Rating:
    """How credible a domain is according to the loaded lists, with the entries that say so."""

    domain: str
    level: str  # low | high | unknown | neutral
    evidence: tuple[str, ...] = ()


@dataclass(slots=True)
class CredibilityIndex:
    """The source-credibility lists, loaded and indexed by domain."""

    low: dict[str, list[str]] = field(default_factory=dict)
    high: dict[str, list[str]] = field(default_factory=dict)
    mid: dict[str, list[str]] = field(default_factory=dict)  # rated, neither low nor high: breaks a lone low vote
    lists: list[str] = field(default_factory=list)  # names of the lists that were loaded

    # -- loading -----------------------------------------------------------------------------
    def _add(self, table: dict[str, list[str]], domain: str, why: str) -> None:
        d = url_domain(domain)
        if d and "/" not in domain.split("//")[-1].rstrip("/*"):
            table.setdefault(d, []).append(why)

    @classmethod
    def load(cls, directory: Path | None, *, mainstream: bool = True) -> CredibilityIndex:
        """Every list found in `directory` (missing dir = built-in mainstream list only)."""
        idx = cls()
        if mainstream:
            idx.load_mainstream(MAINSTREAM_FILE)
        if directory is None or not directory.is_dir():
            return idx
        for name, patterns in LIST_PATTERNS.items():
            for pattern in patterns:
                for path in sorted(directory.glob(pattern)):
                    getattr(idx, f"load_{name}")(path)
                    if name not in idx.lists:
                        idx.lists.append(name)
        return idx

    def load_mainstream(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self._add(self.high, line, "major news outlet (built-in list)")

    def load_iffy(self, path: Path) -> None:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                self._add(self.low, line.rstrip("*").rstrip("/"), "Iffy index of unreliable sources")

    def load_lin2023(self, path: Path) -> None:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    pc1 = float(row.get("pc1") or "")
                except ValueError:
                    continue
                domain = (row.get("domain") or "").strip()
                if "/" in domain:
                    continue  # facebook.com/page entries rate a page, not the domain
                if pc1 < PC1_LOW:
                    self._add(self.low, domain, f"Lin et al. 2023 quality {pc1:.2f}/1")
                elif pc1 >= PC1_HIGH:
                    self._add(self.high, domain, f"Lin et al. 2023 quality {pc1:.2f}/1")
                else:
                    self._add(self.mid, domain, f"Lin et al. 2023 quality {pc1:.2f}/1")

    def load_opensources(self, path: Path) -> None:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for row in reader:
                if not row or not row[0].strip():
                    continue
                tags = {t.strip().lower() for t in row[1:4] if t.strip()}
                bad = sorted(tags & OPENSOURCES_LOW)
                if bad:
                    self._add(self.low, row[0].strip(), "OpenSources 2017: " + "/".join(bad))
                elif "reliable" in tags:
                    self._add(self.high, row[0].strip(), "OpenSources 2017: reliable")

    def load_wikipedia_rsp(self, path: Path) -> None:
        rows: Iterable[tuple[str, list[str]]]
        if path.suffix == ".jsonl":
            parsed: list[tuple[str, list[str]]] = []
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue
                domains = [obj["domain"]] if isinstance(obj.get("domain"), str) else []
                for m in _RSPUSES.finditer(str(obj.get("alltext", ""))):
                    domains.extend(d for d in m.group(1).split("|") if "=" not in d)
                parsed.append((str(obj.get("status", "")), domains))
            rows = parsed
        else:
            with path.open(encoding="utf-8", errors="replace", newline="") as fh:
                rows = [(r.get("status", ""), (r.get("domains") or "").split()) for r in csv.DictReader(fh)]
        labels = {"gu": "generally unreliable", "d": "deprecated", "gr": "generally reliable"}
        for status, domains in rows:
            status = status.strip().lower()
            for d in domains:
                if status in ("gu", "d"):
                    self._add(self.low, d, f"Wikipedia perennial sources: {labels[status]}")
                elif status == "gr":
                    self._add(self.high, d, f"Wikipedia perennial sources: {labels[status]}")

    # -- judging -------------------------------------------------------------------------------
    def rate(self, domain: str) -> Rating:
        for d in _parents(domain):
            if d in NEUTRAL_DOMAINS:
                return Rating(domain, "neutral")
        for d in _parents(domain):
            # One vote per list (a list may rate a domain twice, e.g. Wikipedia's politics vs science rows).
            low, high, mid = (list(dict.fromkeys(t.get(d, []))) for t in (self.low, self.high, self.mid))
            if low or high or mid:
                # Majority of the lists wins; a tie counts as unknown rather than guessing.
                if len(low) > len(high) + len(mid):
                    return Rating(d, "low", tuple(dict.fromkeys(low)))
                if len(high) > len(low):
                    return Rating(d, "high", tuple(dict.fromkeys(high)))
                return Rating(d, "unknown", tuple(dict.fromkeys(low + high + mid)))
        return Rating(domain, "unknown")

    def assess(self, urls: Sequence[str]) -> list[RiskFlag]:
        """Flag a story carried by low-credibility sites without a mainstream pickup."""
        domains = list(dict.fromkeys(d for d in (url_domain(u) for u in urls) if d))
        ratings = [self.rate(d) for d in domains]
        judged = [r for r in ratings if r.level != "neutral"]
        low = [r for r in judged if r.level == "low"]
        if not low:
            return []
        high = [r for r in judged if r.level == "high"]
        evidence = CredibilityEvidence(
            low=tuple(SourceRating(r.domain, r.evidence) for r in low),
            mainstream=tuple(r.domain for r in high),
            judged=len(judged),
        )
        if high:  # picked up by a newsroom too
            return [RiskFlag("misinformation", "low", garm=GARM, evidence=evidence, strength=0.2)]
        if len(low) == len(judged):  # only low-credibility sites carry it
            return [RiskFlag("misinformation", "high", garm=GARM, evidence=evidence, strength=1.0)]
        return [RiskFlag("misinformation", "medium", garm=GARM, evidence=evidence, strength=0.5)]


def installed_lists(directory: Path) -> list[str]:
    """Names of the credibility lists present in `directory` (see LIST_PATTERNS)."""
    if not directory.is_dir():
        return []
    return [name for name, pats in LIST_PATTERNS.items() if any(any(directory.glob(p)) for p in pats)]


def missing_lists_notice(directory: Path) -> str | None:
    """A one-line notice for the TUI / `onda watch` when no credibility list is installed, else None."""
    if installed_lists(directory):
        return None
    return (
        f"No source-credibility lists installed in {directory}: the risk gate only knows the built-in "
        "mainstream outlets, so low-credibility sources are not recognised. Run `onda data update`."
    )

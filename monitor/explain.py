"""Words for people: the one place a verdict and its risk evidence become text.

Evidence first: each reason starts with what decided it (the terms found, the example headline it is
close to, the debunk with its link, the low-credibility domain, the anniversary), then the category
it points to. Used by every edge: the JSON lines of `onda watch` / `onda score` (`verdict_json`),
the dashboard and Slack. The risk layers and the scorer only produce data (`monitor.evidence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.evidence import (
    AvoidEvidence,
    CalendarEvidence,
    ClassifierEvidence,
    CredibilityEvidence,
    FactCheckEvidence,
    LayerEvidence,
    LexiconEvidence,
    PrototypeEvidence,
    TermCount,
)
from monitor.models import RiskAssessment, RiskFlag, RiskLevel, Verdict, VerdictName

VERDICT_WORDS: dict[str, str] = {"fit": "fit", "off_brand": "off brand", "risky": "do not ride"}
LEVEL_WORDS: dict[str, str] = {"none": "no risk", "low": "low risk", "medium": "caution", "high": "do not ride"}
STRENGTH_WORDS: dict[str, str] = {"high": "strong", "medium": "moderate", "low": "weak", "none": "no"}
LAYER_WORDS: dict[str, str] = {
    "lexicon": "terms",
    "calendar": "anniversary",
    "prototype": "examples",
    "classifier": "classifier",
    "credibility": "sources",
    "factcheck": "fact-check",
    "avoid": "brand avoid",
}
MAX_TERMS = 6
MAX_RELATED = 4


def verdict_words(verdict: VerdictName | str) -> str:
    """'fit', 'off brand', 'do not ride'."""
    return VERDICT_WORDS.get(verdict, verdict.replace("_", " "))


def level_words(level: RiskLevel | str) -> str:
    """'no risk', 'low risk', 'caution', 'do not ride'."""
    return LEVEL_WORDS.get(level, level)


def layer_words(layer: str) -> str:
    return LAYER_WORDS.get(layer, layer)


# -- one flag ----------------------------------------------------------------------------------------
def _term(t: TermCount) -> str:
    return f"'{t.term}'" + (f" ×{t.count}" if t.count > 1 else "")


def _lexicon(ev: LexiconEvidence) -> str:
    text = ", ".join(_term(t) for t in ev.terms[:MAX_TERMS])
    if ev.related:
        text += " with " + ", ".join(f"'{t.term}'" for t in ev.related[:MAX_RELATED])
    if ev.amplifiers:
        text += ", amplified by " + ", ".join(f"'{a}'" for a in ev.amplifiers[:MAX_RELATED])
    return text + (" (the brand's own terms)" if ev.brand else "")


def _calendar(ev: CalendarEvidence) -> str:
    if not ev.mention:
        return f"commemorative wording '{ev.wording}' on the anniversary of {ev.event}"
    if not ev.near:
        return f"mentions '{ev.mention}': {ev.event} (anniversary {ev.day:%d %b})"
    when = "today" if ev.days_away == 0 else f"{ev.days_away} day{'s' if ev.days_away != 1 else ''} away"
    return f"mentions '{ev.mention}': {ev.event}, anniversary {when} ({ev.day:%d %b}, {ev.years} years)"


def _prototype(ev: PrototypeEvidence) -> str:
    return f"close to '{ev.example}' (similarity {ev.similarity:.2f}, {ev.margin:+.2f} vs safe news)"


def _classifier(ev: ClassifierEvidence) -> str:
    words = f"; words: {', '.join(ev.words)}" if ev.words else ""
    return f"classifier probability {ev.probability:.2f} (high from {ev.high_from:.2f}{words})"


def _credibility(ev: CredibilityEvidence) -> str:
    named = "; ".join(f"{r.domain} ({', '.join(r.lists[:2])})" if r.lists else r.domain for r in ev.low[:3])
    if ev.mainstream:
        return f"low-credibility source {named}, but also carried by {', '.join(ev.mainstream[:3])}"
    if len(ev.low) == ev.judged:
        return f"only low-credibility sources: {named}, no mainstream pickup ({len(ev.low)} of {ev.judged})"
    return f"low-credibility source {named} and no mainstream pickup ({len(ev.low)} of {ev.judged} sources low)"


def _factcheck(ev: FactCheckEvidence) -> str:
    by = ev.publisher or "a fact-checker"
    when = f" on {ev.published.isoformat()}" if ev.published else " (undated)"
    rating = f", rated '{ev.rating}'" if ev.rating else ""
    how = f"similarity {ev.score:.2f}" if ev.method == "meaning" else f"{ev.score:.0%} of its key words"
    words = f", shared words: {', '.join(ev.shared_terms[:5])}" if ev.shared_terms else ""
    return f"debunked: '{ev.title}' ({ev.url}) by {by}{when}{rating}; {how}{words}"


def evidence_text(ev: LayerEvidence) -> str:
    """What a layer found, in words (no category, no level)."""
    match ev:
        case LexiconEvidence():
            return _lexicon(ev)
        case CalendarEvidence():
            return _calendar(ev)
        case PrototypeEvidence():
            return _prototype(ev)
        case ClassifierEvidence():
            return _classifier(ev)
        case CredibilityEvidence():
            return _credibility(ev)
        case FactCheckEvidence():
            return _factcheck(ev)


def category_text(flag: RiskFlag) -> str:
    """'tragedy (GARM: Death, Injury or Military Conflict)', with the lexicon group when it says more."""
    label: str = flag.category
    ev = flag.evidence
    if isinstance(ev, AvoidEvidence) and ev.matched is not None:
        ev = ev.matched
    if isinstance(ev, LexiconEvidence) and ev.group != flag.category:
        label += f": {ev.group.replace('_', ' ')}"
    return f"{label} (GARM: {flag.garm})" if flag.garm else label


def flag_text(flag: RiskFlag) -> str:
    """One reason: the evidence, then the category and how strong the evidence is (and any brand override)."""
    ev = flag.evidence
    if isinstance(ev, AvoidEvidence):
        found = (
            evidence_text(ev.matched) if ev.matched is not None else f"mentions '{ev.topic}' in its title or headlines"
        )
        text = f"{found} — brand avoids '{ev.topic}'"
        return text + (f" — {category_text(flag)}" if ev.matched is not None else "")
    text = f"{evidence_text(ev)} — {category_text(flag)}, {STRENGTH_WORDS[flag.level]} evidence"
    if flag.allowed_by is not None:
        text += f" — allowed by brand: '{flag.allowed_by}'"
    return text


# -- an assessment -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RiskLine:
    """One reason and what the dashboard shows beside it."""

    text: str
    layer: str  # a layer name, "" when the evidence was not kept
    category: str
    level: RiskLevel
    overridden: bool = False


def risk_lines(risk: RiskAssessment) -> list[RiskLine]:
    """The reasons, most decisive first, each once.

    The brand's own `avoid` rule leads (it alone makes the trend risky for the brand); its reason
    already carries the finding that reached the avoided topic, so that finding is not listed again.
    A lexicon group whose words an earlier reason of the same category already named ("'terremoto'
    with 'morti'" before the "'morti'" of the death group) is not listed again either, and identical
    wordings are listed once.
    """
    ranked = sorted(risk.ranked(), key=lambda f: not isinstance(f.evidence, AvoidEvidence))
    folded = {f.evidence.matched for f in ranked if isinstance(f.evidence, AvoidEvidence) and f.evidence.matched}
    lines: list[RiskLine] = []
    if risk.avoid_hit and not any(isinstance(f.evidence, AvoidEvidence) for f in ranked):
        lines.append(RiskLine(f"brand avoids '{risk.avoid_hit}'", "avoid", "", "high"))
    seen: set[str] = {line.text for line in lines}
    named: set[tuple[str, str]] = set()  # (category, term) already in an active reason
    for f in ranked:
        if f.evidence in folded:  # even when allowed: the avoid wins and says so
            continue
        if isinstance(f.evidence, LexiconEvidence) and not f.overridden:
            own = {(f.category, t.term) for t in f.evidence.terms}
            if own <= named:
                continue
        text = flag_text(f)
        if text not in seen:
            seen.add(text)
            lines.append(RiskLine(text, f.layer, f.category, f.level, f.overridden))
            if not f.overridden:
                named |= _named_terms(f)
    if not lines and risk.level != "none":
        cats = ", ".join(risk.categories)
        text = f"{level_words(risk.level)}" + (f" ({cats})" if cats else "") + ": scored before evidence was kept"
        lines.append(RiskLine(text, "", cats, risk.level))
    return lines


def _named_terms(flag: RiskFlag) -> set[tuple[str, str]]:
    """(category, term) of every word a reason shows: a lexicon finding's terms and related terms."""
    ev = flag.evidence.matched if isinstance(flag.evidence, AvoidEvidence) else flag.evidence
    if not isinstance(ev, LexiconEvidence):
        return set()
    return {(flag.category, t.term) for t in (*ev.terms[:MAX_TERMS], *ev.related[:MAX_RELATED])}


def risk_reasons(risk: RiskAssessment) -> list[str]:
    """The reasons as strings (the `reasons` of a verdict line)."""
    return [line.text for line in risk_lines(risk)]


# -- a verdict ---------------------------------------------------------------------------------------
def verdict_why(verdict: Verdict) -> str:
    """One line: the decisive risk reason for `risky`; what was found, or what was missing, for fit / off brand."""
    if verdict.verdict == "risky":
        reasons = risk_reasons(verdict.risk)
        return reasons[0] if reasons else level_words("high")
    ev = verdict.fit_evidence
    if ev is None:
        return f"fit {verdict.fit:.2f}"
    found = []
    if ev.names:
        found.append("names: " + ", ".join(ev.names[:3]))
    if ev.shared_terms:
        found.append(f"{ev.shared_terms} shared key term{'s' if ev.shared_terms > 1 else ''}")
    meaning = f"semantic z {ev.semantic_z:+.1f} (cos {ev.cosine:.2f})"
    if ev.kinds and ev.kind_cosine is not None:
        read = ", ".join(f"'{name}' as {kind}" for name, kind in ev.kinds[:3])
        meaning += f"; read {read} (cos {ev.kind_cosine:.2f})"
    if verdict.verdict == "fit":
        return "; ".join([*found, meaning]) + f" — fit {verdict.fit:.2f} ≥ {ev.threshold:.2f}"
    best = f"best '{verdict.matched}'" if verdict.matched else "best statement"
    missing = [] if found else ["no shared names or key terms"]
    return f"no statement close enough: {best} at {verdict.fit:.2f} < {ev.threshold:.2f}; " + "; ".join(
        [*found, meaning, *missing]
    )


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    """The DESIGN.md verdict line: structured fields, the rendered `reasons` and `why`, and the `evidence` list."""
    risk = verdict.risk
    return {
        "id": verdict.id,
        "verdict": verdict.verdict,
        "fit": round(verdict.fit, 4),
        "matched": verdict.matched,
        "risk": {
            "level": risk.level,
            "categories": list(risk.categories),
            "reasons": risk_reasons(risk),
            "evidence": [f.to_json() for f in risk.ranked()],
        },
        "why": verdict_why(verdict),
    }

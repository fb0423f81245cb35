"""Source credibility: list formats, majority rule, flags, install notice."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.evidence import CredibilityEvidence, SourceRating
from monitor.explain import flag_text
from monitor.risk.credibility import CredibilityIndex, installed_lists, missing_lists_notice, url_domain

SHIPPED = Path(__file__).resolve().parents[1] / "fixtures" / "credibility"  # own rows in the real file formats


def write_lists(d: Path) -> Path:
    """Tiny lists in the four real formats (own fixtures, not the shared files)."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "iffy_index_domains.txt").write_text("https://fakenewsdaily.example/*\nhttps://www.hoaxhub.example/*\n")
    (d / "lin2023_domain_pc1.csv").write_text(
        "domain,pc1\nbufalesite.it,0.12\ngoodpaper.it,0.91\nmiddling.com,0.55\nfacebook.com/somepage,0.1\n"
    )
    (d / "opensources_sources.csv").write_text(
        ",type,2nd type,3rd type,Source Notes (things to know?),\n"
        "satirenews.example,satire,,,,\nreliablewire.example,reliable,,,,\nmiddling.com,bias,,,,\n"
    )
    (d / "wikipedia_perennial_sources.csv").write_text(
        "name,content_qualifier,status,status_label,domains,rsp_last_discussed,spam_blacklist_logged,wp_shortcut\n"
        "Tabloid,,d,deprecated,tabloid.example tabloid2.example,2020,0,\n"
        "Middling,,gu,generally unreliable,middling.com,2021,0,\n"
        "Wire,,gr,generally reliable,reliablewire.example,2021,0,\n"
    )
    return d


@pytest.fixture
def idx(tmp_path: Path) -> CredibilityIndex:
    return CredibilityIndex.load(write_lists(tmp_path / "cred"))


def test_url_domain() -> None:
    assert url_domain("https://www.Ansa.it/sito/x.html") == "ansa.it"
    assert url_domain("m.facebook.com/x") == "facebook.com"
    assert url_domain("not a url") is None or url_domain("not a url") == "not a url"
    assert url_domain("") is None


def test_formats_and_majority(idx: CredibilityIndex) -> None:
    assert idx.lists == ["iffy", "lin2023", "opensources", "wikipedia_rsp"]
    assert idx.rate("news.fakenewsdaily.example").level == "low"  # subdomain of a listed domain
    assert idx.rate("bufalesite.it").level == "low"
    assert idx.rate("goodpaper.it").level == "high"
    assert idx.rate("satirenews.example").level == "low"
    assert idx.rate("tabloid2.example").level == "low"
    assert idx.rate("reliablewire.example").level == "high"
    # one unreliable vote against a mid pc1 is no verdict
    assert idx.rate("middling.com").level == "unknown"
    assert idx.rate("ansa.it").level == "high"  # built-in mainstream
    assert idx.rate("twitter.com").level == "neutral"
    assert "facebook.com" not in idx.low  # page-level pc1 rows are ignored


def test_only_low_sources_is_high(idx: CredibilityIndex) -> None:
    [flag] = idx.assess(["https://bufalesite.it/a", "https://www.hoaxhub.example/b", "https://twitter.com/x"])
    assert (flag.category, flag.level, flag.layer) == ("misinformation", "high", "credibility")
    assert flag.evidence == CredibilityEvidence(
        low=(
            SourceRating("bufalesite.it", ("Lin et al. 2023 quality 0.12/1",)),
            SourceRating("hoaxhub.example", ("Iffy index of unreliable sources",)),
        ),
        mainstream=(),
        judged=2,  # twitter.com is a platform: not judged
    )
    text = flag_text(flag)
    assert text.startswith("only low-credibility sources: bufalesite.it (Lin et al. 2023") and "no mainstream pickup" in text


def test_low_plus_unknown_is_medium_and_mainstream_pickup_is_low(idx: CredibilityIndex) -> None:
    [medium] = idx.assess(["https://bufalesite.it/a", "https://someblog.example/b"])
    assert medium.level == "medium"
    assert isinstance(medium.evidence, CredibilityEvidence) and medium.evidence.judged == 2
    [low] = idx.assess(["https://bufalesite.it/a", "https://www.corriere.it/b"])
    assert isinstance(low.evidence, CredibilityEvidence) and low.evidence.mainstream == ("corriere.it",)
    assert low.level == "low" and flag_text(low).startswith("low-credibility source bufalesite.it")
    assert "but also carried by corriere.it" in flag_text(low)
    assert idx.assess(["https://www.ansa.it/x", "https://someblog.example/y"]) == []


def test_wikipedia_jsonl_format(tmp_path: Path) -> None:
    d = tmp_path / "c"
    d.mkdir()
    (d / "wikipedia_perennial_sources.jsonl").write_text(
        '{"status": "d", "domain": "junk.example", "alltext": "{{WP:RSPUSES|junk.example|junk2.example}}"}\n'
        '{"status": "gr", "domain": "solid.example", "alltext": ""}\n'
    )
    idx = CredibilityIndex.load(d)
    assert idx.rate("junk2.example").level == "low" and idx.rate("solid.example").level == "high"


def test_installed_lists_and_notice(tmp_path: Path) -> None:
    assert installed_lists(tmp_path / "none") == []
    notice = missing_lists_notice(tmp_path / "none")
    assert notice is not None and "onda data update" in notice
    write_lists(tmp_path / "cred")
    assert installed_lists(tmp_path / "cred") == ["iffy", "lin2023", "opensources", "wikipedia_rsp"]
    assert missing_lists_notice(tmp_path / "cred") is None


def test_lists_in_their_published_formats() -> None:
    """The four files as `onda data update` names them, with the quirks of the real ones."""
    idx = CredibilityIndex.load(SHIPPED)
    assert idx.lists == ["iffy", "lin2023", "opensources", "wikipedia_rsp"]
    assert idx.rate("bufalequotidiane.example").level == "low"  # Iffy + pc1 0.18
    assert idx.rate("complottiora.example").level == "low"  # "https://www." pattern
    assert idx.rate("notiziestrane.example").level == "low"  # pc1 0.23 + the two-word tag "fake news"
    assert idx.rate("satiraoggi.example").level == "low"
    assert idx.rate("tabloidtwo.example").level == "low"  # second domain of a quoted, deprecated row
    assert idx.rate("agenziaseria.example").level == "high"  # pc1 0.93 + generally reliable
    assert idx.rate("corriere.it").level == "high"
    assert idx.rate("split.example").level == "unknown"  # misspelled "unrealiable" against a mid pc1
    assert idx.rate("opinionated.example").level == "unknown"  # no consensus is no vote
    assert "facebook.com" not in idx.low  # page-level pc1 rows are ignored
    [flag] = idx.assess(["https://www.bufalequotidiane.example/2026/x", "https://notiziestrane.example/y"])
    assert flag.level == "high"

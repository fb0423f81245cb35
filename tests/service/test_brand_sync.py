"""Brands in the store across processes: an edit in one service re-scores in another on the same SQLite file."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from fakes import KeywordScorer, OnceSource, keyword_service, recorded, wait_for

from brand_dna.dna import BrandDNA
from monitor.brands import BrandBook
from monitor.clustering import TextAnalyser
from monitor.compose import HttpConnections
from monitor.config import Settings
from monitor.events import Event, StatusEvent, StatusKind
from monitor.storage import Storage

TITLES = ("caffè sospeso day", "nuovo treno regionale", "Sinner vince le ATP Finals")


def service(
    settings: Settings,
    db: Path | str,
    brand: BrandDNA,
    analyser: TextAnalyser,
    *,
    user: str,
    poll: bool,
    lease_s: float = 0.6,
    brand_versions: dict[str, int] | None = None,
):
    storage = Storage(db)
    svc = keyword_service(
        settings,
        storage,
        KeywordScorer([brand]),
        analyser,
        HttpConnections(settings, storage, sources=[OnceSource("ok", TITLES)] if poll else []),
        lease_s=lease_s,  # the lease tick (where brand versions are checked) every lease_s / 3, at most 5 s
        user=user,
        brand_versions=brand_versions,
    )
    return svc, recorded(svc)


def rescored(events: list[Event]) -> list[StatusEvent]:
    return [e for e in events if isinstance(e, StatusEvent) and e.kind == StatusKind.RESCORED]


async def test_an_edit_in_one_service_is_stored_with_history_and_rescored_by_the_other(
    store_target: str, brand: BrandDNA, analyser: TextAnalyser
) -> None:
    """On SQLite the other service finds the edit on its lease tick; on PostgreSQL it hears it (LISTEN/NOTIFY)
    within 2 s although its lease tick is 5 s apart."""
    settings = Settings()
    settings.sources.jitter = 0.0
    db = store_target
    postgres = db.startswith("postgresql:")
    lease_s, within = (60.0, 2.0) if postgres else (0.6, 5.0)
    assert brand.path is not None
    original = brand.path.read_text(encoding="utf-8")
    with Storage(db) as setup:
        BrandBook(setup, "setup").import_file(brand.path)  # what build_service does with a configured file
    editor, _ = service(settings, db, brand, analyser, user="anna", poll=True, lease_s=lease_s)
    viewer, seen = service(settings, db, brand, analyser, user="bob", poll=False, lease_s=lease_s)
    await editor.start()
    await viewer.start()
    try:
        await editor.run_once()
        story = viewer.recent("Acme")[0][0].id
        editor.set_mark(story, "Acme", "not_for_us")
        assert viewer.marks("Acme", [story]) == {story: "not_for_us"}
        assert viewer.mark_authors("Acme", [story]) == {story: "anna"}  # who marked, seen from the other process
        before = {t.title: v.verdict for t, v in viewer.recent("Acme")}
        assert before == {"caffè sospeso day": "fit", "nuovo treno regionale": "off_brand", "Sinner vince le ATP Finals": "off_brand"}
        diff = await editor.update_brand(brand.with_lists(dna=["treno", "Sinner"]))
        assert len(diff.changes) == 3
        await wait_for(lambda: bool(rescored(seen)), within=within)
        event = rescored(seen)[0]
        # the viewer re-scored the stored trends itself (their stored verdicts were already the editor's)
        assert event.data["edited_by"] == "anna" and event.data["rescored"] == 3
        assert "edited by anna" in event.message
        assert viewer.brands[0].dna == ("treno", "Sinner")
        after = {t.title: v.verdict for t, v in viewer.recent("Acme")}
        assert after == {"caffè sospeso day": "off_brand", "nuovo treno regionale": "fit", "Sinner vince le ATP Finals": "fit"}
        await asyncio.sleep(0.5)  # later ticks see no newer version: one re-score, not one per tick
        assert len(rescored(seen)) == 1
    finally:
        await viewer.stop()
        await editor.stop()
        viewer.storage.close()
        editor.storage.close()
    with Storage(db) as check:
        history = check.brand_history("Acme")
        stored = check.get_brand("Acme")
    assert [(r.version, r.by) for r in history] == [(1, "setup"), (2, "anna")]
    assert history[1].before == original and history[1].after == brand.path.read_text(encoding="utf-8")
    assert 'dna = ["treno", "Sinner"]' in history[1].after
    assert history[1].summary == "dna +2 -1"
    assert history[1].rescore == {"rescored": 3, "changed": {"fit->off_brand": 1, "off_brand->fit": 2}}
    assert stored is not None and stored.version == 2 and stored.updated_by == "anna"


async def test_a_store_only_brand_edit_keeps_the_stored_text_and_writes_no_file(
    tmp_path: Path, analyser: TextAnalyser
) -> None:
    settings = Settings()
    db = tmp_path / "onda.db"
    text = '# kept comment\n[brand]\nname = "Acme"\ndna = ["caffè"]  # the one idea\n'
    with Storage(db) as setup:
        saved = BrandBook(setup, "setup").import_text(text, "upload.toml")
    svc, _ = service(settings, db, saved.brand, analyser, user="anna", poll=False)
    await svc.start()
    try:
        await svc.update_brand(saved.brand.with_lists(avoid=["politica"]))
    finally:
        await svc.stop()
        svc.storage.close()
    with Storage(db) as check:
        stored = check.get_brand("Acme")
    assert stored is not None and stored.version == 2
    assert stored.toml.startswith("# kept comment\n") and "# the one idea" in stored.toml
    assert 'avoid = ["politica"]' in stored.toml
    assert [n for n in os.listdir(tmp_path) if n.endswith(".toml")] == []  # no brand file was written


async def test_a_stored_version_that_cannot_be_read_is_reported_once(
    tmp_path: Path, brand: BrandDNA, analyser: TextAnalyser
) -> None:
    db = tmp_path / "onda.db"
    svc, seen = service(Settings(), db, brand, analyser, user="bob", poll=False)
    await svc.start()
    try:
        with Storage(db) as other:  # a broken document written by some other tool
            other.write_brand("Acme", toml="[brand]\nname = 1\n", data={}, by="x", summary="?", expected_version=0)
        await wait_for(lambda: any(isinstance(e, StatusEvent) and e.kind == StatusKind.ERROR for e in seen))
        await asyncio.sleep(0.5)  # more ticks
    finally:
        await svc.stop()
        svc.storage.close()
    errors = [e for e in seen if isinstance(e, StatusEvent) and e.kind == StatusKind.ERROR]
    assert len(errors) == 1 and "could not reload brand Acme" in errors[0].message
    assert svc.brands == [brand] and not rescored(seen)  # still scoring with the brand it had
    with Storage(db) as fixing:  # a good import replaces the broken version
        assert brand.path is not None
        saved = BrandBook(fixing, "anna").import_file(brand.path)
        assert saved.version == 2 and fixing.brand_history("Acme")[1].summary.startswith("replaced a stored version")


async def test_a_save_landing_between_build_and_start_is_still_rescored(tmp_path: Path, brand: BrandDNA, analyser: TextAnalyser) -> None:
    """The service was built with version 1; a colleague stores version 2 before it starts: it re-scores."""
    settings = Settings()
    settings.sources.jitter = 0.0
    db = tmp_path / "onda.db"
    with Storage(db) as setup:
        BrandBook(setup, "setup").import_file(brand.path)  # type: ignore[arg-type]
    svc, seen = service(settings, db, brand, analyser, user="bob", poll=True, brand_versions={"Acme": 1})
    with Storage(db) as colleague:  # built, not yet started: anna saves
        BrandBook(colleague, "anna").save_edit(brand.with_lists(dna=["treno"]))
    await svc.start()
    try:
        await wait_for(lambda: bool(rescored(seen)))
        assert svc.brands[0].dna == ("treno",)
        assert rescored(seen)[0].data["edited_by"] == "anna"
    finally:
        await svc.stop()
        svc.storage.close()

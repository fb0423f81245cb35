"""The Onda dashboard. It only turns ServiceAPI events into state and renders it.

The service is injected (`OndaApp(service, brand=..., clock=...)`); the app never
builds one. `service.start()` runs as a worker from `on_mount`, so the first frame
shows immediately with "loading model…" until the service says `model_ready`.

Panes read `self.state` (tui.state.DashboardState, passed to them at compose) and ask
for actions with messages (tui.messages); only this class calls the service. Reads that
touch storage run in one thread worker per reload; every worker's error lands in
`on_worker_state_changed`, which shows it as a notification.

Over 400 lines as one job (events → state, the pane requests, actions and palette entries
of the one dashboard); the natural next split is the event → state step into tui/state.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.actions import SkipAction
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Header, HelpPanel, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from brand_dna.dna import BrandDNA
from monitor.api import ServiceAPI
from monitor.clustering.title import display_title
from monitor.events import AlertEvent, Event, SourceErrorEvent, SourceHealthEvent, StatusEvent, StatusKind, TrendEvent
from monitor.models import Mark, SourceHealth, Trend, Verdict
from monitor.text import clean_text
from tui.alerts import AlertsPane
from tui.brand import BrandPane
from tui.detail import DetailScreen
from tui.help import HelpScreen, PathList, default_paths
from tui.marks import MarkBook
from tui.messages import (
    BrandSaved,
    GiveFeedback,
    OpenDetail,
    PollSource,
    ReloadHealth,
    ServiceEvent,
    SwitchBrand,
    TrendSeen,
)
from tui.opportunities import OpportunitiesPane
from tui.sources import SourcesPane
from tui.state import DashboardState

TABS = {"opportunities": "1 Opportunities", "dna": "2 Brand DNA", "sources": "3 Sources", "alerts": "4 Alerts"}


def local_now() -> datetime:
    return datetime.now().astimezone()


class OndaApp(App[int]):
    CSS_PATH = Path(__file__).with_name("onda.tcss")
    TITLE = "Onda"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_tab('opportunities')", "Opportunities", show=False),
        Binding("2", "show_tab('dna')", "Brand DNA", show=False),
        Binding("3", "show_tab('sources')", "Sources", show=False),
        Binding("4", "show_tab('alerts')", "Alerts", show=False),
        Binding("b", "next_brand", "Next brand"),
        Binding("f1,question_mark", "help", "Help"),
        Binding("escape", "close_keys_panel", "Close", show=False, priority=True),
        Binding("ctrl+z", "undo_mark", "Undo mark", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        service: ServiceAPI,
        *,
        brand: str | None = None,
        clock: Callable[[], datetime] = local_now,
        start_service: bool = True,
        paths: PathList | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.start_service = start_service
        self.paths = paths if paths is not None else default_paths()
        names = [b.name for b in service.brands]
        self.state = DashboardState(
            brand=brand if brand in names else (names[0] if names else "—"), clock=clock, marks=MarkBook(service)
        )
        self.events_seen = 0
        self._refresh_pending = False
        self._announce: list[str] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False
        self._main_screen: Screen | None = None

    @property
    def brand_name(self) -> str:
        return self.state.brand

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.state.clock

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≈")
        with TabbedContent(id="tabs", initial="opportunities"):
            with TabPane(TABS["opportunities"], id="opportunities"):
                yield OpportunitiesPane(self.state, id="opps-pane")
            with TabPane(TABS["dna"], id="dna"):
                yield BrandPane(self.state, self.service, id="brand-pane")
            with TabPane(TABS["sources"], id="sources"):
                yield SourcesPane(self.state, id="sources-pane")
            with TabPane(TABS["alerts"], id="alerts"):
                yield AlertsPane(self.state, self.service, id="alerts-pane")
        yield Footer()

    @property
    def main(self) -> Screen:
        """The dashboard screen (App.query_one would search whatever screen is on top)."""
        return self._main_screen if self._main_screen is not None else self.screen

    def on_mount(self) -> None:
        self._main_screen = self.screen
        self._unsubscribe = self.service.subscribe(self._service_listener)
        self.state.sources = self._source_names()
        self.reload()
        self._update_header()
        self.main.query_one("#opps").focus()
        if self.start_service:
            self.run_worker(self._start(), name="service-start", group="service", exit_on_error=False)
        self.set_interval(30, self.schedule_refresh)  # ages and "next run" go stale

    async def _start(self) -> None:
        await self.service.start()  # a failure reaches on_worker_state_changed

    def on_resize(self, event: Resize) -> None:
        self._update_header()

    # -- workers --------------------------------------------------------------------------
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker errors are shown (workers run with exit_on_error=False)."""
        if event.state != WorkerState.ERROR:
            return
        error = clean_text(event.worker.error, 300)
        if event.worker.name == "service-start":
            self._set_error(f"service failed to start: {error}")
        else:
            self.notify(error, title=event.worker.name or "Error", severity="error", markup=False, timeout=10)

    def reload(self) -> None:
        """Read every brand's recent trends and the sources' health again, in a thread."""
        self._reload_worker([b.name for b in self.service.brands])

    @work(thread=True, exclusive=True, group="reload", name="reload", exit_on_error=False)
    def _reload_worker(self, brands: list[str]) -> None:
        """One recent() per brand and one health(), off the event loop; the newest reload wins."""
        rows: dict[str, list[tuple[Trend, Verdict]]] = {}
        marks: dict[str, dict[str, Mark]] = {}
        authors: dict[str, dict[str, str]] = {}
        for name in brands:
            try:
                rows[name] = self.service.recent(name)
                ids = [t.id for t, _ in rows[name]]
                marks[name] = self.service.marks(name, ids)
                authors[name] = self.service.mark_authors(name, ids)
            except Exception as exc:  # the service may not be ready; events will fill the store
                self.log.warning(f"recent({name}) failed: {exc}")
        health = self.service.health()
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._apply_reload, rows, marks, authors, health)

    def _apply_reload(
        self,
        rows: dict[str, list[tuple[Trend, Verdict]]],
        marks: dict[str, dict[str, Mark]],
        authors: dict[str, dict[str, str]],
        health: list[SourceHealth],
    ) -> None:
        for name, entries in rows.items():
            self.state.store.load(name, entries)
        for name, found in marks.items():
            self.state.marks.replace(name, found, authors.get(name, {}))
        self.state.health.update({h.name: h for h in health})
        self.schedule_refresh()

    # -- service events -------------------------------------------------------------------
    def _service_listener(self, event: Event) -> None:
        """Subscribed listener; never blocks.

        post_message is thread-safe in Textual (it hops to the app loop when called from another
        thread), so events from a model-loading thread are safe too.
        """
        if self._stopped:
            return
        self.post_message(ServiceEvent(event))

    def on_service_event(self, message: ServiceEvent) -> None:
        event = message.event
        self.events_seen += 1
        health = self.state.health
        if isinstance(event, TrendEvent):
            self._on_trend(event)
        elif isinstance(event, SourceHealthEvent):
            health[event.health.name] = event.health
        elif isinstance(event, SourceErrorEvent):
            old = health.get(event.source, SourceHealth(event.source))
            health[event.source] = replace(
                old,
                last_error=event.error,
                last_error_at=self.clock(),
                consecutive_failures=event.consecutive_failures,
                next_run=event.retry_at or old.next_run,
            )
        elif isinstance(event, AlertEvent):
            if event.status == "failed":
                title = clean_text(event.alert.payload.get("title") or event.alert.trend_id, 80)
                self.notify(f"Alert failed: {title} — {clean_text(event.error, 120)}", severity="warning", markup=False)
            if self.is_mounted_tab("alerts"):
                self.main.query_one(AlertsPane).reload()
        elif isinstance(event, StatusEvent):
            self._on_status(event)
        self.schedule_refresh()

    def _on_trend(self, event: TrendEvent) -> None:
        self.state.last_update = self.clock()
        for brand, verdict in event.verdicts.items():
            became_fit = self.state.store.put(brand, event.trend, verdict)
            self.state.marks.note(brand, event.trend.id, event.marks.get(brand))
            if brand == self.brand_name and became_fit:
                self.state.new_ids.add(event.trend.id)
                self._announce.append(clean_text(display_title(event.trend), 120))

    def _on_status(self, event: StatusEvent) -> None:
        state = self.state
        if event.kind == StatusKind.MODEL_LOADING:
            state.model_state, state.status_message = "loading", "loading model…"
        elif event.kind == StatusKind.MODEL_READY:
            state.model_state, state.status_message = "ready", "model ready"
            state.sources = self._source_names()
            self.reload()
        elif event.kind in (StatusKind.ERROR, StatusKind.FATAL):
            self._set_error(event.message)
        elif event.kind == StatusKind.RESCORED:
            self.reload()
            if event.data.get("edited_by"):  # another dashboard saved this brand: say so, show it unless editing
                self.notify(clean_text(event.message, 300), markup=False)
                pane = self.main.query_one(BrandPane)
                if not pane.unsaved and not pane.saving:
                    pane.load_brand()
        elif event.kind == StatusKind.STORE_CHANGED and "mark" in event.data.get("changes", ()):
            self.reload()  # a colleague's feedback (PostgreSQL store): the lists and marks are re-read
        elif event.kind == StatusKind.STOPPED:
            state.model_state, state.status_message = "stopped", "stopped"
        elif event.kind == StatusKind.NOTICE:
            self.notify(clean_text(event.message, 300), markup=False)
            source = event.data.get("source")
            if event.data.get("topic") == "leases" and isinstance(source, str):
                if event.data.get("viewing"):  # another process polls it: we show its results
                    state.viewing[source] = str(event.data.get("polled_by") or "another process")
                else:
                    state.viewing.pop(source, None)
                self._update_header()

    def _set_error(self, message: str) -> None:
        self.state.model_state, self.state.status_message = "error", clean_text(message, 300)
        self.notify(self.state.status_message, title="Error", severity="error", markup=False, timeout=10)
        self.schedule_refresh()

    def _source_names(self) -> list[str]:
        try:
            return list(self.service.source_names())
        except Exception:
            return []

    def current_brand(self) -> BrandDNA | None:
        return next((b for b in self.service.brands if b.name == self.brand_name), None)

    # -- pane requests --------------------------------------------------------------------
    @on(OpenDetail)
    def _open_detail(self, message: OpenDetail) -> None:
        self.open_detail(message.trend_id)

    @on(TrendSeen)
    def _trend_seen(self, message: TrendSeen) -> None:
        if message.trend_id in self.state.new_ids:
            self.state.new_ids.discard(message.trend_id)
            self.schedule_refresh()

    @on(PollSource)
    def _poll_source(self, message: PollSource) -> None:
        self.poll_source(message.source)

    @on(ReloadHealth)
    def _reload_health(self, message: ReloadHealth) -> None:
        self.reload()

    @on(GiveFeedback)
    def _give_feedback(self, message: GiveFeedback) -> None:
        self.toggle_mark(message.trend_id, message.brand, message.mark)

    @on(BrandSaved)
    def _brand_saved(self, message: BrandSaved) -> None:
        self.reload()

    @on(SwitchBrand)
    def _switch_brand(self, message: SwitchBrand) -> None:
        self.action_next_brand()

    def toggle_mark(self, trend_id: str, brand: str, mark: Mark) -> None:
        """The u and n keys: set the brand's mark on a story, or clear it when it is already that mark."""
        try:
            change = self.state.marks.toggle(brand, trend_id, mark)
        except Exception as exc:  # storage errors must not kill the dashboard
            self.notify(f"Could not save feedback: {clean_text(exc, 200)}", severity="error", markup=False)
            return
        self.notify(f"{change.describe()} · ctrl+z undoes", markup=False)
        self.schedule_refresh()

    def action_undo_mark(self) -> None:
        try:
            change = self.state.marks.undo()
        except Exception as exc:
            self.notify(f"Could not undo: {clean_text(exc, 200)}", severity="error", markup=False)
            return
        self.notify(f"Undone: {change.describe()}" if change else "Nothing to undo", markup=False)
        self.schedule_refresh()

        self.schedule_refresh()

    # -- rendering ------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Coalesce bursts of events into one re-render after the queued messages."""
        if not self._refresh_pending:
            self._refresh_pending = True
            self.call_later(self._refresh_views)

    def _refresh_views(self) -> None:
        self._refresh_pending = False
        self._announce_new()
        self._update_header()
        if not self.is_running:
            return
        try:
            self.main.query_one(OpportunitiesPane).refresh_view()
            self.main.query_one(SourcesPane).refresh_view()
        except Exception as exc:  # not composed yet / shutting down
            self.log.warning(f"refresh skipped: {exc}")
        if isinstance(self.screen, DetailScreen):
            self.screen.update_view()

    def _announce_new(self) -> None:
        """One toast per burst of events, not one per trend (startup replays bring dozens)."""
        titles, self._announce = self._announce, []
        if len(titles) == 1:
            self.notify(titles[0], title="New opportunity", markup=False, timeout=4)
        elif titles:
            more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
            self.notify("; ".join(titles[:3]) + more, title=f"{len(titles)} new opportunities", markup=False, timeout=5)

    def is_mounted_tab(self, tab: str) -> bool:
        try:
            return self.main.query_one(TabbedContent).active == tab
        except Exception:
            return False

    def status_line(self) -> str:
        return self.state.status_line(self.size.width)

    def _update_header(self) -> None:
        width = self.size.width
        self.title = f"Onda · {clean_text(self.brand_name, 20 if width < 110 else 40)}"
        # The header centres "title — sub_title" between its icon and the right edge.
        self.sub_title = clean_text(self.status_line(), max(width - len(self.title) - 14, 20))

    # -- actions --------------------------------------------------------------------------
    def _back_to_main(self) -> bool:
        """Leave trend detail screens; False while a dialog is open (it owns the keys)."""
        if self.screen.is_modal:
            return False
        while isinstance(self.screen, DetailScreen):
            self.pop_screen()
        return True

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
        elif not self.screen.is_modal:
            self.push_screen(HelpScreen(self.paths))

    def action_close_keys_panel(self) -> None:
        """Esc closes the Keys panel (palette → Keys) first; otherwise the key goes on as usual."""
        if not self.screen.query(HelpPanel):
            raise SkipAction()
        self.action_hide_help_panel()

    def action_show_tab(self, tab: str) -> None:
        if self._back_to_main():
            self.main.query_one(TabbedContent).active = tab
            self._focus_tab(tab)

    def _focus_tab(self, tab: str) -> None:
        if tab == "opportunities":
            self.main.query_one(OpportunitiesPane).focus_main()
            return
        target = {"dna": "#statements", "sources": "#sources-table", "alerts": "#alerts-table"}
        self.main.query_one(target[tab]).focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id or ""
        if tab == "alerts":
            self.main.query_one(AlertsPane).reload()
        elif tab == "sources":
            self.main.query_one(SourcesPane).refresh_view()
        if tab in {"opportunities", "dna", "sources", "alerts"}:
            self.call_after_refresh(self._focus_tab, tab)

    def action_next_brand(self) -> None:
        if not self._back_to_main():
            return
        if len(self.service.brands) < 2:
            self.notify("Only one brand is configured", markup=False)
            return
        if not self.main.query_one(BrandPane).edits_would_be_lost("switch brand", self._next_brand):
            self._next_brand()

    def _next_brand(self) -> None:
        names = [b.name for b in self.service.brands]
        i = names.index(self.brand_name) if self.brand_name in names else -1
        self.state.brand = names[(i + 1) % len(names)]
        self.state.new_ids.clear()
        self.main.query_one(BrandPane).load_brand()
        self.main.query_one(OpportunitiesPane).refresh_view()
        self._update_header()
        self.notify(f"Brand: {clean_text(self.brand_name, 60)}", markup=False)

    @on(BrandPane.Edited)
    def _mark_dna_tab(self, event: BrandPane.Edited) -> None:
        label = TABS["dna"] + (" ●" if event.unsaved else "")
        self.main.query_one(TabbedContent).get_tab("dna").label = label

    def open_detail(self, trend_id: str) -> None:
        if self.state.store.get(self.brand_name, trend_id) is None:
            return
        self.state.new_ids.discard(trend_id)
        self.push_screen(DetailScreen(trend_id, self.brand_name, self.state))

    def poll_source(self, name: str) -> None:
        if name in self.state.polling:
            return
        self.state.polling.add(name)
        self.notify(f"Polling {clean_text(name, 40)}…", markup=False, timeout=2)
        self.schedule_refresh()
        self._poll_worker(name)

    @work(group="poll", name="poll", exit_on_error=False)
    async def _poll_worker(self, name: str) -> None:
        try:
            await self.service.poll_now(name)
        finally:
            self.state.polling.discard(name)
            self.reload()

    async def action_quit(self) -> None:
        """q, ctrl+q and the palette's Quit: asks first when Brand DNA edits would be lost."""
        if not self.main.query_one(BrandPane).edits_would_be_lost("quit", self._quit):
            await self._quit()

    async def _quit(self) -> None:
        await self.stop_service()
        self.exit(0)

    async def stop_service(self) -> None:
        """Unsubscribe and stop the service exactly once (quit key, palette, or unmount)."""
        if self._stopped:
            return
        self._stopped = True
        if self._unsubscribe is not None:
            self._unsubscribe()
        for worker in self.workers:
            if worker.group == "service":
                worker.cancel()
        if self.start_service:
            try:
                await self.service.stop()
            except Exception as exc:
                self.log.error(f"service stop failed: {exc}")

    async def on_unmount(self) -> None:
        await self.stop_service()

    # -- command palette ------------------------------------------------------------------
    def _highlighted(self) -> str | None:
        if isinstance(self.screen, DetailScreen):
            return self.screen.trend_id
        try:
            return self.main.query_one(OpportunitiesPane).highlighted_trend()
        except Exception:
            return None

    def _feedback_cmd(self, mark: Mark) -> None:
        trend_id = self._highlighted()
        if trend_id is None:
            self.notify("Select a trend first", markup=False)
            return
        self.toggle_mark(trend_id, self.brand_name, mark)

    def _open_highlighted(self) -> None:
        trend_id = self._highlighted()
        if trend_id is not None:
            self.open_detail(trend_id)

    def _on_main(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Palette actions that act on the dashboard: return there first."""

        def run() -> None:
            while isinstance(self.screen, DetailScreen):
                self.pop_screen()
            fn()

        return run

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys, verdicts, risk levels, where files live (F1 or ?)", self.action_help)
        yield SystemCommand("Opportunities", "Show fit trends (key 1)", lambda: self.action_show_tab("opportunities"))
        yield SystemCommand("Brand DNA", "Edit the brand's statements (key 2)", lambda: self.action_show_tab("dna"))
        yield SystemCommand("Sources", "Source health, poll now (key 3)", lambda: self.action_show_tab("sources"))
        yield SystemCommand(
            "Alerts log", "Sent / pending / failed alerts (key 4)", lambda: self.action_show_tab("alerts")
        )
        yield SystemCommand(
            "Toggle off-brand",
            "Show off-brand trends instead of opportunities (key o)",
            self._on_main(self.main.query_one(OpportunitiesPane).action_toggle_off_brand),
        )
        yield SystemCommand("Open trend detail", "Detail of the highlighted trend (Enter)", self._open_highlighted)
        yield SystemCommand("Mark used", "We rode it; again: unmark (key u)", lambda: self._feedback_cmd("used"))
        yield SystemCommand(
            "Mark not for us", "Move it to off-brand; again: unmark (key n)", lambda: self._feedback_cmd("not_for_us")
        )
        yield SystemCommand("Undo last mark", "Put back the previous mark (ctrl+z)", self.action_undo_mark)
        if len(self.service.brands) > 1:
            yield SystemCommand("Next brand", "Cycle the brand shown (key b)", self.action_next_brand)
        pane = self.main.query_one(BrandPane)
        yield SystemCommand("Add DNA statement", "Brand DNA: add (key a)", self._in_tab("dna", pane.action_add))
        yield SystemCommand("Save brand DNA", "Re-index and re-score (ctrl+s)", self._in_tab("dna", pane.action_save))
        yield SystemCommand("Revert brand DNA", "Drop unsaved edits (key z)", self._in_tab("dna", pane.action_revert))
        for name in self._source_names():
            yield SystemCommand(f"Poll {name} now", "Fetch this source immediately", lambda n=name: self.poll_source(n))
        yield SystemCommand("Refresh alerts", "Reload the alert outbox", self.main.query_one(AlertsPane).reload)

    def _in_tab(self, tab: str, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            while isinstance(self.screen, DetailScreen):
                self.pop_screen()
            self.action_show_tab(tab)
            fn()

        return run

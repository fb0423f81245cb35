"""Trend detail: headlines and links, score breakdown, every risk layer's evidence, momentum, feedback keys."""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from monitor.clustering.title import display_title
from monitor.explain import layer_words, risk_lines, verdict_why, verdict_words
from monitor.models import Trend, Verdict
from tui.marks import MARK_WORDS
from tui.messages import GiveFeedback
from tui.state import DashboardState
from tui.text import age, found_line, momentum_arrow, safe, sparkline, summary, trend_counts, when

VERDICT_STYLE = {"fit": "bold green", "off_brand": "yellow", "risky": "bold white on red"}
LEVEL_STYLE = {"none": "dim", "low": "yellow", "medium": "bold yellow", "high": "bold red"}


def breakdown_table(verdict: Verdict) -> Table:
    table = Table(expand=True, box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("Kind", width=4, no_wrap=True)
    table.add_column("DNA statement", ratio=1, min_width=16, no_wrap=True, overflow="ellipsis")
    for label in ("Sem", "Lex", "Comb"):  # never squeezed: the statement column gives way (or the screen scrolls)
        table.add_column(label, justify="right", width=5, min_width=5, no_wrap=True)
    for s in sorted(verdict.breakdown, key=lambda s: -s.score):
        style = "bold green" if s.statement == verdict.matched else ""
        table.add_row(
            Text("dna" if s.kind == "dna" else "pos", style="dim"),
            safe(s.statement, style, 300),
            Text(f"{s.semantic:.2f}"),
            Text(f"{s.lexical:.2f}"),
            Text(f"{s.score:.2f}", style=style or "bold"),
        )
    return table


def risk_table(verdict: Verdict) -> Table | Text:
    lines = risk_lines(verdict.risk)
    if not lines:
        return Text("No risk layer fired.", style="green")
    table = Table(expand=True, box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("Layer", width=11, no_wrap=True)
    table.add_column("Category", width=14, no_wrap=True)
    table.add_column("Level", width=6, no_wrap=True)
    table.add_column("Reason / evidence", ratio=1)
    for line in lines:
        dim = "dim strike" if line.overridden else ""
        table.add_row(
            safe(layer_words(line.layer) if line.layer else "—", dim),
            safe(line.category or "—", dim),
            Text(line.level, style=dim or LEVEL_STYLE.get(line.level, "")),
            safe(line.text, dim, 600),
        )
    return table


def heading(label: str) -> Text:
    return Text(label, style="bold underline")


class DetailScreen(Screen[None]):
    """One trend for the current brand; re-rendered from the app's store when new events arrive."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back"),
        Binding("u", "mark_used", "Used"),
        Binding("n", "not_for_us", "Not for us"),
        Binding("c", "copy_summary", "Copy"),
    ]

    def __init__(self, trend_id: str, brand: str, state: DashboardState) -> None:
        super().__init__()
        self.trend_id = trend_id
        self.brand = brand
        self.state = state

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="≈")
        with VerticalScroll(id="detail"):
            yield Static(id="d-title")
            yield Static(id="d-verdict")
            yield Static(id="d-meta")
            yield Static(id="d-risk")
            yield Static(id="d-breakdown")
            yield Static(id="d-headlines")
        yield Footer()

    def on_mount(self) -> None:
        self.update_view()
        self.query_one("#detail").focus()

    def entry(self) -> tuple[Trend, Verdict] | None:
        return self.state.store.get(self.brand, self.trend_id)

    def update_view(self) -> None:
        entry = self.entry()
        if entry is None:
            self.query_one("#d-title", Static).update(Text("This trend is no longer available.", style="bold"))
            return
        trend, verdict = entry
        now = self.state.clock()
        mark = self.state.marks.get(self.brand, self.trend_id)
        self.query_one("#d-title", Static).update(safe(display_title(trend), "bold", 600))
        v = Text.assemble(
            (f" {verdict_words(verdict.verdict).upper()} ", VERDICT_STYLE.get(verdict.verdict, "")),
            f"  fit {verdict.fit:.2f} for ",
            safe(self.brand, "bold", 60),
        )
        if verdict.verdict == "fit" and verdict.matched:
            v.append("\nmatched: ", style="dim")
            v.append_text(safe(verdict.matched, "italic", 400))
        if verdict.verdict != "risky":  # a risky trend's reasons are the risk layers below
            v.append("\nwhy: ", style="dim")
            v.append_text(safe(verdict_why(verdict), "", 400))
        if mark is not None:
            author = self.state.marks.author(self.brand, self.trend_id)
            v.append("\nyour feedback: " if author in (None, self.state.marks.user) else "\nfeedback: ", style="dim")
            v.append(MARK_WORDS[mark], style="bold cyan")
            if author:
                v.append(" — by ", style="dim")
                v.append_text(safe(author, "", 60))
            v.append("  (same key again: unmark · ctrl+z: undo)", style="dim")
        self.query_one("#d-verdict", Static).update(v)
        counts = trend_counts(trend)
        meta = Text.assemble(
            ("first seen ", "dim"),
            when(trend.first_seen, now),
            ("  last seen ", "dim"),
            when(trend.last_seen, now),
            ("\nsources ", "dim"),
            safe(", ".join(sorted(set(trend.sources))) or "—", "", 300),
            (f"  ({trend.corroboration} corroborating)", "dim"),
            ("  traffic ", "dim"),
            f"{trend.traffic:,}" if trend.traffic else "—",
            ("\nmomentum ", "dim"),
            (momentum_arrow(trend), "bold"),
            f" {trend.momentum:.1f}/h  ",
            (sparkline(counts, 40), "cyan"),
            (f"  {' '.join(str(c) for c in counts[-12:])}", "dim"),
            ("  age ", "dim"),
            age(trend.first_seen, now),
            found_line(trend, now) or "",
        )
        self.query_one("#d-meta", Static).update(meta)
        self.query_one("#d-breakdown", Static).update(
            Group(heading("Score breakdown"), breakdown_table(verdict))
            if verdict.breakdown
            else Group(heading("Score breakdown"), Text("(not available: scored before this session)", "dim"))
        )
        self.query_one("#d-risk", Static).update(Group(heading("Risk layers"), risk_table(verdict)))
        lines = Text()
        for h in trend.context[:30]:
            lines.append("• ")
            lines.append_text(safe(h, "", 400))
            lines.append("\n")
        for u in trend.urls[:30]:
            lines.append_text(safe(u, "underline blue", 400))
            lines.append("\n")
        if not lines:
            lines = Text("(no headlines)", style="dim")
        self.query_one("#d-headlines", Static).update(Group(heading("Headlines and links"), lines))

    def action_back(self) -> None:
        self.dismiss(None)

    def action_mark_used(self) -> None:
        self.post_message(GiveFeedback(self.trend_id, self.brand, "used"))

    def action_not_for_us(self) -> None:
        self.post_message(GiveFeedback(self.trend_id, self.brand, "not_for_us"))

    def action_copy_summary(self) -> None:
        entry = self.entry()
        if entry is None:
            return
        self.app.copy_to_clipboard(summary(entry[0], entry[1], self.brand))
        self.notify("Summary copied to the clipboard", markup=False)

"""Home pane: opportunities best first, the red "Do not ride" panel, and off-brand one key away."""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import DataTable, Static

from monitor.clustering.title import display_title
from monitor.explain import risk_reasons, verdict_why
from monitor.models import Mark, Trend, Verdict
from monitor.text import clean_text
from tui.marks import MARK_WORDS
from tui.messages import GiveFeedback, OpenDetail, TrendSeen
from tui.state import DashboardState, Entry
from tui.tables import ColumnSpec, Row, column_widths, fill, selected_key, set_columns
from tui.text import FOUND_MARK, age, found_by_onda, momentum_arrow, safe, sparkline, trend_counts

OPP_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("fit", "Fit", 4, 0),
    ("matched", "Matched DNA", None, 2),
    ("momentum", "Momentum", 8, 0),
    ("sources", "Src", 3, 0),
    ("age", "Age", 4, 0),
]
RISKY_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("risk", "Risk", 20, 0),
    ("reason", "Why not", None, 3),
    ("age", "Age", 4, 0),
]
OFF_COLUMNS: list[ColumnSpec] = [
    ("title", "Trend", None, 3),
    ("fit", "Fit", 4, 0),
    ("why", "Why", None, 2),
    ("age", "Age", 4, 0),
]
OFF_BY_FEEDBACK = "not for us (your feedback)"
ARROW_STYLE = {"↑": "bold green", "↓": "red", "→": "yellow"}


def momentum_cell(trend: Trend) -> Text:
    arrow = momentum_arrow(trend)
    return Text.assemble((arrow, ARROW_STYLE[arrow]), " ", (sparkline(trend_counts(trend), 6), "cyan"))


def mark_tag(mark: Mark | None) -> Text:
    """The brand's feedback mark in front of a title ("" when none): the same words as the detail."""
    return Text(f"{MARK_WORDS[mark]} · ", style="bold cyan") if mark else Text("")


def titled(trend: Trend, mark: Mark | None, style: str, width: int, prefix: Text | None = None) -> Text:
    """Title cell: optional prefix, ◆ when Onda found the story itself, the mark, then the display title cut to fit."""
    found = Text(FOUND_MARK, style="bold magenta") if found_by_onda(trend) else ""
    head = Text.assemble(prefix or "", found, mark_tag(mark))
    return Text.assemble(head, safe(display_title(trend), style, max(width - head.cell_len, 1)))


def opportunity_row(
    trend: Trend, verdict: Verdict, widths: dict[str, int], now_age: str, new: bool, mark: Mark | None = None
) -> Row:
    new_dot = Text("● ", "bold yellow") if new else None
    title = titled(trend, mark, "bold" if new else "", widths["title"], new_dot)
    sources = str(trend.corroboration)
    return (
        trend.id,
        [
            title,
            Text(f"{verdict.fit:.2f}", style="bold green"),
            safe(verdict.matched or "—", "italic", widths["matched"]),
            momentum_cell(trend),
            Text(sources, justify="right"),
            Text(now_age, style="dim"),
        ],
    )


def risky_row(trend: Trend, verdict: Verdict, widths: dict[str, int], now_age: str, mark: Mark | None = None) -> Row:
    risk = verdict.risk
    category = risk.categories[0] if risk.categories else ("avoid" if risk.avoid_hit else "risk")
    label = f"{risk.level} {category}"
    reasons = risk_reasons(risk)
    reason = reasons[0] if reasons else ""
    return (
        trend.id,
        [
            titled(trend, mark, "", widths["title"]),
            Text(clean_text(label, widths["risk"]), style="bold red"),
            safe(reason, "", widths["reason"]),
            Text(now_age, style="dim"),
        ],
    )


def off_brand_why(verdict: Verdict, mark: Mark | None, colleague: str | None = None) -> str:
    """The off-brand list's Why: "not for us" (yours, or the colleague's who set it), else what the verdict missed."""
    if mark == "not_for_us":
        return OFF_BY_FEEDBACK if colleague is None else f"not for us ({colleague}'s feedback)"
    return verdict_why(verdict)


def off_brand_row(
    trend: Trend,
    verdict: Verdict,
    widths: dict[str, int],
    now_age: str,
    mark: Mark | None = None,
    colleague: str | None = None,
) -> Row:
    dismissed = mark == "not_for_us"
    why = off_brand_why(verdict, mark, colleague)
    return (
        trend.id,
        [
            titled(trend, None if dismissed else mark, "dim" if dismissed else "", widths["title"]),
            Text(f"{verdict.fit:.2f}", style="dim"),
            safe(why, "dim", widths["why"]),
            Text(now_age, style="dim"),
        ],
    )


class TrendTable(DataTable[Text]):
    """A row-cursor table whose Enter is labelled in the footer."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select_cursor", "Detail")]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]


class OpportunitiesPane(Vertical):
    """Three tables; only data from the app's TrendStore, re-rendered by `refresh_view()`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "toggle_off_brand", "Off-brand"),
        Binding("d", "toggle_risky", "Do not ride"),
        Binding("u", "mark('used')", "Used", show=False),
        Binding("n", "mark('not_for_us')", "Not for us", show=False),
    ]

    def __init__(self, state: DashboardState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state
        self.show_off_brand = False
        self._widths: dict[str, dict[str, int]] = {}  # table id -> its column widths now

    def compose(self) -> ComposeResult:
        yield Static(id="opps-label")
        yield Static(id="banner")
        yield TrendTable(id="opps")
        yield TrendTable(id="offbrand")
        with Vertical(id="risky-panel"):
            yield TrendTable(id="risky")

    def on_mount(self) -> None:
        self.query_one("#offbrand").display = False
        self.refresh_view()

    def on_resize(self, event: Resize) -> None:
        self.refresh_view()

    def _columns(self, table_id: str, specs: list[ColumnSpec], width: int, wants: dict[str, int]) -> str | None:
        """Re-create a table's columns when the width or the content calls for other widths.

        Returns the row key the cursor was on (re-creating the columns clears the rows).
        """
        table = self.query_one(f"#{table_id}", DataTable)
        wants = {k: v for k, v in wants.items() if v}  # an empty table keeps the plain shares by weight
        widths = column_widths(specs, width, wants)
        if widths == self._widths.get(table_id):
            return None
        keep = selected_key(table)
        self._widths[table_id] = set_columns(table, specs, width, wants)
        return keep

    @property
    def opps_table(self) -> DataTable[Text]:
        return self.query_one("#opps", DataTable)

    def refresh_view(self) -> None:
        state = self.state
        brand = state.brand
        now = state.clock()

        # A fit story marked not for us leaves Opportunities for the off-brand list (key o), labelled so.
        fits: list[Entry] = []
        dismissed: list[Entry] = []
        for entry in state.store.by_verdict(brand, "fit"):
            (dismissed if state.mark(entry[0].id) == "not_for_us" else fits).append(entry)
        off = state.store.by_verdict(brand, "off_brand") + dismissed
        risky = state.store.by_verdict(brand, "risky")
        width = self.size.width or 80

        def age_of(e: Entry) -> str:
            return age(e[0].first_seen, now)

        def widest(values: list[str], extra: int = 0) -> int:
            return max((cell_len(clean_text(v, 300)) + extra for v in values), default=0)

        keep = self._columns(
            "opps",
            OPP_COLUMNS,
            width,
            {"title": widest([display_title(t) for t, _ in fits], 2), "matched": widest([v.matched or "—" for _, v in fits])},
        )
        w = self._widths
        fill(
            self.opps_table,
            [opportunity_row(t, v, w["opps"], age_of((t, v)), t.id in state.new_ids, state.mark(t.id)) for t, v in fits],
            keep,
        )
        why = [off_brand_why(v, state.mark(t.id), state.mark_by_colleague(t.id)) for t, v in off]
        keep = self._columns(
            "offbrand", OFF_COLUMNS, width, {"title": widest([display_title(t) for t, _ in off]), "why": widest(why)}
        )
        fill(
            self.query_one("#offbrand", DataTable),
            [
                off_brand_row(t, v, w["offbrand"], age_of((t, v)), state.mark(t.id), state.mark_by_colleague(t.id))
                for t, v in off
            ],
            keep,
        )
        reasons = [next(iter(risk_reasons(v.risk)), "") for _, v in risky]
        keep = self._columns(
            "risky",
            RISKY_COLUMNS,
            width - 2,  # the panel's border
            {"title": widest([display_title(t) for t, _ in risky]), "reason": widest(reasons)},
        )
        fill(
            self.query_one("#risky", DataTable),
            [risky_row(t, v, w["risky"], age_of((t, v)), state.mark(t.id)) for t, v in risky],
            keep,
        )
        panel = self.query_one("#risky-panel")
        panel.border_title = f"⚠ Do not ride ({len(risky)})"
        panel.border_subtitle = "risky for this brand — details: Enter"
        new = sum(1 for t, _ in fits if t.id in state.new_ids)
        if self.show_off_brand:
            label = Text.assemble(
                (f"Off-brand for {clean_text(brand, 40)}", "bold"), (f" ({len(off)})", "dim"), ("  o: back", "dim")
            )
        else:
            label = Text.assemble(
                (f"Opportunities for {clean_text(brand, 40)}", "bold"),
                (f" ({len(fits)})", "dim"),
                (f"  ● {new} new", "bold yellow") if new else "",
                (f"  · {len(off)} off-brand: o", "dim"),
            )
        self.query_one("#opps-label", Static).update(label)
        banner = self.query_one("#banner", Static)
        banner_text = state.banner_text(has_rows=bool(fits or off or risky))
        banner.display = banner_text is not None
        if banner_text is not None:
            banner.update(banner_text)
            banner.set_class(state.model_state == "error", "error")
        self._split_height(len(off) if self.show_off_brand else len(fits), len(risky), banner_text)

    def _split_height(self, main_rows: int, risky_rows: int, banner: Text | None) -> None:
        """Give both lists the height their rows need, the panel right below its list.

        When both cannot fit, the smaller need is met first and the other list scrolls.
        """
        used = 1 + (banner.cell_len // max(self.size.width - 2, 1) + 1 if banner is not None else 0)
        avail = max(self.size.height - used, 8)
        main_need, risky_need = max(main_rows + 1, 4), max(risky_rows + 3, 4)  # header row (+ the border)
        main = self.main_table()
        if main_need + risky_need <= avail:
            main.styles.height, risky_h = main_need, risky_need
        else:
            main.styles.height = "1fr"
            if risky_need <= avail // 2:
                risky_h = risky_need
            elif main_need <= avail // 2:
                risky_h = avail - main_need
            else:
                risky_h = avail // 2
        self.query_one("#risky-panel").styles.height = max(min(risky_h, avail - 4), 4)

    def action_toggle_off_brand(self) -> None:
        self.show_off_brand = not self.show_off_brand
        self.query_one("#opps").display = not self.show_off_brand
        self.query_one("#offbrand").display = self.show_off_brand
        self.focus_main()
        self.refresh_view()

    def main_table(self) -> DataTable[Text]:
        """The list above the "Do not ride" panel: opportunities, or off-brand after `o`."""
        return self.query_one("#offbrand" if self.show_off_brand else "#opps", DataTable)

    def focus_main(self) -> None:
        self.main_table().focus()

    def action_toggle_risky(self) -> None:
        """`d` jumps into "Do not ride" and, pressed there, back to the list above."""
        risky = self.query_one("#risky", DataTable)
        if risky.has_focus:
            self.focus_main()
        else:
            risky.focus()

    def action_mark(self, mark: Mark) -> None:
        """U / n on a row: toggle the brand's mark on that story (the app stores it; ctrl+z undoes)."""
        trend_id = self.highlighted_trend()
        if trend_id is not None:
            self.post_message(GiveFeedback(trend_id, self.state.brand, mark))

    def highlighted_trend(self) -> str | None:
        """The trend id under the cursor of the focused table (or the main table)."""
        focused = self.app.focused
        table = focused if isinstance(focused, DataTable) and focused in self.query(DataTable) else None
        return selected_key(table or self.main_table())

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(OpenDetail(event.row_key.value))

    @on(DataTable.RowHighlighted, "#opps")
    def _seen(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        # Refills emit highlights for intermediate rows: only the row really under the cursor counts as seen.
        if key in self.state.new_ids and self.has_focus_within and selected_key(self.opps_table) == key:
            self.post_message(TrendSeen(key))

"""Tables that fit the terminal without cutting values: a table is built with every column,
then its least valuable columns (an explicit order per table) are left out until its
narrowest layout fits the width; long text wraps instead of ending in "…". `--wide` keeps
every column and widens the console instead."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

UNBOUNDED = 100_000  # a measuring width no table reaches


def _span(console: Console, renderable: object) -> tuple[int, int]:
    """A cell's (longest word, whole line) width."""
    options = console.options.update(width=UNBOUNDED, max_width=UNBOUNDED)
    measured = Measurement.get(console, options, renderable)  # type: ignore[arg-type]
    return measured.minimum, measured.maximum


def _spans(table: Table, console: Console) -> list[tuple[int, int]]:
    """Per column (content only, no padding): the width it cannot go below without cutting a
    word (its whole width when it does not wrap) and the width it takes unwrapped."""
    spans = []
    for column in table.columns:
        cells = [_span(console, column.header), *(_span(console, c) for c in column.cells)]
        low, high = max(c[0] for c in cells), max(c[1] for c in cells)
        spans.append((high if column.no_wrap else low, high))
    return spans


def widest(table: Table, console: Console) -> int:
    """The columns the table takes with nothing wrapped."""
    options = console.options.update(width=UNBOUNDED, max_width=UNBOUNDED)
    return Measurement.get(console, options, table).maximum


def _laid_out(table: Table, console: Console) -> bool:
    """Give the wrapping columns widths that fit the console without splitting a word
    (room left over goes to the leftmost first); False when even their narrowest layout
    is too wide."""
    spans = _spans(table, console)
    overhead = widest(table, console) - sum(high for _, high in spans)
    room = console.width - overhead
    widths = [low for low, _ in spans]
    if sum(widths) > room:
        return False
    spare = room - sum(widths)
    for i, (_, high) in enumerate(spans):  # leftmost first: names before commentary
        extra = min(spare, high - widths[i])
        widths[i] += extra
        spare -= extra
    for column, width, (_, high) in zip(table.columns, widths, spans, strict=True):
        if not column.no_wrap and width < high:
            column.width = width
    return True


def fit(
    build: Callable[[list[str]], Table],
    columns: Sequence[str],
    drop: Sequence[str],
    console: Console,
    wide: bool = False,
) -> tuple[Table, list[str]]:
    """`build(shown)` with as many of `columns` as fit the console: those in `drop` are left
    out in that order (least valuable first) while the table is too wide even with its long
    text wrapped at word boundaries. Returns the table and the columns left out. With
    `wide` nothing is left out."""
    shown = list(columns)
    table = build(shown)
    hidden: list[str] = []
    if wide:
        return table, hidden
    for name in drop:
        if _laid_out(table, console):
            return table, hidden
        if name in shown:
            shown.remove(name)
            hidden.append(name)
            table = build(shown)
    _laid_out(table, console)
    return table, hidden


def show(console: Console, table: Table, hidden: Sequence[str], wide: bool = False) -> None:
    """Print a fitted table (widening the console for `--wide`) and name the columns left
    out."""
    if wide:
        needed = widest(table, console)
        if needed > console.width:
            console = Console(highlight=False, soft_wrap=False, width=needed)
    console.print(table)
    if hidden:
        console.print(
            Text(f"not shown at this width: {', '.join(hidden)} (--wide shows them)", style="dim"),
            soft_wrap=False,
        )


def row_table(
    title: str,
    rows: Sequence[Mapping[str, Any]],
    wrapping: Collection[str],
    right: Collection[str] = (),
    *,
    pad_edge: bool = True,
) -> Callable[[list[str]], Table]:
    """A builder (for `fit`) of a titled table over `rows`, dicts keyed by column name: the
    `wrapping` columns may wrap, the `right` ones are right-aligned."""

    def build(shown: list[str]) -> Table:
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=pad_edge)
        for name in shown:
            table.add_column(
                name,
                justify="right" if name in right else "left",
                no_wrap=name not in wrapping,
                overflow="fold",
            )
        for row in rows:
            table.add_row(*(row[c] for c in shown))
        return table

    return build

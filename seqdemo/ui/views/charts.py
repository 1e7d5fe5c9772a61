"""Charts drawn as HTML: a grid of token cells and a colour legend, in the palette of the figures.

A page shows these at once (building one takes a millisecond, where drawing the same figure with
matplotlib takes a few hundred); the matplotlib figure is drawn only when someone downloads it.
A row of cells is written as runs of one kind (`runs`), so a long text costs a few elements, not one
per token. Colours come from `plots.palette` through the pages' `--sd-<kind>-fill` variables.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

EMPTY = "empty"  # a cell past a row's end, where a shorter row of a shared axis has nothing
CELL_BORDERS_UP_TO = (120, 32)  # cells get white borders while a grid is at most this wide and tall
MAX_RUNS_PER_ROW = 256  # a row with more runs than this is drawn as one run of its commonest kind
ROW_HEIGHT_PX = (16, 3)  # a row's height in a short grid, and the least it shrinks to in a tall one
GRID_HEIGHT_PX = 300  # a tall grid shrinks its rows to fit about this height


@dataclass(frozen=True)
class Marker:
    """A dashed vertical line across a grid at `position` cells from its left, with `label` at its top."""

    position: int
    label: str


def runs(kinds: Sequence[str]) -> list[tuple[str, int]]:
    """`kinds` as (kind, how many in a row) pairs: ["a", "a", "b"] -> [("a", 2), ("b", 1)]."""
    merged: list[tuple[str, int]] = []
    for kind in kinds:
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + 1)
        else:
            merged.append((kind, 1))
    return merged


def _row_runs(kinds: Sequence[str], width: int) -> list[tuple[str, int]]:
    row = runs(kinds)
    if len(row) > MAX_RUNS_PER_ROW:
        counts: dict[str, int] = {}
        for kind, count in row:
            counts[kind] = counts.get(kind, 0) + count
        row = [(max(counts, key=counts.__getitem__), len(kinds))]
    if len(kinds) < width:
        row.append((EMPTY, width - len(kinds)))
    return row


def row_height_px(rows: int, height_px: int = GRID_HEIGHT_PX) -> int:
    """How tall `cell_grid` draws each of `rows` rows that should fit about `height_px`: ROW_HEIGHT_PX's bounds."""
    tall, short = ROW_HEIGHT_PX
    return max(short, min(tall, height_px // max(rows, 1)))


def cell_grid(
    rows: Sequence[Sequence[str]],
    width: int,
    *,
    row_labels: Sequence[str] | None = None,
    titles: Sequence[str] | None = None,
    marker: Marker | None = None,
    outline: bool = False,
    scale_rows: int | None = None,
    starts: Sequence[int] = (),
    label_kinds: Sequence[str] = (),
    column_labels: Sequence[str] = (),
    column_kinds: Sequence[str] = (),
    height_px: int = GRID_HEIGHT_PX,
) -> str:
    """A row of cells per sequence, one cell per position, coloured by kind; `width` positions across.

    Rows shorter than `width` end in empty space, so grids of one `width` share a scale, and grids
    given one `scale_rows` (the most rows of any of them) share a row height. `titles` are the rows'
    tooltips; `starts` the rows a line separates from the row above (where a new text begins);
    `outline` draws a dark line around the cells the rows fill (a tensor's outline, when the rows
    are one batch). `label_kinds` colour the row labels' text by kind (a pad's label grey), and
    `column_labels` (with `column_kinds`) head the columns, one per position, written upwards. A
    tall grid shrinks its rows to fit about `height_px`. A grid with more than `width` cells in a
    row is a bug.
    """
    width = max(width, 1)
    if any(len(kinds) > width for kinds in rows):
        raise ValueError(f"a row is longer than the grid's width ({width})")
    scale = max(scale_rows or len(rows), len(rows), 1)
    borders = width <= CELL_BORDERS_UP_TO[0] and scale <= CELL_BORDERS_UP_TO[1]
    height = row_height_px(scale, height_px)
    labels = row_labels if row_labels is not None else [str(number) for number in range(1, len(rows) + 1)]
    body = []
    for index, kinds in enumerate(rows):
        cells = "".join(
            f'<i class="{kind}" style="flex:{count} 0 0;--n:{count}"></i>' for kind, count in _row_runs(kinds, width)
        )
        tip = f' title="{html.escape(titles[index])}"' if titles else ""
        start = " starts" if index in starts else ""
        kind = f" {label_kinds[index]}" if label_kinds else ""
        body.append(
            f'<span class="sd-cells-label{start}{kind}">{html.escape(labels[index]) if labels else ""}</span>'
            f'<span class="sd-cells-row{start}"{tip}>{cells}</span>'
        )
    if column_labels:
        heads = "".join(
            f'<b class="{column_kinds[index] if column_kinds else ""}">{html.escape(label)}</b>'
            for index, label in enumerate(column_labels)
        )
        body.insert(0, f'<span class="sd-cells-label"></span><span class="sd-cells-columns">{heads}</span>')
    extras = ""
    if outline and rows:
        filled = max(len(kinds) for kinds in rows)
        extras += f'<span class="sd-cells-outline" style="--at:{filled / width:.6f}"></span>'
    if marker is not None and marker.position <= width:
        extras += (
            f'<span class="sd-cells-marker" style="--at:{marker.position / width:.6f}">'
            f"<b>{html.escape(marker.label)}</b></span>"
        )
    css = "sd-cells" + (" bordered" if borders else "")
    return f'<div class="{css}" style="--h:{height}px">{"".join(body)}{extras}</div>'


def axis(width: int, label: str, ticks: int = 5) -> str:
    """Position numbers under a `cell_grid` of `width` positions: 0, a few round ones, and `width`."""
    step = round_step(width / ticks)
    marks = [*range(0, width, step), width] if width - (width // step) * step > step / 3 else range(0, width + 1, step)
    numbers = "".join(f'<span style="--at:{mark / max(width, 1):.6f}">{mark:,}</span>' for mark in marks)
    return f'<div class="sd-cells-axis"><span class="sd-cells-ticks">{numbers}</span><p>{html.escape(label)}</p></div>'


def round_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … that is at least `raw`."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= raw:
                return step * factor
        step *= 10


def legend(entries: Sequence[tuple[str, str]]) -> str:
    """Swatches with their meanings: (kind, label) pairs; a kind is a `token_kinds` kind or EMPTY."""
    items = "".join(
        f'<span class="sd-swatch"><i class="{kind}"></i>{html.escape(label)}</span>' for kind, label in entries
    )
    return f'<div class="sd-swatches">{items}</div>'

"""Tab 2's HTML: one configuration's panel (what it does, tensor shapes, a grid per row, what truncation lost),
and the batch shapes of every configuration side by side (`batch_shapes_html`).

A grid's columns are positions and its rows the token and every tensor at it, so `input_ids`,
`attention_mask`, `token_type_ids` and `position_ids` line up under each token. Long rows show
their head and tail around a gap.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from seqdemo.padding import EncodedBatch, EncodedRow
from seqdemo.plural import plural
from seqdemo.token_kinds import OVERLAP, PAD, REAL, SPECIAL, TRUNCATED
from seqdemo.ui.views.charts import axis, cell_grid, legend
from seqdemo.ui.views.elements import chips

ROWS_SHOWN = 8  # grids per configuration; the figure shows every row
HEAD, TAIL = 40, 24  # positions shown from each end of a long row
TRUNCATED_SHOWN = 60
LABELLED_ROWS = 24  # the batch-shapes chart names its rows while there are at most this many
SHAPE_LABELS = {REAL: "real token", SPECIAL: "special token", PAD: "pad", OVERLAP: "overlap with previous window"}
LEGEND = chips(
    ["real token", "special token", "pad", "overlap with previous window", "truncated away"],
    [REAL, SPECIAL, PAD, OVERLAP, TRUNCATED],
) + (
    '<p class="sd-note">Token spelling: <code>##</code> continues a WordPiece word (BERT); <code>Ġ</code> is a '
    "space before a byte-level BPE token (RoBERTa, Longformer). Rows with left padding open scrolled to their end.</p>"
)


def legend_html() -> str:
    """What the cell and chip colours mean, and how tokens are spelt."""
    return f'<div class="sd-legend">{LEGEND}</div>'


def _positions_shown(length: int) -> list[int | None]:
    """Positions to draw for a row; None marks the gap in a row too long to show whole."""
    if length <= HEAD + TAIL + 1:
        return list(range(length))
    return [*range(HEAD), None, *range(length - TAIL, length)]


def row_table(row: EncodedRow, scroll_to_end: bool = False) -> str:
    """One aligned table: columns are positions; rows are the token and every tensor at it.

    `scroll_to_end` opens a long row scrolled to its right end (where left padding puts the text).
    """
    kinds = row.kinds()
    tensors = [("input_ids", row.input_ids), ("attention_mask", row.attention_mask)]
    if row.token_type_ids is not None:
        tensors.append(("token_type_ids", row.token_type_ids))
    tensors.append(("position_ids", row.position_ids))
    shown = _positions_shown(len(row.tokens))
    gap = len(row.tokens) - HEAD - TAIL

    def line(name: str, values: Sequence[object], header: bool = False) -> str:
        tag = "th" if header else "td"
        cells = "".join(
            f'<{tag} class="gap">⋯ {gap} ⋯</{tag}>' if p is None else f'<{tag} class="{kinds[p]}">{values[p]}</{tag}>'
            for p in shown
        )
        return f'<tr><td class="rowhead">{name}</td>{cells}</tr>'

    body = [line("position", range(len(row.tokens)), header=True)]
    body.append(line("token", [html.escape(token) for token in row.tokens]))
    body += [line(name, values.tolist()) for name, values in tensors]
    scroll = "sd-scroll sd-pt-from-end" if scroll_to_end else "sd-scroll"
    return f'<div class="{scroll}"><table class="sd-grid sd-pt-grid">{"".join(body)}</table></div>'


def _shape_line(batch: EncodedBatch) -> str:
    names = "input_ids, attention_mask" + (", token_type_ids" if batch.rows[0].token_type_ids is not None else "")
    cells = sum(batch.lengths)
    pads = f"{batch.pad_count} of {cells} cells are pads ({batch.pad_count / cells:.0%})"
    if batch.shape is None:
        lengths = ", ".join(map(str, batch.lengths[:12])) + (" …" if len(batch.lengths) > 12 else "")
        return f"<b>ragged</b>: row lengths {lengths}; no tensor until padded · {pads}"
    return f"<code>{names}, position_ids</code>: shape <b>{batch.shape}</b> · {pads}"


def _truncation_lines(batch: EncodedBatch) -> str:
    """Per text (and second text) that lost tokens: how many, and which, struck through."""
    sides = [("text", batch.coverage), ("second text", batch.pair_coverage or ())]
    lines = []
    for name, coverage in sides:
        for number, text in enumerate(coverage, start=1):
            if lost := text.truncated:
                more = f" … and {len(lost) - TRUNCATED_SHOWN} more" if len(lost) > TRUNCATED_SHOWN else ""
                shown = chips(lost[:TRUNCATED_SHOWN], [TRUNCATED] * min(len(lost), TRUNCATED_SHOWN))
                summary = f"{name} {number} lost {len(lost)} of {len(text.tokens)} tokens:"
                lines.append(f'<div class="sd-pt-lost">{summary}{shown}{more}</div>')
    if lines:
        return "".join(lines)
    if batch.config.truncates:
        return '<p class="sd-note">Nothing truncated away: every token of every text is in some row.</p>'
    return ""


def panel_html(batch: EncodedBatch) -> str:
    """A configuration's whole panel: what it does, the tensor shapes, one grid per row, losses."""
    parts = [
        f'<p class="sd-pt-what">{html.escape(batch.config.describe(batch.model_max_length))}.</p>',
        f'<p class="sd-note">{_shape_line(batch)}</p>',
    ]
    if batch.overflow_to_sample_mapping is not None:
        mapping = batch.overflow_to_sample_mapping.tolist()
        parts.append(f'<p class="sd-note"><code>overflow_to_sample_mapping</code> = {mapping} (text index per row)</p>')
    if max(batch.lengths) > batch.model_max_length:
        parts.append(
            f'<p class="sd-note sd-pt-warn">A row is longer than model_max_length ({batch.model_max_length}): '
            "the model would fail on it; truncate.</p>"
        )
    for index, row in enumerate(batch.rows[:ROWS_SHOWN]):
        caption = f"{batch.row_label(index)} · {plural(len(row.tokens), 'position')}"
        table = row_table(row, scroll_to_end=batch.config.padding_side == "left" and not row.attention_mask.all())
        parts.append(f'<div class="sd-pt-caption">{caption}</div>{table}')
    if len(batch.rows) > ROWS_SHOWN:
        parts.append(f'<p class="sd-note">… {len(batch.rows) - ROWS_SHOWN} more rows: all are in the figure below.</p>')
    parts.append(_truncation_lines(batch))
    return f'<div class="sd-pt-panel">{"".join(parts)}</div>'


def batch_shapes_html(batches: Mapping[str, EncodedBatch]) -> str:
    """Each configuration's tensor as a grid of rows × positions, side by side on one scale, coloured by kind.

    The HTML form of `plots.padding.plot_batch_shapes`: a dark outline marks a stackable tensor
    (a ragged batch has none), a line separates the rows of one text from the next one's windows.
    """
    most_rows = max(len(batch.rows) for batch in batches.values())
    width = max(max(batch.lengths) for batch in batches.values())
    panels, used = [], set()
    for label, batch in batches.items():
        rows = [row.kinds() for row in batch.rows]
        used.update(kind for row in rows for kind in row)
        windows = batch.overflow_to_sample_mapping is not None
        names = [str(row.sample + 1) + (f".{row.window + 1}" if windows else "") for row in batch.rows]
        starts = [i for i in range(1, len(batch.rows)) if windows and batch.rows[i].sample != batch.rows[i - 1].sample]
        shape = batch.shape
        what = f"(rows, seq) = {shape}" if shape else f"ragged: lengths {min(batch.lengths)}–{max(batch.lengths)}"
        grid = cell_grid(
            rows,
            width,
            row_labels=names if most_rows <= LABELLED_ROWS else [],
            titles=[f"{batch.row_label(i)}: {len(row)} positions" for i, row in enumerate(rows)],
            outline=shape is not None,
            scale_rows=most_rows,
            starts=starts,
        )
        panels.append(
            f'<div><div class="sd-chart-panel-title"><b>{html.escape(label)}</b> · {html.escape(what)}</div>'
            f"{grid}{axis(width, 'position', ticks=3)}</div>"
        )
    labels = [(kind, SHAPE_LABELS[kind]) for kind in SHAPE_LABELS if kind in used]
    windows = any(batch.overflow_to_sample_mapping is not None for batch in batches.values())
    note = "a row per text" + (
        "; with overflow windows a row is text.window, and a line separates one text's windows from the next"
        if windows
        else ""
    )
    return (
        f'<div class="sd-chart sd-pt-shapes" style="--label:2.6em">{legend(labels)}'
        f'<div class="sd-chart-panels">{"".join(panels)}</div>'
        f'<p class="sd-bars-note">{note}</p></div>'
    )

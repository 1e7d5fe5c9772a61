"""Tab 3's HTML: token grids with a value under each token, the proof's |Δ| table, position ids, generated ids.

Cells are coloured by what sits at the position (`token_kinds`): real tokens blue, special
tokens violet, pads grey; a |Δ| is green within the proof's tolerance and red beyond it. The two
charts (`key_mask_html`, `proof_chart_html`) show what `plots.masks` draws as figures, in the same
colours, built in a millisecond; the figures are drawn when someone downloads them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from seqdemo.masks import BatchRun, GenerationComparison, MaskProof, PaddedBatch
from seqdemo.plots.masks import DELTA_FLOOR, HIDDEN_SERIES, POOLED_SERIES, SUPERSCRIPTS
from seqdemo.token_kinds import PAD, token_kinds
from seqdemo.ui.views.charts import axis, cell_grid, legend, row_height_px

MAX_GRID_COLUMNS = 48  # positions shown in the token grids; the rest are counted
PREVIEW_CHARS = 48
KEY_MASK_HEIGHT_PX = 480  # the key mask's rows shrink to fit about this height
MAX_LABELLED_POSITIONS = 40  # up to this many positions the key mask names its tokens (rows 12 px and taller)
MAX_KEY_MASK_ROWS = 160  # a longer text's key mask shows every k-th query, at most this many rows
ATTENDS, BLOCKED = "attends", "blocked"  # the key mask's cell kinds


def preview(text: str) -> str:
    """The start of `text`, cut with an ellipsis past PREVIEW_CHARS characters."""
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def _delta(value: float, tolerance: float) -> str:
    shown = "0" if value == 0 else f"{value:.1e}"
    return f'<td class="{"sd-ok" if value <= tolerance else "sd-bad"}">{shown}</td>'


def _verdict(matches: bool) -> str:
    return '<td class="sd-ok">✓ same</td>' if matches else '<td class="sd-bad">✗ differs</td>'


def token_grid(batch: PaddedBatch, values: np.ndarray, value_name: str, verdicts: Sequence[str] = ()) -> str:
    """A table, one row per text: each cell a token with `values[row, column]` under it.

    Real tokens are blue, special tokens violet, pads grey. `verdicts` adds a column of
    ready-made `<td>` cells after the row names, where a wide grid cannot scroll it away.
    """
    seq = batch.input_ids.shape[1]
    shown = min(seq, MAX_GRID_COLUMNS)
    head = "".join(f"<th>{column}</th>" for column in range(shown))
    extra = "<th>vs. alone</th>" if verdicts else ""
    more = f"<th>+{seq - shown}</th>" if shown < seq else ""
    rows = []
    for row, tokens in enumerate(batch.tokens):
        kinds = token_kinds(batch.special_tokens_mask[row], attention_mask=batch.attention_mask[row])
        cells = []
        for column in range(shown):
            cells.append(
                f'<td class="{kinds[column]}" title="input_ids {batch.input_ids[row, column]}">'
                f'<span class="sd-mask-token">{html.escape(tokens[column])}</span><br><b>{values[row, column]}</b></td>'
            )
        tail = "<td>…</td>" if more else ""
        verdict = verdicts[row] if verdicts else ""
        rows.append(f'<tr><td class="rowhead">text {row + 1}</td>{verdict}{"".join(cells)}{tail}</tr>')
    return (
        f'<div class="sd-scroll"><table class="sd-grid sd-mask-grid"><thead><tr><th>{html.escape(value_name)}</th>'
        f"{extra}{head}{more}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def notes_html(notes: Sequence[str]) -> str:
    """The backend's notes on a batch, each flagged."""
    return "".join(f'<p class="sd-note sd-mask-flag">{html.escape(note)}</p>' for note in notes)


def proof_header_html(proof: MaskProof, role: str, model_source: str, device: str, precision: str) -> str:
    """Which model ran where (`model_source`: its checkpoint, or what the kit has), its precision, the tolerance."""
    return (
        f'<p class="sd-note">Model <b>{html.escape(role)}</b> ({html.escape(model_source)}) on '
        f"{html.escape(device)}. <b>Precision:</b> {html.escape(precision)}. A max |Δ| at or below "
        f"<b>{proof.tolerance:.0e}</b>, the "
        f"tolerance for {proof.dtype}, counts as float noise: running the same numbers in a different batch "
        "shape moves them by about 1e-7 to 1e-6 in float32. The base models here have no classification "
        "head, so there are no logits or labels to compare: the pooled embedding is what a head would read.</p>"
    )


def proof_table_html(proof: MaskProof) -> str:
    """Per text: max |Δ| against the text alone, green within tolerance, red beyond it."""
    tol = proof.tolerance
    masked, unmasked = proof.masked, proof.unmasked
    rows = []
    for i, length in enumerate(proof.tokenized.lengths):
        pads = int((masked.batch.attention_mask[i] == 0).sum())
        pad_max = f"{masked.pad_hidden_max[i]:.2f}" if pads else "—"
        rows.append(
            f'<tr><td class="rowhead">text {i + 1}</td><td>{length}</td><td>{pads}</td>'
            + _delta(masked.hidden_delta[i], tol)
            + _delta(unmasked.hidden_delta[i], tol)
            + _delta(masked.pooled_delta[i], tol)
            + _delta(unmasked.pooled_delta[i], tol)
            + _delta(masked.mean_all_delta[i], tol)
            + f"<td>{pad_max}</td></tr>"
        )
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-mask-proof"><thead>'
        '<tr><th rowspan="2">text</th><th rowspan="2">tokens</th><th rowspan="2">pads</th>'
        '<th colspan="2">last hidden states, real tokens</th><th colspan="3">mean-pooled sentence embedding</th>'
        '<th rowspan="2">max |h| at pads in (b)</th></tr>'
        "<tr><th>(b) with mask</th><th>(c) no mask</th><th>(b) masked mean</th><th>(c) masked mean</th>"
        f"<th>(b) plain mean</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="sd-note">Each cell: max |Δ| against the same text run alone, unpadded (a).</p>'
    )


def _side_html(proof: MaskProof, run: BatchRun, title: str) -> str:
    verdicts = [_verdict(bool(match)) for match in proof.matches(run)]
    grid = token_grid(run.batch, run.position_ids, "position_ids", verdicts)
    return f'<div class="sd-mask-side"><h4>{title}</h4>{grid}</div>'


def positions_html(proof: MaskProof) -> str:
    """The position ids the model built for right and left padding, and whether outputs match (a)."""
    return (
        _side_html(proof, proof.masked, "padding_side = right (with attention_mask)")
        + _side_html(proof, proof.left, "padding_side = left (with attention_mask)")
        + '<p class="sd-note">vs. alone: last hidden states of the real tokens against the text run alone, '
        f"within {proof.tolerance:.0e}.</p>"
    )


def _ids_cell(ids: np.ndarray, reference: np.ndarray, tokens: Sequence[str]) -> str:
    pieces = []
    for token_id, expected, token in zip(ids, reference, tokens, strict=True):
        kind = "" if token_id == expected else "sd-bad"
        pieces.append(f'<span class="sd-gen-id {kind}" title="{html.escape(token)}">{token_id}</span>')
    return f"<td>{''.join(pieces)}</td>"


def generation_html(comparison: GenerationComparison, texts: Sequence[str], *, untrained: bool = False) -> str:
    """Generated token ids side by side; ids that differ from the one-at-a-time run in red."""
    rows = []
    for i, text in enumerate(texts):
        alone = comparison.alone[i]
        cells = [
            _ids_cell(ids, alone, tokens[i])
            for ids, tokens in (
                (alone, comparison.alone_tokens),
                (comparison.left[i], comparison.left_tokens),
                (comparison.right[i], comparison.right_tokens),
            )
        ]
        rows.append(
            f'<tr><td class="rowhead" title="{html.escape(text)}">{i + 1} · {html.escape(preview(text))}</td>'
            f"<td>{comparison.tokenized.lengths[i]}</td>{cells[0]}{cells[1]}{_verdict(bool(comparison.left_matches[i]))}"
            f"{cells[2]}{_verdict(bool(comparison.right_matches[i]))}</tr>"
        )
    kit = (
        " This GPT-2 has random weights (the offline kit's), so its continuations are nonsense (often one token "
        "repeated): what matters is whether the runs agree."
        if untrained
        else ""
    )
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-mask-gen"><thead><tr><th>prompt</th><th>tokens</th>'
        "<th>one at a time</th><th>left-padded batch</th><th></th><th>right-padded batch</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="sd-note">Generated token ids; hover an id for its token.{kit}</p>'
    )


def generation_prompts_html(comparison: GenerationComparison) -> str:
    """The padded prompts with the position ids `generate` built from their attention_mask."""
    left = token_grid(comparison.left_batch, comparison.left_position_ids, "position_ids")
    right = token_grid(comparison.right_batch, comparison.right_position_ids, "position_ids")
    return f"<h4>padding_side = left</h4>{left}<h4>padding_side = right</h4>{right}"


def key_mask_html(batch: PaddedBatch, index: int, allowed: np.ndarray, model_name: str = "") -> str:
    """Queries (rows) × keys (columns) of example `index`: blue where attention may go, grey where it is blocked.

    The HTML form of `plots.masks.plot_key_mask`. `allowed` is (seq, seq) bool from
    `attention_key_mask`. Up to MAX_LABELLED_POSITIONS the rows and columns are named by their
    tokens (pads in grey) and the cells are square; a longer text shows every k-th query, so that
    at most MAX_KEY_MASK_ROWS rows are drawn, under a key axis in positions.
    """
    seq = len(allowed)
    step = math.ceil(seq / MAX_KEY_MASK_ROWS)
    queries = range(0, seq, step)
    rows = [[ATTENDS if cell else BLOCKED for cell in allowed[query]] for query in queries]
    tokens = batch.tokens[index]
    kinds = [PAD if mask == 0 else "" for mask in batch.attention_mask[index]]
    titles = [f"query {query} ({tokens[query]}): attends to {int(allowed[query].sum()):,} keys" for query in queries]
    named = seq <= MAX_LABELLED_POSITIONS
    if named:
        label_chars = max(len(token) for token in tokens)
        side = row_height_px(seq, KEY_MASK_HEIGHT_PX)
        label = f"{min(label_chars, 12) * 0.62 + 0.6:.1f}em"
        grid = cell_grid(
            rows, seq, row_labels=tokens, label_kinds=kinds, column_labels=tokens, column_kinds=kinds,
            titles=titles, height_px=KEY_MASK_HEIGHT_PX,
        )  # fmt: skip
        style = f"--label:{label};max-width:calc({label} + 4px + {seq * side}px)"
        footer = '<p class="sd-bars-note">rows: queries (attending) · columns: keys (attended to)</p>'
    else:
        labels = [str(query) if number % max(len(rows) // 8, 1) == 0 else "" for number, query in enumerate(queries)]
        grid = cell_grid(rows, seq, row_labels=labels, titles=titles, height_px=KEY_MASK_HEIGHT_PX)
        style = "--label:3em"
        every = f", every {step}th query shown" if step > 1 else ""
        footer = axis(seq, "keys (attended to) · position") + (
            f'<p class="sd-bars-note">rows: queries (attending), by position{every}</p>'
        )
    title = f"Text {index + 1}: key mask" + (f" in {html.escape(model_name)}" if model_name else "")
    return (
        f'<div class="sd-chart sd-keymask" style="{style}"><div class="sd-chart-title">{title}</div>'
        f"{legend([(ATTENDS, 'attends'), (BLOCKED, 'blocked')])}{grid}{footer}</div>"
    )


def _power_of_ten(exponent: int) -> str:
    return f"10{str(exponent).translate(SUPERSCRIPTS)}"


def _proof_panel(proof: MaskProof, series, title: str, floor: float, top: float) -> str:
    span = math.log10(top) - math.log10(floor)

    def at(value: float) -> float:
        return float(np.clip((math.log10(value) - math.log10(floor)) / span, 0, 1))

    tolerance = at(proof.tolerance)
    body = []
    for i, length in enumerate(proof.tokenized.lengths):
        bars = []
        for label, color, run, field in series:
            value = float(getattr(getattr(proof, run), field)[i])
            width = 0.0 if value == 0 else 100 * at(max(value, floor))
            shown = "0" if value == 0 else f"{value:.1e}"
            beyond = ' class="beyond"' if value > proof.tolerance else ""
            bars.append(
                f'<div class="sd-bar" title="text {i + 1}, {html.escape(label)}: max |Δ| {shown}">'
                f'<i style="width:{width:.3f}%;background-color:{color}"></i><span{beyond}>{shown}</span></div>'
            )
        body.append(
            f'<div class="sd-bars-label">text {i + 1} · {length} tok</div>'
            f'<div class="sd-bars-group sd-proof-group" style="--at:{tolerance:.6f}">{"".join(bars)}</div>'
        )
    low, high = round(math.log10(floor)), math.floor(math.log10(top))
    stride = 1 if high - low <= 6 else 2
    ticks = "".join(
        f'<span style="--at:{at(10.0**exponent):.6f}">{_power_of_ten(exponent)}</span>'
        for exponent in range(low, high + 1, stride)
    )
    body.append(f'<div></div><div class="sd-cells-ticks">{ticks}</div>')
    return f'<div><div class="sd-chart-panel-title">{title}</div><div class="sd-bars">{"".join(body)}</div></div>'


def proof_chart_html(proof: MaskProof) -> str:
    """Per text, max |Δ| against the text alone on a log scale, with the tolerance as a dashed line; two panels.

    The HTML form of `plots.masks.plot_mask_proof`. Left: last hidden states over real tokens,
    (b) and (c). Right: the mean-pooled sentence embedding, masked mean for (b) and (c), and the
    plain mean over all positions for (b). An exact 0, which a log scale cannot show, has no bar.
    """
    largest = max(
        float(getattr(getattr(proof, run), field).max()) for series in (HIDDEN_SERIES, POOLED_SERIES)
        for *_, run, field in series
    )  # fmt: skip
    floor, top = DELTA_FLOOR, max(largest, proof.tolerance) * 10
    swatches = "".join(
        f'<span class="sd-swatch"><i style="background-color:{color}"></i>{html.escape(label)}</span>'
        for label, color, *_ in POOLED_SERIES
    )
    panels = "".join(
        _proof_panel(proof, series, title, floor, top)
        for series, title in (
            (HIDDEN_SERIES, "Last hidden states (real tokens)"),
            (POOLED_SERIES, "Sentence embedding (mean pooling)"),
        )
    )
    return (
        '<div class="sd-chart sd-mask-proof-chart"><div class="sd-chart-title">max |Δ| against the text alone</div>'
        f'<div class="sd-swatches">{swatches}</div><div class="sd-chart-panels">{panels}</div>'
        f'<p class="sd-bars-note">log scale; dashed: the tolerance {proof.tolerance:.0e} ({proof.dtype}), below which '
        "a difference is float noise; red numbers lie beyond it</p></div>"
    )

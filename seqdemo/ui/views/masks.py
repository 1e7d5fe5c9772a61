"""Tab 3's HTML: token grids with a value under each token, the proof's |Δ| table, position ids, generated ids.

Cells are coloured by what sits at the position (`token_kinds`): real tokens blue, special
tokens violet, pads grey; a |Δ| is green within the proof's tolerance and red beyond it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from seqdemo.masks import BatchRun, GenerationComparison, MaskProof, PaddedBatch
from seqdemo.token_kinds import token_kinds

MAX_GRID_COLUMNS = 48  # positions shown in the token grids; the rest are counted
PREVIEW_CHARS = 48


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

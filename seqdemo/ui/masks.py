"""Tab 3, attention masks: the batch mask, one example's key mask, and the proof that it works.

The tab opens on a worked example computed when the page loads. Every number comes from
running the chosen model now: each text alone, the padded batch with and without the
attention_mask, left padding, and GPT-2's batched generation.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Sequence

import gradio as gr
import numpy as np

from seqdemo.inputs import describe_limits, split_texts
from seqdemo.masks import (
    BatchRun,
    GenerationComparison,
    MaskProof,
    PaddedBatch,
    attention_key_mask,
    compare_batched_generation,
    pad_batch,
    prove_mask,
    tokenize_texts,
)
from seqdemo.models import ROLES, ModelStore
from seqdemo.plots.masks import plot_key_mask, plot_mask_proof
from seqdemo.ui.components import computed_once, figure_files, user_errors

PROOF_ROLES = ("bert", "roberta", "longformer")
DEFAULT_ROLE = "bert"  # its position ids ignore padding, so left padding visibly breaks it
DEFAULT_NEW_TOKENS = 5
GENERATION_ROLE = "decoder"
MAX_TEXTS = 8
MAX_GRID_COLUMNS = 48  # positions shown in the token grids; the rest are counted
PREVIEW_CHARS = 48
EXAMPLE_TEXTS = (
    "The cat sat on the mat.",
    "I loved this film.",
    "The service was slow, but the food was worth the wait.",
    "Terrible.",
    "A quiet restaurant with friendly staff, fresh bread and a view of the river at sunset.",
)

EXPLANATION = """\
**What to look at.** A padded batch is only correct if the model ignores the pads. Below, the
chosen model runs every text **(a)** alone, **(b)** in the padded batch *with* its `attention_mask`,
and **(c)** in the same batch *without* it. With the mask, (b) matches (a) to float noise; without it,
every text shorter than the longest changes. Then: why pooling needs the mask too, what padding
on the left does to position ids, and why generation pads on the left.
"""

KEY_MASK_NOTE = """\
The mask hides **keys**, not queries: each row is a query, and every row, pad rows included,
is blocked from the pad columns. The pad positions still get hidden states (for BERT and RoBERTa
they even attend to the real tokens), so whatever reads the outputs must skip them too.
Longformer also keeps each query to a local window plus global attention on `<s>`.
"""

POOLING_NOTE = """\
**Pooling.** A sentence embedding averaged over *real* tokens (the masked mean,
`(h * attention_mask).sum(1) / attention_mask.sum(1)`) matches the text alone. The plain mean over
every position drags in the pad positions' hidden states, which are not zero (last column), and is
wrong for every padded text.
"""

POSITIONS_NOTE = """\
**Position ids.** The mask says *which* tokens count; position ids say *where* each token is.
BERT numbers positions 0, 1, 2 … across the padded row whatever is there, so left padding shifts
a short text's real tokens to new positions and its outputs change. RoBERTa and Longformer build
position ids from the input ids: real tokens count from `pad_token_id + 1`, pads keep `pad_token_id`,
so either side gives the same result. Switch the model to compare.
"""

GENERATION_NOTE = """\
**Left padding for generation.** A decoder-only model (here GPT-2) writes the next token from the
last position of each row. With right padding that position is a pad for the shorter prompts, so
they continue from a pad; with left padding every row ends on its own last token, and `generate`
builds position ids from the `attention_mask` (`cumsum − 1`), so each prompt gets exactly the
tokens it gets alone. Greedy decoding, end-of-text suppressed so every run writes the same number
of tokens. This holds as much for the offline kit's random weights as for the trained `gpt2`.
"""


def _role_choices() -> list[tuple[str, str]]:
    return [(ROLES[role].summary.split(" · ")[0], role) for role in PROOF_ROLES]


def _preview(text: str) -> str:
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
        cells = []
        for column in range(shown):
            token, value = tokens[column], values[row, column]
            kind = "pad" if not batch.attention_mask[row, column] else "real"
            kind = "special" if batch.special_tokens_mask[row, column] else kind
            cells.append(
                f'<td class="{kind}" title="input_ids {batch.input_ids[row, column]}">'
                f'<span class="sd-mask-token">{html.escape(token)}</span><br><b>{value}</b></td>'
            )
        tail = "<td>…</td>" if more else ""
        verdict = verdicts[row] if verdicts else ""
        rows.append(f'<tr><td class="rowhead">text {row + 1}</td>{verdict}{"".join(cells)}{tail}</tr>')
    return (
        f'<div class="sd-scroll"><table class="sd-grid sd-mask-grid"><thead><tr><th>{html.escape(value_name)}</th>'
        f"{extra}{head}{more}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def notes_html(notes: Sequence[str]) -> str:
    return "".join(f'<p class="sd-note sd-mask-flag">{html.escape(note)}</p>' for note in notes)


def proof_header_html(proof: MaskProof, role: str, store: ModelStore) -> str:
    """Which model ran where, in which dtype, and the tolerance used to call a |Δ| noise."""
    source = store.checkpoint(role) if store.source.mode == "hub" else "offline kit, random weights"
    return (
        f'<p class="sd-note">Model <b>{html.escape(role)}</b> ({html.escape(source)}) on '
        f"{html.escape(store.device.description)}. A max |Δ| at or below <b>{proof.tolerance:.0e}</b>, the "
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


def generation_html(comparison: GenerationComparison, texts: Sequence[str], store: ModelStore) -> str:
    """Generated token ids side by side; ids that differ from the one-at-a-time run in red."""
    tokenizer = store.tokenizer(GENERATION_ROLE)
    rows = []
    for i, text in enumerate(texts):
        alone = comparison.alone[i]
        cells = [
            _ids_cell(ids, alone, tokenizer.convert_ids_to_tokens(ids.tolist()))
            for ids in (alone, comparison.left[i], comparison.right[i])
        ]
        rows.append(
            f'<tr><td class="rowhead" title="{html.escape(text)}">{i + 1} · {html.escape(_preview(text))}</td>'
            f"<td>{comparison.tokenized.lengths[i]}</td>{cells[0]}{cells[1]}{_verdict(bool(comparison.left_matches[i]))}"
            f"{cells[2]}{_verdict(bool(comparison.right_matches[i]))}</tr>"
        )
    kit = (
        " The offline kit's GPT-2 has random weights, so its continuations are nonsense (often one token "
        "repeated): what matters is whether the runs agree."
        if store.source.mode == "offline"
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


def _example_choices(texts: Sequence[str]) -> list[tuple[str, int]]:
    return [(f"text {i + 1} · {_preview(text)}", i) for i, text in enumerate(texts)]


def show_key_mask(raw_texts: str | None, role: str, example: int | None, *, store: ModelStore) -> tuple[str, list[str]]:
    """The key mask of one example: (PNG path, PNG and SVG files)."""
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    tokenizer = store.tokenizer(role)
    batch = pad_batch(tokenizer, tokenize_texts(tokenizer, texts), "right")
    index = int(example or 0)
    allowed = attention_key_mask(batch, index, store.model(role).config)
    files = figure_files(plot_key_mask(batch, index, allowed, role), f"key-mask-text{index + 1}")
    return files[0], files


def run_lesson(
    raw_texts: str | None, role: str, example: int | None, max_new_tokens: int, *, store: ModelStore
) -> tuple:
    """The tab's handler: every panel for these texts and this model."""
    texts = split_texts(raw_texts, max_texts=MAX_TEXTS)
    proof = prove_mask(store.model(role), store.tokenizer(role), texts)
    generation = compare_batched_generation(
        store.model(GENERATION_ROLE), store.tokenizer(GENERATION_ROLE), texts, int(max_new_tokens)
    )
    index = min(int(example or 0), len(texts) - 1)
    key_png, key_files = show_key_mask(raw_texts, role, index, store=store)
    proof_files = figure_files(plot_mask_proof(proof), f"mask-proof-{role}")
    batch = proof.masked.batch
    return (
        notes_html(proof.notes),
        token_grid(batch, batch.attention_mask, "attention_mask"),
        gr.Dropdown(choices=_example_choices(texts), value=index),
        key_png,
        key_files,
        proof_header_html(proof, role, store),
        proof_table_html(proof),
        proof_files[0],
        proof_files,
        positions_html(proof),
        notes_html(generation.notes) + generation_html(generation, texts, store),
        generation_prompts_html(generation),
    )


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    with gr.Row():
        with gr.Column(scale=3):
            texts = gr.Textbox(
                value="\n".join(EXAMPLE_TEXTS),
                lines=5,
                max_lines=12,
                label="Texts, one per line",
                info=describe_limits(max_texts=MAX_TEXTS),
            )
        with gr.Column(scale=1, min_width=260):
            role = gr.Dropdown(choices=_role_choices(), value=DEFAULT_ROLE, label="Model (sections 1-3)")
            max_new_tokens = gr.Slider(1, 10, value=DEFAULT_NEW_TOKENS, step=1, label="max_new_tokens (section 4)")
            run = gr.Button("Run the proof", variant="primary")
    notes = gr.HTML()

    gr.Markdown("### 1 · The attention mask")
    batch_mask = gr.HTML()
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            key_mask = gr.Image(label="Key mask", show_label=False, type="filepath", interactive=False, height=560)
        with gr.Column(scale=2):
            example = gr.Dropdown(choices=_example_choices(EXAMPLE_TEXTS), value=0, label="Example for the key mask")
            gr.Markdown(KEY_MASK_NOTE)
            with gr.Accordion("Download the key mask (PNG, SVG)", open=False):
                key_files = gr.File(label="Key mask", file_count="multiple", interactive=False)

    gr.Markdown("### 2 · The proof: (a) alone, (b) padded with the mask, (c) padded without it")
    proof_header = gr.HTML()
    proof_table = gr.HTML()
    proof_plot = gr.Image(label="max |Δ| per text", show_label=False, type="filepath", interactive=False)
    with gr.Accordion("Download the proof figure (PNG, SVG)", open=False):
        proof_files = gr.File(label="Proof figure", file_count="multiple", interactive=False)
    gr.Markdown(POOLING_NOTE)

    gr.Markdown("### 3 · Right vs left padding: position ids")
    gr.Markdown(POSITIONS_NOTE)
    positions = gr.HTML()

    gr.Markdown("### 4 · Left padding for generation (GPT-2)")
    gr.Markdown(GENERATION_NOTE)
    generation = gr.HTML()
    with gr.Accordion("The padded prompts and the position ids generate built", open=False):
        prompts = gr.HTML()

    handler = user_errors(functools.partial(run_lesson, store=store))
    inputs = [texts, role, example, max_new_tokens]
    outputs = [
        notes,
        batch_mask,
        example,
        key_mask,
        key_files,
        proof_header,
        proof_table,
        proof_plot,
        proof_files,
        positions,
        generation,
        prompts,
    ]
    gr.on(
        [run.click, role.input, max_new_tokens.release], handler, inputs=inputs, outputs=outputs, api_name="mask_proof"
    )
    example.input(
        user_errors(functools.partial(show_key_mask, store=store)),
        inputs=[texts, role, example],
        outputs=[key_mask, key_files],
        api_name="key_mask",
    )
    # No inputs and no triggers: runs when the page loads, on the example already in the box;
    # computed once per process.
    gr.on(
        None,
        computed_once(lambda: handler("\n".join(EXAMPLE_TEXTS), DEFAULT_ROLE, 0, DEFAULT_NEW_TOKENS)),
        outputs=outputs,
        api_name="mask_proof_example",
        show_progress="minimal",
    )

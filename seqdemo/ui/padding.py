"""Tab 2, padding & truncation: up to four tokenizer configurations run side by side on one batch.

Each configuration renders into its own panel, errors included, so one invalid setting never
blanks the others; the figure compares the batch shapes of the valid ones.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import fields

import gradio as gr

from seqdemo.inputs import describe_limits
from seqdemo.models import ModelStore, get_role
from seqdemo.padding import (
    PADDING_STRATEGIES,
    SIDES,
    TRUNCATION_STRATEGIES,
    EncodedBatch,
    EncodedRow,
    PaddingConfig,
    encode_batch,
    split_text_pairs,
)
from seqdemo.plots.padding import plot_batch_shapes
from seqdemo.ui.components import chips, error_html, figure_files, user_errors

ROLE_CHOICES = ("bert", "roberta", "longformer")
LABELS = "ABCD"
DEFAULT_CONFIGS = (
    PaddingConfig(padding="longest", padding_side="right"),
    PaddingConfig(padding="max_length", max_length=16, padding_side="left", truncation="longest_first"),
    PaddingConfig(padding="do_not_pad"),
    PaddingConfig(max_length=12, truncation="longest_first", stride=4, return_overflowing_tokens=True),
)
DEFAULT_SHOWN = 2
KNOBS = len(fields(PaddingConfig))  # widgets per configuration, in field order
EXAMPLE_TEXTS = (
    "The cat sat.\n"
    "Padding makes every sequence in a batch the same length.\n"
    "Truncation cuts a long text down to max_length tokens, so the model never sees the rest of it."
)
MAX_TEXTS, MAX_CHARS = 16, 10_000  # a grid view: enough for long documents, small enough to stay quick
MAX_ROWS = 1_000  # overflow windows per configuration
ROWS_SHOWN = 8  # grids per configuration; the figure shows every row
HEAD, TAIL = 40, 24  # positions shown from each end of a long row
TRUNCATED_SHOWN = 60
INTRO = (
    "Every text becomes a row of token ids; a batch must be a rectangle, so short rows are **padded** and long "
    "ones **truncated**. Compare configurations side by side: where the pads go (`padding_side`), what "
    "`attention_mask` hides, how `position_ids` move with left padding (BERT) or skip pads (RoBERTa, starting at "
    "pad_token_id + 1), and which tokens truncation throws away — or keeps in overlapping windows with "
    "`return_overflowing_tokens` and `stride`."
)
LEGEND = chips(
    ["real token", "special token", "pad", "overlap with previous window", "truncated away"],
    ["", "special", "pad", "overlap", "truncated"],
) + (
    '<p class="sd-note">Token spelling: <code>##</code> continues a WordPiece word (BERT); <code>Ġ</code> is a '
    "space before a byte-level BPE token (RoBERTa, Longformer). Rows with left padding open scrolled to their end.</p>"
)


def _config_widgets(label: str, default: PaddingConfig) -> list[gr.components.Component]:
    """The eight knobs of one configuration, in PaddingConfig's field order (elem_id sd-pt-<a..d>-<name>)."""

    def knob(
        kind: type[gr.components.Component], name: str, *args: object, **kwargs: object
    ) -> gr.components.Component:
        return kind(*args, label=name, elem_id=f"sd-pt-{label.lower()}-{name}", **kwargs)

    gr.Markdown(f"### Configuration {label}")
    with gr.Row():
        padding = knob(gr.Dropdown, "padding", list(PADDING_STRATEGIES), value=default.padding, min_width=130)
        max_length = knob(gr.Textbox, "max_length", _as_text(default.max_length), placeholder="none", min_width=90)
        multiple = knob(
            gr.Textbox, "pad_to_multiple_of", _as_text(default.pad_to_multiple_of), placeholder="none", min_width=90
        )
    with gr.Row():
        padding_side = knob(gr.Radio, "padding_side", list(SIDES), value=default.padding_side, min_width=130)
        truncation = knob(gr.Dropdown, "truncation", list(TRUNCATION_STRATEGIES), value=default.truncation)
        truncation_side = knob(gr.Radio, "truncation_side", list(SIDES), value=default.truncation_side, min_width=130)
    with gr.Row():
        stride = knob(gr.Number, "stride", default.stride, precision=0, min_width=90)
        overflow = knob(gr.Checkbox, "return_overflowing_tokens", default.return_overflowing_tokens, min_width=200)
    return [padding, max_length, multiple, padding_side, truncation, truncation_side, stride, overflow]


def _as_text(number: int | None) -> str:
    return "" if number is None else str(number)


def _as_number(name: str, text: str | None) -> int | None:
    """A number box's text as an int; empty means "not given"."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be a whole number of tokens (or empty), not {text!r}.") from None


def parse_config(
    padding: str,
    max_length: str | None,
    pad_to_multiple_of: str | None,
    padding_side: str,
    truncation: str,
    truncation_side: str,
    stride: float | None,
    overflow: bool,
) -> PaddingConfig:
    """Widget values -> PaddingConfig; an empty max_length / pad_to_multiple_of box means "not given"."""
    return PaddingConfig(
        padding=padding,
        max_length=_as_number("max_length", max_length),
        pad_to_multiple_of=_as_number("pad_to_multiple_of", pad_to_multiple_of),
        padding_side=padding_side,
        truncation=truncation,
        truncation_side=truncation_side,
        stride=int(stride or 0),
        return_overflowing_tokens=bool(overflow),
    )


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
                shown = chips(lost[:TRUNCATED_SHOWN], ["truncated"] * min(len(lost), TRUNCATED_SHOWN))
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
        caption = f"{batch.row_label(index)} · {len(row.tokens)} positions"
        table = row_table(row, scroll_to_end=batch.config.padding_side == "left" and not row.attention_mask.all())
        parts.append(f'<div class="sd-pt-caption">{caption}</div>{table}')
    if len(batch.rows) > ROWS_SHOWN:
        parts.append(f'<p class="sd-note">… {len(batch.rows) - ROWS_SHOWN} more rows: all are in the figure below.</p>')
    parts.append(_truncation_lines(batch))
    return f'<div class="sd-pt-panel">{"".join(parts)}</div>'


def compare(store: ModelStore, raw_texts: str, raw_pairs: str, role: str, shown: int, *knobs: object) -> tuple:
    """Handler: texts and every configuration's knobs -> one panel per configuration, figure, downloads."""
    texts, pairs = split_text_pairs(raw_texts, raw_pairs, max_texts=MAX_TEXTS, max_chars=MAX_CHARS)
    tokenizer, family = store.tokenizer(role), get_role(role).family
    panels, batches = [], {}
    for number, label in enumerate(LABELS[: int(shown)]):
        try:
            config = parse_config(*knobs[number * KNOBS : (number + 1) * KNOBS])
            batches[label] = encode_batch(tokenizer, family, texts, pairs, config, max_rows=MAX_ROWS)
        except ValueError as err:
            panels.append(error_html(str(err)))
            continue
        panels.append(panel_html(batches[label]))
    panels += [""] * (len(LABELS) - len(panels))
    if not batches:
        return *panels, None, None
    files = figure_files(plot_batch_shapes(batches), "padding-batch-shapes")
    return *panels, files[0], files


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(INTRO)
    with gr.Row():
        raw_texts = gr.Textbox(
            EXAMPLE_TEXTS,
            elem_id="sd-pt-texts",
            lines=4,
            label="Texts, one per line",
            info=describe_limits(MAX_TEXTS, MAX_CHARS),
            scale=3,
        )
        raw_pairs = gr.Textbox(
            "",
            elem_id="sd-pt-pairs",
            lines=4,
            label="Second texts (optional)",
            info="Sentence pairs: line i pairs with text i. Leave empty for single texts.",
            scale=2,
        )
    with gr.Row():
        role = gr.Radio(list(ROLE_CHOICES), value=ROLE_CHOICES[0], label="tokenizer", scale=2, elem_id="sd-pt-role")
        shown = gr.Slider(
            1,
            len(LABELS),
            value=DEFAULT_SHOWN,
            step=1,
            label="configurations side by side",
            scale=2,
            elem_id="sd-pt-shown",
        )
        run = gr.Button("Tokenize", variant="primary", scale=1, elem_id="sd-pt-run")
    gr.HTML(f'<div class="sd-legend">{LEGEND}</div>')
    columns, knobs, panels = [], [], []
    with gr.Row():
        for number, (label, default) in enumerate(zip(LABELS, DEFAULT_CONFIGS, strict=True)):
            with gr.Column(min_width=460, visible=number < DEFAULT_SHOWN, variant="panel") as column:
                knobs += _config_widgets(label, default)
                panels.append(gr.HTML())
            columns.append(column)
    gr.Markdown("### Batch shapes: each configuration's tensor, rows × positions, on one scale")
    plot = gr.Image(show_label=False, type="filepath", interactive=False, buttons=["fullscreen"])
    downloads = gr.File(label="Download the figure (PNG, SVG)", file_count="multiple")

    def show_columns(count: int) -> list[gr.Column]:
        return [gr.Column(visible=number < int(count)) for number in range(len(LABELS))]

    shown.change(show_columns, shown, columns, api_name="padding_show_configurations")

    @user_errors
    def padding_compare(raw_texts: str, raw_pairs: str, role: str, shown: int, *knobs: object) -> tuple:
        return compare(store, raw_texts, raw_pairs, role, shown, *knobs)

    root = gr.context.Context.root_block  # the app's Blocks: its load event runs the example on opening
    triggers = [run.click, role.change, shown.change, root.load] + [knob.change for knob in knobs]
    gr.on(
        triggers,
        padding_compare,
        [raw_texts, raw_pairs, role, shown, *knobs],
        [*panels, plot, downloads],
        api_name="padding_compare",
        api_description=(
            f"Texts, second texts, tokenizer role, number of configurations, then {KNOBS} values per configuration "
            f"{', '.join(LABELS)}: {', '.join(field.name for field in fields(PaddingConfig))}."
        ),
        trigger_mode="always_last",
    )

"""Tab 2, padding & truncation: up to four tokenizer configurations run side by side on one batch.

Each configuration renders into its own panel (`ui.views.padding`), errors included, so one
invalid setting never blanks the others; a chart compares the batch shapes of the valid ones. The
tab shows that chart as HTML (`show_configurations`, public as `padding_compare_charts`) and draws
the figure only for a download; `compare_configurations`, which answers with the figure as a PNG,
stays public as `padding_compare` (its worked example as `padding_compare_example`) for the API's callers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple, fields

import gradio as gr

from seqdemo.errors import InputError
from seqdemo.inputs import describe_limits
from seqdemo.models import ENCODER_ROLES, ModelStore, get_role
from seqdemo.padding import (
    PADDING_STRATEGIES,
    SIDES,
    TRUNCATION_STRATEGIES,
    EncodedBatch,
    PaddingConfig,
    encode_batch,
    split_text_pairs,
)
from seqdemo.plots.padding import plot_batch_shapes
from seqdemo.ui import widgets
from seqdemo.ui.components import api_only, api_only_example, bind, on_page_load, user_errors
from seqdemo.ui.figures import DRAW_FIGURE, Drawing, save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.views.elements import error_html
from seqdemo.ui.views.padding import batch_shapes_html, legend_html, panel_html

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
FIGURE_STEM = "padding-batch-shapes"
INTRO = (
    "Every text becomes a row of token ids; a batch must be a rectangle, so short rows are **padded** and long "
    "ones **truncated**. Compare configurations side by side: where the pads go (`padding_side`), what "
    "`attention_mask` hides, how `position_ids` move with left padding (BERT) or skip pads (RoBERTa, starting at "
    "pad_token_id + 1), and which tokens truncation throws away — or keeps in overlapping windows with "
    "`return_overflowing_tokens` and `stride`."
)


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
        raise InputError(f"{name} must be a whole number of tokens (or empty), not {text!r}.") from None


def knob_values(config: PaddingConfig) -> tuple[object, ...]:
    """A configuration as its eight widgets hold it (number boxes as text); `parse_config` reads it back."""
    values = astuple(config)
    return (values[0], _as_text(config.max_length), _as_text(config.pad_to_multiple_of), *values[3:])


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


# The worked example: the inputs as the widgets start out.
EXAMPLE_INPUTS = (
    EXAMPLE_TEXTS,
    "",
    ENCODER_ROLES[0],
    DEFAULT_SHOWN,
    *(v for c in DEFAULT_CONFIGS for v in knob_values(c)),
)


def _encode(
    raw_texts: str, raw_pairs: str, role: str, shown: int, knobs: tuple[object, ...], store: ModelStore
) -> tuple[list[str], dict[str, EncodedBatch]]:
    """Every shown configuration's panel (an error box for an invalid one) and the batches of the valid ones."""
    texts, pairs = split_text_pairs(raw_texts, raw_pairs, max_texts=MAX_TEXTS, max_chars=MAX_CHARS)
    tokenizer, family = store.tokenizer(role), get_role(role).family
    panels, batches = [], {}
    for number, label in enumerate(LABELS[: int(shown)]):
        try:
            config = parse_config(*knobs[number * KNOBS : (number + 1) * KNOBS])
            batches[label] = encode_batch(tokenizer, family, texts, pairs, config, max_rows=MAX_ROWS)
        except InputError as err:
            panels.append(error_html(str(err)))
            continue
        panels.append(panel_html(batches[label]))
    return panels + [""] * (len(LABELS) - len(panels)), batches


@user_errors("tokenizing the texts")
def show_configurations(
    raw_texts: str, raw_pairs: str, role: str, shown: int, *knobs: object, store: ModelStore
) -> tuple:
    """The tab's handler: texts and every configuration's knobs -> a panel per configuration, the batch shapes
    chart, no files yet, the drawing of the figure for the download button.

    All HTML, built in milliseconds: the figure is drawn only when someone downloads it.
    """
    panels, batches = _encode(raw_texts, raw_pairs, role, shown, knobs, store)
    if not batches:
        return *panels, "", [], []
    return *panels, batch_shapes_html(batches), [], [Drawing(plot_batch_shapes, (batches,), FIGURE_STEM)]


@user_errors("tokenizing the texts")
def compare_configurations(
    raw_texts: str, raw_pairs: str, role: str, shown: int, *knobs: object, store: ModelStore
) -> Iterator[tuple]:
    """The API's `padding_compare`: a panel per configuration, the batch shapes figure, its PNG file, drawings.

    Two updates when there is a figure: the panels at once, then the figure (drawing it takes most of the time).
    """
    panels, batches = _encode(raw_texts, raw_pairs, role, shown, knobs, store)
    yield *panels, None, None, []
    if batches:
        figure = save_figure(plot_batch_shapes, batches, stem=FIGURE_STEM)
        yield *panels, figure.png, figure.downloads, [figure.drawing]


def show_columns(count: int) -> list[gr.Column]:
    """Show the first `count` configuration columns, hide the rest."""
    return [gr.Column(visible=number < int(count)) for number in range(len(LABELS))]


def _config_widgets(label: str, default: PaddingConfig) -> list[gr.components.Component]:
    """The eight knobs of one configuration, in PaddingConfig's field order (elem_id sd-pt-<a..d>-<name>)."""
    values = dict(zip((field.name for field in fields(PaddingConfig)), knob_values(default), strict=True))

    def knob(
        kind: type[gr.components.Component], name: str, *args: object, **kwargs: object
    ) -> gr.components.Component:
        return kind(*args, value=values[name], label=name, elem_id=f"sd-pt-{label.lower()}-{name}", **kwargs)

    gr.Markdown(f"### Configuration {label}")
    with gr.Row():
        padding = knob(widgets.Dropdown, "padding", list(PADDING_STRATEGIES), min_width=130)
        max_length = knob(widgets.Textbox, "max_length", placeholder="none", min_width=90)
        multiple = knob(widgets.Textbox, "pad_to_multiple_of", placeholder="none", min_width=90)
    with gr.Row():
        padding_side = knob(widgets.Radio, "padding_side", list(SIDES), min_width=130)
        truncation = knob(widgets.Dropdown, "truncation", list(TRUNCATION_STRATEGIES))
        truncation_side = knob(widgets.Radio, "truncation_side", list(SIDES), min_width=130)
    with gr.Row():
        stride = knob(widgets.Number, "stride", precision=0, min_width=90)
        overflow = knob(gr.Checkbox, "return_overflowing_tokens", min_width=200)
    return [padding, max_length, multiple, padding_side, truncation, truncation_side, stride, overflow]


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(INTRO)
    with gr.Row():
        raw_texts = widgets.Textbox(
            EXAMPLE_INPUTS[0],
            elem_id="sd-pt-texts",
            lines=4,
            label="Texts, one per line",
            info=describe_limits(MAX_TEXTS, MAX_CHARS),
            scale=3,
        )
        raw_pairs = widgets.Textbox(
            EXAMPLE_INPUTS[1],
            elem_id="sd-pt-pairs",
            lines=4,
            label="Second texts (optional)",
            info="Sentence pairs: line i pairs with text i. Leave empty for single texts.",
            scale=2,
        )
    with gr.Row():
        role = widgets.Radio(
            list(ENCODER_ROLES), value=EXAMPLE_INPUTS[2], label="tokenizer", scale=2, elem_id="sd-pt-role"
        )
        shown = widgets.Slider(
            1,
            len(LABELS),
            value=EXAMPLE_INPUTS[3],
            step=1,
            label="configurations side by side",
            scale=2,
            elem_id="sd-pt-shown",
        )
        run = gr.Button("Tokenize", variant="primary", scale=1, elem_id="sd-pt-run")
    gr.HTML(legend_html())
    columns, knobs, panels = [], [], []
    with gr.Row():
        for number, (label, default) in enumerate(zip(LABELS, DEFAULT_CONFIGS, strict=True)):
            with gr.Column(min_width=460, visible=number < DEFAULT_SHOWN, variant="panel") as column:
                knobs += _config_widgets(label, default)
                panels.append(gr.HTML())
            columns.append(column)
    names = [f"{label.lower()}_{field.name}" for label in LABELS for field in fields(PaddingConfig)]
    link_fields = {"texts": raw_texts, "pairs": raw_pairs, "tokenizer": role, "configurations": shown}
    link = LessonLink("padding", {**link_fields, **dict(zip(names, knobs, strict=True))})
    gr.Markdown("### Batch shapes: each configuration's tensor, rows × positions, on one scale")
    chart = gr.HTML(elem_id="sd-pt-shapes")
    with gr.Accordion("Download the figure (PNG, SVG)", open=False):
        downloads = gr.File(label="Figure", file_count="multiple", interactive=False)
        drawings = svg_on_request(downloads, api_name="padding_compare_svg", label=DRAW_FIGURE)

    shown.change(show_columns, shown, columns, api_name="padding_show_configurations")
    inputs = [raw_texts, raw_pairs, role, shown, *knobs]
    outputs = [*panels, chart, downloads, drawings]
    description = (
        f"Texts, second texts, tokenizer role, number of configurations, then {KNOBS} values per configuration "
        f"{', '.join(LABELS)}: {', '.join(field.name for field in fields(PaddingConfig))}."
    )
    # `input`, not `change`: a link that fills the widgets runs the lesson itself, and `change` would run it again
    triggers = [run.click, role.input, shown.input] + [knob.input for knob in knobs]
    handler = bind(show_configurations, store)
    gr.on(
        triggers,
        handler,
        inputs,
        outputs,
        api_name="padding_compare_charts",
        api_description=description,
        trigger_mode="always_last",
    )
    on_page_load(handler, EXAMPLE_INPUTS, outputs, api_name="padding_compare_charts_example", link=link)

    # The endpoints of the figure-as-PNG form of this tab, for the API's callers; their PNG is shown nowhere.
    plot = gr.Image(label="Batch shapes", type="filepath", visible=False)
    api_outputs = [*panels, plot, downloads, drawings]
    figure_handler = bind(compare_configurations, store)
    api_only(figure_handler, inputs, api_outputs, api_name="padding_compare", api_description=description)
    api_only_example(figure_handler, EXAMPLE_INPUTS, api_outputs, api_name="padding_compare_example")

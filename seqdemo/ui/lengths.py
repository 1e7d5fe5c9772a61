"""Tab 1, the length problem: texts in; words, tokens per tokenizer, chips and padding out.

Widgets, the handlers and their wiring; the HTML, charts included, is drawn by `ui.views.lengths`.
The tab opens on a worked example, run when the page loads. The tab shows its two charts as HTML
(`show_lengths`, public as `measure_lengths_charts`); the figures are drawn as PNG and SVG only
when someone downloads them. `measure_texts`, which answers with the figures as PNGs, stays public
as `measure_lengths` (and its worked example as `measure_lengths_example`) for the API's callers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import gradio as gr

from seqdemo.inputs import describe_limits, split_texts
from seqdemo.lengths import LengthReport, measure_lengths
from seqdemo.models import ENCODER_ROLES, ROLES, ModelStore
from seqdemo.plots.lengths import plot_padding_grid, plot_token_counts
from seqdemo.ui import widgets
from seqdemo.ui.components import api_only, api_only_example, bind, on_page_load, user_errors
from seqdemo.ui.figures import Drawing, save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.views.lengths import chips_html, counts_chart_html, padding_grid_html, summary_html, texts_html

EXAMPLE_TEXTS = (
    "The cat sat on the mat.",
    "Tokenizers split rare words like pneumonoultramicroscopic into many pieces.",
    "A batch needs one length, so every shorter sequence is padded up to the longest one in the batch.",
    "Emoji cost tokens too 🙂🚀",
    "Привет, мир! こんにちは世界",
)
EXAMPLE_INPUTS = ("\n".join(EXAMPLE_TEXTS), ENCODER_ROLES, True)  # the handler's inputs, as the widgets start

EXPLANATION = """\
**What to look at.** Models count tokens, not words: a common word is one token, but rare words,
emoji and other scripts split into many pieces, and every text gains special tokens
(`[CLS]` … `[SEP]` for BERT, `<s>` … `</s>` for RoBERTa). A batch must be one rectangle, so every
text is padded to the longest: the grey slots in the padding picture are compute spent on nothing.
"""


def _measure(
    raw_texts: str | None, roles: Sequence[str] | None, count_special_tokens: bool, store: ModelStore
) -> LengthReport:
    texts = split_texts(raw_texts)
    tokenizers = {role: store.tokenizer(role) for role in ENCODER_ROLES if role in (roles or ())}
    return measure_lengths(texts, tokenizers, add_special_tokens=count_special_tokens)


def drawings(report: LengthReport) -> list[Drawing]:
    """The tab's two figures, to draw as PNG and SVG when someone downloads them."""
    return [
        Drawing(plot_token_counts, (report,), "token-counts"),
        Drawing(plot_padding_grid, (report,), "padding-grid"),
    ]


@user_errors("measuring the texts")
def show_lengths(
    raw_texts: str | None, roles: Sequence[str] | None, count_special_tokens: bool, *, store: ModelStore
) -> tuple[str, str, str, list[str], str, str, list[Drawing]]:
    """The tab's handler: (summary, counts chart, padding chart, no files yet, per-text table, chips, drawings).

    Everything is HTML, built in milliseconds; the figures wait in `drawings` for the download button.
    """
    report = _measure(raw_texts, roles, count_special_tokens, store)
    return (
        summary_html(report, store.kit_description()),
        counts_chart_html(report),
        padding_grid_html(report),
        [],
        texts_html(report),
        chips_html(report),
        drawings(report),
    )


@user_errors("measuring the texts")
def measure_texts(
    raw_texts: str | None, roles: Sequence[str] | None, count_special_tokens: bool, *, store: ModelStore
) -> Iterator[tuple[str, str | None, str | None, list[str], str, str, list[Drawing]]]:
    """The API's `measure_lengths`: (summary, counts PNG, padding PNG, PNG files, per-text table, chips, drawings).

    Two updates: the tables at once (tokenizing takes milliseconds), then the two figures (drawing
    them takes most of the time); the last holds everything.
    """
    report = _measure(raw_texts, roles, count_special_tokens, store)
    tables = (summary_html(report, store.kit_description()), texts_html(report), chips_html(report))
    yield tables[0], None, None, [], *tables[1:], []
    counts, padding = (save_figure(drawing.plot, *drawing.args, stem=drawing.stem) for drawing in drawings(report))
    yield (
        tables[0],
        counts.png,
        padding.png,
        counts.downloads + padding.downloads,
        *tables[1:],
        [counts.drawing, padding.drawing],
    )


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    with gr.Row():
        with gr.Column(scale=3):
            texts = widgets.Textbox(
                value=EXAMPLE_INPUTS[0], lines=6, max_lines=16, label="Texts, one per line", info=describe_limits()
            )
        with gr.Column(scale=1, min_width=260):
            roles = widgets.CheckboxGroup(
                choices=[(ROLES[role].summary, role) for role in ENCODER_ROLES],
                value=list(EXAMPLE_INPUTS[1]),
                label="Tokenizers",
            )
            count_special = gr.Checkbox(value=EXAMPLE_INPUTS[2], label="Count special tokens ([CLS] [SEP], <s> </s>)")
            run = gr.Button("Measure", variant="primary")
    link = LessonLink("lengths", {"texts": texts, "tokenizers": roles, "special_tokens": count_special})
    summary = gr.HTML()
    with gr.Row(equal_height=False):
        counts_chart = gr.HTML(elem_id="sd-lengths-counts")
        padding_chart = gr.HTML(elem_id="sd-lengths-padding")
    with gr.Accordion("Download the figures (PNG, SVG)", open=False):
        downloads = gr.File(label="Figures", file_count="multiple", interactive=False)
        figures = svg_on_request(downloads, api_name="measure_lengths_svg", label="Draw the figures (PNG and SVG)")
    with gr.Accordion("Per text: words, characters, tokens", open=True):
        per_text = gr.HTML()
    with gr.Accordion("The tokens themselves", open=True):
        token_chips = gr.HTML()

    inputs = [texts, roles, count_special]
    outputs = [summary, counts_chart, padding_chart, downloads, per_text, token_chips, figures]
    # `input`, not `change`: a link that fills the widgets runs the lesson itself, and `change` would run it again
    triggers = [run.click, roles.input, count_special.input]
    handler = bind(show_lengths, store)
    gr.on(triggers, handler, inputs, outputs, api_name="measure_lengths_charts")
    on_page_load(handler, EXAMPLE_INPUTS, outputs, api_name="measure_lengths_charts_example", link=link)

    # The endpoints of the figures-as-PNG form of this tab, for the API's callers; their PNGs are shown nowhere.
    counts_png = gr.Image(label="Token counts", type="filepath", visible=False)
    padding_png = gr.Image(label="Tokens vs padding", type="filepath", visible=False)
    api_outputs = [summary, counts_png, padding_png, downloads, per_text, token_chips, figures]
    api_only(bind(measure_texts, store), inputs, api_outputs, api_name="measure_lengths")
    api_only_example(bind(measure_texts, store), EXAMPLE_INPUTS, api_outputs, api_name="measure_lengths_example")

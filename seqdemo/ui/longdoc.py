"""Tab 4, long documents: RoBERTa's truncation strategies against Longformer, and the needle sweep.

Both comparisons stream: each strategy's result is shown as soon as it is ready, the cheap
ones first. The windows in force are read from the loaded classifiers, never assumed; the
HTML is drawn by `ui.views.longdoc`.

The sweep's curves are an HTML chart (`show_sweep`, public as `needle_sweep_charts`); its figure is
drawn when someone downloads it. The figure form, `needle_sweep` (`run_sweep`) and its worked
example `needle_sweep_example` (the page's example, drawn), stays public for the API's callers on
hidden triggers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, get_args

import gradio as gr
from gradio.context import get_blocks_context

from seqdemo.errors import InputError
from seqdemo.inputs import MAX_DOCUMENT_CHARS, check_document
from seqdemo.longdoc import (
    AGGREGATIONS,
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    MAX_SWEEP_POSITIONS,
    SHORT_ROLE,
    Classifier,
    NeedleSweep,
    StrategyResult,
    StrategySettings,
    chosen_strategies,
    compare_long_document_strategies,
    encode_document,
    load_pair,
    read_document_file,
    sweep_needle,
)
from seqdemo.longdoc_budget import check_comparison, check_sweep
from seqdemo.longdoc_examples import EXAMPLE_NOTES, LATE, SWEEP_PASSAGE, example_document, sweep_document
from seqdemo.models import ModelStore
from seqdemo.plots.longdoc import plot_needle_sweep, plot_showdown
from seqdemo.ui import widgets
from seqdemo.ui.components import (
    WorkedExample,
    api_only,
    api_only_example,
    bind,
    cached,
    on_page_load,
    user_errors,
    worked_examples,
)
from seqdemo.ui.figures import DRAW_FIGURE, Drawing, save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.uploaded import refused_uploads_deleted
from seqdemo.ui.views.longdoc import (
    document_notes,
    example_note_html,
    limits_markdown,
    needle_sweep_chart_html,
    results_table,
    showdown_chart_html,
    status_html,
    sweep_status_html,
)

SWEEP_SOURCES = ("shipped filler", "the document above")
# Eight points over the filler's two and a half windows: about one every 180 tokens, so each cliff falls between two
# points and two fall where neither head nor tail reads. At base size on 2 cores that fits the sweep's budget
# (benchmarks/space.py, avx512_bf16: 10 points over three windows took 37 R where 30 R is the budget; these 26 R).
DEFAULT_POSITIONS = 8
# The sliders' bounds are the loaded short classifier's window, set when the page opens (`worked_example`). Before
# that no window is known: they start at a ceiling no window here reaches, the longest document the tab takes, and
# the backend refuses, in a sentence naming the window, a head or stride the loaded classifier cannot take.
TOKENS_CEILING = MAX_DOCUMENT_CHARS

EXPLANATION = """\
**What to look at.** A classifier reads at most its window of tokens; the rest of the document is cut
off before the model runs. Each row below shades the tokens a strategy let the model read and shows what
it answered: when the verdict lies outside the shaded part, the model can only guess. The needle sweep
moves one decisive passage through a document and measures that cliff.
"""
Pair = dict[str, Classifier]


def _count_tokens(classifier: Classifier) -> Callable[[str], int]:
    return lambda text: len(encode_document(text, classifier.tokenizer))


def _example(name: str, pair: Pair) -> str:
    short = pair[SHORT_ROLE]
    return example_document(name, _count_tokens(short), short.budget, pair[LONG_ROLE].budget)


@user_errors("loading the example")
def example_text(name: str, *, store: ModelStore) -> tuple[str, str]:
    """(the example's text, its note) for the example called `name`."""
    return _example(name, load_pair(store)), example_note_html(name)


@user_errors("reading the file")
@refused_uploads_deleted
def upload_text(path: str | None) -> str:
    """The uploaded file's text, for the document box."""
    if not path:
        raise InputError("No file was uploaded.")
    return read_document_file(path)


Comparison = tuple[str, str | None, str, list[str], str, list[Drawing]]  # status, PNG, table, files, notes, drawings
ComparisonChart = tuple[str, str, str, list[str], str, list[Drawing]]  # status, chart HTML, table, no files, ...
SHOWDOWN_STEM = "long-documents"


def _comparison_steps(
    document: str | None,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    store: ModelStore,
) -> Iterator[tuple[list[str], tuple[StrategyResult, ...], str, Pair]]:
    """The checked comparison as (strategies asked for, results so far, the stripped document, the pair): no result
    first, then one more after each strategy."""
    pair = load_pair(store)
    keys = chosen_strategies(list(strategies or []))
    document = check_document(document)  # stripped, so the notes' offsets match the results'
    settings = StrategySettings(int(head_tokens), int(stride), aggregation)
    check_comparison(document, keys, pair, settings)
    results: list[StrategyResult] = []
    yield keys, (), document, pair
    for result in compare_long_document_strategies(document, keys, pair, settings):
        results.append(result)
        yield keys, tuple(results), document, pair


def _status(results: Sequence[StrategyResult], keys: Sequence[str]) -> str:
    return status_html([result.key for result in results], keys, "running")


@user_errors("comparing the strategies")
def compare_document(
    document: str | None,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[Comparison]:
    """The comparison's figure form (public as `compare_strategies`), streamed after each strategy: (status, showdown
    PNG, results table, files, notes, drawings).

    `files` is the PNG to download; `drawings` what the SVG button draws from. The table grows a
    row per strategy; the figure is drawn for the first and for all (drawing it costs about what
    a strategy does).
    """
    knobs = (document, strategies, head_tokens, stride, aggregation)
    for keys, results, text, pair in _comparison_steps(*knobs, store=store):
        if not results:
            yield _status(results, keys), None, "", [], "", []
            continue
        if len(results) in (1, len(keys)):
            figure = save_figure(plot_showdown, results, stem=SHOWDOWN_STEM)
        notes = document_notes(text, results, pair[SHORT_ROLE].budget)
        yield _status(results, keys), figure.png, results_table(results), figure.downloads, notes, [figure.drawing]


@user_errors("comparing the strategies")
def show_comparison(
    document: str | None,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[ComparisonChart]:
    """The tab's comparison (`compare_strategies_charts`), streamed after each strategy: (status, the showdown as
    HTML, results table, no files, notes, its drawing). The figure is drawn only when someone downloads it."""
    knobs = (document, strategies, head_tokens, stride, aggregation)
    for keys, results, text, pair in _comparison_steps(*knobs, store=store):
        if not results:
            yield _status(results, keys), "", "", [], "", []
            continue
        drawing = Drawing(plot_showdown, (results,), SHOWDOWN_STEM)
        notes = document_notes(text, results, pair[SHORT_ROLE].budget)
        yield _status(results, keys), showdown_chart_html(results), results_table(results), [], notes, [drawing]


def starting_tokens(pair: Pair) -> int:
    """The head + tail head and the sliding windows' stride the tab starts at: a quarter of the short window."""
    return pair[SHORT_ROLE].budget // 4


def _limits(pair: Pair, head_tokens: int, stride: int, *, store: ModelStore) -> tuple[Any, ...]:
    """The windows in force and the precision, then the two sliders on the short model's range at these values."""
    budget = pair[SHORT_ROLE].budget
    return (
        limits_markdown(pair, store.source.mode == "offline"),
        gr.Slider(maximum=budget, value=head_tokens),
        gr.Slider(maximum=budget - 1, value=stride),
    )


@user_errors("running the worked example")
def worked_example(*, store: ModelStore) -> Iterator[tuple[Any, ...]]:
    """On page load (`compare_strategies_charts_example`): the windows in force, the precision, slider ranges, the first
    example, its comparison streamed with the showdown as HTML."""
    pair = load_pair(store)
    quarter = starting_tokens(pair)
    text = _example(LATE, pair)
    setup = (*_limits(pair, quarter, quarter, store=store), text, example_note_html(LATE))
    strategies = list(LONG_DOCUMENT_STRATEGIES)
    for outputs in show_comparison(text, strategies, quarter, quarter, "mean", store=store):
        yield *setup, *outputs


def worked_example_figure(example: WorkedExample) -> Callable[[], tuple[Any, ...]]:
    """The figure form of the worked comparison `example` (public as `longdoc_worked_example`): its last update, the
    showdown drawn as PNG."""

    @user_errors("drawing the worked example")
    def figure_of_example() -> tuple[Any, ...]:
        *setup, status, _chart, table, _files, notes, drawings = example.compute()
        (drawing,) = drawings
        figure = save_figure(drawing.plot, *drawing.args, stem=drawing.stem)
        return *setup, status, figure.png, table, figure.downloads, notes, [figure.drawing]

    return figure_of_example


@user_errors("opening the link")
def linked_comparison(
    document: str | None,
    strategies: Sequence[str] | None,
    head_tokens: float | None,
    stride: float | None,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[tuple[Any, ...]]:
    """A link's comparison: the windows in force and the sliders' ranges, as the worked example sets them, no
    example named (the document is the link's), then the comparison on the link's inputs, streamed. A link's value
    past a slider's range (typed by hand) runs at its end; one the link leaves out (None) is the worked example's,
    a quarter of the window.
    """
    pair = load_pair(store)
    budget = pair[SHORT_ROLE].budget
    quarter = starting_tokens(pair)
    head = quarter if head_tokens is None else min(int(head_tokens), budget)
    overlap = quarter if stride is None else min(int(stride), budget - 1)
    setup = (*_limits(pair, head, overlap, store=store), gr.Dropdown(value=None))
    yield *setup, *(gr.skip() for _ in get_args(ComparisonChart))  # in place even if the comparison refuses them
    for outputs in show_comparison(document, strategies, head, overlap, aggregation, store=store):
        yield *setup, *outputs


Sweep = tuple[str, str | None, list[str], list[Drawing]]  # status, sweep PNG, files, drawings
SweepChart = tuple[str, str, list[str], list[Drawing]]  # status, sweep chart HTML, files (none), drawings


def _sweep_steps(
    passage: str | None,
    source: str,
    document: str | None,
    positions: float,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    store: ModelStore,
) -> Iterator[tuple[str, NeedleSweep | None]]:
    """The checked sweep as (status HTML, sweep so far): None before the first points, then as positions complete."""
    pair = load_pair(store)
    keys = chosen_strategies(list(strategies or []))
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    if source == SWEEP_SOURCES[0]:
        document = sweep_document(_count_tokens(short), short.budget, long.budget)
    settings = StrategySettings(int(head_tokens), int(stride), aggregation)
    check_sweep(passage, document, keys, pair, int(positions), settings)
    yield sweep_status_html(None, keys), None
    for sweep in sweep_needle(passage or "", document or "", keys, pair, int(positions), settings):
        yield sweep_status_html(sweep, keys), sweep


@user_errors("running the needle sweep")
def show_sweep(
    passage: str | None,
    source: str,
    document: str | None,
    positions: float,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[SweepChart]:
    """The needle sweep, streamed as positions complete: (status, the chart as HTML, no files, its drawing).

    The figure is drawn only when someone downloads it, so an update costs the model's work alone.
    """
    knobs = (passage, source, document, positions, strategies, head_tokens, stride, aggregation)
    for status, sweep in _sweep_steps(*knobs, store=store):
        if sweep is None:
            yield status, "", [], []
        else:
            yield status, needle_sweep_chart_html(sweep), [], [Drawing(plot_needle_sweep, (sweep,), "needle-sweep")]


@user_errors("running the needle sweep")
def run_sweep(
    passage: str | None,
    source: str,
    document: str | None,
    positions: float,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[Sweep]:
    """The needle sweep's figure form (public as `needle_sweep`), streamed: (status, sweep PNG, files, drawings)."""
    knobs = (passage, source, document, positions, strategies, head_tokens, stride, aggregation)
    for status, sweep in _sweep_steps(*knobs, store=store):
        if sweep is None:
            yield status, None, [], []
        else:
            figure = save_figure(plot_needle_sweep, sweep, stem="needle-sweep")
            yield status, figure.png, figure.downloads, [figure.drawing]


def _example_knobs(store: ModelStore) -> tuple[Any, ...]:
    """The worked sweep's inputs: the shipped passage through the shipped filler, every strategy, the tab's defaults."""
    quarter = starting_tokens(load_pair(store))
    strategies = list(LONG_DOCUMENT_STRATEGIES)
    return SWEEP_PASSAGE, SWEEP_SOURCES[0], None, DEFAULT_POSITIONS, strategies, quarter, quarter, "mean"


@user_errors("running the worked sweep")
def sweep_example(*, store: ModelStore) -> Iterator[SweepChart]:
    """The shipped passage swept through the shipped filler with every strategy, at the tab's defaults."""
    yield from show_sweep(*_example_knobs(store), store=store)


def sweep_figure(example: WorkedExample) -> Callable[[], Sweep]:
    """The figure form of the worked sweep `example` (public as `needle_sweep_example`): its final chart, drawn."""

    @user_errors("drawing the worked sweep")
    def figure_of_example() -> Sweep:
        status, _chart, _files, drawings = example.compute()
        (drawing,) = drawings
        figure = save_figure(drawing.plot, *drawing.args, stem=drawing.stem)
        return status, figure.png, figure.downloads, [figure.drawing]

    return figure_of_example


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    limits = gr.Markdown()
    with gr.Row():
        with gr.Column(scale=3):
            example = widgets.Dropdown(choices=list(EXAMPLE_NOTES), value=LATE, label="Example documents")
            example_note = gr.HTML()
            document = widgets.Textbox(
                lines=9,
                max_lines=14,
                label="Document",
                info=f"Paste a long text (up to {MAX_DOCUMENT_CHARS:,} characters), pick an example or upload a file.",
            )
            upload = gr.UploadButton("Upload a .txt or .md file", file_types=[".txt", ".md"], size="sm")
        with gr.Column(scale=2, min_width=300):
            strategies = widgets.CheckboxGroup(
                choices=[(strategy.title, key) for key, strategy in LONG_DOCUMENT_STRATEGIES.items()],
                value=list(LONG_DOCUMENT_STRATEGIES),
                label="Strategies",
            )
            head_tokens = widgets.Slider(
                0, TOKENS_CEILING, value=0, step=1, label="head + tail: tokens from the head (rest from the tail)"
            )
            stride = widgets.Slider(
                0, TOKENS_CEILING, value=0, step=1, label="sliding windows: stride (tokens neighbouring windows share)"
            )
            aggregation = widgets.Radio(
                list(AGGREGATIONS), value="mean", label="sliding windows: combine window logits by"
            )
            run = gr.Button("Compare strategies", variant="primary")
    fields = {"document": document, "strategies": strategies, "head_tokens": head_tokens, "stride": stride}
    # The sliders start at 0 until the page learns the window: a link without them gets the worked example's.
    link = LessonLink("longdoc", {**fields, "aggregation": aggregation}, unset=("head_tokens", "stride"))
    status = gr.HTML()
    showdown = gr.HTML(elem_id="sd-showdown")
    notes = gr.HTML()
    table = gr.HTML()
    with gr.Accordion("Download the figure (PNG, SVG)", open=False):
        downloads = gr.File(label="Figure", file_count="multiple", interactive=False)
        drawings = svg_on_request(downloads, api_name="compare_strategies_svg", label=DRAW_FIGURE)

    gr.Markdown(
        "### The needle sweep\nThe passage is inserted at evenly spaced points of a document, and every chosen "
        "strategy classifies every copy. Where the passage leaves a strategy's window, its answer drops to a guess. "
        "Sliding windows always see it, but averaging their logits dilutes one decisive window among neutral ones: "
        "compare `mean` with `max`."
    )
    with gr.Row():
        passage = widgets.Textbox(value=SWEEP_PASSAGE, lines=2, label="Passage (the needle)", scale=3)
        with gr.Column(scale=2, min_width=300):
            source = widgets.Radio(list(SWEEP_SOURCES), value=SWEEP_SOURCES[0], label="Move it through")
            positions = widgets.Slider(
                2,
                MAX_SWEEP_POSITIONS,
                value=DEFAULT_POSITIONS,
                step=1,
                label=f"Positions (at most {MAX_SWEEP_POSITIONS})",
                elem_id="sd-sweep-positions",
            )
            sweep = gr.Button("Run the sweep", variant="primary")
    sweep_status = gr.HTML(elem_id="sd-sweep-status")
    sweep_chart = gr.HTML(elem_id="sd-sweep-chart")
    with gr.Accordion("Download the sweep figure (PNG, SVG)", open=False):
        sweep_downloads = gr.File(label="Figure", file_count="multiple", interactive=False)
        sweep_drawings = svg_on_request(sweep_downloads, api_name="needle_sweep_svg", label=DRAW_FIGURE)

    compare_outputs = [status, showdown, table, downloads, notes, drawings]
    sweep_outputs = [sweep_status, sweep_chart, sweep_downloads, sweep_drawings]
    knobs = [strategies, head_tokens, stride, aggregation]
    run.click(cached(show_comparison, store), [document, *knobs], compare_outputs, api_name="compare_strategies_charts")
    example.input(bind(example_text, store), example, [document, example_note], api_name="longdoc_example")
    upload.upload(upload_text, upload, document, api_name="longdoc_upload")
    sweep_inputs = [passage, source, document, positions, *knobs]
    sweep.click(cached(show_sweep, store), sweep_inputs, sweep_outputs, api_name="needle_sweep_charts")
    example_outputs = [limits, head_tokens, stride, document, example_note, *compare_outputs]
    comparison = on_page_load(
        bind(worked_example, store),
        (),
        example_outputs,
        api_name="compare_strategies_charts_example",
        slow=True,
        link=link.runs(cached(linked_comparison, store), [limits, head_tokens, stride, example, *compare_outputs]),
    )
    on_page_load(
        bind(sweep_example, store),
        (),
        sweep_outputs,
        api_name="needle_sweep_charts_example",
        after=comparison,
        slow=True,
    )

    # The figure form of the comparison, for the API's callers: its PNG is shown nowhere, and its worked example is
    # the page's, drawn (not compared again).
    showdown_plot = gr.Image(label="Coverage and answers", type="filepath", visible=False)
    api_compare_outputs = [status, showdown_plot, table, downloads, notes, drawings]
    api_only(cached(compare_document, store), [document, *knobs], api_compare_outputs, api_name="compare_strategies")
    worked = worked_examples(get_blocks_context().root_block).named("compare_strategies_charts_example")
    api_example_outputs = [limits, head_tokens, stride, document, example_note, *api_compare_outputs]
    api_only_example(worked_example_figure(worked), (), api_example_outputs, api_name="longdoc_worked_example")

    # The figure form of the sweep, for the API's callers: its PNG is shown nowhere, and its worked example is the
    # page's, drawn (not swept again).
    sweep_plot = gr.Image(label="Needle sweep", type="filepath", visible=False)
    api_sweep_outputs = [sweep_status, sweep_plot, sweep_downloads, sweep_drawings]
    api_only(cached(run_sweep, store), sweep_inputs, api_sweep_outputs, api_name="needle_sweep")
    charts = worked_examples(get_blocks_context().root_block).named("needle_sweep_charts_example")
    api_only_example(sweep_figure(charts), (), api_sweep_outputs, api_name="needle_sweep_example")

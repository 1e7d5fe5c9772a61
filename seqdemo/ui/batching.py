"""Tab 6, the batching lab: the same texts batched five ways, their padding, and measured speed.

Texts come from the box or an uploaded file (which fills the box); the comparison needs only
the tokenizer, the optional throughput run loads the model for the chosen role. Tables and
text are drawn by `ui.views.batching`; figures show as `gr.Plot` and download as files.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from seqdemo.batching import compare_batching_strategies, measure_text_throughput
from seqdemo.errors import InputError, ModelLoadError
from seqdemo.inputs import split_texts
from seqdemo.models import ENCODER_ROLES, ROLES, ModelStore
from seqdemo.plots.batching import plot_batch_shapes, plot_lengths, plot_padding, plot_throughput
from seqdemo.plural import plural
from seqdemo.request_budget import (
    REQUEST_SECONDS,
    affordable_texts,
    batching_work,
    check_work,
    describe_seconds,
)
from seqdemo.ui import widgets
from seqdemo.ui.components import bind, on_page_load, user_errors
from seqdemo.ui.figures import save_figure, svg_on_request
from seqdemo.ui.links import LessonLink
from seqdemo.ui.uploaded import refused_uploads_deleted
from seqdemo.ui.views.batching import PLAN_COLUMNS, advice_markdown, plans_table, runs_table
from seqdemo.uploads import MAX_ROWS, describe_upload_limits, read_texts

EXAMPLE = (Path(__file__).parent.parent / "data" / "batching_example.txt").read_text(encoding="utf-8")
EXAMPLE_INPUTS = (EXAMPLE, "roberta", 16, 2048, 512)  # texts, role, batch_size, max_tokens, max_length
MAX_THROUGHPUT_TEXTS = 256
PROGRESS = gr.Progress()  # Gradio finds it as a parameter default and drives the progress bar through it
INTRO = """\
Each strategy decides which texts share a batch, and a batch costs **rows × its longest text**: every grey cell
below is padding the model computes and throws away. Look at how a single long text inflates its whole batch when
texts arrive in order, how sorting by length removes most of the grey, how a token budget keeps the few long texts
in small batches, and at the recommended `max_length`: the share of texts it would cut.
"""


def _read(path: str | None, column: str | None) -> tuple:
    """The file's texts for the box, its columns (.csv, .jsonl) to pick from, and what was read and skipped."""
    if not path:
        raise InputError("Choose a .txt, .csv or .jsonl file to upload.")
    if not Path(path).is_file():
        raise InputError(f"{Path(path).name} is no longer here (files are kept for a while only): upload it again.")
    uploaded = read_texts(path, Path(path).name, column or None)
    columns = gr.Dropdown(
        choices=list(uploaded.columns), value=uploaded.column, visible=bool(uploaded.columns), interactive=True
    )
    where = f" from column `{uploaded.column}`" if uploaded.column else ""
    loaded = f"Loaded {plural(len(uploaded.texts), 'text')}{where} of {Path(path).name}."
    return uploaded.as_lines(), columns, " ".join(part for part in (loaded, uploaded.notes()) if part)


@user_errors("reading the file")
@refused_uploads_deleted
def load_file(path: str | None) -> tuple:
    """A new upload read (its default column); a file refused here is deleted at once."""
    return _read(path, None)


@user_errors("reading the column")
def pick_column(path: str | None, column: str | None) -> tuple:
    """The uploaded file read again at another column; a column without text leaves the file for another pick."""
    return _read(path, column)


@user_errors("comparing the batching strategies")
def compare(
    raw: str, role: str, batch_size: float, max_tokens: float, max_length: float, *, store: ModelStore
) -> tuple:
    """Every strategy's plan: (advice, table, batch shapes, padding, lengths, PNG files, drawings for the SVGs)."""
    texts = split_texts(raw, max_texts=MAX_ROWS)
    report = compare_batching_strategies(
        store.tokenizer(role), texts, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length
    )
    figures = (
        save_figure(plot_batch_shapes, report.plans, stem="batch-shapes"),
        save_figure(plot_padding, report.plans, stem="padding"),
        save_figure(plot_lengths, report.lengths, report.advice, stem="lengths"),
    )
    return (
        advice_markdown(report.advice, len(texts)),
        plans_table(report),
        *(figure.as_plot() for figure in figures),
        [path for figure in figures for path in figure.downloads],
        [figure.drawing for figure in figures],
    )


@user_errors("measuring throughput")
def throughput(
    raw: str,
    role: str,
    batch_size: float,
    max_tokens: float,
    max_length: float,
    progress: gr.Progress = PROGRESS,
    *,
    store: ModelStore,
) -> tuple:
    """Every strategy run on the role's model: (note, table, figure, its accordion, PNG file, drawing for the SVG).

    It runs on the first MAX_THROUGHPUT_TEXTS texts, or as many of them as one request's budget allows.
    """
    given = split_texts(raw, max_texts=MAX_ROWS)[:MAX_THROUGHPUT_TEXTS]
    plans = {"batch_size": batch_size, "max_tokens": max_tokens, "max_length": max_length}
    lengths = compare_batching_strategies(store.tokenizer(role), given, **plans).lengths  # refuses bad settings
    texts = given[: affordable_texts(lengths, role, **plans)]
    if not texts:
        check_work(batching_work(lengths[:1], role, **plans), "Measuring one text", "Lower max_length.")
    try:
        model = store.model(role)
    except ModelLoadError:
        raise  # already says which role and what to do
    except (OSError, RuntimeError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelLoadError(
            f"The {role} model could not be loaded, so throughput cannot be measured: {first_line}"
        ) from None

    def report(strategy: str, done: int, total: int) -> None:
        progress((done, total), desc="Batches of all five strategies, taken in turn", unit="batches")

    runs = measure_text_throughput(model, store.tokenizer(role), texts, **plans, on_batch=report)
    figure = save_figure(plot_throughput, runs, stem="throughput")
    measured, over = plural(len(texts), "text"), ""
    if len(texts) < len(given):
        measured = f"the first {len(texts):,} of {len(given):,} texts"
        over = (
            f" All {len(given):,} would take about {describe_seconds(batching_work(lengths, role, **plans).seconds)} "
            f"of model work on the Space's 2 CPUs, more than one request's {describe_seconds(REQUEST_SECONDS)}."
        )
    note = (
        f"Measured on {measured} with the {role} model on {store.device.description} "
        f"({store.source.label}); one untimed warm-up batch first.{over}"
    )
    return (
        note,
        gr.Dataframe(runs_table(runs), visible=True),
        gr.Plot(figure.as_plot(), visible=True),
        gr.Accordion(visible=True),
        figure.downloads,
        [figure.drawing],
    )


@user_errors("reading the model's maximum length")
def model_max_length(role: str, *, store: ModelStore) -> int:
    """The role's `model_max_length`, for the max_length box."""
    return store.tokenizer(role).model_max_length


def build(store: ModelStore) -> None:
    """The batching lab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=3):
            texts = widgets.Textbox(value=EXAMPLE_INPUTS[0], label="Texts, one per line", lines=9, max_lines=9)
        with gr.Column(scale=2):
            upload = gr.File(label="…or upload a file", file_types=[".txt", ".csv", ".jsonl"], height=120)
            column = widgets.Dropdown(label="Column / field with the text", visible=False, allow_custom_value=True)
            upload_note = gr.Markdown(
                f"One text per line in .txt; pick the column of a .csv or field of a .jsonl. "
                f"{describe_upload_limits()}",
                elem_classes="sd-note",
            )
    with gr.Row(equal_height=True):
        role = widgets.Dropdown(
            [(f"{name} — {ROLES[name].summary}", name) for name in ENCODER_ROLES],
            value=EXAMPLE_INPUTS[1],
            label="Tokenizer (model role)",
            scale=3,
        )
        batch_size = widgets.Number(
            EXAMPLE_INPUTS[2], label="batch_size (rows)", precision=0, minimum=1, maximum=1024, scale=1
        )
        max_tokens = widgets.Number(EXAMPLE_INPUTS[3], label="max_tokens (budget)", precision=0, minimum=1, scale=1)
        max_length = widgets.Number(EXAMPLE_INPUTS[4], label="max_length", precision=0, minimum=1, scale=1)
        run = gr.Button("Compare strategies", variant="primary", scale=2)
    fields = {"texts": texts, "tokenizer": role, "batch_size": batch_size, "max_tokens": max_tokens}
    link = LessonLink("batching", {**fields, "max_length": max_length})
    advice = gr.Markdown(elem_classes="sd-batching-advice")
    table = gr.Dataframe(
        headers=list(PLAN_COLUMNS),
        show_label=False,
        interactive=False,
        wrap=True,
        column_widths=["9%", "9%", "8%", "9%", "9%", "7%", "10%", "39%"],
    )
    shapes = gr.Plot(show_label=False, format="png")
    with gr.Row():
        padding = gr.Plot(show_label=False, format="png")
        lengths = gr.Plot(show_label=False, format="png")
    with gr.Accordion("Download the figures (PNG, SVG)", open=False):
        downloads = gr.File(show_label=False, file_count="multiple")
        drawings = svg_on_request(downloads, api_name="batching_compare_svg")

    gr.Markdown(
        f"### Throughput\nRuns the chosen model over the first {MAX_THROUGHPUT_TEXTS} texts (or as many of them as "
        f"fit in one request's {describe_seconds(REQUEST_SECONDS)} of model work) with every strategy "
        "and reports real (non-padding) tokens per second. The outputs come back in your order whatever the "
        "batching: the last column (max |Δ| of the mean-pooled embeddings) shows they match to float noise."
    )
    measure = gr.Button("Measure throughput (runs the model)")
    speed_note = gr.Markdown("Not measured yet.", elem_classes="sd-note")
    with gr.Row():
        speed_table = gr.Dataframe(show_label=False, interactive=False, visible=False, scale=3)
        speed_plot = gr.Plot(show_label=False, format="png", visible=False, scale=2)
    with gr.Accordion("Download the throughput figure (PNG, SVG)", open=False, visible=False) as speed_downloads:
        speed_files = gr.File(show_label=False, file_count="multiple")
        speed_drawings = svg_on_request(speed_files, api_name="batching_throughput_svg")

    settings = [texts, role, batch_size, max_tokens, max_length]
    outputs = [advice, table, shapes, padding, lengths, downloads, drawings]
    handler = bind(compare, store)
    run.click(handler, settings, outputs, api_name="batching_compare")
    # a bad file is reported in a toast only: an error overlay on the text box would hide the user's texts
    loaded = [texts, column, upload_note]
    upload.upload(load_file, upload, loaded, api_name="batching_load_file", show_progress="hidden").success(
        handler, settings, outputs, api_name="batching_compare_uploaded"
    )
    column.input(
        pick_column, [upload, column], loaded, api_name="batching_pick_column", show_progress="hidden"
    ).success(handler, settings, outputs, api_name="batching_compare_column")
    role.input(bind(model_max_length, store), role, max_length, api_name="batching_model_max_length")
    speed = [speed_note, speed_table, speed_plot, speed_downloads, speed_files, speed_drawings]
    measure.click(bind(throughput, store), settings, speed, api_name="batching_throughput")
    on_page_load(handler, EXAMPLE_INPUTS, outputs, api_name="batching_compare_example", link=link)

"""Tab 6, the batching lab: the same texts batched five ways, their padding, and measured speed.

Texts come from the box or an uploaded file (which fills the box); the comparison needs
only the tokenizer, the optional throughput run loads the model for the chosen role.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pandas as pd

from seqdemo.batching import (
    STRATEGIES,
    BatchingReport,
    MaxLengthAdvice,
    PlanRun,
    compare_strategies,
    measure_text_throughput,
)
from seqdemo.inputs import split_texts
from seqdemo.models import ROLES, ModelStore
from seqdemo.plots.batching import plot_batch_shapes, plot_lengths, plot_padding, plot_throughput
from seqdemo.ui.components import figure_files, user_errors
from seqdemo.uploads import MAX_ROWS, describe_upload_limits, read_texts

EXAMPLE = (Path(__file__).parent.parent / "data" / "batching_example.txt").read_text(encoding="utf-8")
MAX_THROUGHPUT_TEXTS = 256
ENCODER_ROLES = ("bert", "roberta", "longformer")  # padded batches of whole texts: encoders, not the decoder
INTRO = """\
Each strategy decides which texts share a batch, and a batch costs **rows × its longest text**: every grey cell
below is padding the model computes and throws away. Look at how a single long text inflates its whole batch when
texts arrive in order, how sorting by length removes most of the grey, how a token budget keeps the few long texts
in small batches, and at the recommended `max_length`: the share of texts it would cut.
"""


def _advice_markdown(advice: MaxLengthAdvice, texts: int) -> str:
    p = advice.percentiles
    return (
        f"**Recommended `max_length` = {advice.max_length}** (p{advice.quantile * 100:g} of {texts:,} texts, rounded "
        f"up to a multiple of 8, model maximum {advice.model_max_length}): it would truncate "
        f"**{advice.truncated_share:.1%}** of the texts. Token counts: median {p[50]:.0f}, p90 {p[90]:.0f}, "
        f"p95 {p[95]:.0f}, p99 {p[99]:.0f}, longest {p[100]:.0f}."
    )


def _plans_table(report: BatchingReport) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "strategy": plan.strategy,
                "padding waste": f"{plan.padding_waste:.1%}",
                "real tokens": plan.real_tokens,
                "padded tokens": plan.padded_tokens,
                "padding tokens": plan.pad_tokens,
                "batches": plan.batch_count,
                "largest batch (rows × width)": "{} × {}".format(*plan.largest_batch_shape),
                "how": STRATEGIES[plan.strategy],
            }
            for plan in report.plans
        ]
    )


def _max_abs_diff(run: PlanRun, reference: PlanRun) -> float:
    return float(abs(run.embeddings - reference.embeddings).max())


def _runs_table(runs: tuple[PlanRun, ...]) -> pd.DataFrame:
    reference = runs[0]
    return pd.DataFrame(
        [
            {
                "strategy": run.strategy,
                "real tokens/s": round(run.tokens_per_second),
                f"× {reference.strategy}": round(run.tokens_per_second / reference.tokens_per_second, 1),
                "seconds": round(run.seconds, 2),
                "padded tokens": run.padded_tokens,
                f"max |Δ| vs {reference.strategy}": f"{_max_abs_diff(run, reference):.1e}",
            }
            for run in runs
        ]
    )


def build(store: ModelStore) -> None:
    """The batching lab's widgets and events, inside the current `gr.Tab`."""

    @user_errors
    def load_file(path: str | None, column: str | None = None) -> tuple:
        if not path:
            raise ValueError("Choose a .txt, .csv or .jsonl file to upload.")
        uploaded = read_texts(path, Path(path).name, column or None)
        columns = gr.Dropdown(
            choices=list(uploaded.columns), value=uploaded.column, visible=bool(uploaded.columns), interactive=True
        )
        where = f" from column `{uploaded.column}`" if uploaded.column else ""
        return uploaded.as_lines(), columns, f"Loaded {len(uploaded.texts):,} texts{where} of {Path(path).name}."

    @user_errors
    def compare(raw: str, role: str, batch_size: float, max_tokens: float, max_length: float) -> tuple:
        texts = split_texts(raw, max_texts=MAX_ROWS)
        report = compare_strategies(
            store.tokenizer(role), texts, batch_size=batch_size, max_tokens=max_tokens, max_length=max_length
        )
        shapes, padding, lengths = (
            plot_batch_shapes(report.plans),
            plot_padding(report.plans),
            plot_lengths(report.lengths, report.advice),
        )
        files = [
            *figure_files(shapes, "batch-shapes"),
            *figure_files(padding, "padding"),
            *figure_files(lengths, "lengths"),
        ]
        return _advice_markdown(report.advice, len(texts)), _plans_table(report), shapes, padding, lengths, files

    tracker = gr.Progress()  # Gradio finds it as a parameter default and drives the progress bar through it

    @user_errors
    def throughput(
        raw: str, role: str, batch_size: float, max_tokens: float, max_length: float, progress: gr.Progress = tracker
    ) -> tuple:
        texts = split_texts(raw, max_texts=MAX_ROWS)[:MAX_THROUGHPUT_TEXTS]
        try:
            model = store.model(role)
        except (OSError, RuntimeError, ValueError) as err:
            first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise ValueError(
                f"The {role} model could not be loaded, so throughput cannot be measured: {first_line}"
            ) from None

        def report(strategy: str, done: int, total: int) -> None:
            progress((done, total), desc="Batches of all five strategies, taken in turn", unit="batches")

        runs = measure_text_throughput(
            model,
            store.tokenizer(role),
            texts,
            batch_size=batch_size,
            max_tokens=max_tokens,
            max_length=max_length,
            on_batch=report,
        )
        figure = plot_throughput(runs)
        note = (
            f"Measured on {len(texts):,} texts with the {role} model on {store.device.description} "
            f"({store.source.label}); one untimed warm-up batch first."
        )
        return (
            note,
            gr.Dataframe(_runs_table(runs), visible=True),
            gr.Plot(figure, visible=True),
            gr.Accordion(visible=True),
            figure_files(figure, "throughput"),
        )

    def model_max_length(role: str) -> int:
        return store.tokenizer(role).model_max_length

    first = compare(EXAMPLE, "roberta", 16, 2048, 512)
    gr.Markdown(INTRO)
    with gr.Row():
        with gr.Column(scale=3):
            texts = gr.Textbox(value=EXAMPLE, label="Texts, one per line", lines=9, max_lines=9)
        with gr.Column(scale=2):
            upload = gr.File(label="…or upload a file", file_types=[".txt", ".csv", ".jsonl"], height=120)
            column = gr.Dropdown(label="Column / field with the text", visible=False)
            upload_note = gr.Markdown(
                f"One text per line in .txt; pick the column of a .csv or field of a .jsonl. "
                f"{describe_upload_limits()}",
                elem_classes="sd-note",
            )
    with gr.Row(equal_height=True):
        role = gr.Dropdown(
            [(f"{name} — {ROLES[name].summary}", name) for name in ENCODER_ROLES],
            value="roberta",
            label="Tokenizer (model role)",
            scale=3,
        )
        batch_size = gr.Number(16, label="batch_size (rows)", precision=0, minimum=1, maximum=1024, scale=1)
        max_tokens = gr.Number(2048, label="max_tokens (budget)", precision=0, minimum=1, scale=1)
        max_length = gr.Number(512, label="max_length", precision=0, minimum=1, scale=1)
        run = gr.Button("Compare strategies", variant="primary", scale=2)
    advice = gr.Markdown(first[0], elem_classes="sd-batching-advice")
    table = gr.Dataframe(
        first[1],
        show_label=False,
        interactive=False,
        wrap=True,
        column_widths=["9%", "9%", "8%", "9%", "9%", "7%", "10%", "39%"],
    )
    shapes = gr.Plot(first[2], show_label=False, format="png")
    with gr.Row():
        padding = gr.Plot(first[3], show_label=False, format="png")
        lengths = gr.Plot(first[4], show_label=False, format="png")
    with gr.Accordion("Download the figures (PNG, SVG)", open=False):
        downloads = gr.File(first[5], show_label=False, file_count="multiple")

    gr.Markdown(
        f"### Throughput\nRuns the chosen model over the first {MAX_THROUGHPUT_TEXTS} texts with every strategy "
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

    settings = [texts, role, batch_size, max_tokens, max_length]
    outputs = [advice, table, shapes, padding, lengths, downloads]
    run.click(compare, settings, outputs, api_name="batching_compare")
    # a bad file is reported in a toast only: an error overlay on the text box would hide the user's texts
    loaded = [texts, column, upload_note]
    upload.upload(load_file, upload, loaded, api_name="batching_load_file", show_progress="hidden").success(
        compare, settings, outputs, api_name="batching_compare_uploaded"
    )
    column.input(load_file, [upload, column], loaded, api_name="batching_pick_column", show_progress="hidden").success(
        compare, settings, outputs, api_name="batching_compare_column"
    )
    role.input(model_max_length, role, max_length, api_name="batching_model_max_length")
    measure.click(
        throughput,
        settings,
        [speed_note, speed_table, speed_plot, speed_downloads, speed_files],
        api_name="batching_throughput",
    )

"""Tab 4, long documents: RoBERTa's truncation strategies against Longformer, and the needle sweep.

Both handlers are generators: each strategy's result is shown as soon as it is ready, the
cheap ones first. The windows in force are read from the loaded classifiers, never assumed,
so the same tab explains the Hub pair (512 / 4096 tokens) and the smaller offline pair.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr

from seqdemo.longdoc import (
    AGGREGATIONS,
    LONG_ROLE,
    MAX_DOCUMENT_CHARS,
    MAX_SWEEP_POSITIONS,
    SHORT_ROLE,
    STRATEGIES,
    TIMED_RUNS,
    Classifier,
    NeedleSweep,
    StrategyResult,
    StrategySettings,
    check_document,
    chosen_strategies,
    compare_strategies,
    encode_document,
    load_pair,
    read_document_file,
    sweep_needle,
    warm_up,
)
from seqdemo.longdoc_examples import EXAMPLE_NOTES, LATE, SWEEP_PASSAGE, example_documents, sweep_document
from seqdemo.models import ROLES, ModelStore
from seqdemo.plots.longdoc import LABEL_COLORS, plot_needle_sweep, plot_showdown
from seqdemo.ui.components import computed_once, figure_files, user_errors

SWEEP_SOURCES = ("shipped filler", "the document above")
DEFAULT_POSITIONS = 12

EXPLANATION = """\
**What to look at.** A classifier reads at most its window of tokens; the rest of the document is cut
off before the model runs. Each row below shades the tokens a strategy let the model read and shows what
it answered: when the verdict lies outside the shaded part, the model can only guess. The needle sweep
moves one decisive passage through a document and measures that cliff.
"""


def _count_tokens(classifier: Classifier) -> Callable[[str], int]:
    return lambda text: len(encode_document(text, classifier.tokenizer))


def limits_markdown(pair: dict[str, Classifier], offline: bool) -> str:
    """The windows in force, in one sentence, read from the loaded models."""
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    text = (
        f"**Windows in force:** `{short.role}` reads {short.max_length:,} tokens per sequence "
        f"({short.budget:,} of the document, plus `<s>` and `</s>`); `{long.role}` reads {long.max_length:,} "
        f"({long.budget:,})"
    )
    if long.attention_window:
        text += (
            f" with a local attention window of {long.attention_window:,}, so its input is padded to a multiple "
            f"of {long.attention_window:,}"
        )
    text += f". Labels: {', '.join(short.label_names)}."
    if offline:
        text += (
            " These are the offline pair, trained on this machine on a synthetic task (plot summary with one "
            f"decisive passage). On the Hub: {ROLES[SHORT_ROLE].summary}; {ROLES[LONG_ROLE].summary}."
        )
    return text


def example_text(name: str, *, store: ModelStore) -> tuple[str, str]:
    """(the example's text, its note) for the example called `name`."""
    if name not in EXAMPLE_NOTES:
        raise ValueError(f"Unknown example {name!r}: choose one of {', '.join(EXAMPLE_NOTES)}.")
    pair = load_pair(store)
    short = pair[SHORT_ROLE]
    texts = example_documents(_count_tokens(short), short.budget, pair[LONG_ROLE].budget)
    return texts[name], f'<p class="sd-note">{html.escape(EXAMPLE_NOTES[name])}</p>'


def upload_text(path: str | None) -> str:
    """The uploaded file's text, for the document box."""
    if not path:
        raise ValueError("No file was uploaded.")
    return read_document_file(path)


def _memory(result: StrategyResult) -> str:
    return "–" if result.peak_memory_bytes is None else f"{result.peak_memory_bytes / 2**20:,.1f} MiB"


def results_table(results: Sequence[StrategyResult]) -> str:
    """One row per strategy: answer, tokens read and processed, sequences, latency, peak memory."""
    rows = []
    for result in results:
        index = result.label_names.index(result.label)
        dot = f'<span class="sd-longdoc-dot" style="background:{LABEL_COLORS[index % len(LABEL_COLORS)]}"></span>'
        rows.append(
            f'<tr><td class="rowhead">{html.escape(result.title)}</td><td>{html.escape(result.role)} '
            f"({result.max_length:,})</td><td>{dot}{html.escape(result.label)}</td>"
            f"<td>{result.probabilities.max():.3f}</td>"
            f"<td>{result.tokens_seen:,} / {result.document_tokens:,}</td><td>{len(result.sequence_logits)}</td>"
            f"<td>{result.tokens_processed:,}</td><td>{result.latency_s * 1000:,.0f} ms</td>"
            f"<td>{_memory(result)}</td></tr>"
        )
    method = next((result.memory_method for result in results if result.memory_method), "")
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-longdoc-table"><thead><tr><th>strategy</th>'
        "<th>model (max tokens)</th><th>label</th><th>probability</th><th>document tokens read</th>"
        "<th>sequences</th><th>tokens processed</th><th>latency</th><th>peak memory</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="sd-note">Tokens processed counts every slot the model computed: <code>&lt;s&gt;</code>, '
        "<code>&lt;/s&gt;</code> and padding included (Longformer pads to a multiple of its attention window). "
        f"Latency: building the batches and the forward passes, the faster of {TIMED_RUNS} runs. Peak memory: "
        f"the most tensor memory alive at once beyond the model's weights, measured with {html.escape(method)}.</p>"
    )


def document_notes(document: str, results: Sequence[StrategyResult], pair: dict[str, Classifier]) -> str:
    """What the user should know about this document's length: it fits everywhere, or Longformer cuts it."""
    notes = []
    short = next((result for result in results if result.role == SHORT_ROLE), None)
    if short is not None and short.sees_everything:
        notes.append(
            f"The whole document ({short.document_tokens:,} tokens) fits in the short window "
            f"({pair[SHORT_ROLE].budget:,}): every strategy reads all of it, so the short classifier's strategies "
            "agree exactly."
        )
    long = next((result for result in results if result.key == "longformer"), None)
    if long is not None and not long.sees_everything:
        cut = long.seen[0][1]
        tokens = encode_document(document, pair[LONG_ROLE].tokenizer)
        start = int(tokens.offset_mapping[cut, 0])
        snippet = " ".join(document[start : start + 60].split())
        notes.append(
            f"The document has {long.document_tokens:,} tokens; Longformer reads the first {cut:,} and truncates "
            f"the rest, from token {cut:,} (character {start:,}: “{snippet}…”) on."
        )
    return "".join(f'<p class="sd-note">{html.escape(note)}</p>' for note in notes)


def _status(done: Sequence[str], keys: Sequence[str], verb: str) -> str:
    waiting = [STRATEGIES[key].title for key in keys if key not in done]
    if not waiting:
        return f'<p class="sd-note">Done: {len(done)} of {len(keys)}.</p>'
    return f'<p class="sd-note">⏳ {verb} {html.escape(waiting[0])}… ({len(done)} of {len(keys)} done)</p>'


def compare_document(
    document: str | None,
    strategies: Sequence[str] | None,
    head_tokens: float,
    stride: float,
    aggregation: str,
    *,
    store: ModelStore,
) -> Iterator[tuple[str, str | None, str, list[str], str]]:
    """The comparison, streamed: (status, showdown PNG, results table, PNG and SVG files, notes) after each strategy."""
    keys = chosen_strategies(list(strategies or []))
    document = check_document(document)  # stripped, so the notes' offsets match the results'
    pair = load_pair(store)
    settings = StrategySettings(int(head_tokens), int(stride), aggregation)
    results: list[StrategyResult] = []
    yield _status([], keys, "running"), None, "", [], ""
    for result in compare_strategies(document, keys, pair, settings):
        results.append(result)
        files = figure_files(plot_showdown(results), "long-documents")
        done = [result.key for result in results]
        yield (
            _status(done, keys, "running"),
            files[0],
            results_table(results),
            files,
            document_notes(document, results, pair),
        )


def worked_example(*, store: ModelStore) -> Iterator[tuple[Any, ...]]:
    """On page load: the windows in force, slider ranges, the first example, and its comparison streamed.

    The models are warmed up first: this is often the process's first use of them.
    """
    pair = load_pair(store)
    for classifier in pair.values():
        warm_up(classifier)
    budget = pair[SHORT_ROLE].budget
    text, note = example_text(LATE, store=store)
    setup = (
        limits_markdown(pair, store.source.mode == "offline"),
        gr.Slider(maximum=budget, value=budget // 4),
        gr.Slider(maximum=budget - 1, value=budget // 4),
        text,
        note,
    )
    for outputs in compare_document(text, list(STRATEGIES), budget // 4, budget // 4, "mean", store=store):
        yield *setup, *outputs


def sweep_example(*, store: ModelStore) -> Iterator[tuple[str, str | None, list[str]]]:
    """The shipped passage swept through the shipped filler with every strategy, at the tab's defaults."""
    budget = load_pair(store)[SHORT_ROLE].budget
    yield from run_sweep(
        SWEEP_PASSAGE,
        SWEEP_SOURCES[0],
        None,
        DEFAULT_POSITIONS,
        list(STRATEGIES),
        budget // 4,
        budget // 4,
        "mean",
        store=store,
    )


def _sweep_status(sweep: NeedleSweep | None, keys: Sequence[str]) -> str:
    if sweep is None:
        return _status([], keys, "sweeping with")
    label = html.escape(sweep.passage_label)
    return _status(list(sweep.probabilities), keys, "sweeping with") + (
        f'<p class="sd-note">On its own the passage reads as <b>{label}</b> (p = {sweep.passage_probability:.2f} '
        f"from the short classifier); the curves show P({label}) for each of the {len(sweep.positions)} documents "
        "with the passage inserted.</p>"
    )


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
) -> Iterator[tuple[str, str | None, list[str]]]:
    """The needle sweep, streamed: (status, sweep PNG, PNG and SVG files) after each strategy."""
    keys = chosen_strategies(list(strategies or []))
    pair = load_pair(store)
    short, long = pair[SHORT_ROLE], pair[LONG_ROLE]
    if source == SWEEP_SOURCES[0]:
        document = sweep_document(_count_tokens(short), short.budget, long.budget)
    settings = StrategySettings(int(head_tokens), int(stride), aggregation)
    yield _sweep_status(None, keys), None, []
    for sweep in sweep_needle(passage or "", document or "", keys, pair, int(positions), settings):
        files = figure_files(plot_needle_sweep(sweep), "needle-sweep")
        yield _sweep_status(sweep, keys), files[0], files


def build(store: ModelStore) -> None:
    """The tab's widgets and events, inside the current `gr.Tab`."""
    gr.Markdown(EXPLANATION)
    limits = gr.Markdown()
    with gr.Row():
        with gr.Column(scale=3):
            example = gr.Dropdown(choices=list(EXAMPLE_NOTES), value=LATE, label="Example documents")
            example_note = gr.HTML()
            document = gr.Textbox(
                lines=9,
                max_lines=14,
                label="Document",
                info=f"Paste a long text (up to {MAX_DOCUMENT_CHARS:,} characters), pick an example or upload a file.",
            )
            upload = gr.UploadButton("Upload a .txt or .md file", file_types=[".txt", ".md"], size="sm")
        with gr.Column(scale=2, min_width=300):
            strategies = gr.CheckboxGroup(
                choices=[(strategy.title, key) for key, strategy in STRATEGIES.items()],
                value=list(STRATEGIES),
                label="Strategies",
            )
            head_tokens = gr.Slider(
                0, 510, value=127, step=1, label="head + tail: tokens from the head (rest from the tail)"
            )
            stride = gr.Slider(
                0, 509, value=127, step=1, label="sliding windows: stride (tokens neighbouring windows share)"
            )
            aggregation = gr.Radio(list(AGGREGATIONS), value="mean", label="sliding windows: combine window logits by")
            run = gr.Button("Compare strategies", variant="primary")
    status = gr.HTML()
    showdown = gr.Image(label="Coverage and answers", show_label=False, type="filepath", interactive=False)
    notes = gr.HTML()
    table = gr.HTML()
    with gr.Accordion("Download the figure (PNG, SVG)", open=False):
        downloads = gr.File(label="Figure", file_count="multiple", interactive=False)

    gr.Markdown(
        "### The needle sweep\nThe passage is inserted at evenly spaced points of a document, and every chosen "
        "strategy classifies every copy. Where the passage leaves a strategy's window, its answer drops to a guess. "
        "Sliding windows always see it, but averaging their logits dilutes one decisive window among neutral ones: "
        "compare `mean` with `max`."
    )
    with gr.Row():
        passage = gr.Textbox(value=SWEEP_PASSAGE, lines=2, label="Passage (the needle)", scale=3)
        with gr.Column(scale=2, min_width=300):
            source = gr.Radio(list(SWEEP_SOURCES), value=SWEEP_SOURCES[0], label="Move it through")
            positions = gr.Slider(
                2,
                MAX_SWEEP_POSITIONS,
                value=DEFAULT_POSITIONS,
                step=1,
                label=f"Positions (at most {MAX_SWEEP_POSITIONS})",
            )
            sweep = gr.Button("Run the sweep", variant="primary")
    sweep_status = gr.HTML()
    sweep_plot = gr.Image(label="Needle sweep", show_label=False, type="filepath", interactive=False)
    with gr.Accordion("Download the sweep figure (PNG, SVG)", open=False):
        sweep_downloads = gr.File(label="Figure", file_count="multiple", interactive=False)

    compare_outputs = [status, showdown, table, downloads, notes]
    knobs = [strategies, head_tokens, stride, aggregation]
    run.click(
        user_errors(functools.partial(compare_document, store=store)),
        inputs=[document, *knobs],
        outputs=compare_outputs,
        api_name="compare_strategies",
    )
    example.input(
        user_errors(functools.partial(example_text, store=store)),
        inputs=example,
        outputs=[document, example_note],
        api_name="longdoc_example",
    )
    upload.upload(user_errors(upload_text), inputs=upload, outputs=document, api_name="longdoc_upload")
    sweep.click(
        user_errors(functools.partial(run_sweep, store=store)),
        inputs=[passage, source, document, positions, *knobs],
        outputs=[sweep_status, sweep_plot, sweep_downloads],
        api_name="needle_sweep",
    )
    # No inputs and no triggers: runs when the page loads; computed once per process.
    gr.on(
        None,
        computed_once(user_errors(functools.partial(worked_example, store=store))),
        outputs=[limits, head_tokens, stride, document, example_note, *compare_outputs],
        api_name="longdoc_worked_example",
        show_progress="minimal",
    ).success(
        computed_once(user_errors(functools.partial(sweep_example, store=store))),
        outputs=[sweep_status, sweep_plot, sweep_downloads],
        api_name="needle_sweep_example",
        show_progress="minimal",
    )

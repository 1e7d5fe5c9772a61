"""Tab 4's HTML: the windows in force, each strategy's answer and cost, notes on the document, progress lines.

The windows are read from the loaded classifiers, never assumed, so the same views explain the
Hub pair (512 / 4096 tokens) and the smaller offline pair.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from seqdemo.longdoc import (
    LONG_DOCUMENT_STRATEGIES,
    LONG_ROLE,
    SHORT_ROLE,
    Classifier,
    NeedleSweep,
    StrategyResult,
)
from seqdemo.longdoc_examples import EXAMPLE_NOTES
from seqdemo.models import ROLES
from seqdemo.plots.palette import LABEL_COLORS
from seqdemo.plural import plural


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
    text += f". Labels: {', '.join(short.label_names)}. {precision_phrase(pair)}"
    if offline:
        text += (
            " These are the offline pair, trained on this machine on a synthetic task (plot summary with one "
            f"decisive passage). On the Hub: {ROLES[SHORT_ROLE].summary}; {ROLES[LONG_ROLE].summary}."
        )
    return text


def precision_phrase(pair: dict[str, Classifier]) -> str:
    """Which precision the lesson's answers ran in, and how Longformer's attention ran, in one sentence."""
    precision = pair[SHORT_ROLE].precision.description
    attention = " with its local + global attention computed block by block" if pair[LONG_ROLE].attention_window else ""
    return f"**Precision:** both classifiers run in {precision}, Longformer{attention}."


def example_note_html(name: str) -> str:
    """What the example called `name` shows."""
    return f'<p class="sd-note">{html.escape(EXAMPLE_NOTES[name])}</p>'


def _memory(result: StrategyResult) -> str:
    return "–" if result.peak_memory_bytes is None else f"{result.peak_memory_bytes / 2**20:,.1f} MiB"


def _sequences(result: StrategyResult) -> str:
    """How many sequences the strategy reads, and how many of them an earlier strategy had already run."""
    total = len(result.sequence_logits)
    shared = total - result.computed_sequences
    if not shared:
        return f"{total}"
    whom = html.escape(", ".join(result.shared_with))
    return f'{total} <span class="sd-note">({shared} run for {whom})</span>'


def _latency(result: StrategyResult) -> str:
    return f"{result.latency_s * 1000:,.0f} ms" if result.computed_sequences else "0 ms (nothing new to run)"


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
            f"<td>{result.tokens_seen:,} / {result.document_tokens:,}</td><td>{_sequences(result)}</td>"
            f"<td>{result.tokens_processed:,}</td><td>{_latency(result)}</td>"
            f"<td>{_memory(result)}</td></tr>"
        )
    method = next((result.memory_method for result in results if result.memory_method), "")
    return (
        '<div class="sd-scroll"><table class="sd-grid sd-longdoc-table"><thead><tr><th>strategy</th>'
        "<th>model (max tokens)</th><th>label</th><th>probability</th><th>document tokens read</th>"
        "<th>sequences</th><th>tokens processed</th><th>latency</th><th>peak memory</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="sd-note">Each distinct sequence runs once per request: one an earlier strategy ran already '
        "(head truncation's is the first sliding window) is looked up, and its cost stays with that strategy. "
        "Tokens processed counts every slot the model computed for the strategy: <code>&lt;s&gt;</code>, "
        "<code>&lt;/s&gt;</code> and padding included (Longformer pads to a multiple of its attention window). "
        "Latency: that one run, building the batches and the forward passes (the models were warmed up when they "
        "loaded). Peak memory: the most tensor memory alive at once beyond the model's weights during the same "
        f"run, measured with {html.escape(method)}.</p>"
    )


def document_notes(document: str, results: Sequence[StrategyResult], short_budget: int) -> str:
    """What the user should know about this document's length: it fits everywhere, or Longformer cuts it.

    `document` is the text the results were computed on; `short_budget` the short classifier's window.
    """
    notes = []
    short = next((result for result in results if result.role == SHORT_ROLE), None)
    if short is not None and short.sees_everything:
        notes.append(
            f"The whole document ({plural(short.document_tokens, 'token')}) fits in the short window "
            f"({short_budget:,}): every strategy reads all of it, so the short classifier's strategies "
            "agree exactly."
        )
    long = next((result for result in results if result.key == "longformer"), None)
    if long is not None and not long.sees_everything:
        cut = long.seen[0][1]
        start = long.seen_characters[0][1]  # where the first token Longformer never reads begins
        snippet = " ".join(document[start : start + 60].split())
        notes.append(
            f"The document has {long.document_tokens:,} tokens; Longformer reads the first {cut:,} and truncates "
            f"the rest, from token {cut:,} (character {start:,}: “{snippet}…”) on."
        )
    return "".join(f'<p class="sd-note">{html.escape(note)}</p>' for note in notes)


def status_html(done: Sequence[str], keys: Sequence[str], verb: str, detail: str = "") -> str:
    """Progress: the strategy running now (with `detail`, e.g. its positions done) and how many are done, or "Done"."""
    waiting = [LONG_DOCUMENT_STRATEGIES[key].title for key in keys if key not in done]
    if not waiting:
        return f'<p class="sd-note">Done: {len(done)} of {len(keys)}.</p>'
    running = html.escape(waiting[0]) + (f" ({html.escape(detail)})" if detail else "")
    return f'<p class="sd-note">⏳ {verb} {running}… ({len(done)} of {len(keys)} done)</p>'


def sweep_status_html(sweep: NeedleSweep | None, keys: Sequence[str]) -> str:
    """The sweep's progress (the strategy sweeping now and its positions done) and what the passage alone reads as."""
    if sweep is None:
        return status_html([], keys, "sweeping with")
    label = html.escape(sweep.passage_label)
    points = len(sweep.positions)
    finished = [key for key in keys if sweep.done.get(key) == points]
    running = next((key for key in keys if key not in finished), None)
    detail = f"{sweep.done[running]} of {points} positions" if running and sweep.done.get(running) else ""
    return status_html(finished, keys, "sweeping with", detail) + (
        f'<p class="sd-note">On its own the passage reads as <b>{label}</b> (p = {sweep.passage_probability:.2f} '
        f"from the short classifier); the curves show P({label}) for each of the {len(sweep.positions)} documents "
        "with the passage inserted.</p>"
    )

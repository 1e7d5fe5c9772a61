"""Tab 4's handlers as the app calls them: streamed results, limits read from the models, clear errors."""

import functools
from pathlib import Path

import gradio as gr
import pytest

import seqdemo.longdoc.sweep as sweep_module
import seqdemo.ui.longdoc as tab
from seqdemo.longdoc import LONG_DOCUMENT_STRATEGIES as STRATEGIES
from seqdemo.longdoc import LONG_ROLE, MAX_SWEEP_POSITIONS, SHORT_ROLE, load_pair
from seqdemo.longdoc_examples import LATE, SHORT, SWEEP_PASSAGE
from seqdemo.ui.figures import svg_files


def test_the_worked_examples_run_on_page_load_the_sweep_after_the_comparison(endpoint):
    assert [trigger for _, trigger in endpoint("compare_strategies_charts_example").targets] == ["load"]
    assert endpoint("needle_sweep_charts_example").trigger_after == endpoint("compare_strategies_charts_example")._id
    assert [trigger for _, trigger in endpoint("longdoc_worked_example").targets] == ["click"]  # the API's, hidden


def test_the_worked_example_streams_each_strategy_as_it_finishes(store):
    updates = list(tab.worked_example(store=store))
    assert len(updates) == 1 + len(STRATEGIES)  # a "running" line first, then one update per strategy
    limits, head, stride, document, note, status, chart, table, files, notes, drawings = updates[-1]
    pair = load_pair(store)
    assert f"{pair[SHORT_ROLE].max_length:,} tokens" in limits and f"{pair[LONG_ROLE].max_length:,}" in limits
    assert head.maximum == pair[SHORT_ROLE].budget and stride.maximum == pair[SHORT_ROLE].budget - 1
    assert document and "Done: 5 of 5" in status
    assert table.count("<tr>") == 1 + len(STRATEGIES)
    assert 'class="sd-chart sd-showdown"' in chart and files == []  # the figure is drawn on request
    assert [Path(path).suffix for path in svg_files(drawings)] == [".png", ".svg"]
    assert "bfloat16" in limits or "float32" in limits
    for title in (strategy.title for strategy in STRATEGIES.values()):
        assert title in table
    earlier = [update[7] for update in updates[1:-1]]  # each partial table has one row more
    assert [table.count("<tr>") - 1 for table in earlier] == list(range(1, len(STRATEGIES)))


def test_the_pages_showdown_chart_shows_what_the_apis_figure_does(store):
    text, _ = tab.example_text(LATE, store=store)
    knobs = (text, list(STRATEGIES), 60, 60, "mean")
    *_, (status, chart, table, files, notes, drawings) = tab.show_comparison(*knobs, store=store)
    *_, (figure_status, image, figure_table, figure_files, figure_notes, _) = tab.compare_document(*knobs, store=store)
    assert (status, notes) == (figure_status, figure_notes) and table.count("<tr>") == figure_table.count("<tr>")
    assert files == [] and figure_files == [image] and Path(image).suffix == ".png"
    ((plot, (results,), stem),) = [(drawing.plot, drawing.args, drawing.stem) for drawing in drawings]
    assert plot is tab.plot_showdown and stem == tab.SHOWDOWN_STEM and len(results) == len(STRATEGIES)
    assert chart.count('class="sd-showdown-label"') == len(STRATEGIES)
    assert chart.count('<i style="left:') == sum(len(result.seen) for result in results)  # a span per range read
    for result in results:
        assert all(f'title="tokens {start:,}–{end - 1:,}"' in chart for start, end in result.seen)
        assert f"{result.tokens_seen / result.document_tokens:.0%} read" in chart
        assert all(f"{p:.3f}" in chart for p in result.probabilities)
    assert [Path(path).suffix for path in svg_files(drawings)] == [".png", ".svg"]


def test_a_document_that_fits_says_every_strategy_reads_it_all(store):
    text, _ = tab.example_text(SHORT, store=store)
    *_, (status, image, table, files, notes, _) = tab.compare_document(
        text, list(STRATEGIES), 60, 60, "max", store=store
    )
    assert "every strategy reads all of it" in notes
    assert table.count("nothing new to run") == 3  # tail, head + tail and the one window are head's sequence


def test_a_document_longer_than_longformer_says_where_it_is_cut(store):
    pair = load_pair(store)
    text = " ".join(["The story then returns to the harbour, where Anna lives."] * (pair[LONG_ROLE].budget // 8))
    *_, (status, image, table, files, notes, _) = tab.compare_document(
        text, ["longformer"], 60, 60, "mean", store=store
    )
    assert f"reads the first {pair[LONG_ROLE].budget:,} and truncates the rest" in notes


@pytest.mark.parametrize(
    ("document", "strategies", "message"),
    [("  ", list(STRATEGIES), "The document is empty"), ("A text.", [], "Choose at least one strategy")],
)
def test_bad_input_is_one_sentence_not_a_traceback(store, document, strategies, message):
    with pytest.raises(gr.Error, match=message):
        list(tab.compare_document(document, strategies, 60, 60, "mean", store=store))


def test_a_binary_upload_is_refused_with_its_name(tmp_path):
    upload = tmp_path / "photo.txt"
    upload.write_bytes(bytes(range(256)))
    with pytest.raises(gr.Error, match="photo.txt is not a text file"):
        tab.upload_text(str(upload))


def test_an_unknown_example_is_refused_with_the_choices(store):
    with pytest.raises(gr.Error, match="Unknown example 'Nope': choose one of Verdict at the end"):
        tab.example_text("Nope", store=store)


def test_the_sweep_streams_its_curves_and_offers_downloads(store):
    updates = list(
        tab.run_sweep(SWEEP_PASSAGE, tab.SWEEP_SOURCES[0], "", 3, ["head", "longformer"], 60, 60, "mean", store=store)
    )
    # A "starting" line, then each strategy twice: its first update (both ends), then its middle point.
    assert len(updates) == 5
    status, image, files, drawings = updates[-1]
    assert "Done: 2 of 2" in status and "reads as <b>positive</b>" in status
    assert files == [image] and Path(image).suffix == ".png"
    assert [Path(path).name for path in svg_files(drawings)] == ["needle-sweep.png", "needle-sweep.svg"]


def test_the_page_sweep_streams_an_html_chart_and_draws_the_figure_only_on_download(store, monkeypatch):
    drawn = []
    monkeypatch.setattr(tab, "save_figure", lambda *args, **kwargs: drawn.append(args))
    updates = list(
        tab.show_sweep(SWEEP_PASSAGE, tab.SWEEP_SOURCES[0], "", 3, ["head", "longformer"], 60, 60, "mean", store=store)
    )
    assert len(updates) == 5 and drawn == []  # no figure on the hot path
    status, chart, files, drawings = updates[-1]
    assert "Done: 2 of 2" in status and files == []
    assert chart.count("<title>") == 2 * 3  # a tooltip per point: two strategies, three positions
    assert "head truncation" in chart and "Longformer" in chart and "so far" not in chart
    _, ends, _, _ = updates[1]  # head truncation's first update spans the document: its first and last points
    assert ends.count("<title>") == 2 and "head truncation (2 of 3 so far)" in ends
    _, partial, _, _ = updates[2]  # the head curve whole, Longformer's points not started
    assert partial.count("<title>") == 3 and "Longformer" not in partial
    _, ends, _, _ = updates[3]
    assert ends.count("<title>") == 3 + 2 and "Longformer (2 of 3 so far)" in ends
    assert [Path(path).name for path in svg_files(drawings)] == ["needle-sweep.png", "needle-sweep.svg"]


def test_the_figure_form_of_the_worked_sweep_draws_the_page_examples_result_without_sweeping_again(store, monkeypatch):
    from seqdemo.ui.components import WorkedExample

    sweeps = []
    real = tab.sweep_needle
    monkeypatch.setattr(tab, "sweep_needle", lambda *args, **kwargs: sweeps.append(1) or real(*args, **kwargs))
    example = WorkedExample(functools.partial(tab.sweep_example, store=store), ())
    status, chart, _, _ = example.compute()
    status_png, image, files, drawings = tab.sweep_figure(example)()
    assert sweeps == [1] and status_png == status and "<svg" in chart
    assert files == [image] and Path(image).name == "needle-sweep.png"


def test_a_sweep_over_the_limit_is_refused(store):
    with pytest.raises(gr.Error, match=f"2 to {MAX_SWEEP_POSITIONS} positions"):
        list(tab.run_sweep(SWEEP_PASSAGE, tab.SWEEP_SOURCES[0], "", 30, ["head"], 60, 60, "mean", store=store))


def test_the_sweep_status_counts_the_positions_done(store, monkeypatch):
    monkeypatch.setattr(sweep_module, "UPDATE_TOKENS", 1)  # an update per copy
    statuses = [
        update[0]
        for update in tab.run_sweep(
            SWEEP_PASSAGE, tab.SWEEP_SOURCES[0], "", 3, ["head", "longformer"], 60, 60, "mean", store=store
        )
    ]
    assert any("sweeping with Longformer (1 of 3 positions)… (1 of 2 done)" in status for status in statuses)

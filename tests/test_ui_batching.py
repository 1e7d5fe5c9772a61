"""The batching lab's handlers, called as the app calls them, and once over HTTP by api_name."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from seqdemo.batching import BATCHING_STRATEGIES, recommend_max_length, token_lengths
from seqdemo.errors import ModelLoadError
from seqdemo.inputs import split_texts
from seqdemo.ui import batching as tab
from seqdemo.ui.figures import svg_files


def no_progress(*args, **kwargs) -> None:
    return None


def column(table: dict, name: str) -> list:
    """One column of a `gr.Dataframe` value ({"headers": ..., "data": ...})."""
    index = table["headers"].index(name)
    return [row[index] for row in table["data"]]


def test_the_example_runs_on_page_load_with_the_widgets_values(endpoint):
    assert [component.value for component in endpoint("batching_compare").inputs] == list(tab.EXAMPLE_INPUTS)
    assert [trigger for _, trigger in endpoint("batching_compare_example").targets] == ["load"]


def test_compare_shows_every_strategy_the_advice_and_figure_downloads(store, roberta_tokenizer):
    advice, table, *figures, files, drawings = tab.compare(*tab.EXAMPLE_INPUTS, store=store)
    assert column(table, "strategy") == list(BATCHING_STRATEGIES)
    lengths = token_lengths(roberta_tokenizer, split_texts(tab.EXAMPLE, max_texts=10_000))
    expected = recommend_max_length(lengths, roberta_tokenizer.model_max_length)
    assert f"= {expected.max_length}**" in advice
    assert f"**{expected.truncated_share:.1%}**" in advice
    assert column(table, "real tokens") == [int(np.minimum(lengths, 512).sum())] * len(BATCHING_STRATEGIES)
    assert len(figures) == 3
    assert [Path(path).name for path in files] == ["batch-shapes.png", "padding.png", "lengths.png"]
    assert all(Path(path).stat().st_size > 0 for path in files)
    assert sorted(Path(path).suffix for path in svg_files(drawings)) == [".png"] * 3 + [".svg"] * 3


@pytest.mark.parametrize(
    ("raw", "max_length", "message"),
    [
        ("   \n", 512, "enter at least one text"),
        ("one text", 9999, "max_length must be between 3 and the model's maximum of 512"),
    ],
)
def test_bad_settings_become_one_line_errors(store, raw, max_length, message):
    with pytest.raises(gr.Error, match=message):
        tab.compare(raw, "roberta", 16, 2048, max_length, store=store)


def test_uploading_a_jsonl_fills_the_box_and_offers_its_fields(tmp_path):
    path = tmp_path / "reviews.jsonl"
    rows = [{"id": f"r{i}", "review": f"Review number {i}\nwith two lines."} for i in range(5)]
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    texts, columns, note = tab.load_file(str(path))
    assert texts.splitlines() == [f"Review number {i} with two lines." for i in range(5)]
    assert (columns.choices, columns.value, columns.visible) == ([("id", "id"), ("review", "review")], "review", True)
    assert note == "Loaded 5 texts from column `review` of reviews.jsonl."
    assert tab.pick_column(str(path), "id")[0].splitlines() == [f"r{i}" for i in range(5)]


def test_a_file_in_another_encoding_is_refused_clearly(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Crème brûlée".encode("latin-1"))
    with pytest.raises(gr.Error, match="latin.txt is not UTF-8 text"):
        tab.load_file(str(path))


def test_throughput_runs_the_roles_model_and_gets_the_same_outputs_from_every_strategy(store):
    raw = "\n".join(tab.EXAMPLE.splitlines()[:24])
    note, shown, plot, downloads, files, drawings = tab.throughput(raw, "bert", 8, 512, 128, no_progress, store=store)
    assert "Measured on 24 texts with the bert model" in note
    assert shown.visible and plot.visible and downloads.visible
    assert column(shown.value, "strategy") == list(BATCHING_STRATEGIES)
    assert all(speed > 0 for speed in column(shown.value, "real tokens/s"))
    assert all(float(diff) < 1e-4 for diff in column(shown.value, "max |Δ| vs fixed"))
    assert [Path(path).name for path in files] == ["throughput.png"] and len(svg_files(drawings)) == 2


def test_a_model_that_cannot_load_is_reported_in_one_line(store, monkeypatch):
    def missing(role, attn_implementation=None):
        raise OSError("no config.json in the checkpoint folder\nlong traceback text")

    monkeypatch.setattr(store, "model", missing)
    with pytest.raises(gr.Error, match="The roberta model could not be loaded, .*: no config.json in the checkpoint"):
        tab.throughput("a text", "roberta", 8, 512, 128, no_progress, store=store)


def test_the_stores_own_load_error_is_shown_as_it_is(store, monkeypatch):
    said = "The roberta model did not load from the Hub in 10 s. Try again in a minute."

    def stalled(role, attn_implementation=None):
        raise ModelLoadError(said)

    monkeypatch.setattr(store, "model", stalled)
    with pytest.raises(gr.Error) as raised:
        tab.throughput("a text", "roberta", 8, 512, 128, no_progress, store=store)
    assert raised.value.message == said


def test_choosing_a_role_sets_max_length_to_its_models_maximum(store, longformer_tokenizer):
    assert tab.model_max_length("longformer", store=store) == longformer_tokenizer.model_max_length


@pytest.mark.e2e
def test_compare_answers_over_http_by_its_api_name(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    advice, table, *_ = client.predict("short\na somewhat longer text", "bert", 2, 64, 64, api_name="/batching_compare")
    assert "Recommended `max_length`" in advice
    assert [row[0] for row in table["data"]] == list(BATCHING_STRATEGIES)

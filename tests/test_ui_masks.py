"""Tab 3's handlers: the worked example fills every panel; bad input becomes one sentence; the two events."""

from __future__ import annotations

import dataclasses
import html
import math
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest

from seqdemo.inputs import split_texts
from seqdemo.masks import attention_key_mask, pad_tokenized_texts, tokenize_texts
from seqdemo.ui.figures import svg_files
from seqdemo.ui.masks import (
    DEFAULT_NEW_TOKENS,
    DEFAULT_ROLE,
    EXAMPLE_INPUTS,
    EXAMPLE_TEXTS,
    MAX_TEXTS,
    PROOF_OUTPUTS,
    run_generation,
    run_lesson,
    run_proof,
    show_key_mask,
    show_key_mask_chart,
    show_lesson,
    show_proof,
)
from seqdemo.ui.views.masks import (
    MAX_GRID_COLUMNS,
    MAX_KEY_MASK_ROWS,
    MAX_LABELLED_POSITIONS,
    key_mask_html,
    proof_chart_html,
    token_grid,
)
from tests.test_charts import grid_rows

EXAMPLE = "\n".join(EXAMPLE_TEXTS)
OUTPUTS = (
    "notes batch_mask example key_png key_files proof_header proof_table proof_png proof_files positions "
    "generation prompts key_drawings proof_drawings"
).split()


def lesson(*inputs, store):
    """The handler's last update: every panel, named."""
    *_, last = run_lesson(*inputs, store=store)
    return dict(zip(OUTPUTS, last, strict=True))


def _lengths(tokenizer, texts) -> np.ndarray:
    return np.array([len(tokenizer(text)["input_ids"]) for text in texts])


@pytest.fixture(scope="module")
def example(store):
    return lesson(EXAMPLE, DEFAULT_ROLE, 0, DEFAULT_NEW_TOKENS, store=store)


def test_the_example_fills_every_panel(store, example):
    tokenizer = store.tokenizer(DEFAULT_ROLE)
    mask = tokenizer(list(EXAMPLE_TEXTS), padding=True, return_tensors="np")["attention_mask"]
    assert example["notes"] == ""
    assert example["batch_mask"].count("<b>0</b>") == (mask == 0).sum()
    assert example["batch_mask"].count("<b>1</b>") == (mask == 1).sum()
    assert [value for _, value in example["example"].choices] == list(range(len(EXAMPLE_TEXTS)))
    for png, files in ((example["key_png"], example["key_files"]), (example["proof_png"], example["proof_files"])):
        assert files == [png] and Path(png).stat().st_size > 0
    for drawings in (example["key_drawings"], example["proof_drawings"]):
        assert [Path(f).suffix for f in svg_files(drawings)] == [".png", ".svg"]
    assert "float32 (this lesson measures float noise)" in example["proof_header"]
    assert "1e-05" in example["proof_header"]
    assert example["proof_table"].count('<td class="rowhead">') == len(EXAMPLE_TEXTS)


def test_proof_table_marks_the_unmasked_run_red_exactly_for_shorter_texts(store, example):
    lengths = _lengths(store.tokenizer(DEFAULT_ROLE), EXAMPLE_TEXTS)
    rows = example["proof_table"].split('<td class="rowhead">')[1:]
    for row, length in zip(rows, lengths, strict=True):
        cells = re.findall(r'<td class="(sd-ok|sd-bad)">', row)
        with_mask, without_mask = cells[0], cells[1]
        assert with_mask == "sd-ok"
        assert without_mask == ("sd-bad" if length < lengths.max() else "sd-ok")


def test_bert_left_padding_is_flagged_for_the_shorter_texts_only(store, example):
    lengths = _lengths(store.tokenizer("bert"), EXAMPLE_TEXTS)
    right, left = example["positions"].split("padding_side = left")
    assert right.count("✓ same") == len(EXAMPLE_TEXTS)
    assert left.count("✗ differs") == (lengths < lengths.max()).sum()


def test_generation_table_shows_left_padding_matching_and_right_padding_not(store, example):
    lengths = _lengths(store.tokenizer("decoder"), EXAMPLE_TEXTS)
    shorter = int((lengths < lengths.max()).sum())
    rows = example["generation"].split('<td class="rowhead"')[1:]
    assert len(rows) == len(EXAMPLE_TEXTS)
    assert sum(row.count("✓ same") for row in rows) == len(EXAMPLE_TEXTS) + (len(EXAMPLE_TEXTS) - shorter)
    assert sum(row.count("✗ differs") for row in rows) == shorter
    assert example["prompts"].count("padding_side") == 2


def test_a_single_text_still_shows_its_mask_with_a_note(store):
    outputs = lesson("Only this one.", "roberta", 0, 2, store=store)
    assert "nothing to pad" in outputs["notes"]
    length = len(store.tokenizer("roberta")("Only this one.")["input_ids"])
    assert outputs["batch_mask"].count("<b>1</b>") == length
    assert Path(outputs["key_png"]).stat().st_size > 0
    assert "✗" not in outputs["positions"] + outputs["generation"]


def test_empty_or_oversized_batches_get_one_sentence():
    with pytest.raises(gr.Error, match="enter at least one text"):
        lesson("  \n ", DEFAULT_ROLE, 0, 3, store=None)
    with pytest.raises(gr.Error, match=f"at most {MAX_TEXTS}"):
        lesson("\n".join(f"text {i}" for i in range(MAX_TEXTS + 1)), DEFAULT_ROLE, 0, 3, store=None)


def test_key_mask_can_be_drawn_for_any_example(store):
    png, files, drawings = show_key_mask(EXAMPLE, "longformer", len(EXAMPLE_TEXTS) - 1, store=store)
    assert files == [png] and Path(svg_files(drawings)[1]).name == f"key-mask-text{len(EXAMPLE_TEXTS)}.svg"


def test_wide_grids_show_a_capped_number_of_positions(store):
    tokenizer = store.tokenizer("bert")
    texts = split_texts("short\n" + "the food was good " * 40)
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, texts), "right")
    seq = batch.input_ids.shape[1]
    assert seq > MAX_GRID_COLUMNS
    grid = token_grid(batch, batch.attention_mask, "attention_mask")
    assert f"<th>+{seq - MAX_GRID_COLUMNS}</th>" in grid
    assert grid.count("<b>") == len(texts) * MAX_GRID_COLUMNS


def test_the_proof_names_the_offline_checkpoint_and_generation_says_random_weights_only_for_a_seeded_gpt2(
    store, example
):
    assert html.escape(store.offline_phrase(DEFAULT_ROLE)) in example["proof_header"]
    assert ("random weights" in example["generation"]) == store.untrained("decoder")


def test_the_proof_comes_first_then_its_figures_then_generation(store):
    updates = [dict(zip(OUTPUTS, update, strict=True)) for update in run_lesson(EXAMPLE, "roberta", 0, 2, store=store)]
    assert len(updates) == 3
    first, figures, last = updates
    assert first["proof_table"] == last["proof_table"] and first["key_png"] is None and first["proof_png"] is None
    assert "Generating with GPT-2" in first["generation"] == figures["generation"]
    assert figures["proof_png"] == last["proof_png"] and Path(figures["key_png"]).is_file()
    assert "Generating" not in last["generation"] and "<table" in last["generation"]


def test_the_tab_runs_the_proof_and_generation_as_two_events_that_give_the_one_calls_panels(store):
    *_, every = run_lesson(EXAMPLE, "roberta", 1, 2, store=store)
    every = dict(zip(OUTPUTS, every, strict=True))
    proof_updates = list(run_proof(EXAMPLE, "roberta", 1, store=store))
    assert len(proof_updates) == 2 and proof_updates[0][PROOF_OUTPUTS.index("proof_plot")] is None
    proof = dict(zip([name.replace("_plot", "_png").replace("key_mask", "key_png") for name in PROOF_OUTPUTS],
                     proof_updates[-1], strict=True))  # fmt: skip
    for name in ("notes", "batch_mask", "proof_header", "proof_table", "positions", "key_png", "proof_png"):
        assert proof[name] == every[name], name
    assert run_generation(EXAMPLE, 2, store=store) == (every["generation"], every["prompts"])


def test_a_new_max_new_tokens_reruns_only_generation_and_a_new_proof_reruns_it_after(demo, endpoint):
    proof, generation = endpoint("mask_proof_charts"), endpoint("mask_generation")
    triggers = {demo.blocks[target].label: trigger for target, trigger in generation.targets}
    assert triggers == {"max_new_tokens (section 4)": "release"}
    assert "max_new_tokens (section 4)" not in {demo.blocks[target].label for target, _ in proof.targets}
    (after,) = [
        event
        for event in demo.fns.values()
        if event.trigger_after == proof._id and event.trigger_only_on_success and event.page == ""
    ]
    assert after.outputs == generation.outputs and after.inputs == generation.inputs


def test_the_worked_example_shows_the_proof_then_generation_and_the_one_call_stays_for_the_api(demo, endpoint):
    proof, generation = endpoint("mask_proof_charts_example"), endpoint("mask_generation_example")
    assert [trigger for _, trigger in proof.targets] == ["load"]
    assert generation.trigger_after == proof._id and generation.trigger_only_on_success
    for name in ("mask_proof", "mask_proof_example", "mask_proof_encoder", "mask_proof_encoder_example", "key_mask"):
        kept = endpoint(name)  # the figures-as-PNG endpoints, for the API's callers
        assert kept.api_visibility == "public" and all(not demo.blocks[target].visible for target, _ in kept.targets)
        images = [output for output in kept.outputs if isinstance(output, gr.Image)]
        assert images and not any(image.visible for image in images)  # the PNG's path, shown nowhere
    every = endpoint("mask_proof")
    assert len(every.inputs) == len(EXAMPLE_INPUTS) and len(every.outputs) == len(OUTPUTS)


def proof_charts(*inputs, store):
    """The tab's one update of sections 1-3: every panel, named."""
    return dict(zip(PROOF_OUTPUTS, show_proof(*inputs, store=store), strict=True))


@pytest.fixture(scope="module")
def charts(store):
    return proof_charts(EXAMPLE, DEFAULT_ROLE, 0, store=store)


def cells(grid: str) -> list[list[str]]:
    """A cell grid's rows, a kind per cell, the empty space past a row's end left out."""
    return [[kind for kind, count in row for _ in range(int(count)) if kind != "empty"] for row in grid_rows(grid)]


BAR = re.compile(r'<div class="sd-bar" title="text (\d+), ([^:]+): max \|Δ\| ([^"]+)"><i style="width:([\d.]+)%[^"]*">'
                 r'</i><span( class="beyond")?>([^<]+)</span>')  # fmt: skip


def bars(chart: str) -> list[list[tuple[int, str, str, float, bool]]]:
    """Each panel of the proof chart as (text, series, number shown, bar width %, beyond the tolerance) bars."""
    panels = chart.split('class="sd-chart-panel-title"')[1:]
    return [
        [(int(text), html.unescape(label), shown, float(width), bool(beyond)) for text, label, shown, width, beyond, _
         in BAR.findall(panel)]
        for panel in panels
    ]  # fmt: skip


def test_the_tab_shows_the_proof_with_charts_in_one_update_and_draws_the_figures_only_on_request(charts, example):
    for name in ("notes", "batch_mask", "proof_header", "proof_table", "positions"):
        assert charts[name] == example[name], name
    assert "sd-keymask" in charts["key_mask"] and "sd-mask-proof-chart" in charts["proof_plot"]
    assert charts["key_files"] == [] and charts["proof_files"] == []
    files = svg_files(charts["key_drawings"] + charts["proof_drawings"])
    stem = f"mask-proof-{DEFAULT_ROLE}"
    assert [Path(f).name for f in files] == ["key-mask-text1.png", "key-mask-text1.svg", f"{stem}.png", f"{stem}.svg"]


def test_the_key_mask_chart_has_a_cell_per_query_and_key_where_the_model_may_attend(store):
    for role in ("bert", "longformer"):
        tokenizer = store.tokenizer(role)
        batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, EXAMPLE_TEXTS), "right")
        chart, files, drawings = show_key_mask_chart(EXAMPLE, role, 3, store=store)
        allowed = attention_key_mask(batch, 3, store.model(role).config)
        assert len(allowed) <= MAX_LABELLED_POSITIONS and files == []
        assert cells(chart) == [["attends" if cell else "blocked" for cell in row] for row in allowed]
        columns = re.findall(r'<b class="(pad|)">([^<]*)</b>', chart.split("sd-cells-columns")[1])
        assert [(kind == "pad", html.unescape(token)) for kind, token in columns] == [
            (mask == 0, token) for mask, token in zip(batch.attention_mask[3], batch.tokens[3], strict=True)
        ]
        assert [Path(f).name for f in svg_files(drawings)] == ["key-mask-text4.png", "key-mask-text4.svg"]


def test_a_long_texts_key_mask_shows_every_kth_query_under_a_position_axis(store):
    texts = ["short", "the food was good " * 60]
    tokenizer = store.tokenizer("roberta")
    batch = pad_tokenized_texts(tokenizer, tokenize_texts(tokenizer, texts), "right")
    allowed = attention_key_mask(batch, 0, store.model("roberta").config)
    step = math.ceil(len(allowed) / MAX_KEY_MASK_ROWS)
    assert step > 1
    chart = key_mask_html(batch, 0, allowed, "roberta")
    assert cells(chart) == [["attends" if cell else "blocked" for cell in row] for row in allowed[::step]]
    assert "sd-cells-columns" not in chart and f"every {step}th query shown" in chart
    assert f">{len(allowed):,}</span>" in chart  # the key axis ends at the last position


def test_the_proof_chart_has_a_bar_per_text_and_run_red_beyond_the_tolerance(store, charts):
    (drawing,) = charts["proof_drawings"]
    (proof,) = drawing.args
    hidden, pooled = bars(charts["proof_plot"])
    count = len(EXAMPLE_TEXTS)
    assert len(hidden) == 2 * count and len(pooled) == 3 * count
    fields = {"(b) padded, with attention_mask": "masked", "(c) padded, no attention_mask": "unmasked"}
    for text, label, shown, width, beyond in hidden:
        value = getattr(proof, fields[label]).hidden_delta[text - 1]
        assert beyond == (value > proof.tolerance) and shown == (f"{value:.1e}" if value else "0")
        assert (width == 0) == (value == 0)
    unmasked = [beyond for _, label, *_, beyond in hidden if label.startswith("(c)")]
    lengths = proof.tokenized.lengths
    assert unmasked == [length < max(lengths) for length in lengths]  # the pads change every shorter text
    widths = sorted((float(value), width) for _, _, value, width, _ in hidden + pooled if value != "0")
    assert [width for _, width in widths] == sorted(width for _, width in widths)  # a larger |Δ|, a longer bar
    assert f"{proof.tolerance:.0e}" in charts["proof_plot"]


def test_an_exact_zero_has_no_bar_and_is_written_0(charts):
    (proof,) = charts["proof_drawings"][0].args
    zero = dataclasses.replace(proof.masked, hidden_delta=np.zeros_like(proof.masked.hidden_delta))
    hidden, _ = bars(proof_chart_html(dataclasses.replace(proof, masked=zero)))
    masked = [(shown, width) for _, label, shown, width, _ in hidden if label.startswith("(b)")]
    assert masked == [("0", 0.0)] * len(EXAMPLE_TEXTS)


def test_a_link_shows_every_section_with_charts_then_generation(store, example):
    first, last = (dict(zip(OUTPUTS, update, strict=True)) for update in show_lesson(*EXAMPLE_INPUTS, store=store))
    assert "Generating with GPT-2" in first["generation"] and "sd-keymask" in first["key_png"]
    for name in ("proof_table", "positions", "generation", "prompts"):
        assert last[name] == example[name], name
    assert last["key_png"] == first["key_png"] and "sd-mask-proof-chart" in last["proof_png"]

"""Charts drawn as HTML: cell grids agree with what the tokenizers padded; bars carry the counts."""

import re

import numpy as np
import pytest

from seqdemo.lengths import measure_lengths
from seqdemo.models import ENCODER_ROLES
from seqdemo.padding import PaddingConfig, encode_batch
from seqdemo.token_kinds import PAD, REAL, SPECIAL
from seqdemo.ui.views.charts import EMPTY, MAX_RUNS_PER_ROW, ROW_HEIGHT_PX, Marker, axis, cell_grid, row_height_px, runs
from seqdemo.ui.views.lengths import counts_chart_html, padding_grid_html
from seqdemo.ui.views.padding import batch_shapes_html

TEXTS = ["The cat sat on the mat.", "A much longer text, so that the first one needs some padding at its end."]
CELL = re.compile(r'<i class="(\w+)" style="flex:(\d+) 0 0;--n:\d+"></i>')


def grid_rows(grid: str) -> list[list[tuple[str, int]]]:
    """Each row of a cell grid as (kind, cells) runs."""
    return [CELL.findall(row) for row in re.findall(r'<span class="sd-cells-row[^"]*"[^>]*>(.*?)</span>', grid)]


def test_runs_merge_neighbours_of_one_kind():
    assert runs([SPECIAL, REAL, REAL, REAL, PAD, PAD]) == [(SPECIAL, 1), (REAL, 3), (PAD, 2)]
    assert runs([]) == []


def test_a_grid_row_fills_the_width_with_its_cells_then_empty_space():
    rows = grid_rows(cell_grid([[SPECIAL, REAL, REAL], [SPECIAL, REAL, REAL, REAL, PAD]], width=8))
    assert rows == [
        [(SPECIAL, "1"), (REAL, "2"), (EMPTY, "5")],
        [(SPECIAL, "1"), (REAL, "3"), (PAD, "1"), (EMPTY, "3")],
    ]


def test_a_row_longer_than_the_grid_is_refused():
    with pytest.raises(ValueError, match="longer than the grid"):
        cell_grid([[REAL] * 5], width=4)


def test_a_row_of_too_many_runs_becomes_one_run_of_its_commonest_kind():
    row = [REAL, SPECIAL] * MAX_RUNS_PER_ROW + [REAL]
    assert grid_rows(cell_grid([row], width=len(row))) == [[(REAL, str(len(row)))]]


def test_cell_borders_and_the_limit_marker_show_only_where_they_can():
    small, wide = cell_grid([[REAL] * 3], width=10), cell_grid([[REAL] * 3], width=500)
    assert "bordered" in small and "bordered" not in wide
    within = cell_grid([[REAL]], width=10, marker=Marker(5, "model_max_length 5"))
    assert "--at:0.500000" in within and "model_max_length 5" in within
    assert "sd-cells-marker" not in cell_grid([[REAL]], width=10, marker=Marker(11, "past the end"))


def test_column_labels_head_the_columns_and_label_kinds_colour_the_labels():
    tokens = ["[CLS]", "hi", "[PAD]"]
    kinds = ["", "", PAD]
    grid = cell_grid([[SPECIAL, REAL, PAD]] * 3, width=3, row_labels=tokens, label_kinds=kinds,
                     column_labels=tokens, column_kinds=kinds)  # fmt: skip
    assert re.findall(r'<b class="(\w*)">([^<]*)</b>', grid) == [("", "[CLS]"), ("", "hi"), ("pad", "[PAD]")]
    labels = re.findall(r'<span class="sd-cells-label ?(\w*)">([^<]+)</span>', grid)
    assert labels == list(zip(kinds, tokens, strict=True))
    assert grid_rows(grid) == [[(SPECIAL, "1"), (REAL, "1"), (PAD, "1")]] * 3  # the heading is no row


def test_a_tall_grid_shrinks_its_rows_to_fit_the_height_asked_within_bounds():
    tall, short = ROW_HEIGHT_PX
    assert row_height_px(2, 300) == tall and row_height_px(10_000, 300) == short
    assert row_height_px(30, 300) == 10 and row_height_px(30, 480) == 16
    assert "--h:10px" in cell_grid([[REAL]] * 30, width=1)
    assert "--h:12px" in cell_grid([[REAL]] * 30, width=1, height_px=360)


def test_the_axis_ends_at_the_width():
    numbers = re.findall(r">([\d,]+)</span>", axis(26, "position"))
    assert (
        numbers[0] == "0" and numbers[-1] == "26" and numbers == sorted(numbers, key=lambda n: int(n.replace(",", "")))
    )


@pytest.fixture
def report(store):
    return measure_lengths(TEXTS, {role: store.tokenizer(role) for role in ENCODER_ROLES})


def test_the_padding_grid_shows_the_padding_the_tokenizer_adds(store, report):
    html = padding_grid_html(report)
    grids = re.findall(r'<div class="sd-cells(?: bordered)?"[^>]*>.*?</div>', html)
    assert len(grids) == len(ENCODER_ROLES)
    width = max(len(ids) for role in ENCODER_ROLES for ids in store.tokenizer(role)(TEXTS)["input_ids"])
    for role, grid in zip(ENCODER_ROLES, grids, strict=True):
        mask = np.array(store.tokenizer(role)(TEXTS, padding="longest")["attention_mask"])
        for row, expected in zip(grid_rows(grid), mask, strict=True):
            cells = {kind: sum(int(n) for k, n in row if k == kind) for kind, _ in row}
            assert cells.get(PAD, 0) == (expected == 0).sum()
            assert sum(int(n) for _, n in row) == width  # every tokenizer on one axis
        assert f"padded to {mask.shape[1]:,}" in html


def test_the_counts_chart_has_a_bar_per_text_and_series_with_its_number(store, report):
    html = counts_chart_html(report)
    for number, text in enumerate(TEXTS, start=1):
        assert f'title="text {number}: {len(text.split()):,} words"' in html
        for role in ENCODER_ROLES:
            count = len(store.tokenizer(role)(text)["input_ids"])
            assert f'title="text {number}: {count:,} {role} tokens"' in html


def test_a_text_over_the_limit_has_a_marked_bar(store):
    long_text = " ".join(["word"] * 600)
    html = counts_chart_html(measure_lengths([long_text], {"bert": store.tokenizer("bert")}))
    over = re.findall(r'<div class="sd-bar over"[^>]*>.*?<span>(.*?)</span>', html)
    assert len(over) == 1 and over[0].endswith("&gt; 512")


def test_the_batch_shapes_chart_has_each_configurations_shape_and_pads(bert_tokenizer):
    configs = {
        "A": PaddingConfig(padding="longest"),
        "B": PaddingConfig(padding="do_not_pad"),
        "C": PaddingConfig(max_length=8, truncation="longest_first", stride=2, return_overflowing_tokens=True),
    }
    batches = {label: encode_batch(bert_tokenizer, "bert", TEXTS, None, config) for label, config in configs.items()}
    html = batch_shapes_html(batches)
    grids = re.findall(r'<div class="sd-cells(?: bordered)?"[^>]*>.*?</div>', html)
    padded = bert_tokenizer(TEXTS, padding="longest")["attention_mask"]
    assert f"A</b> · (rows, seq) = ({len(TEXTS)}, {len(padded[0])})" in html
    assert [sum(int(n) for kind, n in row if kind == PAD) for row in grid_rows(grids[0])] == [
        mask.count(0) for mask in padded
    ]
    lengths = sorted(len(ids) for ids in bert_tokenizer(TEXTS)["input_ids"])
    assert f"B</b> · ragged: lengths {lengths[0]}–{lengths[-1]}" in html
    windows = bert_tokenizer(TEXTS, max_length=8, truncation=True, stride=2, return_overflowing_tokens=True)
    assert len(grid_rows(grids[2])) == len(windows["input_ids"])
    assert html.count("sd-cells-outline") == 2  # the two stackable tensors, not the ragged batch
    assert grids[2].count("sd-cells-row starts") == len(TEXTS) - 1  # a line where the next text's windows begin

"""The padding tab's handlers as the app wires them: panels, per-configuration errors, figure downloads."""

from __future__ import annotations

import html
from dataclasses import fields
from pathlib import Path

import gradio as gr
import pytest

from seqdemo.padding import PaddingConfig, encode_batch
from seqdemo.ui.figures import svg_files
from seqdemo.ui.padding import (
    DEFAULT_CONFIGS,
    EXAMPLE_INPUTS,
    LABELS,
    compare_configurations,
    knob_values,
    parse_config,
    show_configurations,
)
from seqdemo.ui.views.padding import HEAD, ROWS_SHOWN, TAIL, panel_html


@pytest.fixture(scope="module")
def compare(store):
    """The tab's handler as the app calls it, the store given."""
    return lambda *inputs: list(compare_configurations(*inputs, store=store))[-1]  # the last update: every panel


def knob_index(config: int, name: str) -> int:
    """Position of one configuration's knob among the handler's inputs (texts, pairs, role, shown, knobs...)."""
    names = [field.name for field in fields(PaddingConfig)]
    return 4 + len(names) * config + names.index(name)


def test_the_example_is_what_the_widgets_start_with_and_runs_on_page_load(endpoint):
    assert [component.value for component in endpoint("padding_compare_charts").inputs] == list(EXAMPLE_INPUTS)
    assert [trigger for _, trigger in endpoint("padding_compare_charts_example").targets] == ["load"]


def test_the_tab_shows_the_batch_shapes_as_html_and_draws_the_figure_only_for_the_download(store):
    *panels, chart, files, drawings = show_configurations(*EXAMPLE_INPUTS, store=store)
    *_, drawn = compare_configurations(*EXAMPLE_INPUTS, store=store)
    assert panels == list(drawn[:-3])  # the same panels as the API's PNG form
    assert files == [] and "sd-cells" in chart
    downloads = [Path(f) for f in svg_files(drawings)]
    assert [f.name for f in downloads] == ["padding-batch-shapes.png", "padding-batch-shapes.svg"]
    assert downloads[0].read_bytes() == Path(drawn[-3]).read_bytes()  # the figure the API's form shows


def test_the_figure_as_png_form_stays_public_for_the_api_on_a_hidden_trigger(demo, endpoint):
    shown, kept = endpoint("padding_compare_charts"), endpoint("padding_compare")
    assert kept.inputs == shown.inputs and kept.api_visibility == "public"
    image = kept.outputs[len(LABELS)]
    assert type(image).__name__ == "Image" and not image.visible
    assert all(not demo.blocks[target].visible for target, _ in kept.targets)
    assert "load" not in [trigger for _, trigger in endpoint("padding_compare_example").targets]


def test_with_every_configuration_invalid_there_is_no_chart_and_nothing_to_draw(store):
    inputs = list(EXAMPLE_INPUTS)
    for config in range(int(inputs[3])):
        inputs[knob_index(config, "max_length")] = "-3"
    *panels, chart, files, drawings = show_configurations(*inputs, store=store)
    assert all("sd-error" in panel for panel in panels[: int(inputs[3])])
    assert (chart, files, drawings) == ("", [], [])


def test_opening_example_renders_the_shown_configurations_and_a_downloadable_figure(compare, bert_tokenizer):
    inputs = list(EXAMPLE_INPUTS)
    *panels, image, files, drawings = compare(*inputs)
    shown = int(inputs[3])
    for panel, config in zip(panels[:shown], DEFAULT_CONFIGS, strict=False):
        assert "sd-pt-grid" in panel and html.escape(config.describe(bert_tokenizer.model_max_length)) in panel
    assert panels[shown:] == [""] * (len(LABELS) - shown)
    assert files == [image] and Path(image).stat().st_size > 0
    assert [Path(path).suffix for path in svg_files(drawings)] == [".png", ".svg"]


def test_a_bad_configuration_shows_one_line_in_its_panel_while_the_others_render(compare):
    inputs = list(EXAMPLE_INPUTS)
    inputs[knob_index(1, "max_length")] = "0"
    *panels, image, _, _ = compare(*inputs)
    assert "sd-pt-grid" in panels[0]
    assert panels[1].startswith('<div class="sd-error">') and "positive number" in panels[1]
    assert panels[1].count("</div>") == 1 and "\n" not in panels[1]
    assert Path(image).stat().st_size > 0


def test_a_number_box_with_text_is_reported_in_its_panel(compare):
    inputs = list(EXAMPLE_INPUTS)
    inputs[knob_index(0, "pad_to_multiple_of")] = "eight"
    *panels, _, _, _ = compare(*inputs)
    assert "sd-error" in panels[0] and "whole number" in panels[0]
    assert "sd-pt-grid" in panels[1]


def test_no_valid_configuration_leaves_no_figure(compare):
    inputs = list(EXAMPLE_INPUTS)
    for config in range(int(inputs[3])):
        inputs[knob_index(config, "stride")] = -1
    *panels, image, files, drawings = compare(*inputs)
    assert image is None and files is None and drawings == []
    assert all("sd-error" in panel for panel in panels[: int(inputs[3])])


def test_overflow_pairs_show_the_mapping_and_the_overlap(compare, bert_tokenizer):
    inputs = list(EXAMPLE_INPUTS)
    inputs[1] = "\n".join(["Who?", "Why?", "What is cut?"])
    inputs[3] = 1
    config = PaddingConfig(max_length=16, truncation="only_first", stride=3, return_overflowing_tokens=True)
    for name, value in [("padding", "longest"), ("max_length", "16"), ("truncation", "only_first")]:
        inputs[knob_index(0, name)] = value
    inputs[knob_index(0, "stride")] = config.stride
    inputs[knob_index(0, "return_overflowing_tokens")] = True
    *panels, _, _, _ = compare(*inputs)
    assert "overflow_to_sample_mapping" in panels[0] and 'class="overlap"' in panels[0]
    assert html.escape(config.describe(bert_tokenizer.model_max_length)) in panels[0]


@pytest.mark.parametrize(
    ("raw_texts", "raw_pairs", "message"),
    [
        ("", "", "at least one text"),
        ("a\nb", "x", "2 texts but 1 second text:"),
        ("\n".join(["word"] * 1000), "", "1,000 texts"),
        ("x" * 100_000, "", "100,000 characters"),
    ],
)
def test_bad_texts_raise_a_gradio_error_with_the_message(compare, raw_texts, raw_pairs, message):
    inputs = list(EXAMPLE_INPUTS)
    inputs[0], inputs[1] = raw_texts, raw_pairs
    with pytest.raises(gr.Error, match=message):
        compare(*inputs)


def test_long_rows_show_head_and_tail_around_a_gap(bert_tokenizer):
    text = " ".join(["padding"] * (HEAD + TAIL + 30))
    batch = encode_batch(bert_tokenizer, "bert", [text] * (ROWS_SHOWN + 2), None, PaddingConfig())
    panel = panel_html(batch)
    gap = len(batch.rows[0].tokens) - HEAD - TAIL
    assert f"⋯ {gap} ⋯" in panel
    assert panel.count('<table class="sd-grid sd-pt-grid">') == ROWS_SHOWN
    assert "2 more rows" in panel


def test_parse_config_reads_empty_boxes_as_not_given():
    config = parse_config("longest", "", " ", "left", "do_not_truncate", "right", None, False)
    assert config == PaddingConfig(padding_side="left")
    assert parse_config("max_length", "16", "8", "right", "longest_first", "left", 4.0, True) == PaddingConfig(
        padding="max_length",
        max_length=16,
        pad_to_multiple_of=8,
        truncation="longest_first",
        truncation_side="left",
        stride=4,
        return_overflowing_tokens=True,
    )


@pytest.mark.parametrize("config", [*DEFAULT_CONFIGS, PaddingConfig(pad_to_multiple_of=8, truncation_side="left")])
def test_a_configuration_survives_its_widgets(config):
    assert parse_config(*knob_values(config)) == config


def test_the_panels_come_before_the_figure(store):
    panels, drawn = compare_configurations(*EXAMPLE_INPUTS, store=store)
    assert panels[-3:] == (None, None, []) and panels[:-3] == drawn[:-3]
    assert drawn[-2] == [drawn[-3]] and Path(drawn[-3]).is_file()

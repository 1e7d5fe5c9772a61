"""Input widgets that name themselves when they refuse a value, drawn by Gradio's own front-end components.

Gradio's refusals ("Value 0 is less than minimum value 1.") name no field; these are checked here
one widget at a time, and over HTTP for every public endpoint in test_api_refusals.py.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from seqdemo.ui import widgets


def refusal(component: gr.components.Component, payload: object) -> str:
    with pytest.raises(gr.Error) as caught:
        component.preprocess(payload)
    assert caught.value.print_exception is False  # the user's mistake: no traceback in the server log
    return caught.value.message


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (0, "“batch_size (rows)” takes a whole number from 1 to 1,024; 0 is not one."),
        (1025, "“batch_size (rows)” takes a whole number from 1 to 1,024; 1025 is not one."),
        ("abc", "“batch_size (rows)” takes a whole number from 1 to 1,024; 'abc' is not one."),
        (float("nan"), "“batch_size (rows)” takes a whole number from 1 to 1,024; nan is not one."),
        (True, "“batch_size (rows)” takes a whole number from 1 to 1,024; True is not one."),
    ],
)
def test_a_number_out_of_range_or_not_a_number_names_its_field(payload, message):
    number = widgets.Number(16, label="batch_size (rows)", precision=0, minimum=1, maximum=1024)
    assert refusal(number, payload) == message


def test_a_number_in_range_is_passed_on_as_gradio_would():
    number = widgets.Number(16, label="batch_size (rows)", precision=0, minimum=1, maximum=1024)
    assert number.preprocess(3) == 3 and isinstance(number.preprocess(3.0), int)
    assert number.preprocess("12") == 12  # a client may send the number's text
    assert number.preprocess(None) is None  # a box being typed in
    assert widgets.Number(1.5, label="x").preprocess(2.25) == 2.25


def test_a_number_with_one_bound_says_so():
    assert refusal(widgets.Number(1, label="max_tokens", precision=0, minimum=1), -3).startswith(
        "“max_tokens” takes a whole number of at least 1;"
    )
    layer = widgets.Number(1, label="Layer", precision=0)
    assert refusal(layer, "abc") == "“Layer” takes a whole number; 'abc' is not one."


def test_a_slider_out_of_range_or_empty_names_its_field():
    slider = widgets.Slider(8, 512, 64, step=8, label="Tokens per axis")
    assert refusal(slider, 0) == "“Tokens per axis” takes a whole number from 8 to 512; 0 is not one."
    assert refusal(slider, None) == "“Tokens per axis” takes a whole number from 8 to 512; None is not one."
    assert slider.preprocess(64) == 64
    assert refusal(widgets.Slider(0, 1, 0.5, step=0.1, label="p"), 2) == "“p” takes a number from 0 to 1; 2 is not one."


def test_a_choice_is_accepted_as_its_value_or_as_the_text_view_api_documents():
    example = widgets.Dropdown(choices=[("text 1", 0), ("text 2", 1)], value=0, label="Example for the key mask")
    assert example.preprocess(1) == 1 and example.preprocess("1") == 1
    assert refusal(example, "7") == "“Example for the key mask” takes one of 0, 1; '7' is not one."
    role = widgets.Radio(["bert", "roberta"], value="bert", label="tokenizer")
    assert role.preprocess("roberta") == "roberta"
    assert refusal(role, "gpt2") == "“tokenizer” takes one of 'bert', 'roberta'; 'gpt2' is not one."


def test_several_choices_are_checked_one_by_one():
    roles = widgets.CheckboxGroup(["bert", "roberta"], value=["bert"], label="Tokenizers")
    assert roles.preprocess(["roberta", "bert"]) == ["roberta", "bert"]
    assert roles.preprocess(None) == []
    assert refusal(roles, ["bert", "t5"]) == "“Tokenizers” takes one of 'bert', 'roberta'; 't5' is not one."
    assert refusal(roles, "bert") == "“Tokenizers” takes a list of its choices; 'bert' is not one."


def test_a_dropdown_open_to_any_value_is_left_to_its_handler():
    column = widgets.Dropdown(label="Column", allow_custom_value=True)
    assert column.preprocess("review") == "review"


def test_a_text_with_a_lone_surrogate_is_refused_naming_the_field():
    texts = widgets.Textbox("", label="Texts, one per line")
    assert refusal(texts, "ok\nab\ud800").startswith("Texts, one per line: line 2, character 3 is U+D800")
    assert texts.preprocess("fine 🙂") == "fine 🙂" and texts.preprocess(None) is None


def test_each_field_is_drawn_by_its_gradio_namesake_and_writes_no_stub():
    for component in (
        widgets.Number(),
        widgets.Slider(),
        widgets.Dropdown(),
        widgets.Radio(),
        widgets.CheckboxGroup(),
        widgets.Textbox(),
    ):
        gradio_class = type(component).__mro__[1]
        assert component.get_block_name() == gradio_class.__name__.lower()
        assert component.api_info() == gradio_class.api_info(component)
    assert not Path(widgets.__file__).with_suffix(".pyi").exists()


def test_a_session_copy_made_by_an_update_keeps_the_named_refusal():
    """Gradio rebuilds a component from its constructor arguments when an event updates it (`head_tokens`' maximum)."""
    slider = widgets.Slider(0, 50_000, 0, step=1, label="head + tail: tokens from the head")
    updated = type(slider)(**{**slider.constructor_args, "maximum": 510, "render": False})
    assert refusal(updated, 600).endswith("takes a whole number from 0 to 510; 600 is not one.")

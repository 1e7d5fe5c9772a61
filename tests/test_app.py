"""The app shell: header, tab order, deep links."""

import gradio as gr
import pytest

from seqdemo.device import pick_device
from seqdemo.models import ModelSource
from seqdemo.ui import TABS, build_app, header_markdown, open_from_url
from seqdemo.ui.components import computed_once, user_errors


def test_header_states_mode_reason_and_device():
    text = header_markdown(ModelSource("offline", "Hugging Face Hub not reachable"), pick_device("cpu"))
    assert "offline kit: Hugging Face Hub not reachable" in text
    assert "CPU" in text and "float32" in text


def test_deep_link_selects_the_named_tab_and_falls_back_to_the_first():
    ids = [tab_id for tab_id, _, _ in TABS]
    for tab_id in ids:
        assert open_from_url({"tab": tab_id}) == (tab_id, True)
    assert open_from_url({"tab": "nope"})[0] == ids[0]
    assert open_from_url({})[0] == ids[0]


def test_embed_mode_hides_the_title_and_keeps_the_deep_link():
    ids = [tab_id for tab_id, _, _ in TABS]
    assert open_from_url({"tab": ids[1], "embed": "1"}) == (ids[1], False)
    assert open_from_url({"embed": "no"}) == (ids[0], True)


def test_app_builds_on_the_offline_kit(store):
    demo = build_app(store)
    assert demo.title.startswith("seqdemo")


def test_a_worked_example_is_computed_once_and_then_served_from_memory():
    runs = []
    example = computed_once(lambda: runs.append(1) or len(runs))
    assert example() == example() == 1 and runs == [1]


def test_a_streamed_example_streams_once_then_replays_its_final_value():
    runs = []

    def stream():
        runs.append(1)
        yield "one of two done"
        yield "two of two done"

    example = computed_once(stream)
    assert list(example()) == ["one of two done", "two of two done"]
    assert list(example()) == ["two of two done"] and runs == [1]


def test_errors_in_streaming_handlers_become_one_line_messages():
    def stream():
        yield "started"
        raise ValueError("The document is empty.")

    with pytest.raises(gr.Error, match="The document is empty."):
        list(user_errors(stream)())

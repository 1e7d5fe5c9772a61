"""The app shell: header, tab order, deep links."""

from types import SimpleNamespace

from seqdemo.device import pick_device
from seqdemo.models import ModelSource
from seqdemo.ui import TABS, _select_tab_from_url, build_app, header_markdown


def test_header_states_mode_reason_and_device():
    text = header_markdown(ModelSource("offline", "Hugging Face Hub not reachable"), pick_device("cpu"))
    assert "offline kit: Hugging Face Hub not reachable" in text
    assert "CPU" in text and "float32" in text


def test_deep_link_selects_the_named_tab_and_falls_back_to_the_first():
    ids = [tab_id for tab_id, _, _ in TABS]
    for tab_id in ids:
        assert _select_tab_from_url(SimpleNamespace(query_params={"tab": tab_id})).selected == tab_id
    assert _select_tab_from_url(SimpleNamespace(query_params={"tab": "nope"})).selected == ids[0]
    assert _select_tab_from_url(SimpleNamespace(query_params={})).selected == ids[0]


def test_app_builds_on_the_offline_kit(store):
    demo = build_app(store)
    assert demo.title.startswith("seqdemo")

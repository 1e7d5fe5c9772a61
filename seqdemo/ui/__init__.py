"""The Gradio app: a header saying what runs the models, then one tab per lesson.

Each tab lives in its own module with a `build(store)` that creates its widgets inside the
current `gr.Tab` and wires them to module-level handlers (`ui.components`); this module only
orders the tabs and makes each reachable as `?tab=<id>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import gradio as gr

from seqdemo.device import DeviceChoice
from seqdemo.models import ModelSource, ModelStore, default_store
from seqdemo.plots.palette import css_variables
from seqdemo.ui import attention, batching, lengths, longdoc, masks, padding
from seqdemo.uploads import MAX_UPLOAD_BYTES

# (deep-link id, tab title, builder). Adding a tab is one line here.
TABS = (
    ("lengths", "1 · The length problem", lengths.build),
    ("padding", "2 · Padding & truncation", padding.build),
    ("masks", "3 · Attention masks", masks.build),
    ("longdoc", "4 · Long documents", longdoc.build),
    ("attention", "5 · Attention maps", attention.build),
    ("batching", "6 · Batching lab", batching.build),
)
UI_DIR = Path(__file__).parent


TITLE = "## seqdemo — how transformers handle many sequences at once"
EMBED_VALUES = {"1", "true", "yes"}


def header_markdown(source: ModelSource, device: DeviceChoice) -> str:
    """One line: where the models come from and what runs them."""
    return f"**Models:** {source.label} &nbsp;·&nbsp; **Device:** {device.description}"


def open_from_url(query_params: Mapping[str, str]) -> tuple[str, bool]:
    """The tab a URL asks for (`?tab=<id>`, else the first) and whether to show the title.

    `?embed=1` is the compact mode for iframes: no title; the line naming models and device stays.
    """
    ids = [tab_id for tab_id, _, _ in TABS]
    wanted = (query_params.get("tab") or "").strip().lower()
    embed = (query_params.get("embed") or "").strip().lower() in EMBED_VALUES
    return (wanted if wanted in ids else ids[0]), not embed


def build_app(store: ModelStore | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks`, not yet launched."""
    store = store or default_store()
    retention = (store.settings.cache_sweep_s, store.settings.cache_max_age_s)
    with gr.Blocks(title="seqdemo — sequences in transformers", delete_cache=retention) as demo:
        title = gr.Markdown(TITLE, elem_id="sd-title")
        gr.Markdown(header_markdown(store.source, store.device), elem_id="sd-header")
        with gr.Tabs() as tabs:
            for tab_id, tab_title, build in TABS:
                with gr.Tab(tab_title, id=tab_id):
                    build(store)

        def apply_url(request: gr.Request) -> tuple[gr.Tabs, gr.Markdown]:
            selected, show_title = open_from_url(dict(request.query_params) if request else {})
            return gr.Tabs(selected=selected), gr.Markdown(visible=show_title)

        demo.load(apply_url, None, [tabs, title], api_visibility="private", show_progress="hidden")
    return demo


def launch_options() -> dict[str, object]:
    """Arguments for `Blocks.launch`: the look of the app (theme, palette, CSS files) and the largest upload."""
    # System fonts: the default theme fetches web fonts, which an offline machine cannot.
    fonts = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    theme = gr.themes.Soft(font=fonts, font_mono=mono)
    return {
        "css": css_variables(),
        "css_paths": sorted(UI_DIR.glob("*.css")),
        "theme": theme,
        "max_file_size": MAX_UPLOAD_BYTES,  # refused by the server while it arrives, before it is stored
    }

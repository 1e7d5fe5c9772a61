"""The Gradio app: a header saying what runs the models, then one tab per lesson.

Each tab lives in its own module with a `build(store)` that creates its widgets inside the
current `gr.Tab`; this module only orders them and makes each reachable as `?tab=<id>`.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from seqdemo.device import DeviceChoice
from seqdemo.models import ModelSource, ModelStore, default_store
from seqdemo.ui import attention, batching, lengths, longdoc, masks, padding

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


def header_markdown(source: ModelSource, device: DeviceChoice) -> str:
    """One line: where the models come from and what runs them."""
    return (
        "## seqdemo — how transformers handle many sequences at once\n"
        f"**Models:** {source.label} &nbsp;·&nbsp; **Device:** {device.description}"
    )


def _select_tab_from_url(request: gr.Request) -> gr.Tabs:
    wanted = (request.query_params.get("tab") or "").strip().lower() if request else ""
    ids = [tab_id for tab_id, _, _ in TABS]
    return gr.Tabs(selected=wanted if wanted in ids else ids[0])


def build_app(store: ModelStore | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks`, not yet launched."""
    store = store or default_store()
    with gr.Blocks(title="seqdemo — sequences in transformers") as demo:
        gr.Markdown(header_markdown(store.source, store.device), elem_id="sd-header")
        with gr.Tabs() as tabs:
            for tab_id, title, build in TABS:
                with gr.Tab(title, id=tab_id):
                    build(store)
        demo.load(_select_tab_from_url, None, tabs, api_visibility="private", show_progress="hidden")
    return demo


def launch_options() -> dict[str, object]:
    """Arguments for `Blocks.launch` that belong to the look of the app."""
    # System fonts: the default theme fetches web fonts, which an offline machine cannot.
    fonts = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    theme = gr.themes.Soft(font=fonts, font_mono=mono)
    return {"css_paths": sorted(UI_DIR.glob("*.css")), "theme": theme}

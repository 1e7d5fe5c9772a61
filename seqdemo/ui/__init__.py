"""The Gradio app: a header saying what runs the models, then one tab per lesson; and each lesson on its own page.

Each tab lives in its own module with a `build(store)` that creates its widgets and wires them to
module-level handlers (`ui.components`). This module orders the tabs at `/` (`?tab=<id>` opens one) and
builds every lesson a second time at `/<id>`, alone, for iframes and `<gradio-app>`. Gradio suffixes an
api_name that is taken, so the lesson pages' events, built second, are made private: the public API
stays the tabbed app's.
"""

from __future__ import annotations

import html
import logging
import signal
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import gradio as gr

from seqdemo.device import DeviceChoice
from seqdemo.models import ROLES, ModelSource, ModelStore, default_store
from seqdemo.offline import KitDescription
from seqdemo.plots.palette import css_variables
from seqdemo.ui import attention, batching, cache_sweep, lengths, longdoc, masks, padding
from seqdemo.ui.build_once import built_once, interim_builds_skipped
from seqdemo.ui.components import publish_worked_examples_status, start_worked_examples, worked_examples
from seqdemo.ui.queueing import configure_queue
from seqdemo.ui.tools import keep_only_agent_tools, publish_agent_tools
from seqdemo.ui.web_component import serve_lesson_configs
from seqdemo.uploads import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

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


def header_markdown(source: ModelSource, device: DeviceChoice, kit: KitDescription | None = None) -> str:
    """One line: where the models come from and what runs them; offline, which kit runs and what each model is."""
    line = f"**Models:** {source.label} &nbsp;·&nbsp; **Device:** {device.description}"
    if kit is None:
        return line
    models = "".join(
        f"<li><b>{role.name}</b>: {html.escape(kit.phrase(role.kit_checkpoint))}</li>" for role in ROLES.values()
    )
    return (
        f"{line} &nbsp;·&nbsp; **Kit:** {html.escape(kit.summary)}\n\n"
        f"<details><summary>What each offline model is</summary><ul>{models}</ul></details>"
    )


def open_from_url(query_params: Mapping[str, str]) -> tuple[str, bool]:
    """The tab a URL asks for (`?tab=<id>`, else the first) and whether to show the title.

    `?embed=1` is the compact mode for iframes: no title; the line naming models and device stays.
    """
    ids = [tab_id for tab_id, _, _ in TABS]
    wanted = (query_params.get("tab") or "").strip().lower()
    return (wanted if wanted in ids else ids[0]), not is_embedded(query_params)


def is_embedded(query_params: Mapping[str, str]) -> bool:
    """`?embed=1`: the compact mode for iframes."""
    return (query_params.get("embed") or "").strip().lower() in EMBED_VALUES


def build_app(store: ModelStore | None = None) -> gr.Blocks:
    """The whole app as a `gr.Blocks`, its queue configured, not yet launched (`launch` starts it): the tabbed
    app at `/`, each lesson alone at `/<id>`. Its config and server are built once, at the end (`ui.build_once`)."""
    store = store or default_store()
    with interim_builds_skipped():
        demo = configure_queue(build_pages(store))
    return built_once(demo)


def build_pages(store: ModelStore) -> gr.Blocks:
    """The tabbed app at `/` and each lesson alone at `/<id>`, in one `gr.Blocks`."""
    retention = (store.settings.cache_sweep_s, store.settings.cache_max_age_s)
    with gr.Blocks(title="seqdemo — sequences in transformers", delete_cache=retention) as demo:
        gr.Navbar(visible="hidden")  # the tabs are the navigation; the lesson pages are for embedding
        title = gr.Markdown(TITLE, elem_id="sd-title")
        gr.Markdown(header_markdown(store.source, store.device, store.kit_description()), elem_id="sd-header")
        with gr.Tabs() as tabs:
            for tab_id, tab_title, build in TABS:
                with gr.Tab(tab_title, id=tab_id):
                    build(store)

        def apply_url(request: gr.Request) -> tuple[gr.Tabs, gr.Markdown]:
            selected, show_title = open_from_url(dict(request.query_params) if request else {})
            return gr.Tabs(selected=selected), gr.Markdown(visible=show_title)

        demo.load(apply_url, None, [tabs, title], api_visibility="private", show_progress="hidden")
        publish_agent_tools(store)
        publish_worked_examples_status()
    for tab_id, tab_title, build in TABS:
        with demo.route(tab_title, tab_id, show_in_navbar=False):
            build_lesson_page(tab_id, tab_title, build, store)
        for event in demo.fns.values():
            if event.page == tab_id:
                event.api_visibility = "private"
    return demo


def build_lesson_page(tab_id: str, tab_title: str, build: Callable[[ModelStore], None], store: ModelStore) -> None:
    """One lesson alone: its title and a link to all six (both hidden with `?embed=1`), the header, the lesson."""
    gr.Navbar(visible="hidden")
    title = gr.Markdown(f"## seqdemo · {tab_title.split(' · ', 1)[-1]}", elem_id="sd-title")
    gr.Markdown(header_markdown(store.source, store.device, store.kit_description()), elem_id="sd-header")
    others = gr.Markdown(f"[All six lessons, in tabs](./?tab={tab_id})", elem_id="sd-all-lessons")
    with gr.Column(elem_id=f"sd-lesson-{tab_id}", elem_classes="sd-lesson"):
        build(store)

    def apply_url(request: gr.Request) -> tuple[gr.Markdown, gr.Markdown]:
        shown = not is_embedded(dict(request.query_params) if request else {})
        return gr.Markdown(visible=shown), gr.Markdown(visible=shown)

    gr.on(None, apply_url, None, [title, others], api_visibility="private", show_progress="hidden")


def launch_options() -> dict[str, object]:
    """Arguments for `Blocks.launch` that belong to the app: the theme, the palette, the CSS files, the MCP server,
    the largest upload and the cache's sweep."""
    # System fonts: the default theme fetches web fonts, which an offline machine cannot.
    fonts = ["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    theme = gr.themes.Soft(font=fonts, font_mono=mono)
    return {
        "css": css_variables(),
        "css_paths": sorted(UI_DIR.glob("*.css")),
        "theme": theme,
        "max_file_size": MAX_UPLOAD_BYTES,  # refused by the server while it arrives, before it is stored
        "app_kwargs": {"lifespan": cache_sweep.lifespan},  # sweeps the cache on the retention build_app sets
        "mcp_server": True,
    }


def launch(demo: gr.Blocks, *, precompute: bool = True, **options: object) -> None:
    """Launch `demo` with `launch_options` (and `options` on top), its MCP server left the agent tools alone,
    every lesson page's config served for `<gradio-app>` (`ui.web_component`), and, with `precompute`, all its
    worked examples computing in the background (without, each is computed when a page first asks for it).

    Blocks until the server stops, unless `prevent_thread_lock=True`.
    """
    keep_running = not options.pop("prevent_thread_lock", False)
    with warnings.catch_warnings():  # about an endpoint with a gr.State input, which keep_only_agent_tools drops
        warnings.filterwarnings("ignore", message="This MCP server includes a tool that has a gr.State input")
        demo.launch(**{**launch_options(), **options, "prevent_thread_lock": True})
    keep_only_agent_tools(demo)
    serve_lesson_configs(demo)
    if precompute:
        start_worked_examples(demo)  # in the background, now that the app serves
    if keep_running:
        stop_on_sigterm()
        demo.block_thread()
        if not worked_examples(demo).stop():
            log.warning("A worked example was still computing when the app stopped.")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_on_sigterm() -> None:
    """Stop as on Ctrl-C when the process is sent SIGTERM (`kill`, a container stopping): the server closes and
    the exit handlers run, so the figure folder goes with the process instead of staying in the temp folder."""
    if threading.current_thread() is threading.main_thread():  # only the main thread may set a handler
        signal.signal(signal.SIGTERM, _interrupt)

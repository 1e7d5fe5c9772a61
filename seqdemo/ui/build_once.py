"""Build the app's server and config once, at the end of `build_app`, instead of at every step.

Gradio 6 rebuilds the whole app's config and its FastAPI server each time a `with gr.Blocks()` or
`with demo.route(...)` block closes and when `queue()` is called: for the tabbed app, six lesson
pages and the queue that is eight servers and fifteen configs, each larger than the last, and each
replaced by the next. On 2 cores they took about 3 of the 4 seconds `build_app` took
(benchmarks/space.py times `python app.py` to serving). Inside `interim_builds_skipped()` those
interim builds are skipped on this thread; `built_once` then gives the app the config and server
Gradio's last step would have left it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import gradio as gr
from gradio.routes import App

_building = threading.local()


def _skipped_while_building(build: Callable[..., Any]) -> Callable[..., Any]:
    def skipped_or_built(*args: Any, **kwargs: Any) -> Any:
        return None if getattr(_building, "active", False) else build(*args, **kwargs)

    return skipped_or_built


@contextmanager
def interim_builds_skipped() -> Iterator[None]:
    """Inside the block, Blocks on this thread build no config and no server (`built_once` builds them after).

    Other threads are not touched: a running app keeps serving its config while another is built beside
    it (the tests do that).
    """
    create_app, get_config_file = App.__dict__["create_app"], gr.Blocks.get_config_file
    App.create_app = staticmethod(_skipped_while_building(create_app.__func__))
    gr.Blocks.get_config_file = _skipped_while_building(get_config_file)
    outer, _building.active = getattr(_building, "active", False), True
    try:
        yield
    finally:
        _building.active = outer
        App.create_app, gr.Blocks.get_config_file = create_app, get_config_file


def built_once(demo: gr.Blocks) -> gr.Blocks:
    """`demo` with the config and server Gradio's last step (`queue()`) leaves; returns `demo`."""
    demo.config = demo.get_config_file()
    demo.app = App.create_app(demo, mcp_server=False)
    return demo

"""Lesson pages for the web component: `<gradio-app src="…/padding">` shows that lesson alone.

Gradio 6.31's `<gradio-app>` fetches `<src>/config` and then shows the page its *host page's* address
names, so a lesson's path in `src` finds no config and a Space's root shows the tabbed app.
`/<lesson>/config` serves the lesson's page as the config's only page, rooted at the app, so its events
are the same app's; and, being embedded, without the title and the link to the tabbed app.
"""

from __future__ import annotations

import copy
from typing import Any

import fastapi
import gradio as gr
from gradio import route_utils
from gradio.routes import ORJSONResponse  # what Gradio's own /config answers with (NaN and inf as null)

HIDDEN_WHEN_EMBEDDED = ("sd-title", "sd-all-lessons")  # elem_ids a lesson page shows only outside an embed


def lesson_config(config: dict[str, Any], page: str, root: str) -> dict[str, Any]:
    """The app's `config` with the lesson `page` as its only page, in embed mode, rooted at `root`."""
    layout = config["page"][page]
    ids, dependencies = set(layout["components"]), set(layout["dependencies"])
    hidden = {
        c["id"] for c in config["components"] if c["id"] in ids and c["props"].get("elem_id") in HIDDEN_WHEN_EMBEDDED
    }
    lesson = {key: value for key, value in config.items() if key not in {"components", "dependencies", "layout"}}
    lesson = copy.deepcopy(lesson)
    lesson["components"] = copy.deepcopy([c for c in config["components"] if c["id"] in ids])
    for component in lesson["components"]:
        if component["id"] in hidden:
            component["props"]["visible"] = False
    lesson["dependencies"] = [  # not the event that shows the title outside an embed
        copy.deepcopy(d)
        for d in config["dependencies"]
        if d["id"] in dependencies and not hidden & set(d.get("outputs", []))
    ]
    lesson["layout"] = copy.deepcopy(layout["layout"])
    lesson["page"] = {"": copy.deepcopy(layout)}
    lesson["pages"] = [("", page, True)]
    lesson["current_page"] = ""
    return route_utils.update_root_in_config(lesson, root)


def serve_lesson_configs(demo: gr.Blocks) -> None:
    """Add `/<lesson>/config` for every lesson page of the launched `demo`."""
    for page, _, _ in demo.pages:
        if page:
            demo.app.add_api_route(f"/{page}/config", _config_route(demo, page), methods=["GET"])


def _config_route(demo: gr.Blocks, page: str):
    def config(request: fastapi.Request) -> ORJSONResponse:
        root_path = demo.app.root_path or request.scope.get("root_path")
        root = route_utils.get_root_url(request=request, route_path=f"/{page}/config", root_path=root_path)
        return ORJSONResponse(lesson_config(demo.config, page, root))

    return config

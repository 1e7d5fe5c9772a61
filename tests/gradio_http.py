"""Calling a running Gradio app over plain HTTP, as any client may: JSON in, the event stream read back.

gradio_client cannot send what a hostile client can (a lone surrogate), and it downloads every file
an answer names; these helpers send the JSON text as given and leave files on the server.
"""

from __future__ import annotations

import json
import re

import httpx


def raw_call(app_url: str, api_name: str, data: list, timeout: float = 300) -> tuple[str, object]:
    """Call `api_name` ("/x") with `data` sent as JSON text exactly as given: (the closing event, its data)."""
    body = json.dumps({"data": data})  # ASCII JSON: a lone surrogate travels as the escape \ud800
    headers = {"content-type": "application/json"}
    started = httpx.post(f"{app_url}gradio_api/call{api_name}", content=body, headers=headers, timeout=timeout)
    started.raise_for_status()
    event_id = started.json()["event_id"]
    with httpx.stream("GET", f"{app_url}gradio_api/call{api_name}/{event_id}", timeout=timeout) as stream:
        text = stream.read().decode()
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", text, re.MULTILINE)
    name, payload = events[-1]
    return name, json.loads(payload)


def server_paths(payload: object) -> list[str]:
    """Every file path on the server that an answer's data names (Gradio's FileData `path`)."""
    if isinstance(payload, dict):
        own = [payload["path"]] if isinstance(payload.get("path"), str) and "url" in payload else []
        return own + [path for value in payload.values() for path in server_paths(value)]
    if isinstance(payload, list):
        return [path for value in payload for path in server_paths(value)]
    return []

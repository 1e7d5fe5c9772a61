"""Pieces every tab uses: figure downloads, error display, token chips.

Handlers call backend code and turn its `ValueError`s into `gr.Error` with the backend's
own message, so the user sees one clear sentence and never a traceback.
"""

from __future__ import annotations

import functools
import html
import inspect
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
from matplotlib.figure import Figure

F = TypeVar("F", bound=Callable[..., Any])


def _is_generator(fn: Callable[..., Any]) -> bool:
    return inspect.isgeneratorfunction(fn.func if isinstance(fn, functools.partial) else fn)


def user_errors(fn: F) -> F:
    """Turn a ValueError from the backend into a `gr.Error` carrying its message.

    Works for plain handlers and for streaming (generator) handlers alike.
    """
    if _is_generator(fn):

        @functools.wraps(fn)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from fn(*args, **kwargs)
            except ValueError as err:
                raise gr.Error(str(err), print_exception=False) from None

        return streaming  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ValueError as err:
            raise gr.Error(str(err), print_exception=False) from None

    return wrapper  # type: ignore[return-value]


def computed_once(fn: Callable[[], Any]) -> Callable[[], Any]:
    """A worked example's handler (no arguments), run once per process and then served from memory.

    Every visitor's page load asks for the same example; on a CPU Space running it each time
    would queue everyone behind base-sized models. A streaming handler streams on its first
    run; later calls yield its final value at once.
    """
    lock = threading.Lock()
    done: list[Any] = []

    if _is_generator(fn):

        @functools.wraps(fn)
        def replay() -> Iterator[Any]:
            if done:
                yield done[0]
                return
            with lock:
                if done:
                    yield done[0]
                    return
                last = None
                for last in fn():
                    yield last
                done.append(last)

        return replay

    @functools.wraps(fn)
    def once() -> Any:
        with lock:
            if not done:
                done.append(fn())
        return done[0]

    return once


def figure_files(figure: Figure, stem: str) -> list[str]:
    """Save `figure` as PNG and SVG in a fresh temporary folder; return both paths."""
    folder = Path(tempfile.mkdtemp(prefix="seqdemo-"))
    paths = []
    for suffix in ("png", "svg"):
        path = folder / f"{stem}.{suffix}"
        figure.savefig(path, format=suffix, dpi=150, bbox_inches="tight")
        paths.append(str(path))
    return paths


def error_html(message: str) -> str:
    """A one-line error box for a panel that could not be computed."""
    return f'<div class="sd-error">{html.escape(message)}</div>'


def chip(text: str, kind: str = "", title: str = "") -> str:
    """One token as a chip; `kind` is "", "special", "pad", "truncated", "overlap" or "unk"."""
    tip = f' title="{html.escape(title)}"' if title else ""
    return f'<span class="sd-chip {kind}"{tip}>{html.escape(text)}</span>'


def chips(tokens: Sequence[str], kinds: Sequence[str] | None = None, titles: Sequence[str] | None = None) -> str:
    """A wrapping row of token chips."""
    kinds = kinds or [""] * len(tokens)
    titles = titles or [""] * len(tokens)
    body = "".join(chip(t, k, ti) for t, k, ti in zip(tokens, kinds, titles, strict=True))
    return f'<div class="sd-chips">{body}</div>'

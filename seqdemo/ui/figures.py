"""A handler's figures as files: one PNG on the hot path, the SVG drawn again only when someone asks for it.

Every figure a tab shows or offers passes through `save_figure`, which draws it, writes its PNG
and returns the drawing (plot function and data) for a `gr.State`, from which `svg_on_request`'s
button draws the SVG. Files go to one folder per process, named by content, so a repeated request
writes nothing new. Gradio serves them from there (a static path), not from copies in its own cache:
once an event has updated a component's properties for a session, Gradio lists the files later shown in
it on that session's own copy of the component, which its cache sweep never reaches. Files older than
RETENTION_S are removed as new ones arrive, except those drawn for the worked examples, a fixed set held
for the process's life. Results that are held and replayed (`gr.cache`) must be younger than RETENTION_S.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from gradio.components.plot import PlotData
from matplotlib.figure import Figure

from seqdemo.errors import InputError
from seqdemo.plots.fonts import fit_fonts
from seqdemo.ui.components import computing_worked_example, user_errors

DPI = 150
# The button of a tab that shows its figure as HTML: it lists no file until someone asks for both.
DRAW_FIGURE = "Draw the figure (PNG and SVG)"
RETENTION_S = 2 * 3600  # a figure file lives this long after it was last written
MAX_FILES = 2000  # and no more than this many are kept, whatever their age
PRUNE_EVERY_S = 60
DRAWINGS_TTL_S = 3600  # how long a session holds the data to draw its SVGs

_lock = threading.Lock()
_folder: list[Path] = []  # the process's figure folder, made on first use
_last_prune = [0.0]


@dataclass(frozen=True)
class Drawing:
    """How to draw a figure again: `plot(*args)` returns it; `stem` names its files."""

    plot: Callable[..., Figure]
    args: tuple[Any, ...]
    stem: str


@dataclass(frozen=True)
class SavedFigure:
    """A drawn figure: the `png` an image widget shows, the `downloads` a list offers now, the `drawing` for its SVG."""

    png: str
    downloads: list[str]
    drawing: Drawing

    def as_plot(self) -> PlotData:
        """The PNG as a `gr.Plot` value: given a figure, Gradio would draw it again each time it is shown."""
        encoded = base64.b64encode(Path(self.png).read_bytes()).decode("ascii")
        return PlotData(type="matplotlib", plot=f"data:image/png;base64,{encoded}")


def figure_folder() -> Path:
    """The process's figure folder (made on first use, removed when the process exits)."""
    with _lock:
        if not _folder:
            _folder.append(Path(tempfile.mkdtemp(prefix="seqdemo-figures-")))
            atexit.register(shutil.rmtree, _folder[0], ignore_errors=True)
            gr.set_static_paths([_folder[0]])  # served from here: Gradio copies nothing into its cache
        return _folder[0]


def _write(data: bytes, stem: str, suffix: str) -> str:
    """`data` as `<folder>/<kind>/<content hash>/<stem>.<suffix>`, written once; a rewrite only refreshes its age."""
    kind = "kept" if computing_worked_example() else "recent"
    path = figure_folder() / kind / hashlib.sha256(data).hexdigest()[:20] / f"{stem}.{suffix}"
    if path.exists():
        os.utime(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = path.with_name(f".{path.name}.{threading.get_ident()}")
        staging.write_bytes(data)
        os.replace(staging, path)  # a concurrent reader never sees half a file
    if kind == "recent":
        now = time.time()
        with _lock:
            due = now - _last_prune[0] >= PRUNE_EVERY_S
            if due:
                _last_prune[0] = now
        if due:
            prune(now)
    return str(path)


def prune(now: float) -> None:
    """Remove figure files (not the kept ones) older than RETENTION_S at `now`, and the oldest beyond MAX_FILES."""
    recent = figure_folder() / "recent"
    files = sorted(recent.glob("*/*"), key=lambda path: path.stat().st_mtime, reverse=True)
    for index, path in enumerate(files):
        if index >= MAX_FILES or now - path.stat().st_mtime > RETENTION_S:
            shutil.rmtree(path.parent, ignore_errors=True)


def _render(figure: Figure, suffix: str) -> bytes:
    buffer = io.BytesIO()
    # zlib's fastest level: measured here, 70% of level 6's encoding time for files a fifth larger
    options = {"pil_kwargs": {"compress_level": 1}} if suffix == "png" else {}
    # A laid-out figure already fills its canvas; cropping one would cost a second layout pass and
    # draw, about a quarter of its time. Figures with fixed axes are cropped to what they drew.
    crop = "tight" if figure.get_layout_engine() is None else None
    fit_fonts(figure).savefig(buffer, format=suffix, dpi=DPI, bbox_inches=crop, **options)
    return buffer.getvalue()


def save_figure(plot: Callable[..., Figure], *args: Any, stem: str) -> SavedFigure:
    """Draw `plot(*args)` and save it as `<stem>.png`; the SVG waits until someone asks (`svg_files`)."""
    png = _write(_render(plot(*args), "png"), stem, "png")
    return SavedFigure(png=png, downloads=[png], drawing=Drawing(plot, args, stem))


@user_errors("drawing the SVG")
def svg_files(drawings: Sequence[Drawing] | None) -> list[str]:
    """The figures `drawings` describe as PNG and SVG files, for a download list."""
    if not drawings:
        raise InputError("There is no figure to download yet: run the lesson first.")
    files = []
    for drawing in drawings:
        figure = drawing.plot(*drawing.args)
        files += [_write(_render(figure, suffix), drawing.stem, suffix) for suffix in ("png", "svg")]
    return files


def svg_on_request(files: gr.File, *, api_name: str, label: str = "Make the SVG too") -> gr.State:
    """A button under `files` that draws the shown figures as SVG; returns the `gr.State` a handler fills with drawings.

    A handler lists its figures' `downloads` in `files` and their `drawing`s in the state; the
    button adds the SVGs (and the PNGs, for a handler that showed its figures as HTML and listed
    none). The state lives with the visitor's session (at most DRAWINGS_TTL_S).
    """
    drawings = gr.State([], time_to_live=DRAWINGS_TTL_S)
    button = gr.Button(label, size="sm")
    button.click(svg_files, drawings, files, api_name=api_name)
    return drawings

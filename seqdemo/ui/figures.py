"""A handler's figures as files: one PNG to show, and every format to download.

Every figure a tab shows or offers passes through `save_figure`, so which formats are written,
at what resolution, where and when is decided here and nowhere else.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

FORMATS = ("png", "svg")
DPI = 150


@dataclass(frozen=True)
class SavedFigure:
    """A saved figure: `png`, the file an image widget shows; `downloads`, every file a download list offers."""

    png: str
    downloads: list[str]


def save_figure(figure: Figure, stem: str) -> SavedFigure:
    """Save `figure` as `<stem>.png` and `<stem>.svg` in a fresh temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="seqdemo-"))
    paths = []
    for suffix in FORMATS:
        path = folder / f"{stem}.{suffix}"
        figure.savefig(path, format=suffix, dpi=DPI, bbox_inches="tight")
        paths.append(str(path))
    return SavedFigure(png=paths[0], downloads=paths)

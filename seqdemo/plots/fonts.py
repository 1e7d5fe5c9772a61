"""How every figure writes text: literally (a `$` is a dollar sign, not mathtext) and in every script it can.

matplotlib draws each character from the first family in its list that has it, so the lists run
from Latin and Cyrillic (DejaVu) through CJK, Arabic, Hebrew, Devanagari and Thai (Noto) to emoji.
Colour emoji fonts (Noto Color Emoji) are bitmap fonts matplotlib cannot load: emoji come from
Symbola, monochrome, up to Unicode 9 (newer emoji stay boxes). Families not installed are left out.
`apply_text_settings` runs once, on importing seqdemo.plots; tick labels are made when a figure is
drawn, so these are process-wide rcParams rather than arguments of each call.

Laying out a text looks up every family of its list, used or not, so a figure with eight families
per label spends more time finding fonts than drawing. `fit_fonts` narrows each text of a drawn
figure to the families its characters need (the first always), which draws the same pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text

# In order of preference, each with the Debian package that installs it (packages.txt installs them on the Space).
FAMILIES = {
    "DejaVu Sans": None,  # Latin, Greek, Cyrillic: shipped with matplotlib
    "Noto Sans CJK JP": "fonts-noto-cjk",  # Chinese, Japanese, Korean
    "Noto Sans Arabic": "fonts-noto-core",
    "Noto Sans Hebrew": "fonts-noto-core",
    "Noto Sans Devanagari": "fonts-noto-core",
    "Noto Sans Thai": "fonts-noto-core",
    "Noto Sans": "fonts-noto-core",
    "Symbola": "fonts-symbola",  # monochrome emoji and symbols
}
SANS = tuple(FAMILIES)
FONT_PACKAGES = frozenset(package for package in FAMILIES.values() if package)
MONO = ("DejaVu Sans Mono", "Noto Sans Mono CJK JP", *SANS[1:])  # token labels: fixed width where they can be


def _known_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


@cache
def installed(families: tuple[str, ...]) -> tuple[str, ...]:
    """The families of `families` matplotlib can find, in order (asking for a missing one logs a warning per text).

    matplotlib lists the system's fonts once and caches the list, so fonts installed after that (the
    packages above, on a machine that ran matplotlib before) are added here when one is missing.
    """
    if not set(families) <= _known_families():
        listed = {entry.fname for entry in font_manager.fontManager.ttflist}
        for path in font_manager.findSystemFonts():
            if path not in listed:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read: not a font to use
                    continue
    available = _known_families()
    return tuple(family for family in families if family in available)


def text_settings() -> dict[str, object]:
    """The rcParams every seqdemo figure is drawn with."""
    return {"text.parse_math": False, "font.family": list(installed(SANS)), "axes.formatter.use_mathtext": False}


def apply_text_settings() -> None:
    """Set `text_settings` in matplotlib's rcParams for the process."""
    matplotlib.rcParams.update(text_settings())


@cache
def _charmap(family: str) -> frozenset[int]:
    """The code points an installed `family` has a glyph for."""
    path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    return frozenset(FT2Font(path).get_charmap())


@cache
def drawable_codepoints(families: tuple[str, ...] = SANS) -> frozenset[int]:
    """Every code point one of the installed `families` has a glyph for."""
    return frozenset().union(*(_charmap(family) for family in installed(families)))


def families_for(text: str, families: Sequence[str]) -> list[str] | None:
    """The families of `families` that draw `text`: the first, and each later one that is first to have a character.

    None where `families` names a family that is not installed (or a generic one): that list is left as it is.
    """
    families = tuple(families)
    if not families or installed(families) != families:
        return None
    needed = {families[0]}
    for character in set(text) - {" ", "\n"}:
        code = ord(character)
        for family in families:
            if code in _charmap(family):
                needed.add(family)
                break
    return [family for family in families if family in needed]


def _narrow(texts: Iterable[Text]) -> list[str] | None:
    texts = list(texts)
    if not texts:
        return None
    return families_for("".join(text.get_text() for text in texts), texts[0].get_fontfamily())


def fit_fonts(figure: Figure) -> Figure:
    """Narrow every text of `figure` to the families its characters need (`families_for`); returns the figure.

    Tick labels are set per axis, from the labels as they will be drawn, so ticks made while drawing
    inherit the same families.
    """
    ticks: set[int] = set()
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            for which in ("major", "minor"):
                labels = axis.get_ticklabels(which=which)
                ticks.update(id(label) for label in labels)
                families = _narrow(labels)
                if families is not None:
                    axis.set_tick_params(which=which, labelfontfamily=families)
    for text in figure.findobj(Text):
        if id(text) not in ticks and (families := _narrow([text])) is not None:
            text.set_fontfamily(families)
    return figure

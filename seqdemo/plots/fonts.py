"""How every figure writes text: literally (a `$` is a dollar sign, not mathtext) and in every script it can.

matplotlib draws each character from the first family in its list that has it, so the lists run
from Latin and Cyrillic (DejaVu) through CJK, Arabic, Hebrew, Devanagari and Thai (Noto) to emoji.
Colour emoji fonts (Noto Color Emoji) are bitmap fonts matplotlib cannot load: emoji come from
Symbola, monochrome, up to Unicode 9 (newer emoji stay boxes). Families not installed are left out.
`apply_text_settings` runs once, on importing seqdemo.plots; tick labels are made when a figure is
drawn, so these are process-wide rcParams rather than arguments of each call.
"""

from __future__ import annotations

from functools import cache

import matplotlib
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

# In order of preference; the Debian packages that install them are listed in packages.txt and .ci/run.
SANS = (
    "DejaVu Sans",  # fonts-dejavu-core: Latin, Greek, Cyrillic (matplotlib ships it too)
    "Noto Sans CJK JP",  # fonts-noto-cjk: Chinese, Japanese, Korean
    "Noto Sans Arabic",  # fonts-noto-core, like the three below
    "Noto Sans Hebrew",
    "Noto Sans Devanagari",
    "Noto Sans Thai",
    "Noto Sans",
    "Symbola",  # fonts-symbola: monochrome emoji and symbols
)
MONO = ("DejaVu Sans Mono", "Noto Sans Mono CJK JP", *SANS[1:])  # token labels: fixed width where it can be


@cache
def installed(families: tuple[str, ...]) -> tuple[str, ...]:
    """The families of `families` matplotlib can find, in order (asking for a missing one logs a warning per text)."""
    available = {entry.name for entry in font_manager.fontManager.ttflist}
    return tuple(family for family in families if family in available)


def text_settings() -> dict[str, object]:
    """The rcParams every seqdemo figure is drawn with."""
    return {"text.parse_math": False, "font.family": list(installed(SANS)), "axes.formatter.use_mathtext": False}


def apply_text_settings() -> None:
    """Set `text_settings` in matplotlib's rcParams for the process."""
    matplotlib.rcParams.update(text_settings())


@cache
def drawable_codepoints(families: tuple[str, ...] = SANS) -> frozenset[int]:
    """Every code point one of the installed `families` has a glyph for."""
    codes: set[int] = set()
    for family in installed(families):
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        codes.update(FT2Font(path).get_charmap())
    return frozenset(codes)

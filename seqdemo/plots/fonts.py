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
def drawable_codepoints(families: tuple[str, ...] = SANS) -> frozenset[int]:
    """Every code point one of the installed `families` has a glyph for."""
    codes: set[int] = set()
    for family in installed(families):
        path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        codes.update(FT2Font(path).get_charmap())
    return frozenset(codes)

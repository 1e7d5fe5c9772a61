"""One palette: the pages' CSS reads every colour from it, and padding is one grey in every figure."""

import re
from pathlib import Path

from seqdemo.plots import attention, batching, lengths, padding
from seqdemo.plots.palette import KINDS, css_variables
from seqdemo.token_kinds import PAD
from seqdemo.ui import UI_DIR, launch_options

CSS_FILES = sorted(Path(UI_DIR).glob("*.css"))
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(")


def test_no_css_file_spells_a_colour():
    for path in CSS_FILES:
        assert not COLOUR.findall(path.read_text(encoding="utf-8")), f"{path.name} spells a colour: use var(--sd-…)"


def test_every_variable_the_css_reads_is_defined_by_the_palette():
    defined = set(re.findall(r"(--sd-[a-z-]+):", css_variables()))
    used = {name for path in CSS_FILES for name in re.findall(r"var\((--sd-[a-z-]+)\)", path.read_text("utf-8"))}
    assert used and used <= defined, used - defined


def test_the_app_is_launched_with_the_palette():
    options = launch_options()
    assert options["css"] == css_variables() and set(options["css_paths"]) == set(CSS_FILES)


def test_padding_is_one_grey_in_every_figure():
    greys = {
        lengths.CELL_COLORS[PAD],
        padding.KIND_COLOURS[PAD],
        batching.PAD_FILL,
    }
    assert greys == {KINDS[PAD].fill}
    assert f"--sd-pad-fill: {KINDS[PAD].fill};" in css_variables()
    assert attention.PAD_HATCH == KINDS[PAD].ink

"""Figure files: one PNG per request, the SVG on request, nothing that grows with repeats, old files pruned."""

import os
import tempfile
import time
from pathlib import Path

from matplotlib.figure import Figure

from seqdemo.ui import figures
from seqdemo.ui.components import RESULT_CACHE_S, WorkedExamples
from seqdemo.ui.figures import figure_folder, prune, save_figure, svg_files
from seqdemo.ui.lengths import EXAMPLE_INPUTS, measure_texts


def plot_line(points):
    figure = Figure(figsize=(2, 1))
    figure.subplots().plot(points)
    return figure


def test_repeated_requests_leave_the_apps_temporary_files_unchanged(store, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # this process's temporary folder, for the test
    monkeypatch.setattr(figures, "_folder", [])  # and a figure folder inside it
    list(measure_texts(*EXAMPLE_INPUTS, store=store))
    before = {path: path.stat().st_size for path in tmp_path.rglob("*")}
    assert len([path for path in before if path.suffix == ".png"]) == 2  # the two figures, nothing else
    for _ in range(5):
        list(measure_texts(*EXAMPLE_INPUTS, store=store))
    assert {path: path.stat().st_size for path in tmp_path.rglob("*")} == before


def test_a_figure_is_one_png_named_by_its_content_and_the_svg_comes_on_request():
    first, second, other = (save_figure(plot_line, points, stem="line") for points in ([1, 2], [1, 2], [2, 1]))
    assert first.png == second.png != other.png and Path(first.png).name == "line.png"
    assert first.downloads == [first.png] and Path(first.png).is_relative_to(figure_folder())
    png, svg = svg_files([first.drawing])
    assert png == first.png and Path(svg).name == "line.svg" and Path(svg).read_text().lstrip().startswith("<?xml")


def test_old_figures_are_pruned_and_the_worked_examples_kept():
    examples = WorkedExamples()
    kept = examples.add(lambda: save_figure(plot_line, [3, 1, 2], stem="example").png, ()).serve(examples)()
    recent = save_figure(plot_line, [5, 4], stem="recent").png
    long_ago = time.time() - figures.RETENTION_S - 1
    for path in (kept, recent):
        os.utime(path, (long_ago, long_ago))
    prune(time.time())
    assert Path(kept).exists() and not Path(recent).exists()
    assert save_figure(plot_line, [5, 4], stem="recent").png == recent and Path(recent).exists()  # drawn again


def test_replayed_results_are_younger_than_their_figure_files():
    assert RESULT_CACHE_S < figures.RETENTION_S
